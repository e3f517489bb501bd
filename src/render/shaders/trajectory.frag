// Capsule coverage: distance from the pixel centre to the segment, turned into alpha over one
// pixel so lines are antialiased without MSAA (the egui window has none).
flat in vec2 v_a;
flat in vec2 v_b;
flat in float v_hw;
flat in vec3 v_color;
flat in int v_marker;
// 0: antialiased edge, no depth writes (ghosts); 1: opaque core only (writes depth);
// 2: the antialiased fringe only, drawn after the cores with depth writes off. Splitting keeps
// faint fringe pixels from writing depth and punching holes into neighbouring segments.
uniform int u_aa_pass;

layout (location = 0) out vec4 outColor;

void main() {
    vec2 p = gl_FragCoord.xy;
    vec2 d = v_b - v_a;
    float l2 = dot(d, d);
    float t = l2 > 0.0 ? clamp(dot(p - v_a, d) / l2, 0.0, 1.0) : 0.0;
    float dist = length(v_a + t * d - p);
    float alpha = clamp(v_hw - dist + 0.5, 0.0, 1.0);
    if (alpha < 0.02 || (u_aa_pass == 1 && alpha < 0.5) || (u_aa_pass == 2 && alpha > 0.99)) {
        discard;
    }
    if (u_aa_pass == 1) {
        alpha = 1.0;
    }
    vec3 c = v_color;
    if (v_marker == 1) {
        // A darker rim makes the head readable where lines cross.
        float rim = clamp(dist - (v_hw - 1.6), 0.0, 1.0);
        c = mix(c, c * 0.45, rim);
    }
    outColor = vec4(c, alpha);
}
