//! "Most disagreeing images": the held-out images where the networks are furthest apart, before
//! alignment and after it, with thumbnails; a click seeks there.

use eframe::egui::{self, RichText};

use crate::app::commands::AppCommand;
use crate::app::images;
use crate::app::playback::PlaybackCommand as P;
use crate::app::state::{AppState, Loaded};
use crate::app::theme;
use crate::app::worker::SlotId;

/// Entries per list.
pub const TOP: usize = 6;
const THUMB: f32 = 44.0;

/// The `k` frames with the largest values, at least `gap` frames apart (neighbouring frames share
/// most of their smoothing window, so one peak would otherwise fill the list), largest first.
pub fn top_frames(values: &[f32], k: usize, gap: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut out: Vec<usize> = Vec::with_capacity(k);
    for i in order {
        if out.len() == k {
            break;
        }
        if out.iter().all(|&j| i.abs_diff(j) >= gap.max(1)) {
            out.push(i);
        }
    }
    out
}

/// Both lists of a scene, computed once per scene generation.
fn lists(ui: &egui::Ui, l: &Loaded) -> std::sync::Arc<[Vec<usize>; 2]> {
    let id = egui::Id::unique(("disagreeing", l.generation));
    if let Some(v) = ui.ctx().data(|d| d.get_temp(id)) {
        return v;
    }
    let gap = l.settings.smooth;
    let v = std::sync::Arc::new([
        top_frames(&l.scene.disagreement_before, TOP, gap),
        top_frames(&l.scene.disagreement_after, TOP, gap),
    ]);
    ui.ctx().data_mut(|d| d.insert_temp(id, v.clone()));
    v
}

pub fn show(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    super::heading(ui, "Most disagreeing images");
    let Some(l) = state.primary.loaded.as_ref() else {
        super::hint(ui, "nothing loaded");
        return;
    };
    super::hint(
        ui,
        "Held-out images where the networks are furthest apart; click to go there",
    );
    let atlas = images::atlas(ui.ctx(), &l.dataset);
    let lists = lists(ui, l);
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (title, frames, values, color) in [
            (
                "before alignment",
                &lists[0],
                &l.scene.disagreement_before,
                theme::BEFORE,
            ),
            (
                "after alignment",
                &lists[1],
                &l.scene.disagreement_after,
                theme::AFTER,
            ),
        ] {
            ui.add_space(6.0);
            ui.label(RichText::new(title).strong().color(color));
            if frames.is_empty() {
                let why = if state.aligning(SlotId::Primary) && color == theme::AFTER {
                    "when the fit is done"
                } else {
                    "no disagreement data"
                };
                super::hint(ui, why);
            }
            for &f in frames.iter() {
                let img = l.image(f);
                let mut text = match img {
                    Some(i) => format!("image #{i}"),
                    None => format!("frame {}", f + 1),
                };
                if let Some(c) = l.class(f) {
                    text.push_str(&format!(" · {c}"));
                }
                let spread = values.get(f).copied().unwrap_or(f32::NAN);
                let clicked = ui
                    .horizontal(|ui| {
                        let thumb = img.zip(atlas.as_ref()).and_then(|(i, a)| a.image(i, THUMB));
                        let mut clicked = false;
                        if let Some(t) = thumb {
                            clicked |= ui
                                .add(egui::Button::image(t))
                                .on_hover_text("go to this image")
                                .clicked();
                        }
                        ui.vertical(|ui| {
                            clicked |= ui.link(text.as_str()).clicked();
                            super::hint(
                                ui,
                                &format!("spread {}", super::num(Some(f64::from(spread)), 3)),
                            );
                        });
                        clicked
                    })
                    .inner;
                if clicked {
                    cmds.push(P::Seek(f as f32).into());
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_are_spread_out() {
        let v = [0.0, 5.0, 4.9, 0.0, 3.0, f32::NAN, 1.0];
        assert_eq!(top_frames(&v, 3, 1), vec![1, 2, 4]);
        assert_eq!(top_frames(&v, 3, 2), vec![1, 4, 6]);
        assert!(top_frames(&[], 3, 1).is_empty());
    }
}
