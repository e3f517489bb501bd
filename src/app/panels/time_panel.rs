//! The Rerun-style time panel: transport buttons, speed / loop / tail / spin, a scrubber over the
//! image sequence with class-boundary ticks, and under it the per-frame disagreement strip (how
//! far the networks are from each other, before vs after alignment; click to seek).

use eframe::egui::{self, Align2, Color32, FontId, Rect, RichText, Sense, Stroke, Vec2};

use crate::app::commands::AppCommand;
use crate::app::images;
use crate::app::playback::{PlaybackCommand as P, SPEED_RANGE};
use crate::app::state::{AppState, Loaded};
use crate::app::theme::{self, icon_button, Icon};

/// Width of the label column left of the scrubber and the strip, so both tracks line up.
pub const LABEL_W: f32 = 92.0;
const SCRUB_H: f32 = 26.0;
const STRIP_H: f32 = 40.0;

pub fn show(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    let loaded = state.primary.loaded.as_ref();
    let atlas = loaded.and_then(|l| images::atlas(ui.ctx(), &l.dataset));
    let mut tracks = |ui: &mut egui::Ui| {
        transport(ui, state, cmds);
        ui.add_space(4.0);
        scrubber(ui, state, loaded, cmds);
        if let Some(l) = loaded {
            ui.add_space(2.0);
            disagreement_strip(ui, state, l, cmds);
        }
    };
    match (atlas, loaded) {
        (Some(a), Some(l)) => {
            ui.horizontal(|ui| {
                filmstrip(ui, state, l, &a);
                ui.vertical(tracks);
            });
        }
        _ => tracks(ui),
    }
}

/// Side of the current image in the time panel, points: the height of the three rows beside it.
const CURRENT: f32 = 100.0;
const FILM: f32 = 44.0;
const FILM_N: usize = 5;

/// The image under the head, large, and before it a filmstrip of images spread over the tail
/// (oldest left, fading).
fn filmstrip(ui: &mut egui::Ui, state: &AppState, l: &Loaded, a: &images::Atlas) {
    let pb = &state.playback;
    let f = pb.frame();
    let tail = pb.tail().max(1);
    ui.spacing_mut().item_spacing.x = 4.0;
    ui.vertical(|ui| {
        ui.add_space(CURRENT - FILM - 14.0);
        ui.label(RichText::new("tail").size(10.5).color(theme::MUTED));
        ui.horizontal(|ui| {
            for k in (1..=FILM_N).rev() {
                // Evenly over the tail; fewer when the tail is short.
                let back = (k * tail).div_ceil(FILM_N);
                let Some(frame) = f.checked_sub(back) else {
                    ui.add_space(FILM + 4.0);
                    continue;
                };
                let (Some(img), Some(w)) = (
                    l.image(frame),
                    l.image(frame).and_then(|i| a.image(i, FILM)),
                ) else {
                    continue;
                };
                let fade = 0.35 + 0.65 * (1.0 - k as f32 / (FILM_N + 1) as f32);
                ui.add(w.tint(Color32::from_white_alpha(255).gamma_multiply(fade)))
                    .on_hover_text(frame_text(l, frame).replace(
                        &format!("image #{img}"),
                        &format!("image #{img} ({back} back)"),
                    ));
            }
        });
    });
    if let Some(img) = l.image(f) {
        if let Some(w) = a.image(img, CURRENT) {
            ui.add(w).on_hover_text(frame_text(l, f));
        }
    }
    ui.add_space(6.0);
}

fn transport(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    let pb = &state.playback;
    let n = pb.n_frames();
    ui.horizontal(|ui| {
        ui.add_enabled_ui(n > 1, |ui| {
            let small = Vec2::new(30.0, 26.0);
            let button = |ui: &mut egui::Ui, icon: Icon, name: &str, hint: &str| {
                icon_button(ui, icon, name, small, None)
                    .on_hover_text(hint)
                    .clicked()
            };
            if button(ui, Icon::JumpStart, "Jump to start", "Jump to start (Home)") {
                cmds.push(P::JumpStart.into());
            }
            if button(ui, Icon::StepBack, "Step back", "One image back (←)") {
                cmds.push(P::StepBack.into());
            }
            let (icon, name) = if pb.playing() {
                (Icon::Pause, "Pause")
            } else {
                (Icon::Play, "Play")
            };
            let fill = theme::ACCENT.gamma_multiply(if pb.playing() { 0.35 } else { 0.6 });
            if icon_button(ui, icon, name, Vec2::new(46.0, 26.0), Some(fill))
                .on_hover_text("Play / pause (Space)")
                .clicked()
            {
                cmds.push(P::TogglePlay.into());
            }
            if button(
                ui,
                Icon::StepForward,
                "Step forward",
                "One image forward (→)",
            ) {
                cmds.push(P::StepForward.into());
            }
            if button(ui, Icon::JumpEnd, "Jump to end", "Jump to end (End)") {
                cmds.push(P::JumpEnd.into());
            }
        });
        ui.separator();

        // Frame number: drag or type to seek.
        let mut frame = pb.frame() + 1;
        let r = ui
            .add_enabled(
                n > 0,
                egui::DragValue::new(&mut frame)
                    .range(1..=n.max(1))
                    .prefix("frame ")
                    .speed(1.0),
            )
            .on_hover_text("Current frame (drag or type to seek)");
        if r.changed() && n > 0 {
            cmds.push(P::Seek(frame.saturating_sub(1) as f32).into());
        }
        let total = if n > 0 {
            format!("/ {n}")
        } else {
            "/ —".to_string()
        };
        ui.label(RichText::new(total).color(theme::MUTED));
        if let Some(l) = &state.primary.loaded {
            let f = pb.frame();
            let mut s = String::new();
            if let Some(img) = l.image(f) {
                s.push_str(&format!("image #{img}"));
            }
            if let Some(c) = l.class(f) {
                s.push_str(&format!(" · class {c}"));
            }
            ui.label(RichText::new(s).monospace().color(Color32::from_gray(210)));
        }

        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let mut rot = pb.rotations();
            if ui
                .add_enabled(
                    pb.spin(),
                    egui::DragValue::new(&mut rot)
                        .range(-20.0..=20.0)
                        .speed(0.01)
                        .suffix(" turns/run"),
                )
                .on_hover_text("Camera turns per pass over all images (HyperTools `rotations`)")
                .changed()
            {
                cmds.push(P::SetRotations(rot).into());
            }
            let mut spin = pb.spin();
            if ui.checkbox(&mut spin, "Auto-spin").changed() {
                cmds.push(P::SetSpin(spin).into());
            }
            ui.separator();
            let mut tail = pb.tail();
            if ui
                .add(
                    egui::DragValue::new(&mut tail)
                        .range(1..=100_000)
                        .speed(1.0)
                        .prefix("tail ")
                        .suffix(" img"),
                )
                .on_hover_text("Images in the bright head behind the current one")
                .changed()
            {
                cmds.push(P::SetTail(tail).into());
            }
            let mut looping = pb.looping();
            if ui.checkbox(&mut looping, "Loop").changed() {
                cmds.push(P::SetLoop(looping).into());
            }
            let mut speed = pb.speed();
            if ui
                .add(
                    egui::DragValue::new(&mut speed)
                        .range(SPEED_RANGE.0..=SPEED_RANGE.1)
                        .speed(0.5)
                        .max_decimals(1)
                        .suffix(" img/s"),
                )
                .on_hover_text("Playback speed in images per second")
                .changed()
            {
                cmds.push(P::SetSpeed(speed).into());
            }
            ui.label(RichText::new("speed").color(theme::MUTED));
        });
    });
}

/// Left label column, then a track of the given height filling the rest of the row.
fn track(
    ui: &mut egui::Ui,
    label: &str,
    height: f32,
    sense: Sense,
) -> (Rect, Rect, egui::Response) {
    let full = ui.available_width();
    let (row, _) = ui.allocate_exact_size(Vec2::new(full, height), Sense::hover());
    let label_rect = Rect::from_min_size(row.min, Vec2::new(LABEL_W, height));
    let track = Rect::from_min_max(row.min + Vec2::new(LABEL_W, 0.0), row.max);
    let id = ui.scope_id().with(("track", label));
    let resp = ui.interact(track, id, sense);
    (label_rect, track, resp)
}

fn x_of(track: Rect, frame: f32, last: usize) -> f32 {
    if last == 0 {
        return track.left();
    }
    track.left() + (frame / last as f32).clamp(0.0, 1.0) * track.width()
}

fn frame_at(track: Rect, x: f32, last: usize) -> f32 {
    if track.width() <= 0.0 {
        return 0.0;
    }
    ((x - track.left()) / track.width()).clamp(0.0, 1.0) * last as f32
}

/// Seek while the pointer is pressed on (or dragging from) a track.
fn seek_input(resp: &egui::Response, track: Rect, last: usize, cmds: &mut Vec<AppCommand>) {
    if resp.is_pointer_button_down_on() || resp.dragged() || resp.clicked() {
        if let Some(p) = resp.interact_pointer_pos() {
            cmds.push(P::Seek(frame_at(track, p.x, last).round()).into());
        }
    }
}

fn scrubber(
    ui: &mut egui::Ui,
    state: &AppState,
    loaded: Option<&Loaded>,
    cmds: &mut Vec<AppCommand>,
) {
    let pb = &state.playback;
    let last = pb.last_frame();
    let (label_rect, track_rect, resp) = track(ui, "scrubber", SCRUB_H, Sense::click_and_drag());
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Scrubber"));
    let painter = ui.painter();
    painter.text(
        label_rect.right_center() - Vec2::new(10.0, 0.0),
        Align2::RIGHT_CENTER,
        "images",
        FontId::proportional(12.0),
        theme::MUTED,
    );
    painter.rect_filled(track_rect, 4.0, theme::STRIP_BG);

    // Class segments: alternate shading, a tick at each boundary, the class name where it fits.
    // With colour-by-class on, a band in each class's colour matches the 3D view.
    if let Some(labels) = loaded.and_then(|l| l.scene.labels.as_ref()) {
        let mut distinct = labels.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let class_colors = state
            .view
            .style
            .color_by_label
            .then(|| theme::class_colors(distinct.len()));
        for (i, (start, end, label)) in class_runs(labels).into_iter().enumerate() {
            let x0 = x_of(track_rect, start as f32, last);
            let x1 = x_of(track_rect, end as f32, last);
            let seg = Rect::from_x_y_ranges(x0..=x1, track_rect.y_range());
            if i % 2 == 1 {
                painter.rect_filled(seg, 0.0, Color32::from_white_alpha(8));
            }
            let color = class_colors
                .as_ref()
                .and_then(|c| distinct.binary_search(&label).ok().and_then(|k| c.get(k)));
            if let Some(c) = color {
                let band = Rect::from_x_y_ranges(
                    x0..=x1,
                    (track_rect.bottom() - 4.0)..=track_rect.bottom(),
                );
                painter.rect_filled(band, 0.0, c.gamma_multiply(0.8));
            }
            if start > 0 {
                painter.line_segment(
                    [
                        egui::pos2(x0, track_rect.top()),
                        egui::pos2(x0, track_rect.top() + 7.0),
                    ],
                    Stroke::new(1.0, Color32::from_gray(120)),
                );
            }
            if x1 - x0 > 18.0 {
                painter.text(
                    seg.center() + Vec2::new(0.0, 3.0),
                    Align2::CENTER_CENTER,
                    loaded.map_or_else(|| label.to_string(), |l| l.dataset.class_name(label)),
                    FontId::proportional(10.5),
                    Color32::from_gray(135),
                );
            }
        }
    }

    if pb.n_frames() > 0 {
        // The bright tail, then the head.
        let head = pb.head();
        let tail_start = (head - pb.tail() as f32).max(0.0);
        let tail_rect = Rect::from_x_y_ranges(
            x_of(track_rect, tail_start, last)..=x_of(track_rect, head, last),
            track_rect.shrink2(Vec2::new(0.0, 5.0)).y_range(),
        );
        painter.rect_filled(tail_rect, 2.0, theme::ACCENT.gamma_multiply(0.3));
        let x = x_of(track_rect, head, last);
        painter.line_segment(
            [
                egui::pos2(x, track_rect.top()),
                egui::pos2(x, track_rect.bottom()),
            ],
            Stroke::new(2.0, theme::ACCENT),
        );
        painter.circle_filled(egui::pos2(x, track_rect.top() + 3.0), 5.0, theme::ACCENT);
    }

    seek_input(&resp, track_rect, last, cmds);
    if let (Some(p), Some(l)) = (resp.hover_pos(), loaded) {
        let f = frame_at(track_rect, p.x, last).round() as usize;
        let text = frame_text(l, f);
        hover_image(ui, resp, l, f, text);
    }
}

/// `(start, end, label)` runs of equal consecutive labels; `end` is the first frame of the next.
pub fn class_runs(labels: &[i64]) -> Vec<(usize, usize, i64)> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=labels.len() {
        if i == labels.len() || labels.get(i) != labels.get(start) {
            if let Some(&l) = labels.get(start) {
                runs.push((start, i, l));
            }
            start = i;
        }
    }
    runs
}

fn frame_text(l: &Loaded, f: usize) -> String {
    let mut s = format!("frame {}", f + 1);
    if let Some(img) = l.image(f) {
        s.push_str(&format!(" · image #{img}"));
    }
    if let Some(c) = l.class(f) {
        s.push_str(&format!(" · class {c}"));
    }
    s
}

/// Tooltip at the pointer with the image of frame `f` (when there are images) and `text`.
fn hover_image(ui: &egui::Ui, resp: egui::Response, l: &Loaded, f: usize, text: String) {
    let thumb = l
        .image(f)
        .and_then(|i| images::atlas(ui.ctx(), &l.dataset).and_then(|a| a.image(i, 80.0)));
    resp.on_hover_ui_at_pointer(|ui| {
        ui.horizontal(|ui| {
            if let Some(t) = thumb {
                ui.add(t);
            }
            ui.label(text);
        });
    });
}

/// Per pixel column, the largest value of the frames that fall in it.
pub fn bin_max(values: &[f32], columns: usize) -> Vec<f32> {
    if values.is_empty() || columns == 0 {
        return Vec::new();
    }
    let n = values.len();
    (0..columns)
        .map(|c| {
            let a = c * n / columns;
            let b = ((c + 1) * n / columns).max(a + 1).min(n);
            values.get(a..b).map_or(0.0, |s| {
                s.iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(0.0, f32::max)
            })
        })
        .collect()
}

fn disagreement_strip(ui: &mut egui::Ui, state: &AppState, l: &Loaded, cmds: &mut Vec<AppCommand>) {
    let scene = &l.scene;
    let before = &scene.disagreement_before;
    let after = &scene.disagreement_after;
    let last = state.playback.last_frame();
    let (label_rect, track_rect, resp) =
        track(ui, "disagreement", STRIP_H, Sense::click_and_drag());
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Disagreement strip"));
    let painter = ui.painter();
    painter.rect_filled(track_rect, 4.0, theme::STRIP_BG);
    let m = state.playback.morph().value();

    // Label column: a tiny legend saying which half is which.
    let lx = label_rect.right() - 10.0;
    painter.text(
        egui::pos2(lx, label_rect.top() + 9.0),
        Align2::RIGHT_CENTER,
        "before ▲",
        FontId::proportional(11.0),
        theme::BEFORE,
    );
    painter.text(
        egui::pos2(lx, label_rect.bottom() - 9.0),
        Align2::RIGHT_CENTER,
        "after ▼",
        FontId::proportional(11.0),
        theme::AFTER,
    );

    if before.is_empty() && after.is_empty() {
        painter.text(
            track_rect.center(),
            Align2::CENTER_CENTER,
            "no disagreement data",
            FontId::proportional(11.0),
            theme::MUTED,
        );
        return;
    }
    let max = before
        .iter()
        .chain(after.iter())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f32, f32::max);
    let cols = track_rect.width().max(1.0) as usize;
    let mid = track_rect.center().y;
    let half = track_rect.height() / 2.0 - 2.0;
    // The half that is on screen now is drawn stronger.
    let alpha_b = 0.45 + 0.5 * (1.0 - m);
    let alpha_a = 0.45 + 0.5 * m;
    let mut mesh = egui::Mesh::default();
    for (vals, up, color) in [
        (before, true, theme::BEFORE.gamma_multiply(alpha_b)),
        (after, false, theme::AFTER.gamma_multiply(alpha_a)),
    ] {
        for (c, v) in bin_max(vals, cols).into_iter().enumerate() {
            if max <= 0.0 || v <= 0.0 {
                continue;
            }
            let h = v / max * half;
            let x0 = track_rect.left() + c as f32 * track_rect.width() / cols as f32;
            let x1 = x0 + track_rect.width() / cols as f32;
            let r = if up {
                Rect::from_min_max(egui::pos2(x0, mid - h), egui::pos2(x1, mid))
            } else {
                Rect::from_min_max(egui::pos2(x0, mid), egui::pos2(x1, mid + h))
            };
            mesh.add_colored_rect(r, color);
        }
    }
    painter.add(egui::Shape::mesh(mesh));
    painter.line_segment(
        [
            egui::pos2(track_rect.left(), mid),
            egui::pos2(track_rect.right(), mid),
        ],
        Stroke::new(1.0, Color32::from_gray(60)),
    );
    let x = x_of(track_rect, state.playback.head(), last);
    painter.line_segment(
        [
            egui::pos2(x, track_rect.top()),
            egui::pos2(x, track_rect.bottom()),
        ],
        Stroke::new(2.0, theme::ACCENT),
    );

    seek_input(&resp, track_rect, last, cmds);
    if let Some(p) = resp.hover_pos() {
        let f = frame_at(track_rect, p.x, last).round() as usize;
        let b = before.get(f).copied();
        let a = after.get(f).copied();
        let text = format!(
            "{}\nspread between networks: before {} → after {}\nclick to seek",
            frame_text(l, f),
            super::num(b.map(f64::from), 3),
            super::num(a.map(f64::from), 3)
        );
        hover_image(ui, resp, l, f, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_labels() {
        assert_eq!(class_runs(&[]), vec![]);
        assert_eq!(class_runs(&[3]), vec![(0, 1, 3)]);
        assert_eq!(
            class_runs(&[0, 0, 1, 1, 1, 2]),
            vec![(0, 2, 0), (2, 5, 1), (5, 6, 2)]
        );
    }

    #[test]
    fn binning_keeps_peaks() {
        let v = [0.0, 5.0, 0.0, 0.0, 1.0, 0.0];
        assert_eq!(bin_max(&v, 3), vec![5.0, 0.0, 1.0]);
        assert_eq!(bin_max(&v, 12).len(), 12);
        assert_eq!(bin_max(&v, 12).iter().cloned().fold(0.0, f32::max), 5.0);
        assert!(bin_max(&[], 10).is_empty());
        assert_eq!(bin_max(&[f32::NAN, 2.0], 1), vec![2.0]);
    }

    #[test]
    fn track_mapping_round_trips() {
        let r = Rect::from_min_size(egui::pos2(100.0, 0.0), Vec2::new(200.0, 10.0));
        assert_eq!(x_of(r, 0.0, 10), 100.0);
        assert_eq!(x_of(r, 10.0, 10), 300.0);
        assert_eq!(frame_at(r, 200.0, 10), 5.0);
        assert_eq!(frame_at(r, -50.0, 10), 0.0);
        assert_eq!(x_of(r, 3.0, 0), 100.0);
    }
}
