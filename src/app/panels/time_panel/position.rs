//! Pure mapping between frames and x positions on a track, and seeking by pointer.

use eframe::egui::{self, Rect, Sense, Vec2};

use crate::app::commands::AppCommand;
use crate::app::playback::PlaybackCommand as P;

/// Width of the label column left of the scrubber and the strip, so both tracks line up.
pub const LABEL_W: f32 = 92.0;
/// Height of the scrubber's track.
pub(super) const SCRUB_H: f32 = 26.0;
/// Height of the disagreement strip.
pub(super) const STRIP_H: f32 = 40.0;

/// Left label column, then a track of the given height filling the rest of the row.
pub(super) fn track(
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

pub(super) fn x_of(track: Rect, frame: f32, last: usize) -> f32 {
    if last == 0 {
        return track.left();
    }
    track.left() + (frame / last as f32).clamp(0.0, 1.0) * track.width()
}

pub(super) fn frame_at(track: Rect, x: f32, last: usize) -> f32 {
    if track.width() <= 0.0 {
        return 0.0;
    }
    ((x - track.left()) / track.width()).clamp(0.0, 1.0) * last as f32
}

/// Seek while the pointer is pressed on (or dragging from) a track.
pub(super) fn seek_input(
    resp: &egui::Response,
    track: Rect,
    last: usize,
    cmds: &mut Vec<AppCommand>,
) {
    if resp.is_pointer_button_down_on() || resp.dragged() || resp.clicked() {
        if let Some(p) = resp.interact_pointer_pos() {
            cmds.push(P::Seek(frame_at(track, p.x, last).round()).into());
        }
    }
}
