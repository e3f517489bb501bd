//! Left panel: what is loaded, and every pipeline option, with srmscope's defaults or the
//! paper's analysis ("Paper defaults", `--preset paper`). Edits go to a draft; Apply refits in
//! the background while the current result stays on screen.

use eframe::egui::{self, RichText};

use super::{heading, hint};
use crate::analysis::{Algo, Center, Init, Normalize, Precision, Settings, SplitMethod};
use crate::app::commands::AppCommand;
use crate::app::state::{AppState, Loaded, Persisted};
use crate::app::theme;
use crate::app::worker::{JobKind, SlotId, Worker};

/// The settings panel and its draft: the values being edited, applied with Apply.
#[derive(Clone, Debug)]
pub struct SettingsPanel {
    pub draft: Settings,
}

impl SettingsPanel {
    pub fn new(p: &Persisted) -> Self {
        Self {
            draft: p.settings.clone(),
        }
    }

    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        worker: &Worker,
        cmds: &mut Vec<AppCommand>,
    ) {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                data_summary(ui, state);
                ui.separator();
                heading(ui, "Alignment settings");
                form(ui, &mut self.draft, state.primary.loaded.as_ref());
                ui.add_space(8.0);
                buttons(ui, state, worker, &mut self.draft, cmds);
            });
    }
}

fn data_summary(ui: &mut egui::Ui, state: &AppState) {
    heading(ui, "Data");
    let Some(l) = &state.primary.loaded else {
        if let Some(s) = state.study.as_ref().filter(|s| s.running()) {
            hint(
                ui,
                &format!(
                    "Study {}: fitting its cells; the first one plays when it is done.",
                    s.name
                ),
            );
            return;
        }
        match &state.primary.pending {
            Some(inputs) => hint(
                ui,
                &format!("Loading {}…", crate::app::worker::short_inputs(inputs)),
            ),
            None => hint(
                ui,
                "Nothing loaded. Use Open, or drop .npy/.npz files on the window.",
            ),
        }
        return;
    };
    let d = &l.dataset;
    ui.label(RichText::new(&d.name).strong());
    if let Some(r) = study_cell(state, l) {
        ui.label(format!(
            "{} networks · {} images · k = {}",
            r.networks.len(),
            r.n_images,
            r.k
        ));
        ui.label(format!(
            "fit on {} images, showing {} held-out frames",
            r.n_train,
            l.scene.n_frames()
        ));
        hint(
            ui,
            "A cell of the open study: pick others in the Study view.",
        );
        return;
    }
    let units: Vec<usize> = d.networks.iter().map(|n| n.stored_units()).collect();
    let same = units.windows(2).all(|w| w.first() == w.last());
    let units_text = match (same, units.first()) {
        (true, Some(u)) => format!("{u} units each"),
        _ => format!(
            "{}–{} units",
            units.iter().min().unwrap_or(&0),
            units.iter().max().unwrap_or(&0)
        ),
    };
    ui.label(format!(
        "{} networks · {} images · {units_text}",
        d.networks.len(),
        d.n_images()
    ));
    let out = &l.output;
    ui.label(format!(
        "fit on {} images, showing {} held-out frames",
        out.train_idx.len(),
        l.scene.n_frames()
    ));
    match &d.labels {
        Some(labels) => {
            let mut distinct = labels.clone();
            distinct.sort_unstable();
            distinct.dedup();
            ui.label(format!(
                "{} classes (frames sorted by class)",
                distinct.len()
            ));
        }
        None => hint(ui, "no class labels"),
    }
    if let Some(c) = &state.compare {
        if let Some(cl) = &c.loaded {
            ui.label(RichText::new(format!("beside: {}", cl.dataset.name)).color(theme::MUTED));
        }
    }
    if !d.notes.is_empty() {
        egui::CollapsingHeader::new(format!("{} notes", d.notes.len()))
            .id_salt("data_notes")
            .show(ui, |ui| {
                for n in &d.notes {
                    hint(ui, n);
                }
            });
    }
}

/// The study cell shown in the main view, when it shows one.
fn study_cell<'a>(
    state: &'a AppState,
    l: &crate::app::state::Loaded,
) -> Option<&'a crate::analysis::study::CellResult> {
    let s = state.study.as_ref()?;
    if l.inputs.len() != 1 || l.inputs[0] != s.input {
        return None;
    }
    s.results.get(s.selected?)?.as_ref()
}

/// One row of the settings grid; `add` gets the label's id so its widgets can name themselves
/// after it (for screen readers and UI tests).
fn row(ui: &mut egui::Ui, label: &str, tip: &str, add: impl FnOnce(&mut egui::Ui, egui::Id)) {
    let id = ui.label(label).on_hover_text(tip).id;
    add(ui, id);
    ui.end_row();
}

/// A drop-down of `options`, named after the row's label `l`.
fn choice<T: Copy + PartialEq>(
    ui: &mut egui::Ui,
    l: egui::Id,
    id: &str,
    value: &mut T,
    options: &[T],
    label: fn(T) -> &'static str,
) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(label(*value))
        .show_ui(ui, |ui| {
            for &o in options {
                ui.selectable_value(value, o, label(o));
            }
        })
        .response
        .labelled_by(l);
}

fn form(ui: &mut egui::Ui, s: &mut Settings, loaded: Option<&Loaded>) {
    egui::Grid::new("settings_grid")
        .num_columns(2)
        .spacing([10.0, 6.0])
        .striped(false)
        .show(ui, |ui| {
            fit_rows(ui, s, loaded);
            data_rows(ui, s);
        });
}

/// How the fit runs: algorithm, k, iterations, stopping, seed, initialisation, centring and
/// precision.
fn fit_rows(ui: &mut egui::Ui, s: &mut Settings, loaded: Option<&Loaded>) {
    let min_units = loaded.and_then(|l| l.dataset.networks.iter().map(|n| n.stored_units()).min());
    row(ui, "Algorithm", "How the networks are aligned", |ui, l| {
        choice(
            ui,
            l,
            "algo",
            &mut s.algo,
            &[Algo::Prob, Algo::Det, Algo::Procrustes],
            Algo::label,
        );
    });
    row(
        ui,
        "Shared features k",
        "k = all units makes each W_i square: a pure rotation (the paper's choice)",
        |ui, l| {
            ui.horizontal(|ui| {
                let mut all = s.k.is_none();
                if ui.checkbox(&mut all, "all units").changed() {
                    s.k = if all {
                        None
                    } else {
                        Some(min_units.unwrap_or(50).min(50))
                    };
                }
                if let Some(k) = &mut s.k {
                    let max = min_units.unwrap_or(100_000).max(1);
                    ui.add(egui::DragValue::new(k).range(1..=max).speed(1.0))
                        .labelled_by(l);
                }
            });
        },
    );
    row(
        ui,
        "Iterations",
        "EM / alternating iterations (BrainIAK default 10)",
        |ui, l| {
            ui.add(
                egui::DragValue::new(&mut s.n_iter)
                    .range(1..=1000)
                    .speed(1.0),
            )
            .labelled_by(l);
        },
    );
    row(
        ui,
        "Stop early",
        "Stop when the objective changes by less than this (relative)",
        |ui, l| {
            ui.horizontal(|ui| {
                let mut on = s.tol.is_some();
                if ui.checkbox(&mut on, "").labelled_by(l).changed() {
                    s.tol = if on { Some(1e-5) } else { None };
                }
                if let Some(t) = &mut s.tol {
                    ui.add(
                        egui::DragValue::new(t)
                            .range(1e-12..=1.0)
                            .speed(1e-6)
                            .custom_formatter(|v, _| format!("{v:.1e}")),
                    )
                    .labelled_by(l);
                } else {
                    hint(ui, "off (BrainIAK parity)");
                }
            });
        },
    );
    row(
        ui,
        "Seed",
        "Random seed of the initialisation, unit subsample and split",
        |ui, l| {
            ui.add(egui::DragValue::new(&mut s.seed).speed(1.0))
                .labelled_by(l);
        },
    );
    row(
        ui,
        "Initialisation",
        "BrainIAK's MT19937 streams reproduce its W_init bit for bit",
        |ui, l| {
            choice(
                ui,
                l,
                "init",
                &mut s.init,
                &[Init::Brainiak, Init::Random],
                init_label,
            );
        },
    );
    row(ui, "Centring", "Demean with the training unit means (fixes BrainIAK #406), or match BrainIAK exactly: no centring in transform, and RSMs of uncentred data as in the paper", |ui, l| {
        choice(ui, l, "center", &mut s.center, &[Center::On, Center::Brainiak], center_label);
    });
    row(ui, "Products", "Precision of the SRM products with the data: float64 is BrainIAK parity; float32 is faster at paper scale, with sums kept in float64", |ui, l| {
        choice(ui, l, "precision", &mut s.precision, &[Precision::F64, Precision::F32], precision_label);
    });
}

/// What the fit sees and what is measured: normalising, units, split, smoothing, bootstrap and
/// k-NN.
fn data_rows(ui: &mut egui::Ui, s: &mut Settings) {
    row(
        ui,
        "Normalise",
        "The paper z-scores each image's pattern across units",
        |ui, l| {
            choice(
                ui,
                l,
                "normalize",
                &mut s.normalize,
                &[Normalize::Row, Normalize::Unit, Normalize::None],
                normalize_label,
            );
        },
    );
    row(
        ui,
        "Max units",
        "Keep at most this many units per network (seeded draw); the paper used 1000",
        |ui, l| {
            ui.horizontal(|ui| {
                let mut on = s.max_units.is_some();
                if ui.checkbox(&mut on, "").labelled_by(l).changed() {
                    s.max_units = if on { Some(1000) } else { None };
                }
                match &mut s.max_units {
                    Some(m) => {
                        ui.add(egui::DragValue::new(m).range(1..=1_000_000).speed(10.0))
                            .labelled_by(l);
                    }
                    None => hint(ui, "keep all"),
                }
            });
        },
    );
    row(
        ui,
        "Held-out fraction",
        "Images not used to fit, shown as the trajectories (stratified by class)",
        |ui, l| {
            ui.add(
                egui::Slider::new(&mut s.test_fraction, 0.0..=0.9)
                    .step_by(0.05)
                    .fixed_decimals(2),
            )
            .labelled_by(l);
        },
    );
    row(ui, "Split", "How the held-out images are drawn: srmscope's stratified draw, or scikit-learn's train_test_split(stratify=labels, random_state=seed) bit for bit, as the paper", |ui, l| {
        choice(ui, l, "split", &mut s.split, &[SplitMethod::Srmscope, SplitMethod::Sklearn], split_label);
    });
    row(
        ui,
        "Smoothing window",
        "Moving average over images ('valid' mode); the demo used 10",
        |ui, l| {
            ui.add(
                egui::DragValue::new(&mut s.smooth)
                    .range(1..=200)
                    .speed(1.0)
                    .suffix(" images"),
            )
            .labelled_by(l);
        },
    );
    row(ui, "Bootstrap resamples", "Resamples of the held-out images for the 95 % intervals of ISC, RSA and variance explained (0 = off)", |ui, l| {
        ui.add(egui::DragValue::new(&mut s.bootstrap).range(0..=100_000).speed(10.0)).labelled_by(l);
    });
    row(
        ui,
        "Neighbours (k-NN)",
        "k of the mutual k-nearest-neighbour measure",
        |ui, l| {
            ui.add(egui::DragValue::new(&mut s.knn).range(1..=1000).speed(1.0))
                .labelled_by(l);
        },
    );
}

fn buttons(
    ui: &mut egui::Ui,
    state: &AppState,
    worker: &Worker,
    draft: &mut Settings,
    cmds: &mut Vec<AppCommand>,
) {
    let applied = state
        .primary
        .loaded
        .as_ref()
        .map(|l| &l.settings)
        .unwrap_or(&state.settings);
    let dirty = draft != applied;
    let fitting = worker.job(&JobKind::Fit(SlotId::Primary));
    ui.horizontal(|ui| {
        let apply = egui::Button::new(RichText::new("Apply").strong())
            .fill(if dirty { theme::ACCENT.gamma_multiply(0.7) } else { ui.visuals().widgets.inactive.weak_bg_fill })
            .min_size(egui::vec2(80.0, 26.0));
        if ui.add(apply).on_hover_text("Refit in the background; the current result stays until it is done").clicked() {
            cmds.push(AppCommand::Refit(draft.clone()));
        }
        if ui.add_enabled(dirty, egui::Button::new("Revert")).on_hover_text("Back to the settings on screen").clicked() {
            *draft = applied.clone();
        }
        if ui.button("Defaults").on_hover_text("srmscope's pipeline: probabilistic SRM, k = all units, 10 iterations, seed 0, row z-score, ≤1000 units, 20 % held out (its own stratified draw), units centred (training means in fit and transform, held-out means in the RSMs), window 10").clicked() {
            *draft = Settings::default();
        }
        if ui.button("Paper defaults").on_hover_text("The authors' analysis exactly: scikit-learn's stratified 80/20 split (random_state 0), row z-score, BrainIAK's SRM and uncentred transform (k = all units, 10 iterations, seed 0), RSMs without unit centring; ≤1000 units by srmscope's seeded draw. Bootstrap and k-NN stay as set.").clicked() {
            *draft = Settings {
                bootstrap: draft.bootstrap,
                knn: draft.knn,
                ..Settings::paper()
            };
        }
    });
    if dirty {
        hint(ui, "Changed: press Apply to refit.");
    }
    if draft.is_paper() {
        hint(ui, "The authors' analysis (--preset paper).");
    }
    if let Some(job) = fitting {
        ui.add_space(4.0);
        ui.add(
            egui::ProgressBar::new(job.fraction())
                .text(job.stage_text())
                .desired_height(16.0),
        )
        .on_hover_text(job.status());
        if ui.button("Cancel fit").clicked() {
            cmds.push(AppCommand::Cancel(job.id));
        }
    }
}

fn init_label(i: Init) -> &'static str {
    match i {
        Init::Brainiak => "BrainIAK (MT19937)",
        Init::Random => "seeded Gaussian",
    }
}

fn precision_label(p: Precision) -> &'static str {
    match p {
        Precision::F64 => "float64 (BrainIAK)",
        Precision::F32 => "float32",
    }
}

fn center_label(c: Center) -> &'static str {
    match c {
        Center::On => "demean (correct)",
        Center::Brainiak => "as BrainIAK",
    }
}

fn split_label(m: SplitMethod) -> &'static str {
    match m {
        SplitMethod::Srmscope => "srmscope (stratified)",
        SplitMethod::Sklearn => "scikit-learn (paper)",
    }
}

fn normalize_label(n: Normalize) -> &'static str {
    match n {
        Normalize::Row => "z-score each image",
        Normalize::Unit => "z-score each unit",
        Normalize::None => "none",
    }
}
