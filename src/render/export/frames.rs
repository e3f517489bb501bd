//! Rendering planned frames with GL: the scene (one view, or before and after side by side),
//! then the overlays (title, legend, captions, the input image), into RGBA.

use std::sync::mpsc;

use three_d::Viewport;

use super::options::ExportOptions;
use super::plan::PlannedFrame;
use crate::analysis::SceneData;
use crate::progress::{Progress, Stage};
use crate::render::camera::OrbitCamera;
use crate::render::error::RenderError;
use crate::render::headless::HeadlessGl;
use crate::render::overlay::{Canvas, Overlay};
use crate::render::scene::{FrameState, SceneRenderer};

fn base_camera(opts: &ExportOptions) -> OrbitCamera {
    opts.camera
        .unwrap_or_else(|| OrbitCamera::hypertools(opts.elevation_deg, opts.azimuth_deg, opts.zoom))
}

/// Draws one planned frame into RGBA, overlays included.
pub(super) struct FrameRenderer<'a> {
    // The renderer's GL objects must go before the context (fields drop in order).
    renderer: SceneRenderer,
    gl: HeadlessGl,
    opts: &'a ExportOptions,
    pub(super) legend: Vec<(String, [u8; 3])>,
}

impl<'a> FrameRenderer<'a> {
    pub(super) fn new(scene: &SceneData, opts: &'a ExportOptions) -> Result<Self, RenderError> {
        let gl = HeadlessGl::new()?;
        let renderer = SceneRenderer::new(gl.context(), scene)?;
        let legend = renderer
            .names()
            .iter()
            .cloned()
            .zip(renderer.colors().iter().copied())
            .enumerate()
            .filter(|(k, _)| opts.visible.get(*k).copied().unwrap_or(true))
            .map(|(_, e)| e)
            .collect();
        Ok(Self {
            renderer,
            gl,
            opts,
            legend,
        })
    }

    fn render(&mut self, f: &PlannedFrame) -> Result<Vec<u8>, RenderError> {
        let opts = self.opts;
        let (w, h) = (opts.width, opts.height);
        let mut camera = base_camera(opts);
        camera.yaw += f.yaw;
        let style = opts.style_with_tail(f.tail);
        let state = FrameState {
            camera,
            head: f.head,
            morph: f.morph,
            style: style.clone(),
            visible: opts.visible.clone(),
            highlight: None,
            clear_color: None,
        };
        let bg = state.opaque_background();
        let renderer = &mut self.renderer;
        let left_w = w / 2;
        let mut rgba = self.gl.render_views(w, h, bg, |ctx| {
            if f.side_by_side {
                let left = Viewport {
                    x: 0,
                    y: 0,
                    width: left_w,
                    height: h,
                };
                let right = Viewport {
                    x: left_w as i32,
                    y: 0,
                    width: w - left_w,
                    height: h,
                };
                renderer.draw(
                    ctx,
                    left,
                    &FrameState {
                        morph: 0.0,
                        ..state.clone()
                    },
                );
                renderer.draw(
                    ctx,
                    right,
                    &FrameState {
                        morph: 1.0,
                        ..state.clone()
                    },
                );
            } else {
                renderer.draw(ctx, Viewport::new_at_origo(w, h), &state);
            }
        })?;
        let overlay = |caption: Option<&str>, legend: bool, title: bool| Overlay {
            title: if title { opts.title.clone() } else { None },
            legend: if legend && opts.style.show_legend {
                self.legend.clone()
            } else {
                Vec::new()
            },
            caption: caption.filter(|_| opts.captions).map(str::to_string),
            text_color: style.text_color(),
            background: style.background(),
        };
        let (wu, hu) = (w as usize, h as usize);
        let mut canvas = Canvas::new(&mut rgba, wu, hu);
        if f.side_by_side {
            let lw = left_w as usize;
            overlay(Some("before alignment"), false, false).draw_in(&mut canvas, (0, 0, lw, hu));
            overlay(Some("after alignment"), true, false)
                .draw_in(&mut canvas, (lw, 0, wu - lw, hu));
            overlay(None, false, true).draw_in(&mut canvas, (0, 0, wu, hu));
        } else {
            overlay(f.caption, true, true).draw_in(&mut canvas, (0, 0, wu, hu));
        }
        if let (true, Some(im)) = (opts.show_image, &opts.images) {
            im.draw(&mut canvas, f.head, style.text_color(), style.background());
        }
        Ok(rgba)
    }
}

/// Renders every planned frame and hands it to the encoder. Takes the sender by value so it is
/// dropped (and the encoder finishes) when this returns. Returns early on cancel or a render
/// error; when the encoder hung up, its own error comes from `join_encoder`.
pub(super) fn run_frames(
    frames: &mut FrameRenderer,
    plan: &[PlannedFrame],
    tx: mpsc::SyncSender<Vec<u8>>,
    progress: &Progress,
) -> Result<(), RenderError> {
    for (i, f) in plan.iter().enumerate() {
        if progress.cancelled() {
            return Err(RenderError::Cancelled);
        }
        let rgba = frames.render(f)?;
        if tx.send(rgba).is_err() {
            return Ok(());
        }
        progress.stage(Stage::Export, (i + 1) as f32 / plan.len() as f32);
    }
    Ok(())
}
