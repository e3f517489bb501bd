//! egui painted offscreen: the viewer's widgets and plots as RGBA images and PNG files, with no
//! window and no display.
//!
//! The plumbing: `HeadlessGl` gives a current OpenGL 3.3 core context (EGL device platform,
//! surfaceless). Its three-d `Context` derefs to the `Arc<glow::Context>` it was built on; the
//! same `Arc` goes to `egui_glow::Painter`, so egui and three-d share one GL context. Each
//! `render` runs egui passes on an `egui::Context` kept between renders (so the font atlas is
//! built once), tessellates the last pass, binds our own framebuffer (an RGBA8 renderbuffer of
//! the pixel size, kept while the size stays the same), clears it to the panel fill, lets the
//! painter upload textures and draw, and reads the pixels back, top row first.

use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use eframe::egui;
use eframe::egui_glow;
use eframe::glow::{self, HasContext};

use super::error::RenderError;
use super::headless::HeadlessGl;

/// Passes run before the one that is painted: widgets such as grids and plot axes size
/// themselves from what the previous pass measured.
const SETTLE_PASSES: usize = 1;

/// Largest side of an offscreen image, in pixels (the same limit as 3-D export).
const MAX_SIDE: u32 = 16384;

/// An RGBA8 image, top row first, `width * height * 4` bytes, colours in sRGB (gamma) space
/// exactly as egui paints them on screen.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl RgbaImage {
    /// The pixel at column `x`, row `y` (from the top), or `None` outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 4;
        let p = self.pixels.get(i..i + 4)?;
        Some([p[0], p[1], p[2], p[3]])
    }
}

impl std::fmt::Debug for RgbaImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RgbaImage {}x{} ({} bytes)",
            self.width,
            self.height,
            self.pixels.len()
        )
    }
}

/// The offscreen colour target: framebuffer plus RGBA8 renderbuffer of one pixel size.
struct Target {
    width: u32,
    height: u32,
    fbo: glow::Framebuffer,
    color: glow::Renderbuffer,
}

/// Paints egui UIs into images. Not `Send` (it owns a GL context current on this thread).
pub struct UiPainter {
    // Dropped by hand first (see `Drop`): the painter's and the target's GL objects, then the
    // egui context, and the GL context they live in last.
    painter: egui_glow::Painter,
    target: Option<Target>,
    egui: egui::Context,
    gl: HeadlessGl,
}

impl UiPainter {
    /// Creates its own windowless GL context.
    pub fn new() -> Result<Self, RenderError> {
        Self::with_gl(HeadlessGl::new()?)
    }

    /// Paints on an existing headless context (e.g. one that also renders 3-D scenes).
    pub fn with_gl(gl: HeadlessGl) -> Result<Self, RenderError> {
        let glow_ctx: Arc<glow::Context> = Arc::clone(&**gl.context());
        let painter = egui_glow::Painter::new(glow_ctx, "", None, false)
            .map_err(|e| RenderError::Gl(format!("egui painter: {e}")))?;
        let egui = egui::Context::default();
        Ok(Self {
            painter,
            target: None,
            egui,
            gl,
        })
    }

    /// The GL context underneath, for three-d rendering between UI renders.
    pub fn gl(&self) -> &HeadlessGl {
        &self.gl
    }

    pub fn gl_mut(&mut self) -> &mut HeadlessGl {
        &mut self.gl
    }

    /// The egui context the UIs run in (e.g. to install extra fonts once).
    pub fn egui_context(&self) -> &egui::Context {
        &self.egui
    }

    /// Runs `draw` inside a `CentralPanel` (background: the visuals' panel fill) on a screen
    /// of `size_points` at `pixels_per_point`, and returns the painted pixels. The image is
    /// `round(size_points * pixels_per_point)` pixels. `draw` runs more than once (layout
    /// settles over passes), so it must draw the same thing each time. Widget memory (plot
    /// bounds, grid sizes) does not carry over from one render to the next.
    pub fn render(
        &mut self,
        size_points: [f32; 2],
        pixels_per_point: f32,
        visuals: egui::Visuals,
        mut draw: impl FnMut(&mut egui::Ui),
    ) -> Result<RgbaImage, RenderError> {
        let (width, height) = pixel_size(size_points, pixels_per_point)?;
        let background = visuals.panel_fill;
        self.egui.memory_mut(|m| {
            m.data = Default::default();
            m.reset_areas();
        });
        let theme = if visuals.dark_mode {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        };
        self.egui.set_theme(theme);
        self.egui.set_visuals_of(theme, visuals);
        self.egui.all_styles_mut(|s| s.animation_time = 0.0);

        let mut output: Option<egui::FullOutput> = None;
        for pass in 0..=SETTLE_PASSES {
            let input = self.raw_input(width, height, pixels_per_point, pass);
            let out = self.egui.run_ui(input, |ui| {
                egui::CentralPanel::default().show(ui, |ui| draw(ui));
            });
            match output.as_mut() {
                Some(o) => o.append(out),
                None => output = Some(out),
            }
        }
        let Some(output) = output else {
            return Err(RenderError::Gl("egui produced no output".into()));
        };
        let egui::FullOutput {
            mut textures_delta,
            shapes,
            pixels_per_point: ppp,
            ..
        } = output;
        let primitives = self.egui.tessellate(shapes, ppp);

        let painted = self.paint(
            width,
            height,
            background,
            ppp,
            &primitives,
            &mut textures_delta,
        );
        // On an error the deltas may be left unapplied; they are obsolete either way.
        textures_delta.clear();
        painted
    }

    fn raw_input(&self, width: u32, height: u32, ppp: f32, pass: usize) -> egui::RawInput {
        let mut input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(width as f32 / ppp, height as f32 / ppp),
            )),
            max_texture_side: Some(self.painter.max_texture_side()),
            time: Some(pass as f64),
            predicted_dt: 1.0,
            focused: false,
            ..Default::default()
        };
        input
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .native_pixels_per_point = Some(ppp);
        input
    }

    fn paint(
        &mut self,
        width: u32,
        height: u32,
        background: egui::Color32,
        ppp: f32,
        primitives: &[egui::ClippedPrimitive],
        textures_delta: &mut egui::TexturesDelta,
    ) -> Result<RgbaImage, RenderError> {
        let fbo = self.bind_target(width, height)?;
        let gl = Arc::clone(self.painter.gl());
        let [r, g, b, _] = background.to_array();
        // The target is RGBA8 without sRGB encoding, like a window's framebuffer: egui's
        // gamma-space colours are stored as they are.
        egui_glow::painter::clear(
            &gl,
            [width, height],
            [
                f32::from(r) / 255.0,
                f32::from(g) / 255.0,
                f32::from(b) / 255.0,
                1.0,
            ],
        );
        self.painter
            .paint_and_update_textures([width, height], ppp, primitives, textures_delta);
        let mut pixels = vec![0_u8; width as usize * height as usize * 4];
        // SAFETY: the context is current on this thread; `pixels` holds exactly
        // width*height RGBA8 pixels with PACK_ALIGNMENT 1; our framebuffer is bound.
        let err = unsafe {
            gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(fbo));
            gl.pixel_store_i32(glow::PACK_ALIGNMENT, 1);
            gl.read_pixels(
                0,
                0,
                width as i32,
                height as i32,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                glow::PixelPackData::Slice(Some(&mut pixels)),
            );
            gl.bind_framebuffer(glow::FRAMEBUFFER, None);
            gl.get_error()
        };
        if err != glow::NO_ERROR {
            return Err(RenderError::Gl(format!(
                "painting the UI offscreen failed (GL error 0x{err:04x})"
            )));
        }
        // GL rows run bottom to top.
        let row = width as usize * 4;
        let flipped: Vec<u8> = pixels.chunks_exact(row).rev().flatten().copied().collect();
        Ok(RgbaImage {
            width,
            height,
            pixels: flipped,
        })
    }

    /// Binds the offscreen framebuffer of this size, creating it when the size changed.
    fn bind_target(&mut self, width: u32, height: u32) -> Result<glow::Framebuffer, RenderError> {
        let gl = Arc::clone(self.painter.gl());
        if let Some(t) = &self.target {
            if t.width == width && t.height == height {
                // SAFETY: the framebuffer belongs to this current context.
                unsafe { gl.bind_framebuffer(glow::FRAMEBUFFER, Some(t.fbo)) };
                return Ok(t.fbo);
            }
        }
        if let Some(old) = self.target.take() {
            delete_target(&gl, old);
        }
        // SAFETY: plain object creation on the current context; the sizes were checked.
        let target = unsafe {
            let fbo = gl.create_framebuffer().map_err(RenderError::Gl)?;
            let color = match gl.create_renderbuffer() {
                Ok(c) => c,
                Err(e) => {
                    gl.delete_framebuffer(fbo);
                    return Err(RenderError::Gl(e));
                }
            };
            gl.bind_renderbuffer(glow::RENDERBUFFER, Some(color));
            gl.renderbuffer_storage(glow::RENDERBUFFER, glow::RGBA8, width as i32, height as i32);
            gl.bind_renderbuffer(glow::RENDERBUFFER, None);
            gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fbo));
            gl.framebuffer_renderbuffer(
                glow::FRAMEBUFFER,
                glow::COLOR_ATTACHMENT0,
                glow::RENDERBUFFER,
                Some(color),
            );
            Target {
                width,
                height,
                fbo,
                color,
            }
        };
        // SAFETY: status query on the bound framebuffer.
        let status = unsafe { gl.check_framebuffer_status(glow::FRAMEBUFFER) };
        if status != glow::FRAMEBUFFER_COMPLETE {
            delete_target(&gl, target);
            return Err(RenderError::Gl(format!(
                "offscreen framebuffer {width}x{height} incomplete (status 0x{status:04x})"
            )));
        }
        let fbo = target.fbo;
        self.target = Some(target);
        Ok(fbo)
    }
}

fn delete_target(gl: &glow::Context, t: Target) {
    // SAFETY: the objects belong to this context and are no longer used.
    unsafe {
        gl.bind_framebuffer(glow::FRAMEBUFFER, None);
        gl.delete_framebuffer(t.fbo);
        gl.delete_renderbuffer(t.color);
    }
}

impl Drop for UiPainter {
    fn drop(&mut self) {
        if let Some(t) = self.target.take() {
            delete_target(self.painter.gl(), t);
        }
        self.painter.destroy();
    }
}

/// The image size in pixels for a screen of `size_points` at `ppp`.
fn pixel_size(size_points: [f32; 2], ppp: f32) -> Result<(u32, u32), RenderError> {
    if !(ppp.is_finite() && ppp > 0.0) {
        return Err(RenderError::Options(format!(
            "pixels per point must be a positive number, not {ppp}"
        )));
    }
    let side = |p: f32| -> Option<u32> {
        let px = (p * ppp).round();
        (px.is_finite() && px >= 1.0 && px <= MAX_SIDE as f32).then_some(px as u32)
    };
    match (side(size_points[0]), side(size_points[1])) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(RenderError::Options(format!(
            "UI image of {}x{} points at {ppp} pixels per point must be between 1 and \
             {MAX_SIDE} pixels a side",
            size_points[0], size_points[1]
        ))),
    }
}

/// Writes `image` as an 8-bit RGBA PNG, atomically (a temp file beside `path`, renamed over it
/// when complete; nothing is left behind on an error).
pub fn write_png(path: &Path, image: &RgbaImage) -> Result<(), RenderError> {
    let expected = image.width as usize * image.height as usize * 4;
    if image.width == 0 || image.height == 0 || image.pixels.len() != expected {
        return Err(RenderError::Encode {
            path: path.to_path_buf(),
            msg: format!(
                "{} bytes do not make a {}x{} RGBA image",
                image.pixels.len(),
                image.width,
                image.height
            ),
        });
    }
    crate::data::write_atomic(path, |file| encode_png(BufWriter::new(file), image))
        .map(|_| ())
        .map_err(|e| RenderError::Output(e.to_string()))
}

/// `image` as PNG bytes (for pages that embed figures).
pub fn png_bytes(image: &RgbaImage) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    encode_png(&mut out, image).map_err(|e| RenderError::Encode {
        path: "figure".into(),
        msg: e.to_string(),
    })?;
    Ok(out)
}

fn encode_png(mut w: impl std::io::Write, image: &RgbaImage) -> std::io::Result<()> {
    {
        let mut enc = png::Encoder::new(&mut w, image.width, image.height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let to_io = |e: png::EncodingError| match e {
            png::EncodingError::IoError(io) => io,
            other => std::io::Error::other(other.to_string()),
        };
        let mut writer = enc.write_header().map_err(to_io)?;
        writer.write_image_data(&image.pixels).map_err(to_io)?;
        writer.finish().map_err(to_io)?;
    }
    w.flush()
}
