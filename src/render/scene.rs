//! Draws one frame of the trajectory scene on any three-d context.
//!
//! `draw` renders into whatever framebuffer is bound, inside the given viewport, and clears
//! only that viewport's depth (and colour when asked). The same code therefore paints inside
//! egui's `PaintCallback` (where egui has drawn the panels already) and into an offscreen
//! `RenderTarget` for tests and export. See `geometry` for why points live in textures.

use three_d::context::{self as gl, HasContext};
use three_d::{
    Blend, Context, CpuTexture, Cull, DepthTest, Interpolation, Program, RenderStates, ScissorBox,
    Texture2D, TextureData, Vec4, Viewport, Wrapping, WriteMask,
};

use crate::analysis::SceneData;

use super::camera::OrbitCamera;
use super::error::RenderError;
use super::geometry::{self, Span, VERTS_PER_SEGMENT};
use super::style::{label_palette, palette, ViewStyle, GHOST_FADE};

/// Everything that changes from frame to frame. The viewer owns one per view.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameState {
    pub camera: OrbitCamera,
    /// Current frame index; fractional values draw a partial last segment, for smooth playback.
    pub head: f32,
    /// 0 = before alignment, 1 = after; in between the points are blended linearly.
    pub morph: f32,
    pub style: ViewStyle,
    /// One flag per network; missing entries count as visible.
    pub visible: Vec<bool>,
    /// A network drawn on top and wider while the others are faded (hover in the legend).
    pub highlight: Option<usize>,
    /// Clear the viewport's colour to this RGBA (0..1) first; `None` keeps what is there (egui).
    pub clear_color: Option<[f32; 4]>,
}

impl Default for FrameState {
    fn default() -> Self {
        Self {
            camera: OrbitCamera::default(),
            head: 0.0,
            morph: 0.0,
            style: ViewStyle::default(),
            visible: Vec::new(),
            highlight: None,
            clear_color: None,
        }
    }
}

impl FrameState {
    /// The style's background as a clear colour, for offscreen renders.
    pub fn opaque_background(&self) -> [f32; 4] {
        let b = self.style.background();
        [
            b[0] as f32 / 255.0,
            b[1] as f32 / 255.0,
            b[2] as f32 / 255.0,
            1.0,
        ]
    }

    fn is_visible(&self, k: usize) -> bool {
        self.visible.get(k).copied().unwrap_or(true)
    }
}

/// GPU resources of one scene. Built once per `SceneData` (both views in two textures);
/// drawing a frame only sets uniforms and issues a few draw calls per network.
pub struct SceneRenderer {
    ctx: Context,
    program: Program,
    vao: gl::VertexArray,
    before: Texture2D,
    after: Texture2D,
    cube: Texture2D,
    labels: Texture2D,
    tex_width: i32,
    tex_height: i32,
    offsets: Vec<i32>,
    n_frames: usize,
    has_labels: bool,
    colors: Vec<[u8; 3]>,
    names: Vec<String>,
}

const VERTEX_SHADER: &str = include_str!("shaders/trajectory.vert");
const FRAGMENT_SHADER: &str = include_str!("shaders/trajectory.frag");

/// Total NDC depth bias spread over the networks' draw order, and the extra for head markers
/// (which must sit on top of their own line).
const NET_DEPTH_BIAS: f32 = 0.01;
const MARKER_DEPTH_BIAS: f32 = 0.015;

/// Segments per frame across all visible networks before paths are decimated (see
/// `geometry::lod_stride`). Measured on llvmpipe at 1280×800: ~2.4 µs per segment, so these
/// keep a frame with whole-path ghosts near 30 fps.
const GHOST_SEGMENT_BUDGET: usize = 8000;
const HEAD_SEGMENT_BUDGET: usize = 10000;

/// Shader modes (`u_mode`).
const MODE_STRIP: i32 = 0;
const MODE_PAIRS: i32 = 1;
const MODE_MARKER: i32 = 2;

impl SceneRenderer {
    pub fn new(ctx: &Context, scene: &SceneData) -> Result<Self, RenderError> {
        let packed = geometry::pack(scene).map_err(RenderError::Scene)?;
        // SAFETY: a plain state query on the context this renderer is created on (current on
        // this thread, as three-d requires), with a valid enum.
        let max_size = unsafe { ctx.get_parameter_i32(gl::MAX_TEXTURE_SIZE) }.max(0) as usize;
        if packed.height > max_size {
            return Err(RenderError::Scene(format!(
                "{} points do not fit in a texture on this GPU (at most {} rows of {})",
                packed.n_frames * packed.offsets.len(),
                max_size,
                packed.width
            )));
        }
        let program = Program::from_source(ctx, VERTEX_SHADER, FRAGMENT_SHADER)?;
        // SAFETY: creates an object on the current context; it is deleted in `Drop`.
        let vao = unsafe { ctx.create_vertex_array() }.map_err(RenderError::Gl)?;
        let float_tex = |data: Vec<[f32; 4]>, w: usize, h: usize| {
            Texture2D::new(
                ctx,
                &CpuTexture {
                    data: TextureData::RgbaF32(data),
                    width: w as u32,
                    height: h as u32,
                    min_filter: Interpolation::Nearest,
                    mag_filter: Interpolation::Nearest,
                    mipmap: None,
                    wrap_s: Wrapping::ClampToEdge,
                    wrap_t: Wrapping::ClampToEdge,
                    ..Default::default()
                },
            )
        };
        let before = float_tex(packed.before, packed.width, packed.height);
        let after = float_tex(packed.after, packed.width, packed.height);
        let cube_pts: Vec<[f32; 4]> = geometry::cube_edges()
            .into_iter()
            .map(|p| [p[0], p[1], p[2], 0.0])
            .collect();
        let cube = float_tex(cube_pts, 24, 1);
        let label_colors: Vec<[f32; 4]> = label_palette(packed.n_classes.max(1))
            .into_iter()
            .map(|c| {
                [
                    c[0] as f32 / 255.0,
                    c[1] as f32 / 255.0,
                    c[2] as f32 / 255.0,
                    1.0,
                ]
            })
            .collect();
        let n_label_colors = label_colors.len();
        let labels = float_tex(label_colors, n_label_colors, 1);
        Ok(Self {
            ctx: ctx.clone(),
            program,
            vao,
            before,
            after,
            cube,
            labels,
            tex_width: packed.width as i32,
            tex_height: packed.height as i32,
            offsets: packed.offsets.iter().map(|&o| o as i32).collect(),
            n_frames: packed.n_frames,
            has_labels: packed.n_classes > 0,
            colors: palette(scene.n_networks()),
            names: scene.trajectories.iter().map(|t| t.name.clone()).collect(),
        })
    }

    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// One colour per network, in scene order (seaborn 'hls').
    pub fn colors(&self) -> &[[u8; 3]] {
        &self.colors
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Draws the frame into the currently bound framebuffer, inside `viewport` (GL
    /// coordinates, bottom-left origin). The caller's scissor state is preserved.
    pub fn draw(&mut self, ctx: &Context, viewport: Viewport, state: &FrameState) {
        if viewport.width == 0 || viewport.height == 0 {
            return;
        }
        self.clear(ctx, viewport, state);

        let style = &state.style;
        let line_px = style.line_px(viewport.height as f32);
        self.frame_uniforms(viewport, state);
        let p = &self.program;
        p.use_uniform_if_required("u_depth_bias", 0.0f32);
        if style.show_cube {
            self.draw_cube(viewport, style, line_px);
        }

        self.bind_points(false);
        p.use_uniform_if_required("u_morph", state.morph.clamp(0.0, 1.0));
        p.use_texture("u_labels", &self.labels);
        let by_label = style.color_by_label && self.has_labels;
        p.use_uniform_if_required("u_by_label", by_label as i32);

        let Some(head) = geometry::head_span(state.head, style.tail, self.n_frames) else {
            return;
        };
        let ghosts = geometry::ghost_spans(style.ghost, head, self.n_frames);
        let n_visible = (0..self.offsets.len())
            .filter(|&k| state.is_visible(k))
            .count()
            .max(1);
        // Strides depend only on the path and tail lengths, never on the head, so they stay
        // fixed during playback.
        let ghost_stride =
            geometry::lod_stride(self.n_frames, (GHOST_SEGMENT_BUDGET / n_visible).max(300));
        let head_stride =
            geometry::lod_stride(style.tail + 1, (HEAD_SEGMENT_BUDGET / n_visible).max(500));
        let n_nets = self.offsets.len();
        let order = draw_order(n_nets, state);
        let dim = |k: usize| match state.highlight {
            Some(h) if h != k && h < n_nets => 0.6,
            _ => 0.0,
        };
        let width = |k: usize| {
            if state.highlight == Some(k) {
                line_px * 1.6
            } else {
                line_px
            }
        };
        // Later networks win depth ties (nearly coincident aligned paths would otherwise
        // speckle); the bias is far below the depth differences of real occlusion.
        let bias = |rank: usize| NET_DEPTH_BIAS * rank as f32 / order.len().max(1) as f32;

        // Ghosts first, without depth writes: heads drawn later stay on top of faded paths.
        p.use_uniform_if_required("u_aa_pass", 0i32);
        for (rank, &k) in order.iter().enumerate() {
            for span in &ghosts {
                let fade = 1.0 - (1.0 - GHOST_FADE) * (1.0 - dim(k));
                self.set_network(k, span, MODE_STRIP, fade, width(k) * 0.5 * 0.8);
                p.use_uniform_if_required("u_depth_bias", bias(rank));
                p.use_uniform_if_required("u_stride", ghost_stride as i32);
                let (first, count) = span.segments_strided(ghost_stride);
                self.draw_segments(viewport, first, count, states(false, DepthTest::Less));
            }
        }
        for (rank, &k) in order.iter().enumerate() {
            self.set_network(k, &head, MODE_STRIP, dim(k), width(k) * 0.5);
            p.use_uniform_if_required("u_depth_bias", bias(rank));
            p.use_uniform_if_required("u_stride", head_stride as i32);
            let (first, count) = head.segments_strided(head_stride);
            self.draw_two_pass(viewport, first, count, DepthTest::Less);
        }
        // Head markers: never coloured by label, so networks stay tellable apart.
        p.use_uniform_if_required("u_by_label", 0i32);
        for (rank, &k) in order.iter().enumerate() {
            let r = (width(k) * 1.25).max(3.0);
            self.set_network(k, &head, MODE_MARKER, dim(k), r);
            p.use_uniform_if_required("u_depth_bias", MARKER_DEPTH_BIAS + bias(rank));
            self.draw_two_pass(viewport, 0, 1, DepthTest::LessOrEqual);
        }
    }

    /// The uniforms every draw of a frame shares: camera, viewport, background, last frame.
    fn frame_uniforms(&self, viewport: Viewport, state: &FrameState) {
        let aspect = viewport.width as f32 / viewport.height as f32;
        let p = &self.program;
        p.use_uniform_if_required("u_view_proj", state.camera.view_proj_mat(aspect));
        p.use_uniform_if_required(
            "u_viewport",
            Vec4::new(
                viewport.x as f32,
                viewport.y as f32,
                viewport.width as f32,
                viewport.height as f32,
            ),
        );
        p.use_uniform_if_required("u_background", rgb(state.style.background()));
        p.use_uniform_if_required("u_last", self.n_frames.saturating_sub(1) as i32);
    }

    /// The unit cube's twelve edges, thinner than the paths.
    fn draw_cube(&self, viewport: Viewport, style: &ViewStyle, line_px: f32) {
        self.bind_points(true);
        self.set_span(
            Span {
                start: 0.0,
                end: 12.0,
            },
            MODE_PAIRS,
            0,
            0.0,
        );
        let p = &self.program;
        p.use_uniform_if_required("u_morph", 0.0f32);
        p.use_uniform_if_required("u_color", rgb(style.cube_color()));
        p.use_uniform_if_required("u_by_label", 0i32);
        p.use_uniform_if_required("u_half_width", (0.25 * line_px).max(0.5));
        self.draw_two_pass(viewport, 0, 12, DepthTest::Less);
    }

    /// Opaque cores with depth writes, then antialiased fringes on top without them.
    fn draw_two_pass(&self, viewport: Viewport, first: u32, count: u32, test: DepthTest) {
        self.program.use_uniform_if_required("u_aa_pass", 1i32);
        self.draw_segments(viewport, first, count, states(true, test));
        self.program.use_uniform_if_required("u_aa_pass", 2i32);
        self.draw_segments(
            viewport,
            first,
            count,
            states(false, DepthTest::LessOrEqual),
        );
    }

    fn clear(&self, ctx: &Context, viewport: Viewport, state: &FrameState) {
        // SAFETY: state queries and changes on the current context with valid enums; the
        // scissor state is read first and restored before returning.
        unsafe {
            // Remember the caller's scissor (egui clips callbacks with it) and restore it.
            let had_scissor = ctx.is_enabled(gl::SCISSOR_TEST);
            let mut saved = [0i32; 4];
            ctx.get_parameter_i32_slice(gl::SCISSOR_BOX, &mut saved);
            // Clear the viewport, but never outside a clip the caller set (a half-hidden view).
            let mut b = ScissorBox::from(viewport);
            if had_scissor {
                let x0 = b.x.max(saved[0]);
                let y0 = b.y.max(saved[1]);
                let x1 = (b.x + b.width as i32).min(saved[0] + saved[2]);
                let y1 = (b.y + b.height as i32).min(saved[1] + saved[3]);
                b = ScissorBox {
                    x: x0,
                    y: y0,
                    width: (x1 - x0).max(0) as u32,
                    height: (y1 - y0).max(0) as u32,
                };
                if b.width == 0 || b.height == 0 {
                    return; // nothing visible to clear (and `set_scissor` would disable the test)
                }
            }
            ctx.set_scissor(b);
            ctx.set_write_mask(WriteMask::default());
            let mut bits = gl::DEPTH_BUFFER_BIT;
            ctx.clear_depth_f32(1.0);
            if let Some(c) = state.clear_color {
                ctx.clear_color(c[0], c[1], c[2], c[3]);
                bits |= gl::COLOR_BUFFER_BIT;
            }
            ctx.clear(bits);
            if had_scissor {
                ctx.scissor(saved[0], saved[1], saved[2], saved[3]);
            } else {
                ctx.disable(gl::SCISSOR_TEST);
            }
        }
    }

    fn bind_points(&self, cube: bool) {
        let p = &self.program;
        if cube {
            p.use_texture("u_before", &self.cube);
            p.use_texture("u_after", &self.cube);
            p.use_uniform_if_required("u_tex_width", 24i32);
            p.use_uniform_if_required("u_tex_height", 1i32);
        } else {
            p.use_texture("u_before", &self.before);
            p.use_texture("u_after", &self.after);
            p.use_uniform_if_required("u_tex_width", self.tex_width);
            p.use_uniform_if_required("u_tex_height", self.tex_height);
        }
    }

    fn set_span(&self, span: Span, mode: i32, offset: i32, fade: f32) {
        let p = &self.program;
        p.use_uniform_if_required("u_span", three_d::Vec2::new(span.start, span.end));
        p.use_uniform_if_required("u_mode", mode);
        p.use_uniform_if_required("u_offset", offset);
        p.use_uniform_if_required("u_fade", fade);
    }

    fn set_network(&self, k: usize, span: &Span, mode: i32, fade: f32, half_width: f32) {
        self.set_span(*span, mode, self.offsets[k], fade);
        let p = &self.program;
        p.use_uniform_if_required("u_color", rgb(self.colors[k]));
        p.use_uniform_if_required("u_half_width", half_width);
    }

    fn draw_segments(&self, viewport: Viewport, first: u32, count: u32, states: RenderStates) {
        if count == 0 {
            return;
        }
        let vao = self.vao;
        let ctx = &self.ctx;
        // SAFETY: binds this renderer's own VAO and draws a range checked against the packed
        // segments by the callers; no buffer is read beyond what the shader fetches from
        // textures.
        self.program.draw_with(states, viewport, || unsafe {
            // Attribute-less drawing still needs a bound VAO in a core profile.
            ctx.bind_vertex_array(Some(vao));
            ctx.draw_arrays(
                gl::TRIANGLES,
                (first * VERTS_PER_SEGMENT) as i32,
                (count * VERTS_PER_SEGMENT) as i32,
            );
        });
    }
}

impl Drop for SceneRenderer {
    fn drop(&mut self) {
        // SAFETY: the VAO was created on this context in `new` and is deleted once.
        unsafe { self.ctx.delete_vertex_array(self.vao) };
    }
}

fn rgb(c: [u8; 3]) -> three_d::Vec3 {
    three_d::Vec3::new(
        c[0] as f32 / 255.0,
        c[1] as f32 / 255.0,
        c[2] as f32 / 255.0,
    )
}

/// Edge antialiasing comes from coverage alpha in the fragment shader, hence blending on.
fn blend() -> Blend {
    Blend::Enabled {
        source_rgb_multiplier: three_d::BlendMultiplierType::SrcAlpha,
        source_alpha_multiplier: three_d::BlendMultiplierType::One,
        destination_rgb_multiplier: three_d::BlendMultiplierType::OneMinusSrcAlpha,
        destination_alpha_multiplier: three_d::BlendMultiplierType::OneMinusSrcAlpha,
        rgb_equation: three_d::BlendEquationType::Add,
        alpha_equation: three_d::BlendEquationType::Add,
    }
}

fn states(depth_write: bool, depth_test: DepthTest) -> RenderStates {
    RenderStates {
        write_mask: WriteMask {
            depth: depth_write,
            ..WriteMask::default()
        },
        depth_test,
        blend: blend(),
        cull: Cull::None,
    }
}

/// The visible networks in drawing order: the highlighted one last, so it lands on top.
fn draw_order(n_nets: usize, state: &FrameState) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n_nets).filter(|&k| state.is_visible(k)).collect();
    if let Some(h) = state.highlight {
        if let Some(pos) = order.iter().position(|&k| k == h) {
            let k = order.remove(pos);
            order.push(k);
        }
    }
    order
}
