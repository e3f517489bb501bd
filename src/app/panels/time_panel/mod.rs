//! The Rerun-style time panel: transport buttons, speed / loop / tail / spin, a scrubber over the
//! image sequence with class-boundary ticks, and under it the per-frame disagreement strip (how
//! far the networks are from each other, before vs after alignment; click to seek).
//!
//! Rooms as in Rerun's `re_time_panel`: `transport.rs` (time controls), `position.rs` (frame ↔
//! x), `scrubber.rs` (the track with class ticks), `density.rs` (the disagreement strip),
//! `filmstrip.rs` (the images); this file lays them out.

use eframe::egui;

use crate::app::commands::AppCommand;
use crate::app::images;
use crate::app::state::AppState;

mod density;
mod filmstrip;
mod position;
mod scrubber;
mod transport;

pub use density::bin_max;
use density::disagreement_strip;
use filmstrip::filmstrip;
pub use position::LABEL_W;
pub use scrubber::class_runs;
use scrubber::scrubber;
use transport::transport;

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

#[cfg(test)]
mod tests {
    use super::position::{frame_at, x_of};
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
        let r = egui::Rect::from_min_size(egui::pos2(100.0, 0.0), egui::Vec2::new(200.0, 10.0));
        assert_eq!(x_of(r, 0.0, 10), 100.0);
        assert_eq!(x_of(r, 10.0, 10), 300.0);
        assert_eq!(frame_at(r, 200.0, 10), 5.0);
        assert_eq!(frame_at(r, -50.0, 10), 0.0);
        assert_eq!(x_of(r, 3.0, 0), 100.0);
    }
}
