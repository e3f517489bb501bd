//! The 3D view: a rect that turns mouse input into camera commands, a paint callback that draws
//! the scene with three-d, and egui overlays on top (title, legend, frame info, hover tooltip).
//!
//! Mouse: drag = orbit, right/middle-drag or shift-drag = pan, wheel or pinch = zoom,
//! double-click = reset view. All of it works while playing.

use eframe::egui::{self, Align2, Color32, FontId, Rect, RichText, Sense, Stroke, Vec2};

use super::commands::{AppCommand, CameraCommand};
use super::render_glue::{self, SharedGl};
use super::state::{AppState, Loaded, Slot};
use super::theme;
use super::worker::{Job, SlotId};
use crate::analysis::SceneData;
use crate::render::{FrameState, Ghost};

/// Pointer distance (points) within which a trajectory point counts as hovered.
pub const PICK_RADIUS: f32 = 12.0;

/// The trajectory point under the cursor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pick {
    pub network: usize,
    pub frame: usize,
    /// Screen position relative to the view's top-left corner.
    pub pos: [f32; 2],
}

/// Nearest drawn point to `pointer` (relative to the view, in the same units as `w`×`h`), among
/// the visible networks' head and ghost spans, as the renderer would place it for `frame`.
pub fn pick(
    scene: &SceneData,
    frame: &FrameState,
    pointer: [f32; 2],
    w: f32,
    h: f32,
) -> Option<Pick> {
    let n = scene.n_frames();
    let head = crate::render::geometry::head_span(frame.head, frame.style.tail, n)?;
    let mut spans = vec![head];
    if frame.style.ghost != Ghost::None {
        spans.extend(crate::render::geometry::ghost_spans(
            frame.style.ghost,
            head,
            n,
        ));
    }
    let m = frame.morph.clamp(0.0, 1.0);
    let mut best: Option<(f32, Pick)> = None;
    for (k, t) in scene.trajectories.iter().enumerate() {
        if !frame.visible.get(k).copied().unwrap_or(true) {
            continue;
        }
        for span in &spans {
            let first = span.start.max(0.0).floor() as usize;
            let last = (span.end.ceil() as usize).min(n.saturating_sub(1));
            for i in first..=last {
                let (Some(b), Some(a)) = (t.before.get(i), t.after.get(i)) else {
                    continue;
                };
                let p = [
                    b[0] + (a[0] - b[0]) * m,
                    b[1] + (a[1] - b[1]) * m,
                    b[2] + (a[2] - b[2]) * m,
                ];
                let Some(s) = frame.camera.project(p, w, h) else {
                    continue;
                };
                let d = ((s[0] - pointer[0]).powi(2) + (s[1] - pointer[1]).powi(2)).sqrt();
                if d <= PICK_RADIUS && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((
                        d,
                        Pick {
                            network: k,
                            frame: i,
                            pos: s,
                        },
                    ));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

/// Draw one view into `rect` and collect the commands its input produces.
pub fn show(
    ui: &mut egui::Ui,
    rect: Rect,
    state: &AppState,
    id: SlotId,
    gl: &SharedGl,
    job: Option<&Job>,
    cmds: &mut Vec<AppCommand>,
) {
    let Some(slot) = state.slot(id) else { return };
    let response = ui.interact(
        rect,
        ui.scope_id().with(("view3d", id)),
        Sense::click_and_drag(),
    );
    let painter = ui.painter_at(rect);
    let bg = theme::rgb(state.view.style.background());
    painter.rect_filled(rect, 0.0, bg);

    camera_input(ui, &response, rect, cmds);

    let frame = state.frame_state(id);
    match &slot.loaded {
        Some(loaded) => {
            painter.add(render_glue::paint_callback(
                gl.clone(),
                id,
                loaded.generation,
                loaded.scene.clone(),
                frame.clone(),
                rect,
            ));
            if let Some(err) = render_glue::lock(gl).error(id) {
                centered_message(&painter, rect, "Cannot draw this scene", err, theme::ERROR);
            }
            overlays(ui, rect, state, id, slot, loaded, &frame, cmds);
            if state.view.hover {
                hover(ui, &response, rect, loaded, &frame);
            }
        }
        None => placeholder(&painter, rect, slot, job),
    }
    if job.is_some() && slot.loaded.is_some() {
        // A refit is running: a thin progress line along the top edge of the view.
        let f = job.map_or(0.0, Job::fraction);
        let bar = Rect::from_min_size(rect.min, Vec2::new(rect.width() * f.max(0.02), 3.0));
        painter.rect_filled(bar, 0.0, theme::ACCENT);
    }
}

fn camera_input(ui: &egui::Ui, response: &egui::Response, rect: Rect, cmds: &mut Vec<AppCommand>) {
    let shift = ui.input(|i| i.modifiers.shift);
    let delta = response.drag_delta();
    if delta != Vec2::ZERO {
        let pan = response.dragged_by(egui::PointerButton::Secondary)
            || response.dragged_by(egui::PointerButton::Middle)
            || (shift && response.dragged_by(egui::PointerButton::Primary));
        if pan {
            cmds.push(
                CameraCommand::Pan {
                    dx: delta.x,
                    dy: delta.y,
                    viewport_height: rect.height(),
                }
                .into(),
            );
        } else if response.dragged_by(egui::PointerButton::Primary) {
            cmds.push(
                CameraCommand::Orbit {
                    dx: delta.x,
                    dy: delta.y,
                }
                .into(),
            );
        }
    }
    if response.hovered() {
        let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        if scroll != 0.0 {
            cmds.push(CameraCommand::Scroll(scroll).into());
        }
        if zoom != 1.0 {
            cmds.push(CameraCommand::Zoom(zoom).into());
        }
    }
    if response.double_clicked() {
        cmds.push(CameraCommand::Reset.into());
    }
    if response.dragged() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::Grabbing);
    } else if response.hovered() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::Grab);
    }
}

fn placeholder(painter: &egui::Painter, rect: Rect, slot: &Slot, job: Option<&Job>) {
    match (job, &slot.pending) {
        (Some(job), _) => {
            let detail = format!("{} · {:.0}%", job.stage_text(), job.fraction() * 100.0);
            centered_message(
                painter,
                rect,
                &format!("{}…", job.title),
                &detail,
                theme::ACCENT,
            );
            // A progress line under the text.
            let w = (rect.width() * 0.4).min(320.0);
            let bar =
                Rect::from_center_size(rect.center() + Vec2::new(0.0, 40.0), Vec2::new(w, 4.0));
            painter.rect_filled(bar, 2.0, theme::STRIP_BG);
            let done = Rect::from_min_size(bar.min, Vec2::new(w * job.fraction(), 4.0));
            painter.rect_filled(done, 2.0, theme::ACCENT);
        }
        _ => centered_message(
            painter,
            rect,
            "No data",
            "Drop .npy / .npz files or a folder here, or use Open… in the top bar.",
            theme::MUTED,
        ),
    }
}

fn centered_message(
    painter: &egui::Painter,
    rect: Rect,
    title: &str,
    detail: &str,
    color: Color32,
) {
    let c = rect.center();
    painter.text(
        c - Vec2::new(0.0, 14.0),
        Align2::CENTER_CENTER,
        title,
        FontId::proportional(20.0),
        color,
    );
    painter.text(
        c + Vec2::new(0.0, 14.0),
        Align2::CENTER_CENTER,
        detail,
        FontId::proportional(13.0),
        theme::MUTED,
    );
}

/// Title, legend, frame caption and mouse hints, drawn over the 3D picture.
#[allow(clippy::too_many_arguments)]
fn overlays(
    ui: &mut egui::Ui,
    rect: Rect,
    state: &AppState,
    id: SlotId,
    slot: &Slot,
    loaded: &Loaded,
    frame: &FrameState,
    cmds: &mut Vec<AppCommand>,
) {
    let dark = state.view.style.dark_background;
    let text = if dark {
        Color32::from_gray(225)
    } else {
        Color32::from_gray(30)
    };
    let sub = if dark {
        Color32::from_gray(150)
    } else {
        Color32::from_gray(90)
    };
    let painter = ui.painter_at(rect);

    // Title: dataset and which view is shown (the morph amount while it animates).
    let m = frame.morph;
    let which = if state.aligning(id) {
        "before alignment (joint PCA of native spaces); aligning…".to_string()
    } else if state.playback.morph().animating() {
        format!(
            "morphing {:.0}% → {}",
            m * 100.0,
            if state.playback.aligned() {
                "aligned"
            } else {
                "native"
            }
        )
    } else if m >= 0.5 {
        "after SRM alignment (shared space)".to_string()
    } else if loaded.scene.before_padded {
        "before alignment (joint PCA, zero-padded native spaces)".to_string()
    } else {
        "before alignment (joint PCA of native spaces)".to_string()
    };
    let top = rect.center_top() + Vec2::new(0.0, 10.0);
    painter.text(
        top,
        Align2::CENTER_TOP,
        &loaded.dataset.name,
        FontId::proportional(16.0),
        text,
    );
    painter.text(
        top + Vec2::new(0.0, 20.0),
        Align2::CENTER_TOP,
        which,
        FontId::proportional(13.0),
        sub,
    );

    if state.view.legend {
        legend(ui, rect, id, slot, loaded, frame, dark, cmds);
    }

    // Bottom-left: the image under the head.
    let f = (frame.head.max(0.0).floor() as usize).min(loaded.scene.n_frames().saturating_sub(1));
    let mut caption = format!("frame {} / {}", f + 1, loaded.scene.n_frames());
    if let Some(img) = loaded.image(f) {
        caption.push_str(&format!(" · image #{img}"));
    }
    if let Some(c) = loaded.class(f) {
        caption.push_str(&format!(" · class {c}"));
    }
    painter.text(
        rect.left_bottom() + Vec2::new(12.0, -10.0),
        Align2::LEFT_BOTTOM,
        caption,
        FontId::monospace(12.0),
        sub,
    );
    // Mouse help behind a small badge in the bottom-right corner.
    let badge = Rect::from_center_size(
        rect.right_bottom() + Vec2::new(-20.0, -18.0),
        Vec2::splat(20.0),
    );
    let help = ui.interact(badge, ui.scope_id().with(("view_help", id)), Sense::hover());
    let strong = if help.hovered() { text } else { sub };
    painter.circle_stroke(badge.center(), 9.0, Stroke::new(1.0, strong));
    painter.text(
        badge.center(),
        Align2::CENTER_CENTER,
        "?",
        FontId::proportional(12.0),
        strong,
    );
    help.on_hover_text(
        "Drag: orbit · right-drag or shift-drag: pan · wheel: zoom · double-click: reset view\n\
         Space: play/pause · ←/→: step · Home/End: jump · A: before/after",
    );
}

/// Clickable legend in the top-left corner: click = show/hide, double-click = solo, hover =
/// highlight. With colour-by-class it also lists the class colours.
#[allow(clippy::too_many_arguments)]
fn legend(
    ui: &mut egui::Ui,
    rect: Rect,
    id: SlotId,
    slot: &Slot,
    loaded: &Loaded,
    frame: &FrameState,
    dark: bool,
    cmds: &mut Vec<AppCommand>,
) {
    let names = loaded.names();
    let colors = theme::network_colors(names.len());
    // In narrow (side-by-side) views the legend goes under the centred title.
    let top = if rect.width() < 900.0 { 56.0 } else { 12.0 };
    let area = Rect::from_min_size(
        rect.min + Vec2::new(12.0, top),
        Vec2::new(220.0, rect.height() - top - 12.0),
    );
    let mut child = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(area)
            .id_salt(("legend", id)),
    );
    let frame_fill = if dark {
        Color32::from_black_alpha(150)
    } else {
        Color32::from_white_alpha(200)
    };
    let mut hovered = None;
    egui::Frame::new()
        .fill(frame_fill)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(8, 6))
        .show(&mut child, |ui| {
            ui.spacing_mut().item_spacing.y = 2.0;
            for (k, name) in names.iter().enumerate() {
                let visible = slot.is_visible(k);
                let color = colors.get(k).copied().unwrap_or(Color32::GRAY);
                ui.horizontal(|ui| {
                    let (sw, _) = ui.allocate_exact_size(Vec2::new(18.0, 12.0), Sense::hover());
                    let c = if visible {
                        color
                    } else {
                        color.gamma_multiply(0.25)
                    };
                    ui.painter()
                        .line_segment([sw.left_center(), sw.right_center()], Stroke::new(3.0, c));
                    let mut t = RichText::new(name.as_str()).size(13.0);
                    t = if visible {
                        t.color(if dark {
                            Color32::from_gray(225)
                        } else {
                            Color32::from_gray(25)
                        })
                    } else {
                        t.color(Color32::from_gray(120)).strikethrough()
                    };
                    let r = ui
                        .add(egui::Button::new(t).frame(false))
                        .on_hover_text("click: show/hide · double-click: show only this");
                    if r.double_clicked() {
                        cmds.push(AppCommand::Solo {
                            slot: id,
                            network: Some(k),
                        });
                    } else if r.clicked() {
                        cmds.push(AppCommand::ToggleNetwork {
                            slot: id,
                            network: k,
                        });
                    }
                    if r.hovered() {
                        hovered = Some(k);
                    }
                });
            }
            if frame.style.color_by_label {
                if let Some(labels) = &loaded.scene.labels {
                    class_legend(ui, labels, &loaded.dataset);
                }
            }
        });
    if hovered != slot.highlight {
        cmds.push(AppCommand::Highlight {
            slot: id,
            network: hovered,
        });
    }
}

fn class_legend(ui: &mut egui::Ui, labels: &[i64], d: &crate::data::Dataset) {
    let mut distinct = labels.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let colors = theme::class_colors(distinct.len());
    ui.add_space(4.0);
    ui.label(RichText::new("classes").size(11.0).color(theme::MUTED));
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        for (c, color) in distinct.iter().zip(colors).take(40) {
            let name = d.class_name(*c);
            ui.label(RichText::new(format!("■{name}")).size(11.0).color(color));
        }
    });
}

/// The point under the cursor: a ring around it and a label with network, frame, image, class.
fn hover(
    ui: &egui::Ui,
    response: &egui::Response,
    rect: Rect,
    loaded: &Loaded,
    frame: &FrameState,
) {
    if response.dragged() {
        return;
    }
    let Some(p) = response.hover_pos() else {
        return;
    };
    let rel = p - rect.min;
    let Some(hit) = pick(
        &loaded.scene,
        frame,
        [rel.x, rel.y],
        rect.width(),
        rect.height(),
    ) else {
        return;
    };
    let names = loaded.names();
    let colors = theme::network_colors(names.len());
    let color = colors.get(hit.network).copied().unwrap_or(Color32::WHITE);
    let at = rect.min + Vec2::new(hit.pos[0], hit.pos[1]);
    let painter = ui.painter_at(rect);
    painter.circle_stroke(at, 6.0, Stroke::new(2.0, color));
    let name = names.get(hit.network).cloned().unwrap_or_default();
    let mut info = format!("frame {}", hit.frame + 1);
    let img = loaded.image(hit.frame);
    if let Some(img) = img {
        info.push_str(&format!(" · image #{img}"));
    }
    let class = loaded.class(hit.frame).map(|c| format!("class {c}"));
    let thumb = img.and_then(|i| {
        super::images::atlas(ui.ctx(), &loaded.dataset)
            .and_then(|a| a.image(i, THUMB))
            .map(|t| t.alt_text(format!("hovered image #{i}")))
    });
    // A real (tooltip-order) area, not paint: the thumbnail is drawn above everything and the
    // text is readable by screen readers and tests.
    let right = at.x + 16.0 + 180.0 < rect.right();
    let below = at.y + 14.0 + THUMB + 60.0 < rect.bottom();
    let pivot = match (right, below) {
        (true, true) => Align2::LEFT_TOP,
        (false, true) => Align2::RIGHT_TOP,
        (true, false) => Align2::LEFT_BOTTOM,
        (false, false) => Align2::RIGHT_BOTTOM,
    };
    let offset = Vec2::new(
        if right { 14.0 } else { -14.0 },
        if below { 12.0 } else { -12.0 },
    );
    egui::Area::new(ui.scope_id().with("hover_tooltip"))
        .order(egui::Order::Tooltip)
        .interactable(false)
        .pivot(pivot)
        .fixed_pos(at + offset)
        .show(ui.ctx(), |ui| {
            egui::Frame::new()
                .fill(Color32::from_black_alpha(225))
                .stroke(Stroke::new(1.0, color))
                .corner_radius(4.0)
                .inner_margin(egui::Margin::symmetric(8, 6))
                .show(ui, |ui| {
                    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                    ui.horizontal(|ui| {
                        if let Some(t) = thumb {
                            ui.add(t);
                        }
                        ui.vertical(|ui| {
                            ui.spacing_mut().item_spacing.y = 2.0;
                            let text = |s: String| RichText::new(s).size(13.0);
                            ui.label(text(name).color(color).strong());
                            ui.label(text(info).color(Color32::from_gray(235)));
                            if let Some(c) = class {
                                ui.label(text(c).color(Color32::from_gray(235)));
                            }
                        });
                    });
                });
        });
}

/// Side of the hover thumbnail, points.
const THUMB: f32 = 72.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Trajectory;

    fn scene() -> SceneData {
        let line = |z: f32| {
            (0..10)
                .map(|i| [i as f32 / 10.0 - 0.5, 0.0, z])
                .collect::<Vec<_>>()
        };
        SceneData {
            trajectories: vec![
                Trajectory {
                    name: "a".into(),
                    before: line(0.0),
                    after: line(0.5),
                },
                Trajectory {
                    name: "b".into(),
                    before: line(-0.5),
                    after: line(0.0),
                },
            ],
            image_index: (100..110).collect(),
            ..SceneData::default()
        }
    }

    #[test]
    fn picks_nearest_visible_point_in_head() {
        let s = scene();
        let mut f = FrameState {
            head: 9.0,
            ..FrameState::default()
        };
        f.style.tail = 100;
        let target = [0.4, 0.0, 0.0];
        let at = f.camera.project(target, 800.0, 600.0).unwrap_or_default();
        let hit = pick(&s, &f, at, 800.0, 600.0);
        assert_eq!(hit.map(|h| (h.network, h.frame)), Some((0, 9)));
        // After the morph, network b sits where a was before.
        f.morph = 1.0;
        let hit = pick(&s, &f, at, 800.0, 600.0);
        assert_eq!(hit.map(|h| (h.network, h.frame)), Some((1, 9)));
        // Hidden networks are not picked.
        f.visible = vec![true, false];
        assert_eq!(pick(&s, &f, at, 800.0, 600.0).map(|h| h.network), None);
    }

    #[test]
    fn points_outside_the_tail_are_not_picked_without_ghosts() {
        let s = scene();
        let mut f = FrameState {
            head: 9.0,
            ..FrameState::default()
        };
        f.style.tail = 2;
        let early = f
            .camera
            .project([-0.5, 0.0, 0.0], 800.0, 600.0)
            .unwrap_or_default();
        assert!(pick(&s, &f, early, 800.0, 600.0).is_none());
        f.style.ghost = Ghost::Chemtrails;
        assert_eq!(pick(&s, &f, early, 800.0, 600.0).map(|h| h.frame), Some(0));
        assert!(pick(&SceneData::default(), &f, early, 800.0, 600.0).is_none());
    }
}
