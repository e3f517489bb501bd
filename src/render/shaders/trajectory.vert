// Thick trajectory lines by vertex pulling: gl_VertexID / 6 is the segment, gl_VertexID % 6 the
// corner of its screen-space quad. Points come from float textures (xyz + label index in w).
uniform sampler2D u_before;
uniform sampler2D u_after;
uniform sampler2D u_labels;
uniform int u_tex_width;
uniform int u_tex_height;
uniform int u_offset;      // first texel of this network
uniform int u_last;        // last frame index of a network
uniform int u_mode;        // 0 strip, 1 independent pairs (cube), 2 marker at u_span.y
uniform vec2 u_span;       // frame parameters [start, end] to draw
uniform int u_stride;      // frames per segment (level of detail for long paths)
uniform float u_morph;
uniform mat4 u_view_proj;
uniform vec4 u_viewport;   // x, y, w, h in window pixels
uniform float u_half_width;
uniform vec3 u_color;
uniform vec3 u_background;
uniform float u_fade;      // 0 = full colour, 1 = background
uniform int u_by_label;
uniform float u_depth_bias; // NDC depth pulled toward the eye: breaks ties between coincident lines

flat out vec2 v_a;         // segment ends in window pixels
flat out vec2 v_b;
flat out float v_hw;
flat out vec3 v_color;
flat out int v_marker;

vec4 fetch(int i) {
    int idx = u_offset + i;
    // three-d uploads textures bottom row first, so row r of the data is texel row h-1-r.
    ivec2 t = ivec2(idx % u_tex_width, u_tex_height - 1 - idx / u_tex_width);
    return mix(texelFetch(u_before, t, 0), texelFetch(u_after, t, 0), u_morph);
}

// Point at a fractional frame parameter (linear between frames).
vec4 at(float s) {
    float f = floor(s);
    int i = int(f);
    vec4 p0 = fetch(i);
    vec4 p1 = fetch(min(i + 1, u_last));
    return vec4(mix(p0.xyz, p1.xyz, s - f), p0.w);
}

const vec2 CORNERS[6] = vec2[6](
    vec2(0.0, -1.0), vec2(1.0, -1.0), vec2(1.0, 1.0),
    vec2(0.0, -1.0), vec2(1.0, 1.0), vec2(0.0, 1.0));

void main() {
    int seg = gl_VertexID / 6;
    vec2 corner = CORNERS[gl_VertexID % 6];
    vec4 pa;
    vec4 pb;
    if (u_mode == 1) {
        pa = fetch(2 * seg);
        pb = fetch(2 * seg + 1);
    } else if (u_mode == 2) {
        pa = at(u_span.y);
        pb = pa;
    } else {
        float s0 = max(float(seg * u_stride), u_span.x);
        float s1 = min(float((seg + 1) * u_stride), u_span.y);
        pa = at(s0);
        pb = at(s1);
        // The label of a segment is the label of its first whole frame.
        pa.w = fetch(min(seg * u_stride, u_last)).w;
    }

    vec4 ca = u_view_proj * vec4(pa.xyz, 1.0);
    vec4 cb = u_view_proj * vec4(pb.xyz, 1.0);
    if (ca.w < 1e-4 || cb.w < 1e-4) {
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0); // behind the eye: outside the clip volume
        return;
    }
    vec2 sa = (ca.xy / ca.w * 0.5 + 0.5) * u_viewport.zw;
    vec2 sb = (cb.xy / cb.w * 0.5 + 0.5) * u_viewport.zw;
    vec2 d = sb - sa;
    float len = length(d);
    vec2 u = len > 1e-4 ? d / len : vec2(1.0, 0.0);
    vec2 n = vec2(-u.y, u.x);
    // One extra pixel around the capsule for the antialiased edge.
    float ext = u_half_width + 1.0;
    vec4 base = corner.x < 0.5 ? ca : cb;
    vec2 off = u * (corner.x < 0.5 ? -ext : ext) + n * corner.y * ext;
    base.xy += off / u_viewport.zw * 2.0 * base.w;
    base.z -= u_depth_bias * base.w;
    gl_Position = base;

    v_a = sa + u_viewport.xy;
    v_b = sb + u_viewport.xy;
    v_hw = u_half_width;
    vec3 c = u_color;
    if (u_by_label == 1) {
        c = texelFetch(u_labels, ivec2(int(pa.w + 0.5), 0), 0).rgb;
    }
    v_color = mix(c, u_background, u_fade);
    v_marker = u_mode == 2 ? 1 : 0;
}
