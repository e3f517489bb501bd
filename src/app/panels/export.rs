//! The export window: every `ExportOptions` field, the output path, and a progress bar with
//! Cancel while the worker renders offscreen.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::hint;
use crate::app::commands::AppCommand;
use crate::app::state::{AppState, Persisted};
use crate::app::theme;
use crate::app::worker::{DialogPurpose, JobKind, SlotId, Worker};
use crate::render::{BothLayout, ExportFormat, ExportOptions, ExportView, Ghost};

/// The export window's form: options and path, edited freely, used when Export is pressed.
#[derive(Clone, Debug)]
pub struct ExportPanel {
    pub options: ExportOptions,
    pub path: String,
}

impl ExportPanel {
    pub fn new(p: &Persisted) -> Self {
        let dir = super::output_dir(p);
        Self {
            options: ExportOptions::default(),
            path: dir.join("trajectories.gif").display().to_string(),
        }
    }

    /// Start the form from what is on screen: camera, style, visibility, view.
    pub fn prepare(&mut self, s: &AppState) {
        let e = &mut self.options;
        e.camera = Some(s.camera);
        // The view's style, except the legend, which the export form owns.
        e.style = crate::render::ViewStyle {
            show_legend: e.style.show_legend,
            ..s.view.style.clone()
        };
        e.visible = s.primary.visible.clone();
        e.view = if s.playback.aligned() {
            ExportView::After
        } else {
            ExportView::Before
        };
        e.rotations = if s.playback.spin() {
            s.playback.rotations()
        } else {
            0.0
        };
        if let Some(l) = &s.primary.loaded {
            e.title = Some(l.dataset.name.clone());
        }
    }

    pub fn show(
        &mut self,
        ctx: &egui::Context,
        open: &mut bool,
        state: &AppState,
        worker: &Worker,
        cmds: &mut Vec<AppCommand>,
    ) {
        show(ctx, open, state, worker, self, cmds);
    }
}

fn show(
    ctx: &egui::Context,
    open: &mut bool,
    state: &AppState,
    worker: &Worker,
    form: &mut ExportPanel,
    cmds: &mut Vec<AppCommand>,
) {
    // Opens under the top bar's Export button, over the metrics panel.
    let at = ctx.content_rect().right_top() + egui::vec2(-400.0, 44.0);
    egui::Window::new("Export animation")
        .open(open)
        .resizable(false)
        .default_width(380.0)
        .default_pos(at)
        .show(ctx, |ui| {
            egui::Grid::new("export_grid")
                .num_columns(2)
                .spacing([10.0, 6.0])
                .show(ui, |ui| {
                    format_rows(ui, form);
                    size_and_timing_rows(ui, &mut form.options);
                    camera_row(ui, &mut form.options, state);
                    look_rows(ui, &mut form.options);
                    path_row(ui, &mut form.path, cmds);
                });
            form.options.visible = state.primary.visible.clone();

            ui.separator();
            match worker.job(&JobKind::Export) {
                Some(job) => {
                    ui.add(
                        egui::ProgressBar::new(job.fraction())
                            .show_percentage()
                            .text(job.status()),
                    );
                    if ui.button("Cancel export").clicked() {
                        cmds.push(AppCommand::Cancel(job.id));
                    }
                }
                None => start_row(ui, form, state, cmds),
            }
        });
}

/// Format, view and (for both views) their layout; a new format renames the path.
fn format_rows(ui: &mut egui::Ui, form: &mut ExportPanel) {
    let e = &mut form.options;
    ui.label("Format");
    ui.horizontal(|ui| {
        let before = e.format;
        ui.selectable_value(&mut e.format, ExportFormat::Gif, "GIF");
        ui.selectable_value(&mut e.format, ExportFormat::PngFrames, "PNG frames");
        ui.selectable_value(&mut e.format, ExportFormat::Png, "one PNG");
        ui.selectable_value(&mut e.format, ExportFormat::Html, "HTML")
            .on_hover_text(
                "One self-contained interactive page: readers rotate, scrub and \
                 toggle the alignment in any browser, offline",
            );
        if e.format != before {
            form.path = with_extension(&form.path, e.format);
        }
    });
    ui.end_row();

    ui.label("View");
    ui.horizontal(|ui| {
        ui.selectable_value(&mut e.view, ExportView::Before, "before");
        ui.selectable_value(&mut e.view, ExportView::After, "after");
        ui.selectable_value(&mut e.view, ExportView::Both, "both");
    });
    ui.end_row();
    if e.view == ExportView::Both {
        ui.label("Layout");
        ui.horizontal(|ui| {
            ui.selectable_value(&mut e.both_layout, BothLayout::SideBySide, "side by side");
            ui.selectable_value(
                &mut e.both_layout,
                BothLayout::Sequence,
                "before → morph → after",
            );
        });
        ui.end_row();
    }
}

/// Pixel size, duration, frame rate, tail and rotations.
fn size_and_timing_rows(ui: &mut egui::Ui, e: &mut ExportOptions) {
    ui.label("Size");
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut e.width)
                .range(16..=8192)
                .suffix(" px"),
        );
        ui.label("×");
        ui.add(
            egui::DragValue::new(&mut e.height)
                .range(16..=8192)
                .suffix(" px"),
        );
    });
    ui.end_row();

    ui.label("Duration")
        .on_hover_text("Seconds for one pass over all images (HyperTools `duration`)");
    ui.add(
        egui::DragValue::new(&mut e.duration)
            .range(0.5..=600.0)
            .speed(0.1)
            .suffix(" s"),
    );
    ui.end_row();
    ui.label("Frame rate");
    ui.add(
        egui::DragValue::new(&mut e.frame_rate)
            .range(1.0..=60.0)
            .speed(0.5)
            .suffix(" fps"),
    );
    ui.end_row();
    ui.label("Tail")
        .on_hover_text("Seconds of playback the bright head spans (HyperTools `tail_duration`)");
    ui.add(
        egui::DragValue::new(&mut e.tail_duration)
            .range(0.0..=60.0)
            .speed(0.05)
            .suffix(" s"),
    );
    ui.end_row();
    ui.label("Rotations")
        .on_hover_text("Camera turns over the whole export (HyperTools `rotations`)");
    ui.add(
        egui::DragValue::new(&mut e.rotations)
            .range(-20.0..=20.0)
            .speed(0.01),
    );
    ui.end_row();
}

/// The current camera, or elevation, azimuth and zoom of a fixed one.
fn camera_row(ui: &mut egui::Ui, e: &mut ExportOptions, state: &AppState) {
    ui.label("Camera");
    ui.vertical(|ui| {
        let mut current = e.camera.is_some();
        if ui
            .checkbox(&mut current, "start from the current view")
            .changed()
        {
            e.camera = if current { Some(state.camera) } else { None };
        }
        if e.camera.is_none() {
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut e.elevation_deg)
                        .range(-89.0..=89.0)
                        .prefix("elev ")
                        .suffix("°"),
                );
                ui.add(
                    egui::DragValue::new(&mut e.azimuth_deg)
                        .range(-360.0..=360.0)
                        .prefix("azim ")
                        .suffix("°"),
                );
                ui.add(
                    egui::DragValue::new(&mut e.zoom)
                        .range(-20.0..=8.0)
                        .speed(0.05)
                        .prefix("zoom "),
                );
            });
        }
    });
    ui.end_row();
}

/// Ghost, the look's switches and line width, and the title.
fn look_rows(ui: &mut egui::Ui, e: &mut ExportOptions) {
    ui.label("Ghost");
    egui::ComboBox::from_id_salt("export_ghost")
        .selected_text(e.style.ghost.label())
        .show_ui(ui, |ui| {
            for g in Ghost::ALL {
                ui.selectable_value(&mut e.style.ghost, g, g.label());
            }
        });
    ui.end_row();

    ui.label("Look");
    ui.vertical(|ui| {
        ui.checkbox(&mut e.style.show_legend, "legend");
        ui.checkbox(&mut e.captions, "before/after captions");
        ui.checkbox(&mut e.style.show_cube, "unit cube");
        ui.checkbox(&mut e.style.dark_background, "dark background");
        ui.checkbox(&mut e.style.color_by_label, "colour by class");
        ui.checkbox(&mut e.show_image, "current image in the corner");
        ui.add(egui::Slider::new(&mut e.style.line_width, 0.5..=10.0).text("line width"));
    });
    ui.end_row();

    ui.label("Title");
    let mut title = e.title.clone().unwrap_or_default();
    if ui
        .add(
            egui::TextEdit::singleline(&mut title)
                .hint_text("none")
                .desired_width(220.0),
        )
        .changed()
    {
        e.title = (!title.trim().is_empty()).then_some(title);
    }
    ui.end_row();
}

/// The output path and its Browse button.
fn path_row(ui: &mut egui::Ui, path: &mut String, cmds: &mut Vec<AppCommand>) {
    ui.label("Save to");
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(path).desired_width(220.0));
        if ui.button("Browse…").clicked() {
            cmds.push(AppCommand::ShowDialog(DialogPurpose::ExportTo));
        }
    });
    ui.end_row();
}

/// Export and "Use current view" while no export runs, and what pressing Export will write.
fn start_row(
    ui: &mut egui::Ui,
    form: &mut ExportPanel,
    state: &AppState,
    cmds: &mut Vec<AppCommand>,
) {
    let aligning = state.aligning(SlotId::Primary);
    let ready = state.primary.loaded.is_some() && !aligning && !form.path.trim().is_empty();
    ui.horizontal(|ui| {
        let b = egui::Button::new(RichText::new("Export").strong())
            .fill(theme::ACCENT.gamma_multiply(0.6));
        let r = ui.add_enabled(ready, b);
        let r = if aligning {
            r.on_disabled_hover_text("Export once the fit is done")
        } else {
            r
        };
        if r.clicked() {
            cmds.push(AppCommand::Export {
                options: Box::new(form.options.clone()),
                path: PathBuf::from(form.path.trim()),
            });
        }
        if ui
            .button("Use current view")
            .on_hover_text("Camera, ghost, cube, colours and before/after from the 3D view")
            .clicked()
        {
            form.prepare(state);
        }
    });
    let frames = (form.options.duration * form.options.frame_rate).round();
    let text = if form.options.format == ExportFormat::Html {
        format!(
            "One page of {}×{} that plays, orbits and toggles the alignment in \
             the browser; the measures and thumbnails come with it.",
            form.options.width, form.options.height
        )
    } else {
        format!(
            "{frames} frames of {}×{}; renders offscreen, the viewer stays usable.",
            form.options.width, form.options.height
        )
    };
    hint(ui, &text);
}

/// Swap the path's extension for the format (a folder name for PNG frames).
fn with_extension(path: &str, format: ExportFormat) -> String {
    let mut p = PathBuf::from(path);
    match format {
        ExportFormat::Gif => {
            p.set_extension("gif");
        }
        ExportFormat::Png => {
            p.set_extension("png");
        }
        ExportFormat::PngFrames => {
            p.set_extension("");
        }
        ExportFormat::Html => {
            p.set_extension("html");
        }
    }
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_follows_format() {
        assert_eq!(with_extension("/a/b.gif", ExportFormat::Png), "/a/b.png");
        assert_eq!(with_extension("/a/b.png", ExportFormat::PngFrames), "/a/b");
        assert_eq!(with_extension("/a/b", ExportFormat::Gif), "/a/b.gif");
        assert_eq!(with_extension("/a/b.gif", ExportFormat::Html), "/a/b.html");
    }
}
