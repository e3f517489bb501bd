//! The current image, large, and a filmstrip of the images in the trajectory's tail.

use eframe::egui::{self, Color32, RichText};

use super::scrubber::frame_text;
use crate::app::images;
use crate::app::state::{AppState, Loaded};
use crate::app::theme;

/// Side of the current image in the time panel, points: the height of the three rows beside it.
pub(super) const CURRENT: f32 = 100.0;

pub(super) const FILM: f32 = 44.0;

pub(super) const FILM_N: usize = 5;

/// The image under the head, large, and before it a filmstrip of images spread over the tail
/// (oldest left, fading).
pub(super) fn filmstrip(ui: &mut egui::Ui, state: &AppState, l: &Loaded, a: &images::Atlas) {
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
