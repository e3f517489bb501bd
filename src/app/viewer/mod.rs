//! [`ViewerApp`]: the one owner. Each frame it drains the worker, turns keys and dropped files
//! into commands, lets every panel draw and push more commands, then applies them all in
//! [`ViewerApp::apply`]. It runs the same under eframe and under `egui_kittest` (no GL there:
//! the 3D paint callbacks simply never run).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use eframe::egui::{self, Key, Modifiers};

use super::bench::Bench;
use super::commands::{AppCommand, CameraCommand, Panel};
use super::options::ViewerOptions;
use super::panels::{self, export::ExportPanel, settings::SettingsPanel, top_bar::TopBar};
use super::playback::PlaybackCommand;
use super::render_glue::{self, SharedGl};
use super::state::{AppState, BannerKind, Loaded, Persisted, DEFAULT_DEMO};
use super::study::panel::StudyPanel;
use super::study::{StudyState, StudyStatus};
use super::theme;
use super::view3d;
use super::worker::{
    DialogPurpose, Fitted, Job, JobKind, JobResult, Phase, PickOutcome, SlotId, StudyEvent, Worker,
};

mod frame;
mod jobs;
mod studies;

/// Key under which [`Persisted`] lives in eframe's storage.
pub const STORAGE_KEY: &str = "srmscope.viewer";

pub struct ViewerApp {
    pub state: AppState,
    /// The panels that own a draft (egui-demo style); the rest are stateless functions.
    pub settings_panel: SettingsPanel,
    pub export_panel: ExportPanel,
    pub top_bar: TopBar,
    /// Pixel size of the primary 3D view in the last frame (screenshots use it).
    view_size_px: [u32; 2],
    pub worker: Worker,
    /// The Study view's own state (metric, textures, grid focus).
    pub study_panel: StudyPanel,
    gl: SharedGl,
    /// False in tests: file dialogs are never shown, a message explains the alternatives.
    dialogs_enabled: bool,
    /// Commands to run on the first frame (the initial load), when the egui context is known.
    startup: Vec<AppCommand>,
    started: bool,
    /// Views' screen rects of the last frame (for drops onto the comparison view).
    view_rects: Vec<(SlotId, egui::Rect)>,
    pub(crate) bench: Option<Bench>,
}

impl ViewerApp {
    /// The app as `srmscope view` starts it; `persisted` comes from eframe's storage.
    pub fn new(opts: &ViewerOptions, persisted: Persisted) -> Self {
        let mut persisted = persisted;
        if let Some(s) = &opts.settings {
            persisted.settings = s.clone();
        }
        if let Some(t) = opts.tail {
            persisted.playback.tail = t.max(1);
        }
        let mut startup = Vec::new();
        let inputs = if opts.inputs.is_empty() {
            vec![DEFAULT_DEMO.to_string()]
        } else {
            opts.inputs.clone()
        };
        let inputs_for_extras = inputs.clone();
        startup.push(AppCommand::Open {
            slot: SlotId::Primary,
            inputs,
        });
        if !opts.compare.is_empty() {
            startup.push(AppCommand::Open {
                slot: SlotId::Compare,
                inputs: opts.compare.clone(),
            });
        }
        let mut worker = Worker::new();
        if opts.images.is_some() || opts.class_names.is_some() {
            worker.extra_files = Some(super::worker::ExtraFiles {
                inputs: inputs_for_extras,
                images: opts.images.clone(),
                class_names: opts.class_names.clone(),
            });
        }
        Self {
            settings_panel: SettingsPanel::new(&persisted),
            export_panel: ExportPanel::new(&persisted),
            top_bar: TopBar::new(&persisted),
            view_size_px: [1280, 800],
            state: AppState::new(persisted),
            worker,
            study_panel: StudyPanel::default(),
            gl: Arc::new(Mutex::new(render_glue::GlViews::default())),
            dialogs_enabled: true,
            startup,
            started: false,
            view_rects: Vec::new(),
            bench: opts.bench_frames.map(Bench::new),
        }
    }

    /// For tests: default preferences, and no native file dialogs ever.
    pub fn headless(opts: &ViewerOptions) -> Self {
        let mut app = Self::new(opts, Persisted::default());
        app.dialogs_enabled = false;
        app
    }

    pub fn gl(&self) -> &SharedGl {
        &self.gl
    }

    /// The running fit of a slot, if any.
    pub fn fit_job(&self, slot: SlotId) -> Option<&Job> {
        self.worker.job(&JobKind::Fit(slot))
    }

    pub fn apply_all(&mut self, cmds: impl IntoIterator<Item = AppCommand>) {
        for c in cmds {
            self.apply(c);
        }
    }

    /// Block until the background jobs are done (or `timeout` passes), handling their results
    /// as a frame would. For tests and scripted runs; the UI itself never waits.
    /// Where a 3D view was drawn in the last frame (tests hover points in it).
    pub fn view_rect(&self, slot: SlotId) -> Option<egui::Rect> {
        self.view_rects.iter().find(|v| v.0 == slot).map(|v| v.1)
    }

    pub fn settle(&mut self, timeout: std::time::Duration) {
        for (job, result) in self.worker.wait_idle(timeout) {
            self.handle(job, result);
        }
    }

    /// The one place where commands change state or start jobs.
    pub fn apply(&mut self, cmd: AppCommand) {
        match cmd {
            AppCommand::Playback(c) => self.state.playback.apply(c),
            AppCommand::Camera(c) => self.camera(c),
            AppCommand::SetView(v) => self.state.view = v,
            AppCommand::ToggleNetwork { slot, network } => {
                self.state.slot_mut(slot).toggle(network)
            }
            AppCommand::Solo { slot, network } => self.state.slot_mut(slot).solo(network),
            AppCommand::Highlight { slot, network } => {
                self.state.slot_mut(slot).highlight = network
            }
            AppCommand::Open { slot, inputs } => self.open(slot, inputs),
            AppCommand::OpenPaths { slot, paths } => {
                let inputs = paths.iter().map(|p| p.display().to_string()).collect();
                self.open(slot, inputs);
            }
            AppCommand::ShowDialog(purpose) => self.show_dialog(purpose),
            AppCommand::CloseCompare => {
                self.worker.cancel_kind(&JobKind::Fit(SlotId::Compare));
                self.state.compare = None;
            }
            AppCommand::Refit(settings) => self.refit(settings),
            AppCommand::Cancel(id) => self.cancel(id),
            AppCommand::Export { options, path } => self.export(*options, path),
            AppCommand::Screenshot(path) => self.screenshot(path),
            AppCommand::SaveModel(path) => self.save_model(path),
            AppCommand::LoadModel(path) => self.load_model(path),
            AppCommand::DismissBanner(id) => self.state.dismiss(id),
            AppCommand::SelectStudyCell { index } => {
                if let Some(st) = &mut self.state.study {
                    st.user_selected = true;
                }
                self.select_study_cell(index)
            }
            AppCommand::CloseStudy => {
                self.worker.cancel_kind(&JobKind::Study);
                self.state.study = None;
                self.study_panel = StudyPanel::default();
            }
            AppCommand::TogglePanel(p) => self.toggle_panel(p),
        }
    }

    fn camera(&mut self, c: CameraCommand) {
        let cam = &mut self.state.camera;
        match c {
            CameraCommand::Orbit { dx, dy } => cam.orbit(dx, dy),
            CameraCommand::Pan {
                dx,
                dy,
                viewport_height,
            } => cam.pan(dx, dy, viewport_height),
            CameraCommand::Zoom(f) => cam.zoom(f),
            CameraCommand::Scroll(s) => cam.zoom_scroll(s),
            CameraCommand::Reset => cam.reset(),
        }
    }

    fn toggle_panel(&mut self, p: Panel) {
        let panels = &mut self.state.panels;
        match p {
            Panel::Settings => panels.settings = !panels.settings,
            Panel::Metrics => panels.metrics = !panels.metrics,
            Panel::Images => panels.images = !panels.images,
            Panel::Export => {
                panels.export = !panels.export;
                if panels.export {
                    self.export_panel.prepare(&self.state);
                }
            }
        }
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.bench.is_none() {
            eframe::set_value(storage, STORAGE_KEY, &self.state.persisted());
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.worker.cancel_all();
        render_glue::lock(&self.gl).destroy();
    }

    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        theme::PANEL.to_normalized_gamma_f32()
    }
}
