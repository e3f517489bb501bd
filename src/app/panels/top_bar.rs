//! The top bar: Open / Compare / Model / View menus, the before↔after toggle, job progress with
//! Cancel, and the screenshot, export and panel buttons.

use eframe::egui::{self, Color32, RichText};

use crate::app::commands::{AppCommand, CameraCommand, Panel};
use crate::app::playback::PlaybackCommand;
use crate::app::state::{AppState, Persisted};
use crate::app::theme;
use crate::app::worker::{short_inputs, DialogPurpose, SlotId, Worker};
use crate::render::Ghost;

/// The top bar's own state: where the Screenshot button writes.
#[derive(Clone, Debug)]
pub struct TopBar {
    pub screenshot_dir: String,
}

impl TopBar {
    pub fn new(p: &Persisted) -> Self {
        let dir = super::output_dir(p);
        Self {
            screenshot_dir: dir.display().to_string(),
        }
    }

    pub fn show(
        &self,
        ui: &mut egui::Ui,
        state: &AppState,
        worker: &Worker,
        cmds: &mut Vec<AppCommand>,
    ) {
        show(ui, state, worker, self, cmds);
    }
}

fn show(
    ui: &mut egui::Ui,
    state: &AppState,
    worker: &Worker,
    bar: &TopBar,
    cmds: &mut Vec<AppCommand>,
) {
    ui.horizontal(|ui| {
        ui.label(
            RichText::new("srmscope")
                .strong()
                .size(16.0)
                .color(theme::ACCENT),
        );
        ui.separator();
        open_menu(ui, state, cmds);
        compare_menu(ui, state, cmds);
        model_menu(ui, state, cmds);
        view_menu(ui, state, cmds);
        ui.separator();
        aligned_toggle(ui, state, cmds);

        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            panel_toggle(ui, "Disagreeing", state.panels.images, Panel::Images, cmds);
            panel_toggle(ui, "Metrics", state.panels.metrics, Panel::Metrics, cmds);
            panel_toggle(ui, "Settings", state.panels.settings, Panel::Settings, cmds);
            panel_toggle(ui, "Export…", state.panels.export, Panel::Export, cmds);
            let can_shoot = state.primary.loaded.is_some();
            if ui
                .add_enabled(can_shoot, egui::Button::new("Screenshot"))
                .on_hover_text("Save the current frame of the 3D view as a PNG")
                .clicked()
            {
                cmds.push(AppCommand::Screenshot(screenshot_path(state, bar)));
            }
            ui.separator();
            jobs(ui, worker, cmds);
        });
    });
}

fn panel_toggle(
    ui: &mut egui::Ui,
    label: &str,
    open: bool,
    panel: Panel,
    cmds: &mut Vec<AppCommand>,
) {
    if ui.selectable_label(open, label).clicked() {
        cmds.push(AppCommand::TogglePanel(panel));
    }
}

/// `<dir>/srmscope_<dataset>_frame<NNNN>_<before|after>.png`
fn screenshot_path(state: &AppState, bar: &TopBar) -> std::path::PathBuf {
    let name = state
        .primary
        .loaded
        .as_ref()
        .map(|l| {
            l.dataset
                .name
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
        })
        .unwrap_or_else(|| "view".into());
    let which = if state.playback.aligned() {
        "after"
    } else {
        "before"
    };
    std::path::Path::new(&bar.screenshot_dir).join(format!(
        "srmscope_{name}_frame{:04}_{which}.png",
        state.playback.frame()
    ))
}

fn open_menu(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    ui.menu_button("Open", |ui| {
        if ui
            .button("Open files…")
            .on_hover_text("Several .npy files (one per network) or one .npz")
            .clicked()
        {
            cmds.push(AppCommand::ShowDialog(DialogPurpose::OpenFiles(
                SlotId::Primary,
            )));
            ui.close();
        }
        if ui
            .button("Open folder…")
            .on_hover_text(
                "A folder of .npy files, one per network, or a study folder (study.json)",
            )
            .clicked()
        {
            cmds.push(AppCommand::ShowDialog(DialogPurpose::OpenFolder(
                SlotId::Primary,
            )));
            ui.close();
        }
        ui.separator();
        ui.label(RichText::new("Demo data").small().color(theme::MUTED));
        for (name, _, about) in crate::data::DEMOS {
            if ui
                .button(format!("demo:{name}"))
                .on_hover_text(*about)
                .clicked()
            {
                cmds.push(AppCommand::Open {
                    slot: SlotId::Primary,
                    inputs: vec![format!("demo:{name}")],
                });
                ui.close();
            }
        }
        for (name, _, about) in crate::data::demo::STUDIES {
            if ui
                .button(format!("demo:{name} (study)"))
                .on_hover_text(*about)
                .clicked()
            {
                cmds.push(AppCommand::Open {
                    slot: SlotId::Primary,
                    inputs: vec![format!("demo:{name}")],
                });
                ui.close();
            }
        }
        if !state.recent.is_empty() {
            ui.separator();
            ui.label(RichText::new("Recent").small().color(theme::MUTED));
            for inputs in &state.recent {
                if ui
                    .button(short_inputs(inputs))
                    .on_hover_text(inputs.join("\n"))
                    .clicked()
                {
                    cmds.push(AppCommand::Open {
                        slot: SlotId::Primary,
                        inputs: inputs.clone(),
                    });
                    ui.close();
                }
            }
        }
        ui.separator();
        super::hint(ui, "Tip: drop files or a folder onto the window.");
    });
}

fn compare_menu(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    ui.menu_button("Compare", |ui| {
        super::hint(
            ui,
            "Open a second dataset beside the first,\nwith the same time and camera.",
        );
        for (name, _, about) in crate::data::DEMOS {
            if ui
                .button(format!("beside demo:{name}"))
                .on_hover_text(*about)
                .clicked()
            {
                cmds.push(AppCommand::Open {
                    slot: SlotId::Compare,
                    inputs: vec![format!("demo:{name}")],
                });
                ui.close();
            }
        }
        if ui.button("beside files…").clicked() {
            cmds.push(AppCommand::ShowDialog(DialogPurpose::OpenFiles(
                SlotId::Compare,
            )));
            ui.close();
        }
        if state.compare.is_some() {
            ui.separator();
            if ui.button("Close comparison").clicked() {
                cmds.push(AppCommand::CloseCompare);
                ui.close();
            }
        }
    });
}

fn model_menu(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    ui.menu_button("Model", |ui| {
        let fitted = state.primary.loaded.is_some();
        if ui
            .add_enabled(fitted, egui::Button::new("Save fitted model…"))
            .on_hover_text("W_i, μ_i, S, ρ², Σ_s and the settings, as the CLI writes them (.npz)")
            .clicked()
        {
            cmds.push(AppCommand::ShowDialog(DialogPurpose::SaveModel));
            ui.close();
        }
        if ui
            .add_enabled(fitted, egui::Button::new("Load model…"))
            .on_hover_text(
                "Refit the data on screen with a saved model's settings (reproduces its maps)",
            )
            .clicked()
        {
            cmds.push(AppCommand::ShowDialog(DialogPurpose::LoadModel));
            ui.close();
        }
    });
}

fn view_menu(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    ui.menu_button("View", |ui| {
        let mut v = state.view.clone();
        ui.label(RichText::new("Ghost path").small().color(theme::MUTED));
        for g in Ghost::ALL {
            ui.radio_value(&mut v.style.ghost, g, g.label());
        }
        ui.separator();
        ui.checkbox(&mut v.style.show_cube, "Unit cube");
        ui.checkbox(&mut v.style.color_by_label, "Colour by class")
            .on_hover_text(
                "Colour each point by its image's class (the test images are sorted by class)",
            );
        let mut white = !v.style.dark_background;
        if ui
            .checkbox(&mut white, "White background (HyperTools look)")
            .changed()
        {
            v.style.dark_background = !white;
        }
        ui.checkbox(&mut v.legend, "Legend");
        ui.checkbox(&mut v.hover, "Hover tooltips");
        ui.horizontal(|ui| {
            ui.label("Line width");
            ui.add(egui::Slider::new(&mut v.style.line_width, 0.5..=10.0).step_by(0.5));
        });
        ui.separator();
        if ui
            .button("Reset camera")
            .on_hover_text("Or double-click the 3D view")
            .clicked()
        {
            cmds.push(CameraCommand::Reset.into());
            ui.close();
        }
        if v != state.view {
            cmds.push(AppCommand::SetView(v));
        }
    });
}

/// The before/after switch: a two-segment control; the morph animates between them.
fn aligned_toggle(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    // Until the fit ends there is only the native view.
    let aligning = state.aligning(SlotId::Primary);
    let aligned = state.playback.aligned() && !aligning;
    let seg = |ui: &mut egui::Ui, on: bool, text: &str, color: Color32| {
        let t = if on {
            RichText::new(text).strong().color(Color32::WHITE)
        } else {
            RichText::new(text)
        };
        let b = egui::Button::new(t).selected(on).fill(if on {
            color.gamma_multiply(0.6)
        } else {
            Color32::TRANSPARENT
        });
        ui.add(b)
    };
    ui.spacing_mut().item_spacing.x = 2.0;
    if seg(ui, !aligned, "Before alignment", theme::BEFORE)
        .on_hover_text("Joint PCA of the networks' native unit spaces (key A)")
        .clicked()
    {
        cmds.push(PlaybackCommand::SetAligned(false).into());
    }
    let after = ui
        .add_enabled_ui(!aligning, |ui| {
            seg(ui, aligned, "After alignment", theme::AFTER)
        })
        .inner
        .on_hover_text("Joint PCA after mapping each network into the shared space (key A)")
        .on_disabled_hover_text("The fit is running; the aligned view follows");
    if after.clicked() {
        cmds.push(PlaybackCommand::SetAligned(true).into());
    }
    ui.spacing_mut().item_spacing.x = 8.0;
}

/// Running jobs, right-aligned: a progress bar with the stage and iteration, and Cancel.
fn jobs(ui: &mut egui::Ui, worker: &Worker, cmds: &mut Vec<AppCommand>) {
    // Newest first from the right; at most two, the rest are counted.
    let jobs = worker.jobs();
    if jobs.len() > 2 {
        ui.label(RichText::new(format!("+{} more", jobs.len() - 2)).color(theme::MUTED));
    }
    for job in jobs.iter().rev().take(2) {
        if job.cancellable()
            && ui
                .button("Cancel")
                .on_hover_text(format!("Stop: {}", job.title))
                .clicked()
        {
            cmds.push(AppCommand::Cancel(job.id));
        }
        let name = job
            .title
            .split_whitespace()
            .last()
            .unwrap_or("job")
            .to_string();
        ui.add(
            egui::ProgressBar::new(job.fraction())
                .desired_width(170.0)
                .desired_height(18.0)
                .text(RichText::new(format!("{name} · {}", job.stage_text())).size(11.5))
                .fill(theme::ACCENT.gamma_multiply(0.55)),
        )
        .on_hover_text(job.status());
    }
    if !jobs.is_empty() {
        slow_spinner(ui);
    }
}

/// A busy indicator that redraws 4 times a second. egui's `Spinner` asks for every frame, and
/// with a software renderer (llvmpipe) those frames took most of a core from the fit it was
/// waiting for: a 43 s fit took 90 s in the viewer. Each redraw also draws the native
/// trajectories shown while a fit runs (13 ms each for 10 networks × 2000 frames).
fn slow_spinner(ui: &mut egui::Ui) {
    const STEP: std::time::Duration = std::time::Duration::from_millis(250);
    let size = 14.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let t = ui.input(|i| i.time);
    let steps = (t / STEP.as_secs_f64()).floor();
    let start = (steps * 0.7) as f32;
    let points: Vec<egui::Pos2> = (0..=12)
        .map(|k| {
            let a = start + k as f32 * 0.35;
            rect.center() + (size * 0.4) * egui::vec2(a.cos(), a.sin())
        })
        .collect();
    ui.painter().add(egui::Shape::line(
        points,
        egui::Stroke::new(2.0, ui.visuals().strong_text_color()),
    ));
    ui.ctx().request_repaint_after(STEP);
}
