//! The viewer's work off the UI thread: opening and fitting, refits, cancelling, dialogs,
//! screenshots, model files, and what the worker hands back.

use super::*;

impl ViewerApp {
    pub(super) fn open(&mut self, slot: SlotId, inputs: Vec<String>) {
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

    pub(super) fn refit(&mut self, settings: crate::analysis::Settings) {
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

    pub(super) fn cancel(&mut self, id: u64) {
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

    pub(super) fn show_dialog(&mut self, purpose: DialogPurpose) {
        if self.dialogs_enabled {
            self.worker.dialog(purpose);
        } else {
            self.no_dialog_banner();
        }
    }

    pub(super) fn no_dialog_banner(&mut self) {
        self.state.banner(
            BannerKind::Warning,
            "No file dialog is available (no xdg-desktop-portal answered). Drag and drop .npy/.npz \
             files or a folder onto the window, or pass them on the command line: \
             srmscope view a.npy b.npy …",
        );
    }

    pub(super) fn screenshot(&mut self, path: PathBuf) {
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

    pub(super) fn save_model(&mut self, path: PathBuf) {
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
                crate::app::model_files::save(&output.model, &settings, &path)
                    .map(|()| format!("Saved model to {}", path.display()))
            });
    }

    pub(super) fn load_model(&mut self, path: PathBuf) {
        self.worker.load_model(path);
    }

    /// A model file was read: check it against the data on screen and refit with its settings,
    /// which reproduces its maps (the pipeline is deterministic).
    pub(super) fn model_loaded(&mut self, summary: crate::app::model_files::ModelSummary) {
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

    pub(super) fn handle(&mut self, job: Job, result: JobResult) {
        match result {
            JobResult::Fitted(slot, Ok(fitted)) => self.fitted(slot, *fitted),
            JobResult::Fitted(slot, Err(msg)) => {
                self.state.abandon_preview(slot);
                let s = self.state.slot_mut(slot);
                let what = s
                    .pending
                    .take()
                    .map(|i| crate::app::worker::short_inputs(&i));
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
    pub(super) fn fitted(&mut self, slot: SlotId, fitted: Fitted) {
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
    pub(super) fn fit_banner(&mut self, name: &str, phase: Phase, secs: f64) {
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

    pub(super) fn picked(&mut self, purpose: DialogPurpose, paths: Vec<PathBuf>) {
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

    /// Export… : an HTML page is written from the scene, measures and images on screen; GIFs
    /// and PNGs are rendered offscreen by the worker.
    pub(super) fn export(&mut self, options: crate::render::ExportOptions, path: PathBuf) {
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
        let mut options = Box::new(options);
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
}
