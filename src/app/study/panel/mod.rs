//! The Study panel under the 3D view: a header (study, progress, metric, Cancel/Close) and four
//! sections side by side: the metric grid per arch, its development over checkpoints, the
//! by-layer bars at the last checkpoint, and the RSM trio of the selected cell.
//!
//! The panel owns only view state ([`StudyPanel`]: metric, the selected cell's textures, grid
//! focus); everything else is read from [`AppState`] and changed through commands.

use eframe::egui::{self, Rect, RichText};

use super::{StudyState, StudyStatus};
use crate::analysis::study::table::StudyMetric;
use crate::app::commands::AppCommand;
use crate::app::panels::hint;
use crate::app::state::AppState;
use crate::app::theme;
use crate::app::worker::{study_status, JobKind, Worker};

mod by_layer;
mod development;
mod grids;
mod trio;

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
    /// What the grid section showed of its column in the last frame (tests check that every
    /// square lies inside).
    pub grid_view: Option<Rect>,
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
            grid_view: None,
            texture_uploads: 0,
            figure: false,
        }
    }
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
        // A resizable panel takes the height of what it holds: filled, it keeps its size while
        // the manifest is read instead of shrinking to its minimum for good.
        ui.set_min_height(ui.available_height());
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
                    column(ui, "study_grids", widths[0], h, |ui| {
                        self.grids(ui, st, cmds)
                    });
                    column(ui, "study_development", widths[1], h, |ui| {
                        self.development(ui, st)
                    });
                    column(ui, "study_by_layer", widths[2], h, |ui| {
                        self.by_layer(ui, st)
                    });
                    column(ui, "study_trio", widths[3], h, |ui| self.trio(ui, st));
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
}

/// A fixed-width column of the panel that scrolls when its section is taller than the panel.
fn column(ui: &mut egui::Ui, id: &str, width: f32, height: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::top_down(egui::Align::Min),
        |ui| {
            ui.set_width(width);
            egui::ScrollArea::vertical()
                .id_salt(id)
                .max_height(height)
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    ui.set_width(width);
                    add(ui);
                });
        },
    );
}
