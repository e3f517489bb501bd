//! The viewer's side of a study: opening it, playing a cell, and the runner's events.

use super::*;

impl ViewerApp {
    /// Open a study and fit its cells in the background with the current settings; cells fill
    /// the Study view as they finish and the first one plays in the 3D view.
    pub(super) fn open_study(&mut self, input: String) {
        let settings = self.state.settings.clone();
        let id = self.worker.study(input.clone(), settings);
        let generation = self.state.next_generation();
        self.state.study = Some(StudyState::opening(input, id, generation));
        self.study_panel.grid_hot = false;
    }

    /// True when `l` shows a cell of the open study (it has no dataset of its own to refit).
    pub(super) fn is_study_cell(&self, l: &Loaded) -> bool {
        self.state
            .study
            .as_ref()
            .is_some_and(|s| l.inputs.len() == 1 && l.inputs[0] == s.input)
    }

    /// Play a study cell's trajectories in the primary view, keeping the before/after state,
    /// the camera and the time position (clamped to the new number of frames).
    pub(super) fn select_study_cell(&mut self, index: usize) {
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

    pub(super) fn study_event(&mut self, job: &Job, ev: StudyEvent) {
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
                        crate::app::worker::duration_text(seconds)
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
}
