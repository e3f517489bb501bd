//! The development section: the metric over checkpoints, one line per layer, arches beyond the
//! first dashed, the selected cell ringed.

use eframe::egui::{self, Color32};

use super::super::plots::{self, Series};
use super::super::StudyState;
use super::StudyPanel;
use crate::app::panels::{heading, hint};

impl StudyPanel {
    /// The metric over checkpoints, one line per layer; arches beyond the first are dashed.
    pub(super) fn development(&self, ui: &mut egui::Ui, st: &StudyState) {
        heading(ui, "Development");
        if st.n_done() == 0 {
            hint(ui, "The curves appear as cells finish.");
            return;
        }
        let metric = self.metric;
        let mut series = Vec::new();
        for (a, ax) in st.axes.arches.iter().enumerate() {
            let n = ax.layers.len();
            for (r, (_, layer)) in ax.layers.iter().enumerate() {
                let points: Vec<[f64; 2]> = ax
                    .checkpoints
                    .iter()
                    .enumerate()
                    .filter_map(|(c, &ck)| {
                        let i = st.at(a, r, c)?;
                        Some([ck as f64, st.value(i, metric)?])
                    })
                    .collect();
                let name = if st.axes.arches.len() > 1 {
                    format!("{} {layer}", ax.arch)
                } else {
                    layer.clone()
                };
                series.push(Series {
                    name,
                    color: layer_color(r, n),
                    dashed: a > 0,
                    points,
                });
            }
        }
        let marked = st.selected.and_then(|i| {
            let c = st.cells.get(i)?;
            Some([c.checkpoint as f64, st.value(i, metric)?])
        });
        plots::key_row(ui, &series);
        plots::line_plot(
            ui,
            "study_development",
            &series,
            marked,
            (ui.available_height() - 24.0).clamp(80.0, 420.0),
            "checkpoint",
        );
        if self.figure {
            hint(ui, metric.label());
        } else {
            hint(ui, &format!("{} · ring: selected cell", metric.label()));
        }
    }
}

/// Colours of layers (by depth rank) in the plots.
fn layer_color(rank: usize, n: usize) -> Color32 {
    let t = if n <= 1 {
        0.85
    } else {
        0.35 + 0.65 * rank as f32 / (n - 1) as f32
    };
    plots::sequential_color(t)
}
