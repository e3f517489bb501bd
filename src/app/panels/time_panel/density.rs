//! The per-frame disagreement strip (before vs after alignment), binned to the track's width.

use eframe::egui::{self, Align2, Color32, FontId, Rect, Sense, Stroke};

use super::position::{frame_at, seek_input, track, x_of, STRIP_H};
use super::scrubber::{frame_text, hover_image};
use crate::app::commands::AppCommand;
use crate::app::state::{AppState, Loaded};
use crate::app::theme;

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

pub(super) fn disagreement_strip(
    ui: &mut egui::Ui,
    state: &AppState,
    l: &Loaded,
    cmds: &mut Vec<AppCommand>,
) {
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
            crate::app::panels::num(b.map(f64::from), 3),
            crate::app::panels::num(a.map(f64::from), 3)
        );
        hover_image(ui, resp, l, f, text);
    }
}
