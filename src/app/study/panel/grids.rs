//! The layer × checkpoint section: one metric grid per arch on a shared colour scale, clicks and
//! arrow keys that select a cell.

use eframe::egui::{self, Color32, FontId, Key, Modifiers, RichText, TextStyle};

use super::super::plots::{self, ColorScale, GridCell, GridSpec};
use super::super::{Step, StudyState};
use super::StudyPanel;
use crate::analysis::study::table::StudyMetric;
use crate::app::commands::AppCommand;
use crate::app::panels::{heading, hint, num, HINT_SIZE};

/// Height of the band of checkpoint labels under a grid.
const COL_LABELS_H: f32 = 16.0;
/// Space after each arch's grid.
const ARCH_GAP: f32 = 4.0;
/// The smallest row height the grids shrink to (their labels stay legible) before the column
/// scrolls instead.
const MIN_ROW_H: f32 = 12.0;

/// What every arch's grid shares: the colour scale, the width and the tallest row.
struct Look {
    scale: ColorScale,
    width: f32,
    max_row_h: f32,
}

impl StudyPanel {
    /// Metric grids, one per arch, with a shared colour scale and legend. In the viewer the rows
    /// shrink so every arch fits the section's height; figures keep their full size.
    pub(super) fn grids(&mut self, ui: &mut egui::Ui, st: &StudyState, cmds: &mut Vec<AppCommand>) {
        heading(ui, "Layer × checkpoint");
        let metric = self.metric;
        let range = st.range(metric);
        let scale = range.map_or(ColorScale::sequential(0.0, 1.0), |(lo, hi)| {
            ColorScale::sequential(lo, hi)
        });
        let width = ui.available_width();
        if let Some(s) = range.map(|_| scale) {
            plots::legend_bar(ui, &s, (width - 90.0).clamp(40.0, 140.0), "");
        }
        let text = if self.figure {
            "Rows: layers (first at the top); columns: checkpoints."
        } else {
            "Rows: layers (first at the top); columns: checkpoints. Hatched: not fitted yet. \
             Click a cell (or use the arrow keys over the grid) to play it."
        };
        let max_row_h = if self.figure {
            f32::INFINITY
        } else {
            fitting_row_h(ui, st, text, width)
        };
        self.cell_rects.clear();
        self.grid_view = Some(ui.clip_rect());
        let mut hot = false;
        let look = Look {
            scale,
            width,
            max_row_h,
        };
        for a in 0..st.axes.arches.len() {
            hot |= self.arch_grid(ui, st, a, &look, cmds);
            ui.add_space(ARCH_GAP);
        }
        // Arrow keys, while the grid is hovered or focused.
        if hot || self.grid_hot {
            arrow_keys(ui, st, cmds);
        }
        self.grid_hot = hot;
        hint(ui, text);
    }

    /// Arch number `a`'s grid; returns whether it is hovered or focused.
    fn arch_grid(
        &mut self,
        ui: &mut egui::Ui,
        st: &StudyState,
        a: usize,
        look: &Look,
        cmds: &mut Vec<AppCommand>,
    ) -> bool {
        let ax = &st.axes.arches[a];
        if st.axes.arches.len() > 1 {
            ui.label(RichText::new(&ax.arch).small().strong());
        }
        let rows: Vec<String> = ax.layers.iter().map(|l| l.1.clone()).collect();
        let cols: Vec<String> = ax.checkpoints.iter().map(|c| c.to_string()).collect();
        let cells = grid_cells(st, self.metric, a, rows.len(), cols.len());
        let selected = st.selected.and_then(|i| st.grid_pos(i));
        let out = plots::heatmap_grid(
            ui,
            &GridSpec {
                id_salt: &ax.arch,
                row_labels: &rows,
                col_labels: &cols,
                cells: &cells,
                scale: look.scale,
                selected: selected.filter(|s| s.0 == a).map(|s| (s.1, s.2)),
                width: look.width,
                max_row_h: look.max_row_h,
            },
        );
        for r in 0..rows.len() {
            for c in 0..cols.len() {
                if let Some(i) = st.at(a, r, c) {
                    self.cell_rects.push((i, out.geom.rect(r, c)));
                }
            }
        }
        let resp = out.response.clone();
        if let Some((r, c)) = out.clicked {
            resp.request_focus();
            if let Some(i) = st.at(a, r, c) {
                cmds.push(AppCommand::SelectStudyCell { index: i });
            }
        }
        if resp.has_focus() {
            ui.memory_mut(|m| {
                m.set_focus_lock_filter(
                    resp.id,
                    egui::EventFilter {
                        horizontal_arrows: true,
                        vertical_arrows: true,
                        ..Default::default()
                    },
                )
            });
        }
        let hot = resp.hovered() || resp.has_focus();
        if let Some((r, c)) = out.hovered {
            let text = cell_hover_text(st, self.metric, a, r, c);
            resp.on_hover_text(text);
        }
        hot
    }
}

/// The row height at which every arch's grid and the hint `text` under them fit the height
/// left in the section, but no less than [`MIN_ROW_H`] (the column scrolls then).
fn fitting_row_h(ui: &egui::Ui, st: &StudyState, text: &str, width: f32) -> f32 {
    let gap = ui.spacing().item_spacing.y;
    let rows: usize = st.axes.arches.iter().map(|a| a.layers.len()).sum();
    let n_arch = st.axes.arches.len() as f32;
    let name_h = if st.axes.arches.len() > 1 {
        ui.text_style_height(&TextStyle::Small) + gap
    } else {
        0.0
    };
    let per_arch = name_h + COL_LABELS_H + gap + ARCH_GAP;
    let hint_h = ui.fonts_mut(|f| {
        f.layout(
            text.to_string(),
            FontId::proportional(HINT_SIZE),
            Color32::WHITE,
            width,
        )
        .size()
        .y
    });
    let spare = ui.available_height() - n_arch * per_arch - hint_h - gap;
    (spare / rows.max(1) as f32).max(MIN_ROW_H)
}

/// Arch `a`'s squares, row-major: absent, pending, undefined or the metric's value.
fn grid_cells(
    st: &StudyState,
    metric: StudyMetric,
    a: usize,
    rows: usize,
    cols: usize,
) -> Vec<GridCell> {
    (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| match st.at(a, r, c) {
            None => GridCell::Absent,
            Some(i) => match &st.results[i] {
                None => GridCell::Pending,
                Some(res) => metric
                    .value(res)
                    .map_or(GridCell::Undefined, GridCell::Value),
            },
        })
        .collect()
}

/// Arrow keys move the selection within its arch (the first fitted cell when none is).
fn arrow_keys(ui: &mut egui::Ui, st: &StudyState, cmds: &mut Vec<AppCommand>) {
    let moves = ui.input_mut(|i| {
        [
            (Key::ArrowUp, Step::Up),
            (Key::ArrowDown, Step::Down),
            (Key::ArrowLeft, Step::Left),
            (Key::ArrowRight, Step::Right),
        ]
        .into_iter()
        .flat_map(|(k, s)| std::iter::repeat_n(s, i.count_and_consume_key(Modifiers::NONE, k)))
        .collect::<Vec<_>>()
    });
    let mut at = st
        .selected
        .or_else(|| st.results.iter().position(Option::is_some));
    for s in moves {
        at = at.and_then(|p| st.step(p, s));
    }
    if at.is_some() && at != st.selected {
        if let Some(index) = at {
            cmds.push(AppCommand::SelectStudyCell { index });
        }
    }
}

/// What hovering grid square (row `r`, column `c`) of arch `a` says.
fn cell_hover_text(st: &StudyState, metric: StudyMetric, a: usize, r: usize, c: usize) -> String {
    let Some(i) = st.at(a, r, c) else {
        return "not in the study".into();
    };
    let label = st.cells[i].label();
    match &st.results[i] {
        None => format!("{label}\nnot fitted yet"),
        Some(res) => format!(
            "{label}\n{}: {}\n{} networks · {} held-out images · k = {}\n\
             click to play its trajectories",
            metric.label(),
            num(metric.value(res), 4),
            res.networks.len(),
            res.n_test,
            res.k,
        ),
    }
}
