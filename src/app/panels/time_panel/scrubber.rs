//! The scrubber over the image sequence, with class runs and ticks, and its hover text/image.

use eframe::egui::{self, Align2, Color32, FontId, Rect, Sense, Stroke, Vec2};

use super::position::{frame_at, seek_input, track, x_of, SCRUB_H};
use crate::app::commands::AppCommand;
use crate::app::images;
use crate::app::state::{AppState, Loaded};
use crate::app::theme;

pub(super) fn scrubber(
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

pub(super) fn frame_text(l: &Loaded, f: usize) -> String {
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
pub(super) fn hover_image(ui: &egui::Ui, resp: egui::Response, l: &Loaded, f: usize, text: String) {
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
