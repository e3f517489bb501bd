//! An OpenGL 3.3 core context with no window, for tests, CLI export and screenshots.
//!
//! EGL *device* platform (`EGL_EXT_platform_device`) + surfaceless make-current: it needs no X
//! server, no Wayland and no /dev/dri, only Mesa's EGL (llvmpipe) or a GPU driver.

use std::sync::Arc;

use glutin::api::egl::{context::PossiblyCurrentContext, device::Device, display::Display};
use glutin::config::{ConfigTemplateBuilder, GlConfig};
use glutin::context::{ContextApi, ContextAttributesBuilder, GlProfile, Version};
use glutin::display::GlDisplay;
use three_d::context::HasContext;
use three_d::{
    ClearState, Context, DepthTexture2D, Interpolation, RenderTarget, Texture2D, Viewport, Wrapping,
};

use super::error::RenderError;
use super::scene::{FrameState, SceneRenderer};

/// A current, windowless GL context plus the three-d context on top of it. Not `Send`: GL
/// contexts belong to the thread that made them current, so create it on the rendering thread,
/// and drop `SceneRenderer`s made on it before it.
pub struct HeadlessGl {
    // Fields drop in order: GL objects first, then the three-d context, then the EGL context
    // and display they need.
    /// Reused between frames of the same size (export renders hundreds of them).
    target: Option<(u32, u32, Texture2D, DepthTexture2D)>,
    ctx: Context,
    _gl_context: PossiblyCurrentContext,
    _display: Display,
    device_name: String,
}

impl HeadlessGl {
    /// Prefers Mesa's software device (deterministic, works everywhere); falls back to any
    /// device that gives a context.
    pub fn new() -> Result<Self, RenderError> {
        let devices: Vec<Device> = Device::query_devices()
            .map_err(|e| RenderError::NoContext(format!("no EGL devices ({e})")))?
            .collect();
        if devices.is_empty() {
            return Err(RenderError::NoContext("EGL lists no devices".into()));
        }
        let mut ordered: Vec<&Device> = devices
            .iter()
            .filter(|d| d.extensions().contains("EGL_MESA_device_software"))
            .collect();
        ordered.extend(
            devices
                .iter()
                .filter(|d| !d.extensions().contains("EGL_MESA_device_software")),
        );
        let mut errors = Vec::new();
        for device in ordered {
            match Self::with_device(device) {
                Ok(gl) => return Ok(gl),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(RenderError::NoContext(errors.join("; ")))
    }

    fn with_device(device: &Device) -> Result<Self, RenderError> {
        let no_ctx =
            |what: &str, e: glutin::error::Error| RenderError::NoContext(format!("{what}: {e}"));
        // SAFETY: no raw display handle is passed, which the EGL device platform allows.
        let display =
            unsafe { Display::with_device(device, None) }.map_err(|e| no_ctx("EGL display", e))?;
        let template = ConfigTemplateBuilder::new()
            .with_surface_type(glutin::config::ConfigSurfaceTypes::empty())
            .build();
        // SAFETY: the display is valid for the duration of the call.
        let config = unsafe { display.find_configs(template) }
            .map_err(|e| no_ctx("EGL configs", e))?
            .find(|c| c.api().contains(glutin::config::Api::OPENGL))
            .ok_or_else(|| {
                RenderError::NoContext("no EGL config supports desktop OpenGL".into())
            })?;
        let attrs = ContextAttributesBuilder::new()
            .with_context_api(ContextApi::OpenGl(Some(Version::new(3, 3))))
            .with_profile(GlProfile::Core)
            .build(None);
        // SAFETY: config comes from this display; no window handle is involved.
        let not_current = unsafe { display.create_context(&config, &attrs) }
            .map_err(|e| no_ctx("OpenGL 3.3 core context", e))?;
        let current = not_current
            .make_current_surfaceless()
            .map_err(|e| no_ctx("make current", e))?;
        // SAFETY: the context is current on this thread and stays alive in `Self`.
        let glow = unsafe {
            three_d::context::Context::from_loader_function_cstr(|s| display.get_proc_address(s))
        };
        let ctx = Context::from_gl_context(Arc::new(glow))?;
        // SAFETY: plain string query on the current context.
        let device_name =
            unsafe { HasContext::get_parameter_string(&**ctx, three_d::context::RENDERER) };
        Ok(Self {
            target: None,
            ctx,
            _gl_context: current,
            _display: display,
            device_name,
        })
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The GL renderer string (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"), for logs and reports.
    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    /// Renders one frame offscreen and returns RGBA8, top row first, `width*height*4` bytes.
    /// The background is always cleared to the style's opaque background unless the state
    /// asks for another clear colour.
    pub fn render_rgba(
        &mut self,
        renderer: &mut SceneRenderer,
        width: u32,
        height: u32,
        state: &FrameState,
    ) -> Result<Vec<u8>, RenderError> {
        self.render_views(
            width,
            height,
            state.clear_color.unwrap_or(state.opaque_background()),
            |ctx| {
                renderer.draw(
                    ctx,
                    Viewport::new_at_origo(width, height),
                    &FrameState {
                        clear_color: None,
                        ..state.clone()
                    },
                );
            },
        )
    }

    /// Renders several draws (e.g. side-by-side views) into one offscreen image: `draw` gets
    /// the context with the offscreen target bound and already cleared to `clear`.
    pub fn render_views(
        &mut self,
        width: u32,
        height: u32,
        clear: [f32; 4],
        draw: impl FnOnce(&Context),
    ) -> Result<Vec<u8>, RenderError> {
        check_size(width, height)?;
        if !matches!(&self.target, Some((w, h, ..)) if *w == width && *h == height) {
            let color = Texture2D::new_empty::<[u8; 4]>(
                &self.ctx,
                width,
                height,
                Interpolation::Nearest,
                Interpolation::Nearest,
                None,
                Wrapping::ClampToEdge,
                Wrapping::ClampToEdge,
            );
            let depth = DepthTexture2D::new::<f32>(
                &self.ctx,
                width,
                height,
                Wrapping::ClampToEdge,
                Wrapping::ClampToEdge,
            );
            self.target = Some((width, height, color, depth));
        }
        let Some((_, _, color, depth)) = self.target.as_mut() else {
            return Err(RenderError::Gl("offscreen target missing".into()));
        };
        let rt = RenderTarget::new(color.as_color_target(None), depth.as_depth_target());
        rt.clear(ClearState::color_and_depth(
            clear[0], clear[1], clear[2], clear[3], 1.0,
        ));
        let ctx = self.ctx.clone();
        rt.write::<RenderError>(|| {
            draw(&ctx);
            Ok(())
        })?;
        let pixels: Vec<[u8; 4]> = rt.read_color();
        self.ctx.error_check()?;
        Ok(pixels.into_iter().flatten().collect())
    }
}

fn check_size(width: u32, height: u32) -> Result<(), RenderError> {
    if width == 0 || height == 0 || width > 16384 || height > 16384 {
        return Err(RenderError::Options(format!(
            "image size {width}x{height} must be between 1 and 16384"
        )));
    }
    Ok(())
}
