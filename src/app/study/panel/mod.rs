//! The Study panel under the 3D view: a header (study, progress, metric, Cancel/Close) and four
//! sections side by side: the metric grid per arch, its development over checkpoints, the
//! by-layer bars at the last checkpoint, and the RSM trio of the selected cell.
//!
//! The panel owns only view state ([`StudyPanel`]: metric, the selected cell's textures, grid
//! focus); everything else is read from [`AppState`] and changed through commands.

use eframe::egui::{self, Color32, Key, Modifiers, Rect, RichText};

use super::plots::{self, BarGroup, ColorScale, GridCell, GridSpec, Series};
use super::{Step, StudyState, StudyStatus};
use crate::analysis::study::table::StudyMetric;
use crate::app::commands::AppCommand;
use crate::app::panels::{heading, hint, num};
use crate::app::state::AppState;
use crate::app::theme;
use crate::app::worker::{study_status, JobKind, Worker};

/// The textures of one cell's RSM trio, uploaded once when the cell is selected.
struct TrioTextures {
    /// (study generation, manifest position)
    key: (u64, usize),
    within: egui::TextureHandle,
    native: Option<egui::TextureHandle>,
    shared: egui::TextureHandle,
}

/// The Study panel's own state.
pub struct StudyPanel {
    pub metric: StudyMetric,
    trio: Option<TrioTextures>,
    /// The grid was hovered or focused in the last frame: arrow keys move the selection there
    /// instead of stepping through time.
    pub grid_hot: bool,
    /// Each grid square of the last frame, by manifest position (for tests and hit checks).
    pub cell_rects: Vec<(usize, Rect)>,
    /// How many trios were uploaded as textures (one per selected cell).
    pub texture_uploads: usize,
    /// Painting a figure file: no interaction hints.
    pub figure: bool,
}

impl Default for StudyPanel {
    fn default() -> Self {
        Self {
            metric: StudyMetric::IscShared,
            trio: None,
            grid_hot: false,
            cell_rects: Vec::new(),
            texture_uploads: 0,
            figure: false,
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

impl StudyPanel {
    /// The cell under the pointer in the last frame's grid.
    pub fn cell_rect(&self, index: usize) -> Option<Rect> {
        self.cell_rects
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, r)| *r)
    }

    /// The selected cell whose trio textures are on the GPU, if any.
    pub fn trio_cell(&self) -> Option<usize> {
        self.trio.as_ref().map(|t| t.key.1)
    }

    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        worker: &Worker,
        cmds: &mut Vec<AppCommand>,
    ) {
        let Some(st) = &state.study else {
            return;
        };
        self.header(ui, st, worker, cmds);
        ui.separator();
        if st.cells.is_empty() {
            hint(ui, "Reading the study's manifest…");
            return;
        }
        let avail = ui.available_size();
        let gap = 14.0;
        let w = (avail.x - 3.0 * gap).max(400.0);
        let widths = [w * 0.22, w * 0.25, w * 0.2, w * 0.33];
        let h = avail.y.max(120.0);
        egui::ScrollArea::horizontal()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.horizontal_top(|ui| {
                    ui.spacing_mut().item_spacing.x = gap;
                    column(ui, widths[0], h, |ui| self.grids(ui, st, cmds));
                    column(ui, widths[1], h, |ui| self.development(ui, st));
                    column(ui, widths[2], h, |ui| self.by_layer(ui, st));
                    column(ui, widths[3], h, |ui| self.trio(ui, st));
                });
            });
    }

    /// The grid section alone (figures): no commands come out.
    pub fn figure_grid(&mut self, ui: &mut egui::Ui, st: &StudyState) {
        let mut sink = Vec::new();
        self.grids(ui, st, &mut sink);
    }

    pub fn figure_development(&self, ui: &mut egui::Ui, st: &StudyState) {
        self.development(ui, st);
    }

    pub fn figure_by_layer(&self, ui: &mut egui::Ui, st: &StudyState) {
        self.by_layer(ui, st);
    }

    pub fn figure_trio(&mut self, ui: &mut egui::Ui, st: &StudyState) {
        self.trio(ui, st);
    }

    fn header(
        &mut self,
        ui: &mut egui::Ui,
        st: &StudyState,
        worker: &Worker,
        cmds: &mut Vec<AppCommand>,
    ) {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!("Study {}", st.name))
                    .strong()
                    .color(theme::ACCENT),
            );
            let label = ui.label("Metric");
            let mut m = self.metric;
            egui::ComboBox::from_id_salt("study_metric")
                .selected_text(m.label())
                .width(230.0)
                .show_ui(ui, |ui| {
                    for x in StudyMetric::ALL {
                        ui.selectable_value(&mut m, x, x.label());
                    }
                })
                .response
                .labelled_by(label.id);
            self.metric = m;
            ui.separator();
            let job = worker.job(&JobKind::Study);
            match (&st.status, job) {
                (StudyStatus::Opening | StudyStatus::Running, Some(job)) => {
                    ui.add(
                        egui::ProgressBar::new(job.fraction())
                            .desired_width(120.0)
                            .desired_height(16.0)
                            .text(RichText::new(job.stage_text()).size(11.0)),
                    );
                    let text = job.study.as_ref().map_or_else(
                        || "opening…".to_string(),
                        |p| {
                            let s = study_status(p);
                            // The cells count is on the bar already.
                            s.split_once(" · ")
                                .map_or(String::new(), |x| x.1.to_string())
                        },
                    );
                    ui.label(RichText::new(text).small().color(theme::MUTED));
                    if ui
                        .button("Cancel study")
                        .on_hover_text("Stop fitting; the cells done so far stay")
                        .clicked()
                    {
                        cmds.push(AppCommand::Cancel(job.id));
                    }
                }
                (StudyStatus::Done { cells, seconds }, _) => {
                    hint(
                        ui,
                        &format!(
                            "{cells} cells in {}",
                            crate::app::worker::duration_text(*seconds)
                        ),
                    );
                }
                (StudyStatus::Cancelled, _) => {
                    hint(
                        ui,
                        &format!("cancelled: {}/{} cells fitted", st.n_done(), st.cells.len()),
                    );
                }
                (StudyStatus::Failed(_), _) => {
                    ui.label(
                        RichText::new(format!(
                            "failed after {}/{} cells",
                            st.n_done(),
                            st.cells.len()
                        ))
                        .small()
                        .color(theme::ERROR),
                    );
                }
                _ => {}
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("Close study")
                    .on_hover_text("Hide the Study view (the cached cells stay on disk)")
                    .clicked()
                {
                    cmds.push(AppCommand::CloseStudy);
                }
                if let Some(i) = st.selected {
                    if let Some(c) = st.cells.get(i) {
                        ui.label(
                            RichText::new(format!("playing {}", c.label())).color(theme::AFTER),
                        );
                    }
                }
            });
        });
    }

    /// Metric grids, one per arch, with a shared colour scale and legend.
    fn grids(&mut self, ui: &mut egui::Ui, st: &StudyState, cmds: &mut Vec<AppCommand>) {
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
        egui::ScrollArea::vertical()
            .id_salt("study_grids")
            .max_height((ui.available_height() - 48.0).max(60.0))
            .auto_shrink([false, true])
            .show(ui, |ui| {
                self.cell_rects.clear();
                let mut hot = false;
                let selected = st.selected.and_then(|i| st.grid_pos(i));
                for (a, ax) in st.axes.arches.iter().enumerate() {
                    if st.axes.arches.len() > 1 {
                        ui.label(RichText::new(&ax.arch).small().strong());
                    }
                    let rows: Vec<String> = ax.layers.iter().map(|l| l.1.clone()).collect();
                    let cols: Vec<String> = ax.checkpoints.iter().map(|c| c.to_string()).collect();
                    let cells: Vec<GridCell> = (0..rows.len())
                        .flat_map(|r| (0..cols.len()).map(move |c| (r, c)))
                        .map(|(r, c)| match st.at(a, r, c) {
                            None => GridCell::Absent,
                            Some(i) => match &st.results[i] {
                                None => GridCell::Pending,
                                Some(res) => metric
                                    .value(res)
                                    .map_or(GridCell::Undefined, GridCell::Value),
                            },
                        })
                        .collect();
                    let out = plots::heatmap_grid(
                        ui,
                        &GridSpec {
                            id_salt: &ax.arch,
                            row_labels: &rows,
                            col_labels: &cols,
                            cells: &cells,
                            scale,
                            selected: selected.filter(|s| s.0 == a).map(|s| (s.1, s.2)),
                            width,
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
                    hot |= resp.hovered() || resp.has_focus();
                    if let Some((r, c)) = out.hovered {
                        let text = cell_hover_text(st, metric, a, r, c);
                        resp.on_hover_text(text);
                    }
                    ui.add_space(4.0);
                }
                // Arrow keys, while the grid is hovered or focused.
                if hot || self.grid_hot {
                    let moves = ui.input_mut(|i| {
                        [
                            (Key::ArrowUp, Step::Up),
                            (Key::ArrowDown, Step::Down),
                            (Key::ArrowLeft, Step::Left),
                            (Key::ArrowRight, Step::Right),
                        ]
                        .into_iter()
                        .flat_map(|(k, s)| {
                            std::iter::repeat_n(s, i.count_and_consume_key(Modifiers::NONE, k))
                        })
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
                self.grid_hot = hot;
            });
        let text = if self.figure {
            "Rows: layers (first at the top); columns: checkpoints."
        } else {
            "Rows: layers (first at the top); columns: checkpoints. Hatched: not fitted yet. \
             Click a cell (or use the arrow keys over the grid) to play it."
        };
        hint(ui, text);
    }

    /// The metric over checkpoints, one line per layer; arches beyond the first are dashed.
    fn development(&self, ui: &mut egui::Ui, st: &StudyState) {
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

    /// Held-out variance explained and within-RSM consistency per layer at each arch's last
    /// checkpoint, arches side by side.
    fn by_layer(&self, ui: &mut egui::Ui, st: &StudyState) {
        heading(ui, "By layer (last checkpoint)");
        if st.n_done() == 0 {
            hint(ui, "The bars appear as the last checkpoints finish.");
            return;
        }
        let n_cat = st
            .axes
            .arches
            .iter()
            .map(|a| a.layers.len())
            .max()
            .unwrap_or(0);
        let categories: Vec<String> = (0..n_cat)
            .map(|r| {
                let names: Vec<&str> = st
                    .axes
                    .arches
                    .iter()
                    .filter_map(|a| a.layers.get(r).map(|l| l.1.as_str()))
                    .collect();
                // Layers at the same depth with different names (pool1 · stem) show both.
                let mut distinct: Vec<&str> = Vec::new();
                for n in names {
                    if !distinct.contains(&n) {
                        distinct.push(n);
                    }
                }
                distinct.join(" · ")
            })
            .collect();
        let colors: Vec<Color32> = if st.axes.arches.len() == 1 {
            vec![theme::AFTER]
        } else {
            theme::network_colors(st.axes.arches.len())
        };
        let groups = |metric: StudyMetric| -> Vec<BarGroup> {
            st.axes
                .arches
                .iter()
                .enumerate()
                .map(|(a, ax)| {
                    let last = ax.checkpoints.len().saturating_sub(1);
                    BarGroup {
                        name: ax.arch.clone(),
                        color: colors.get(a).copied().unwrap_or(theme::ACCENT),
                        values: (0..n_cat)
                            .map(|r| st.at(a, r, last).and_then(|i| st.value(i, metric)))
                            .collect(),
                        names: ax
                            .layers
                            .iter()
                            .map(|l| {
                                format!(
                                    "{} {} @ {}",
                                    ax.arch,
                                    l.1,
                                    ax.checkpoints.last().copied().unwrap_or(0)
                                )
                            })
                            .collect(),
                    }
                })
                .collect()
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
        let ph = ((ui.available_height() - 50.0) / 2.0).clamp(55.0, 220.0);
        ui.label(RichText::new("variance explained (held out)").small());
        plots::grouped_bars(
            ui,
            "study_ve_by_layer",
            &groups(StudyMetric::VeTest),
            &categories,
            ph,
        );
        ui.label(RichText::new("within-RSM consistency").small());
        plots::grouped_bars(
            ui,
            "study_consistency_by_layer",
            &groups(StudyMetric::WithinConsistency),
            &categories,
            ph,
        );
    }

    /// The selected cell's RSM trio, as textures uploaded once per selected cell.
    fn trio(&mut self, ui: &mut egui::Ui, st: &StudyState) {
        heading(ui, "RSMs of the selected cell");
        let Some(i) = st.selected else {
            hint(ui, "Select a cell in the grid.");
            return;
        };
        let Some(view) = st.views.get(i).and_then(Option::as_ref) else {
            hint(
                ui,
                "This cell's RSMs are not available (its cached view could not be read).",
            );
            return;
        };
        let trio = &view.trio;
        let size = trio.size;
        if size == 0 {
            hint(ui, "No held-out images in this cell.");
            return;
        }
        let key = (st.generation, i);
        if self.trio.as_ref().is_none_or(|t| t.key != key) {
            let scale = ColorScale::diverging(1.0);
            let ctx = ui.ctx();
            let tex = |name: &str, v: &[f32]| {
                ctx.load_texture(
                    format!("study_rsm_{name}"),
                    plots::rsm_image(v, size, &scale),
                    egui::TextureOptions::NEAREST,
                )
            };
            self.trio = Some(TrioTextures {
                key,
                within: tex("within", &trio.within),
                native: trio.inter_native.as_deref().map(|v| tex("native", v)),
                shared: tex("shared", &trio.inter_shared),
            });
            self.texture_uploads += 1;
        }
        let Some(t) = &self.trio else {
            return;
        };
        let avail = ui.available_width();
        let side = ((avail - 16.0) / 3.0)
            .min(ui.available_height() - 58.0)
            .clamp(60.0, 360.0);
        let labels = trio.labels.as_deref();
        let class = |l: i64| crate::data::class_name(st.class_names.as_deref(), l);
        let mut hovered = None;
        ui.horizontal_top(|ui| {
            ui.spacing_mut().item_spacing.x = 8.0;
            let panes: [Pane<'_>; 3] = [
                (
                    "within (mean)",
                    Some(&t.within),
                    Some(&trio.within[..]),
                    Color32::from_gray(220),
                ),
                (
                    "inter, native",
                    t.native.as_ref(),
                    trio.inter_native.as_deref(),
                    theme::BEFORE,
                ),
                (
                    "inter, shared",
                    Some(&t.shared),
                    Some(&trio.inter_shared[..]),
                    theme::AFTER,
                ),
            ];
            for (title, tex, values, color) in panes {
                ui.vertical(|ui| {
                    ui.set_width(side);
                    ui.label(RichText::new(title).small().color(color));
                    match (tex, values) {
                        (Some(tex), Some(values)) => {
                            let (resp, hover) = plots::rsm_heatmap(
                                ui,
                                tex,
                                side,
                                values,
                                size,
                                &trio.bounds,
                                labels,
                            );
                            if let Some(hv) = hover {
                                hovered = Some((resp, hv, title));
                            }
                        }
                        _ => {
                            let (r, _) = ui
                                .allocate_exact_size(egui::Vec2::splat(side), egui::Sense::hover());
                            ui.painter().rect_filled(r, 0.0, theme::STRIP_BG);
                            ui.painter().text(
                                r.center(),
                                egui::Align2::CENTER_CENTER,
                                "networks differ\nin width",
                                egui::FontId::proportional(11.0),
                                theme::MUTED,
                            );
                        }
                    }
                });
            }
        });
        if let Some((resp, hv, title)) = hovered {
            let span = |b: usize| -> String {
                let (s, e) = (
                    trio.bounds.get(b).copied().unwrap_or(0),
                    trio.bounds.get(b + 1).copied().unwrap_or(0),
                );
                let range = if e > s + 1 {
                    format!("positions {s}–{}", e - 1)
                } else {
                    format!("position {s}")
                };
                let classes = labels.map(|l| {
                    let mut cs: Vec<i64> = l.get(s..e).unwrap_or(&[]).to_vec();
                    cs.dedup();
                    cs.iter().map(|&c| class(c)).collect::<Vec<_>>().join(", ")
                });
                match classes {
                    Some(c) if !c.is_empty() => format!("{range} ({c})"),
                    _ => range,
                }
            };
            resp.on_hover_text(format!(
                "{title}\nrow: {}\ncolumn: {}\nr = {:.3}",
                span(hv.i),
                span(hv.j),
                hv.value
            ));
        }
        plots::legend_bar(
            ui,
            &ColorScale::diverging(1.0),
            (avail - 120.0).clamp(60.0, 200.0),
            "Pearson r",
        );
        hint(
            ui,
            "Held-out images in class order (lines: class boundaries); \
             positions are in that order.",
        );
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

/// One RSM of the trio: title, texture, values, title colour.
type Pane<'a> = (
    &'static str,
    Option<&'a egui::TextureHandle>,
    Option<&'a [f32]>,
    Color32,
);

/// A fixed-width column of the panel.
fn column(ui: &mut egui::Ui, width: f32, height: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::top_down(egui::Align::Min),
        |ui| {
            ui.set_width(width);
            add(ui);
        },
    );
}
