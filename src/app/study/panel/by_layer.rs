//! The by-layer section: held-out variance explained and within-RSM consistency per layer at
//! each arch's last checkpoint, arches side by side, sized so both plots and their key fit.

use eframe::egui::{self, Color32, RichText, TextStyle};

use super::super::plots::{self, BarGroup, Series};
use super::super::StudyState;
use super::StudyPanel;
use crate::analysis::study::table::StudyMetric;
use crate::app::panels::{heading, hint};
use crate::app::theme;

impl StudyPanel {
    /// Held-out variance explained and within-RSM consistency per layer at each arch's last
    /// checkpoint, arches side by side. One key of the layers under both plots when their names
    /// do not fit under the bars.
    pub(super) fn by_layer(&self, ui: &mut egui::Ui, st: &StudyState) {
        heading(ui, "By layer (last checkpoint)");
        if st.n_done() == 0 {
            hint(ui, "The bars appear as the last checkpoints finish.");
            return;
        }
        let categories = depth_names(st);
        let colors: Vec<Color32> = if st.axes.arches.len() == 1 {
            vec![theme::AFTER]
        } else {
            theme::network_colors(st.axes.arches.len())
        };
        if st.axes.arches.len() > 1 {
            let key: Vec<Series> = st
                .axes
                .arches
                .iter()
                .zip(&colors)
                .map(|(a, &color)| Series {
                    name: a.arch.clone(),
                    color,
                    dashed: false,
                    points: Vec::new(),
                })
                .collect();
            plots::key_row(ui, &key);
        }
        let width = ui.available_width();
        let names_fit = plots::bar_names_fit(width, &categories);
        // The two captions and the key take what they need; the plots share the rest.
        let caption_h = ui.text_style_height(&TextStyle::Small) + ui.spacing().item_spacing.y;
        let key_h = if names_fit {
            0.0
        } else {
            let font = TextStyle::Small.resolve(ui.style());
            let text = plots::bar_key_text(&categories);
            ui.fonts_mut(|f| f.layout(text, font, Color32::WHITE, width).size().y)
                + ui.spacing().item_spacing.y
        };
        let spare = ui.available_height() - 2.0 * caption_h - key_h - 8.0;
        let ph = (spare / 2.0).clamp(55.0, 220.0);
        for (caption, id, metric) in [
            (
                "variance explained (held out)",
                "study_ve_by_layer",
                StudyMetric::VeTest,
            ),
            (
                "within-RSM consistency",
                "study_consistency_by_layer",
                StudyMetric::WithinConsistency,
            ),
        ] {
            ui.label(RichText::new(caption).small());
            let groups = bar_groups(st, metric, &colors, categories.len());
            plots::bar_plot(ui, id, &groups, &categories, ph, names_fit, |_, _| {});
        }
        if !names_fit {
            plots::bar_key(ui, &categories);
        }
    }
}

/// One name per layer depth; layers at the same depth with different names (pool1 · stem)
/// show both.
fn depth_names(st: &StudyState) -> Vec<String> {
    let n_cat = st
        .axes
        .arches
        .iter()
        .map(|a| a.layers.len())
        .max()
        .unwrap_or(0);
    (0..n_cat)
        .map(|r| {
            let mut distinct: Vec<&str> = Vec::new();
            for a in &st.axes.arches {
                if let Some(l) = a.layers.get(r) {
                    if !distinct.contains(&l.1.as_str()) {
                        distinct.push(&l.1);
                    }
                }
            }
            distinct.join(" · ")
        })
        .collect()
}

/// Each arch's values of `metric` at its last checkpoint, one per depth.
fn bar_groups(
    st: &StudyState,
    metric: StudyMetric,
    colors: &[Color32],
    n_cat: usize,
) -> Vec<BarGroup> {
    st.axes
        .arches
        .iter()
        .enumerate()
        .map(|(a, ax)| {
            let last = ax.checkpoints.len().saturating_sub(1);
            let last_ck = ax.checkpoints.last().copied().unwrap_or(0);
            BarGroup {
                name: ax.arch.clone(),
                color: colors.get(a).copied().unwrap_or(theme::ACCENT),
                values: (0..n_cat)
                    .map(|r| st.at(a, r, last).and_then(|i| st.value(i, metric)))
                    .collect(),
                names: ax
                    .layers
                    .iter()
                    .map(|l| format!("{} {} @ {last_ck}", ax.arch, l.1))
                    .collect(),
            }
        })
        .collect()
}
