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
use super::ViewerOptions;

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
            AppCommand::Camera(c) => {
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
            AppCommand::Export { options, path } => {
                let Some(loaded) = self.state.loaded(SlotId::Primary) else {
                    self.state.banner(
                        BannerKind::Warning,
                        "Nothing to export yet: no data is loaded.",
                    );
                    return;
                };
                if options.format == crate::render::ExportFormat::Html {
                    let html = crate::render::html::HtmlOptions::from_export(&options);
                    let (output, dataset, scene) = (
                        loaded.output.clone(),
                        loaded.dataset.clone(),
                        loaded.scene.clone(),
                    );
                    let (smooth, algo) = (loaded.settings.smooth, loaded.settings.algo.label());
                    // Measures join the page once they are computed.
                    let measured = loaded.phase == crate::app::worker::Phase::Done;
                    self.state.export_dir = path.parent().map(Path::to_path_buf);
                    self.worker
                        .write_file(format!("Writing {}", path.display()), move || {
                            let fig = crate::render::html::Figure {
                                scene: &scene,
                                metrics: measured.then_some(&output.metrics),
                                test_idx: &output.test_idx,
                                smooth,
                                images: dataset.images.as_deref(),
                                class_names: dataset.class_names.as_deref(),
                                algo: algo.to_string(),
                                k: output.k,
                                n_train: output.train_idx.len(),
                                n_test: output.test_idx.len(),
                            };
                            let page = crate::render::html::figure_page(&fig, &html);
                            crate::render::html::write(&path, &page)
                                .map(|bytes| {
                                    format!(
                                        "Wrote {} ({})",
                                        path.display(),
                                        crate::data::fmt_bytes(bytes)
                                    )
                                })
                                .map_err(|e| e.to_string())
                        });
                    return;
                }
                let scene = loaded.scene.clone();
                let mut options = options;
                if options.show_image {
                    let d = &loaded.dataset;
                    options.images = crate::render::inset::FrameImages::new(
                        d.images.clone(),
                        &loaded.output.test_idx,
                        loaded.settings.smooth,
                        scene.n_frames(),
                        d.labels.as_deref(),
                        d.class_names.as_deref(),
                    )
                    .map(Arc::new);
                }
                self.state.export_dir = path.parent().map(Path::to_path_buf);
                self.worker.export(scene, *options, path);
            }
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
            AppCommand::TogglePanel(p) => {
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
    }

    fn open(&mut self, slot: SlotId, inputs: Vec<String>) {
        if inputs.is_empty() {
            return;
        }
        let studies = inputs
            .iter()
            .filter(|i| crate::data::study::is_study(i))
            .count();
        if studies > 0 {
            if inputs.len() > 1 {
                self.state.banner(
                    BannerKind::Error,
                    "Open one study at a time: a study (a folder with study.json, a study.json \
                     or a .zip) cannot be mixed with other inputs.",
                );
                return;
            }
            if slot == SlotId::Compare {
                self.state.banner(
                    BannerKind::Info,
                    "A study opens in the Study view of the main window, not beside it.",
                );
            }
            self.open_study(inputs[0].clone());
            return;
        }
        let settings = self.state.settings.clone();
        self.state.slot_mut(slot).pending = Some(inputs.clone());
        self.worker.fit(slot, inputs, None, settings);
    }

    /// Open a study and fit its cells in the background with the current settings; cells fill
    /// the Study view as they finish and the first one plays in the 3D view.
    fn open_study(&mut self, input: String) {
        let settings = self.state.settings.clone();
        let id = self.worker.study(input.clone(), settings);
        let generation = self.state.next_generation();
        self.state.study = Some(StudyState::opening(input, id, generation));
        self.study_panel.grid_hot = false;
    }

    /// True when `l` shows a cell of the open study (it has no dataset of its own to refit).
    fn is_study_cell(&self, l: &Loaded) -> bool {
        self.state
            .study
            .as_ref()
            .is_some_and(|s| l.inputs.len() == 1 && l.inputs[0] == s.input)
    }

    /// Play a study cell's trajectories in the primary view, keeping the before/after state,
    /// the camera and the time position (clamped to the new number of frames).
    fn select_study_cell(&mut self, index: usize) {
        let generation = self.state.next_generation();
        let Some(st) = &self.state.study else {
            return;
        };
        let (Some(spec), Some(result)) = (
            st.cells.get(index),
            st.results.get(index).and_then(Option::as_ref),
        ) else {
            return;
        };
        let Some(view) = st.views.get(index).and_then(Option::as_ref) else {
            let msg = format!(
                "{}: its trajectories could not be read from the cache.",
                spec.label()
            );
            self.state.banner(BannerKind::Warning, msg);
            return;
        };
        let dataset = crate::data::Dataset {
            name: format!("{} {}", st.name, spec.label()),
            class_names: st.class_names.clone(),
            ..Default::default()
        };
        let output = crate::analysis::PipelineOutput {
            model: crate::align::Model::default(),
            metrics: result.metrics.clone(),
            scene: view.scene.clone(),
            train_idx: Vec::new(),
            test_idx: Vec::new(),
            units_kept: Vec::new(),
            k: result.k,
            notes: result.notes.clone(),
        };
        let input = st.input.clone();
        let first = self.state.primary.loaded.is_none();
        let loaded = Loaded {
            inputs: vec![input],
            scene: Arc::new(view.scene.clone()),
            dataset: Arc::new(dataset),
            output: Arc::new(output),
            settings: self.state.settings.clone(),
            fit_seconds: result.metrics.fit_seconds,
            generation,
            phase: Phase::Done,
        };
        if let Some(st) = &mut self.state.study {
            st.selected = Some(index);
        }
        // A dataset still loading into the main view would replace the cell.
        self.worker.cancel_kind(&JobKind::Fit(SlotId::Primary));
        self.state.primary.set_loaded(loaded);
        let n = self.state.primary.n_frames();
        self.state.playback.apply(PlaybackCommand::SetFrames(n));
        if first {
            self.state.playback.apply(PlaybackCommand::Play);
        }
    }

    fn study_event(&mut self, job: &Job, ev: StudyEvent) {
        let ours = self
            .state
            .study
            .as_ref()
            .is_some_and(|s| s.job == Some(job.id));
        if !ours {
            return;
        }
        match ev {
            StudyEvent::Opened(o) => {
                if let Some(st) = &mut self.state.study {
                    st.set_cells(o.name, o.cells);
                    st.class_names = o.class_names;
                    st.cache = Some(o.cache.clone());
                }
                self.state.remember(&[o.input]);
                if let Err(why) = o.cache {
                    self.state.banner(
                        BannerKind::Info,
                        format!("No study cache ({why}): every cell is fitted again next time."),
                    );
                }
            }
            StudyEvent::Cell { result, view } => {
                let has_view = view.is_some();
                let placed = self
                    .state
                    .study
                    .as_mut()
                    .and_then(|st| st.set_cell(*result, view));
                // Something plays as soon as a cell is in; then the headline cell (the first
                // arch's deepest layer at its last checkpoint) takes over, unless the user has
                // picked a cell.
                let auto = self.state.study.as_ref().is_some_and(|s| {
                    s.selected.is_none()
                        || (!s.user_selected && placed.is_some() && placed == s.headline())
                });
                if let Some(i) = placed.filter(|_| has_view && auto) {
                    self.select_study_cell(i);
                }
            }
            StudyEvent::Done(Ok((cells, seconds))) => {
                let name = self.state.study.as_ref().map(|s| s.name.clone());
                if let Some(st) = &mut self.state.study {
                    st.job = None;
                    st.status = StudyStatus::Done { cells, seconds };
                }
                self.state.banner(
                    BannerKind::Info,
                    format!(
                        "Study {}: {cells} cells in {}",
                        name.unwrap_or_default(),
                        super::worker::duration_text(seconds)
                    ),
                );
            }
            StudyEvent::Done(Err(msg)) => {
                let input = self
                    .state
                    .study
                    .as_ref()
                    .map(|s| s.input.clone())
                    .unwrap_or_default();
                if let Some(st) = &mut self.state.study {
                    st.job = None;
                    st.status = StudyStatus::Failed(msg.clone());
                }
                let kept = self.state.study.as_ref().map_or(0, StudyState::n_done);
                let tail = if kept > 0 {
                    format!(" The {kept} cells fitted before stay.")
                } else {
                    String::new()
                };
                self.state.banner(
                    BannerKind::Error,
                    format!("Could not run the study {input}: {msg}.{tail}"),
                );
            }
        }
    }

    fn refit(&mut self, settings: crate::analysis::Settings) {
        self.state.settings = settings.clone();
        self.settings_panel.draft = settings.clone();
        let mut any = false;
        if let Some(input) = self.state.study.as_ref().map(|s| s.input.clone()) {
            self.open_study(input);
            any = true;
        }
        for id in [SlotId::Primary, SlotId::Compare] {
            let Some(slot) = self.state.slot(id) else {
                continue;
            };
            if slot.loaded.as_ref().is_some_and(|l| self.is_study_cell(l)) {
                continue;
            }
            if let Some(l) = &slot.loaded {
                let (inputs, dataset) = (l.inputs.clone(), l.dataset.clone());
                // Loaded with only the previous settings' units: read the files again.
                let reuse = crate::analysis::pipeline::has_units_for(&dataset, &settings)
                    .then_some(dataset);
                self.worker.fit(id, inputs, reuse, settings.clone());
                any = true;
            } else if let Some(inputs) = slot.pending.clone() {
                self.worker.fit(id, inputs, None, settings.clone());
                any = true;
            }
        }
        if !any {
            self.open(SlotId::Primary, vec![DEFAULT_DEMO.to_string()]);
        }
    }

    fn cancel(&mut self, id: u64) {
        let kind = self
            .worker
            .jobs()
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.kind.clone());
        self.worker.cancel(id);
        match kind {
            Some(JobKind::Fit(slot)) => {
                self.state.abandon_preview(slot);
                let s = self.state.slot_mut(slot);
                s.pending = None;
                let kept = s.loaded.is_some();
                if slot == SlotId::Compare && !kept {
                    self.state.compare = None;
                }
                let msg = if kept {
                    "Fit cancelled; the previous result stays on screen."
                } else {
                    "Loading cancelled."
                };
                self.state.banner(BannerKind::Info, msg);
            }
            Some(JobKind::Export) => {
                self.state
                    .banner(BannerKind::Info, "Export cancelled; no file was written.");
            }
            Some(JobKind::Study) => {
                let mut kept = 0;
                if let Some(st) = self.state.study.as_mut().filter(|s| s.job == Some(id)) {
                    st.job = None;
                    st.status = StudyStatus::Cancelled;
                    kept = st.n_done();
                }
                self.state.banner(
                    BannerKind::Info,
                    format!("Study cancelled; the {kept} cells fitted so far stay."),
                );
            }
            _ => {}
        }
    }

    fn show_dialog(&mut self, purpose: DialogPurpose) {
        if self.dialogs_enabled {
            self.worker.dialog(purpose);
        } else {
            self.no_dialog_banner();
        }
    }

    fn no_dialog_banner(&mut self) {
        self.state.banner(
            BannerKind::Warning,
            "No file dialog is available (no xdg-desktop-portal answered). Drag and drop .npy/.npz \
             files or a folder onto the window, or pass them on the command line: \
             srmscope view a.npy b.npy …",
        );
    }

    fn screenshot(&mut self, path: PathBuf) {
        let Some(loaded) = self.state.loaded(SlotId::Primary) else {
            self.state.banner(
                BannerKind::Warning,
                "Nothing to capture yet: no data is loaded.",
            );
            return;
        };
        let scene = loaded.scene.clone();
        let names = loaded.names();
        let mut frame = self.state.frame_state(SlotId::Primary);
        // The picture as the window shows it, at the window's pixel size.
        frame.clear_color = None;
        // The window's pixel size, within sane bounds.
        let size = self.view_size_px.map(|v| v.clamp(64, 8192));
        self.worker.screenshot(scene, names, frame, size, path);
    }

    fn save_model(&mut self, path: PathBuf) {
        let Some(loaded) = self.state.loaded(SlotId::Primary) else {
            self.state
                .banner(BannerKind::Warning, "No fitted model to save yet.");
            return;
        };
        if self.is_study_cell(loaded) {
            self.state.banner(
                BannerKind::Warning,
                "A study cell keeps no model: open its file as a dataset to fit and save one.",
            );
            return;
        }
        if loaded.phase != Phase::Done {
            self.state.banner(
                BannerKind::Warning,
                "The model can be saved when the fit and its measures are done (see the top bar).",
            );
            return;
        }
        let output = loaded.output.clone();
        let settings = self.state.settings.clone();
        self.worker
            .write_file(format!("Saving {}", path.display()), move || {
                super::model_files::save(&output.model, &settings, &path)
                    .map(|()| format!("Saved model to {}", path.display()))
            });
    }

    fn load_model(&mut self, path: PathBuf) {
        self.worker.load_model(path);
    }

    /// A model file was read: check it against the data on screen and refit with its settings,
    /// which reproduces its maps (the pipeline is deterministic).
    fn model_loaded(&mut self, summary: super::model_files::ModelSummary) {
        let Some(loaded) = self.state.loaded(SlotId::Primary) else {
            self.state.banner(
                BannerKind::Warning,
                format!(
                    "{}: open the data it was fitted on first.",
                    summary.describe()
                ),
            );
            return;
        };
        let units: Vec<usize> = loaded
            .dataset
            .networks
            .iter()
            .map(|n| n.stored_units())
            .collect();
        if let Some(why) = summary.mismatch(&loaded.names(), &units) {
            self.state.banner(
                BannerKind::Error,
                format!("Cannot use {}: {why}.", summary.describe()),
            );
            return;
        }
        let Some(settings) = summary.settings.clone() else {
            self.state.banner(
                BannerKind::Error,
                format!(
                    "{}: the file records no settings to reproduce.",
                    summary.describe()
                ),
            );
            return;
        };
        let (inputs, dataset) = (loaded.inputs.clone(), loaded.dataset.clone());
        self.state.banner(
            BannerKind::Info,
            format!(
                "Loaded {}; applying it to {}.",
                summary.describe(),
                dataset.name
            ),
        );
        self.state.settings = settings.clone();
        self.settings_panel.draft = settings.clone();
        self.worker
            .apply_model(SlotId::Primary, inputs, dataset, settings, summary.model);
    }

    fn handle(&mut self, job: Job, result: JobResult) {
        match result {
            JobResult::Fitted(slot, Ok(fitted)) => self.fitted(slot, *fitted),
            JobResult::Fitted(slot, Err(msg)) => {
                self.state.abandon_preview(slot);
                let s = self.state.slot_mut(slot);
                let what = s.pending.take().map(|i| super::worker::short_inputs(&i));
                let kept = s.loaded.is_some();
                if slot == SlotId::Compare && !kept {
                    self.state.compare = None;
                }
                let what = what.unwrap_or_else(|| job.title.clone());
                let tail = if kept {
                    " The previous data stays on screen."
                } else {
                    ""
                };
                self.state.banner(
                    BannerKind::Error,
                    format!("Could not open {what}: {msg}.{tail}"),
                );
                if let Some(b) = &mut self.bench {
                    b.fail(msg);
                }
            }
            JobResult::Picked(purpose, PickOutcome::Picked(paths)) => self.picked(purpose, paths),
            JobResult::Picked(_, PickOutcome::Cancelled) => {}
            JobResult::Picked(_, PickOutcome::NoPortal) => self.no_dialog_banner(),
            JobResult::Wrote(Ok(msg)) => {
                self.state.banner(BannerKind::Info, msg);
            }
            JobResult::Wrote(Err(msg)) => {
                self.state.banner(BannerKind::Error, msg);
            }
            JobResult::ModelLoaded(Ok(summary)) => self.model_loaded(*summary),
            JobResult::Study(ev) => self.study_event(&job, ev),
            JobResult::ModelLoaded(Err(msg)) => {
                self.state.banner(
                    BannerKind::Error,
                    format!("Could not load the model: {msg}"),
                );
            }
        }
    }

    /// A fit's result, or an early part of it: the native trajectories while the fit runs,
    /// then both views while the measures are computed, then everything.
    fn fitted(&mut self, slot: SlotId, fitted: Fitted) {
        let name = fitted.dataset.name.clone();
        let (secs, phase) = (fitted.seconds, fitted.phase);
        // The native preview is for a view without aligned trajectories: over a fit already on
        // screen it would only take the aligned view away until this fit ends.
        let aligned_on_screen = self
            .state
            .loaded(slot)
            .is_some_and(|l| l.phase != Phase::Aligning);
        if phase == Phase::Aligning && aligned_on_screen {
            return;
        }
        if let Some(aligned_now) = self.state.advance(slot, &fitted) {
            // Start playing once both views exist, unless the user has moved the play head.
            let untouched = !self.state.playback.playing() && self.state.playback.frame() == 0;
            if aligned_now && slot == SlotId::Primary && untouched {
                self.state.playback.apply(PlaybackCommand::Play);
            }
            self.fit_banner(&name, phase, secs);
            return;
        }
        let first = self.state.loaded(slot).is_none();
        let notes = fitted.dataset.notes.clone();
        self.state.install(slot, fitted);
        if slot == SlotId::Primary {
            self.settings_panel.draft = self.state.settings.clone();
        }
        // Start like the demo GIFs, playing; with software GL, drawing every frame would slow
        // a running fit down, so the native preview waits for the aligned view.
        if first && slot == SlotId::Primary && phase != Phase::Aligning {
            self.state.playback.apply(PlaybackCommand::Play);
        }
        self.fit_banner(&name, phase, secs);
        for n in notes {
            self.state.banner(BannerKind::Info, format!("{name}: {n}"));
        }
    }

    /// One banner per fit: "fitted; measuring" gives way to "fitted and measured".
    fn fit_banner(&mut self, name: &str, phase: Phase, secs: f64) {
        let measuring = format!("{name}: fitted; measuring in ");
        match phase {
            Phase::Aligning => {}
            Phase::Measuring => {
                self.state
                    .banner(BannerKind::Info, format!("{measuring}{secs:.1} s"));
            }
            Phase::Done => {
                let had = self
                    .state
                    .banners
                    .iter()
                    .any(|b| b.text.starts_with(&measuring));
                self.state
                    .banners
                    .retain(|b| !b.text.starts_with(&measuring));
                let what = if had { "fitted and measured" } else { "fitted" };
                self.state
                    .banner(BannerKind::Info, format!("{name}: {what} in {secs:.1} s"));
            }
        }
    }

    fn picked(&mut self, purpose: DialogPurpose, paths: Vec<PathBuf>) {
        let first = paths.first().cloned();
        match (purpose, first) {
            (DialogPurpose::OpenFiles(slot) | DialogPurpose::OpenFolder(slot), _) => {
                self.apply(AppCommand::OpenPaths { slot, paths });
            }
            (DialogPurpose::SaveModel, Some(p)) => self.apply(AppCommand::SaveModel(p)),
            (DialogPurpose::LoadModel, Some(p)) => self.apply(AppCommand::LoadModel(p)),
            (DialogPurpose::ExportTo, Some(p)) => self.export_panel.path = p.display().to_string(),
            (DialogPurpose::Screenshot, Some(p)) => self.apply(AppCommand::Screenshot(p)),
            (_, None) => {}
        }
    }

    /// Space, arrows, Home/End drive the time axis; A toggles alignment. Not while typing.
    fn keys(&self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        // Over the study grid the arrows move its selection instead.
        let arrows = !(self.state.study.is_some() && self.study_panel.grid_hot);
        ctx.input_mut(|i| {
            let mut key = |k: Key| i.count_and_consume_key(Modifiers::NONE, k);
            if key(Key::Space) % 2 == 1 {
                cmds.push(PlaybackCommand::TogglePlay.into());
            }
            if arrows {
                for _ in 0..key(Key::ArrowRight) {
                    cmds.push(PlaybackCommand::StepForward.into());
                }
                for _ in 0..key(Key::ArrowLeft) {
                    cmds.push(PlaybackCommand::StepBack.into());
                }
            }
            if key(Key::Home) > 0 {
                cmds.push(PlaybackCommand::JumpStart.into());
            }
            if key(Key::End) > 0 {
                cmds.push(PlaybackCommand::JumpEnd.into());
            }
            if key(Key::A) % 2 == 1 {
                cmds.push(PlaybackCommand::ToggleAligned.into());
            }
        });
    }

    /// Files dropped on the window open in the view they were dropped on.
    fn dropped(&self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        let (files, pos) = ctx.input(|i| (i.raw.dropped_files.clone(), i.pointer.latest_pos()));
        let paths: Vec<PathBuf> = files
            .into_iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if paths.is_empty() {
            return;
        }
        let slot = pos
            .and_then(|p| {
                self.view_rects
                    .iter()
                    .find(|(_, r)| r.contains(p))
                    .map(|(s, _)| *s)
            })
            .unwrap_or(SlotId::Primary);
        cmds.push(AppCommand::OpenPaths { slot, paths });
    }

    /// One frame of the whole UI.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.started {
            self.started = true;
            theme::apply(&ctx);
            let c = ctx.clone();
            self.worker.set_repaint(move || c.request_repaint());
            let startup = std::mem::take(&mut self.startup);
            self.apply_all(startup);
        }
        for (job, result) in self.worker.poll() {
            self.handle(job, result);
        }

        let mut cmds: Vec<AppCommand> = Vec::new();
        self.keys(&ctx, &mut cmds);
        self.dropped(&ctx, &mut cmds);

        let dt = ui.input(|i| i.stable_dt);
        let frame_start = Instant::now();
        self.state.playback.apply(PlaybackCommand::Tick(dt));
        let spin = self.state.playback.take_spin();
        if spin != 0.0 {
            self.state.camera.spin(1.0, spin / std::f32::consts::TAU);
        }
        self.state.expire_banners();

        egui::Panel::top("top_bar")
            .frame(panels::bar_frame())
            .show(ui, |ui| {
                self.top_bar.show(ui, &self.state, &self.worker, &mut cmds);
            });
        egui::Panel::bottom("time_panel")
            .frame(panels::bar_frame())
            .show(ui, |ui| {
                panels::time_panel::show(ui, &self.state, &mut cmds);
            });
        if self.state.study.is_some() {
            egui::Panel::bottom("study_panel")
                .resizable(true)
                .default_size(360.0)
                .size_range(190.0..=760.0)
                .frame(panels::side_frame())
                .show(ui, |ui| {
                    self.study_panel
                        .show(ui, &self.state, &self.worker, &mut cmds);
                });
        }
        if self.state.panels.settings {
            egui::Panel::left("settings_panel")
                .resizable(true)
                .default_size(290.0)
                .size_range(240.0..=420.0)
                .frame(panels::side_frame())
                .show(ui, |ui| {
                    self.settings_panel
                        .show(ui, &self.state, &self.worker, &mut cmds);
                });
        }
        if self.state.panels.metrics {
            egui::Panel::right("metrics_panel")
                .resizable(true)
                .default_size(320.0)
                .size_range(260.0..=520.0)
                .frame(panels::side_frame())
                .show(ui, |ui| {
                    panels::metrics::show(ui, &self.state, &self.worker);
                });
        }
        // A study cell has no images of its own: the space goes to the 3D view.
        if self.state.panels.images
            && self.state.primary.loaded.is_some()
            && self.state.study.is_none()
        {
            egui::Panel::right("images_panel")
                .resizable(true)
                .default_size(210.0)
                .size_range(180.0..=360.0)
                .frame(panels::side_frame())
                .show(ui, |ui| {
                    panels::disagreeing::show(ui, &self.state, &mut cmds)
                });
        }
        let central = egui::CentralPanel::no_frame().show(ui, |ui| self.views(ui, &mut cmds));
        // Messages float over the bottom of the 3D view, so the layout never jumps.
        if !self.state.banners.is_empty() {
            let r = central.response.rect;
            let width = (r.width() - 40.0).clamp(200.0, 760.0);
            egui::Area::new(egui::Id::unique("banners"))
                .order(egui::Order::Foreground)
                .anchor(
                    egui::Align2::CENTER_BOTTOM,
                    egui::vec2(
                        r.center().x - ctx.content_rect().center().x,
                        r.bottom() - ctx.content_rect().bottom() - 36.0,
                    ),
                )
                .show(&ctx, |ui| {
                    ui.set_width(width);
                    panels::banners::show(ui, &self.state.banners, &mut cmds);
                });
        }

        if self.state.panels.export {
            let mut open = true;
            self.export_panel
                .show(&ctx, &mut open, &self.state, &self.worker, &mut cmds);
            if !open {
                cmds.push(AppCommand::TogglePanel(Panel::Export));
            }
        }

        let changed = !cmds.is_empty();
        self.apply_all(cmds);

        if let Some(bench) = &mut self.bench {
            let drawn = render_glue::lock(&self.gl).frames_drawn;
            if let Some(l) = &self.state.primary.loaded {
                let aligned = l.phase != Phase::Aligning;
                bench.shown(frame_start, aligned);
                if aligned {
                    bench.note_fit(l.output.metrics.fit_seconds);
                }
            }
            // Frames are timed with everything computed, as a user scrubbing later sees them.
            let ready = self
                .state
                .primary
                .loaded
                .as_ref()
                .is_some_and(|l| l.phase == Phase::Done);
            if ready && !self.state.playback.playing() {
                self.state.playback.apply(PlaybackCommand::Play);
            }
            let ui_ms = frame_start.elapsed().as_secs_f64() * 1000.0;
            if bench.frame(ready, drawn, frame_start, ui_ms) {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            // Until the data are on screen the bench waits like a user would: spinning frames
            // here would take a core from the fit (llvmpipe paints on the CPU).
            if ready {
                ctx.request_repaint();
            }
        }
        if changed || self.state.playback.needs_repaint() {
            ctx.request_repaint();
        } else if self.worker.busy() {
            // Progress messages repaint as they come; this only keeps spinners alive.
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        } else if self
            .state
            .banners
            .iter()
            .any(|b| b.kind == BannerKind::Info)
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(500));
        }
    }

    /// The 3D view, or two side by side when a comparison is open.
    fn views(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        let rect = ui.available_rect_before_wrap();
        let slots: Vec<SlotId> = self.state.slots().into_iter().map(|(id, _)| id).collect();
        let n = slots.len().max(1) as f32;
        let gap = if slots.len() > 1 { 2.0 } else { 0.0 };
        let w = (rect.width() - gap * (n - 1.0)) / n;
        self.view_rects.clear();
        render_glue::lock(&self.gl).set_live(&slots);
        for (i, id) in slots.into_iter().enumerate() {
            let r = egui::Rect::from_min_size(
                rect.min + egui::vec2(i as f32 * (w + gap), 0.0),
                egui::vec2(w, rect.height()),
            );
            self.view_rects.push((id, r));
            let mut job = self.worker.job(&JobKind::Fit(id));
            if job.is_none() && id == SlotId::Primary && self.state.primary.loaded.is_none() {
                // The first cells of a study are on their way.
                job = self.worker.job(&JobKind::Study);
            }
            view3d::show(ui, r, &self.state, id, &self.gl, job, cmds);
        }
        if let Some((_, r)) = self.view_rects.first() {
            let ppp = ui.ctx().pixels_per_point();
            self.view_size_px = [(r.width() * ppp) as u32, (r.height() * ppp) as u32];
        }
        ui.allocate_rect(rect, egui::Sense::hover());
        panels::drop_hint(ui, rect);
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
