//! The bridge between egui and the three-d renderer.
//!
//! The 3D view adds an `egui::PaintCallback`; when egui_glow runs it, we build the
//! `three_d::Context` from egui's own `glow::Context` (once) and the [`SceneRenderer`] of each view
//! (again only when its scene changes, tracked by a generation number), then draw into the
//! framebuffer egui has bound. Nothing here runs without a GL context, which is why the app is
//! fully constructible and testable in kittest: the callback simply never fires there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use eframe::egui;
use eframe::egui_glow;

use super::slot::SlotId;
use crate::analysis::SceneData;
use crate::render::{FrameState, SceneRenderer};

/// GL resources shared by the paint callbacks of all views.
#[derive(Default)]
pub struct GlViews {
    ctx: Option<three_d::Context>,
    renderers: HashMap<SlotId, (u64, SceneRenderer)>,
    /// The last error per view (shown in the view instead of the scene).
    errors: HashMap<SlotId, String>,
    /// Frames actually drawn (the bench counts these).
    pub frames_drawn: u64,
    /// Views on screen; the GL resources of others are freed at the next draw (GL objects can
    /// only be deleted while the context is current, i.e. inside a callback).
    live: Vec<SlotId>,
}

pub type SharedGl = Arc<Mutex<GlViews>>;

/// Lock, recovering from a panic in an earlier callback rather than propagating it.
pub fn lock(gl: &SharedGl) -> MutexGuard<'_, GlViews> {
    gl.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GlViews {
    /// Tell the GL side which views exist this frame.
    pub fn set_live(&mut self, slots: &[SlotId]) {
        if self.live != slots {
            self.live = slots.to_vec();
        }
    }

    pub fn error(&self, slot: SlotId) -> Option<&str> {
        self.errors.get(&slot).map(String::as_str)
    }

    /// Free GL objects (on exit, while the context is still current).
    pub fn destroy(&mut self) {
        self.renderers.clear();
        self.ctx = None;
    }

    fn draw(
        &mut self,
        gl: &Arc<eframe::glow::Context>,
        slot: SlotId,
        generation: u64,
        scene: &SceneData,
        viewport: three_d::Viewport,
        frame: &FrameState,
    ) {
        if self.ctx.is_none() {
            match three_d::Context::from_gl_context(gl.clone()) {
                Ok(c) => self.ctx = Some(c),
                Err(e) => {
                    self.errors
                        .insert(slot, format!("cannot use the window's OpenGL context: {e}"));
                    return;
                }
            }
        }
        let live = &self.live;
        self.renderers.retain(|s, _| live.contains(s));
        let Some(ctx) = self.ctx.as_ref() else { return };
        let stale = self
            .renderers
            .get(&slot)
            .is_none_or(|(g, _)| *g != generation);
        if stale {
            self.renderers.remove(&slot);
            match SceneRenderer::new(ctx, scene) {
                Ok(r) => {
                    self.renderers.insert(slot, (generation, r));
                    self.errors.remove(&slot);
                }
                Err(e) => {
                    self.errors.insert(slot, e.to_string());
                    return;
                }
            }
        }
        if let Some((_, r)) = self.renderers.get_mut(&slot) {
            r.draw(ctx, viewport, frame);
            self.frames_drawn += 1;
        }
    }
}

/// The paint callback drawing `scene` at `frame` into `rect`.
pub fn paint_callback(
    gl: SharedGl,
    slot: SlotId,
    generation: u64,
    scene: Arc<SceneData>,
    frame: FrameState,
    rect: egui::Rect,
) -> egui::PaintCallback {
    egui::PaintCallback {
        rect,
        callback: Arc::new(egui_glow::CallbackFn::new(move |info, painter| {
            let px = info.viewport_in_pixels();
            let viewport = three_d::Viewport {
                x: px.left_px,
                y: px.from_bottom_px,
                width: px.width_px.max(0) as u32,
                height: px.height_px.max(0) as u32,
            };
            lock(&gl).draw(painter.gl(), slot, generation, &scene, viewport, &frame);
        })),
    }
}

/// Write one PNG of `frame` with a legend and a before/after caption, offscreen (its own
/// headless GL context, so call it on a worker thread).
pub fn screenshot(
    scene: &SceneData,
    names: &[String],
    frame: &FrameState,
    size: [u32; 2],
    path: &std::path::Path,
) -> Result<(), String> {
    let style = &frame.style;
    let colors = crate::render::palette(names.len());
    let legend = names
        .iter()
        .zip(colors)
        .enumerate()
        .filter(|(k, _)| frame.visible.get(*k).copied().unwrap_or(true))
        .map(|(_, (n, c))| (n.clone(), c))
        .collect();
    let caption = if frame.morph >= 0.5 {
        "after alignment"
    } else {
        "before alignment"
    };
    let overlay = crate::render::Overlay {
        title: None,
        legend,
        caption: Some(caption.to_string()),
        text_color: style.text_color(),
        background: style.background(),
    };
    let state = FrameState {
        clear_color: None,
        ..frame.clone()
    };
    crate::render::render_single_png(scene, &state, size[0], size[1], Some(&overlay), path)
        .map_err(|e| e.to_string())
}
