//! The jobs the viewer starts: fit, apply a model, run a study, export, screenshot, file
//! dialogs and model files. Each one is a [`Worker`] method that hands its work to `spawn`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::dialogs::show_dialog;
use super::messages::{export_message, file_name, short_inputs};
use super::study_job::run_study_job;
use super::{
    pick_outcome, DialogPurpose, ExtraFiles, Fitted, JobKind, JobResult, Phase, PickOutcome,
    SlotId, StudyEvent, Worker,
};
use crate::analysis::pipeline::Partial;
use crate::analysis::{SceneData, Settings};
use crate::data::Dataset;
use crate::progress::{Progress, Stage};
use crate::render::{ExportOptions, FrameState};

impl Worker {
    /// Load `inputs` (unless `dataset` is given, to refit what is already loaded) and run the
    /// pipeline. A newer fit for the same slot replaces an older one.
    pub fn fit(
        &mut self,
        slot: SlotId,
        inputs: Vec<String>,
        dataset: Option<Arc<Dataset>>,
        settings: Settings,
    ) -> u64 {
        self.cancel_kind(&JobKind::Fit(slot));
        let extra = self.extra_files.clone().filter(|e| e.inputs == inputs);
        let title = match &dataset {
            Some(d) => format!("Fitting {}", d.name),
            None => format!("Loading {}", short_inputs(&inputs)),
        };
        self.spawn_live(
            JobKind::Fit(slot),
            title,
            move |msg| JobResult::Fitted(slot, Err(format!("internal error: {msg}"))),
            move |progress, live| {
                let preview = |f: Fitted| live.send(JobResult::Fitted(slot, Ok(Box::new(f))));
                JobResult::Fitted(
                    slot,
                    load_and_fit(inputs, dataset, settings, extra, progress, &preview)
                        .map(Box::new),
                )
            },
        )
    }

    /// Show a native file dialog on a worker thread (rfd over the xdg portal). Never call this
    /// from tests: with zenity installed and no display it blocks forever.
    pub fn dialog(&mut self, purpose: DialogPurpose) -> u64 {
        self.spawn(
            JobKind::Dialog,
            "Waiting for the file dialog".into(),
            move |_| JobResult::Picked(purpose, PickOutcome::NoPortal),
            move |_| {
                let start = Instant::now();
                let paths = show_dialog(purpose);
                JobResult::Picked(purpose, pick_outcome(paths, start.elapsed()))
            },
        )
    }

    /// Render an animation to `path` with the offscreen renderer.
    pub fn export(&mut self, scene: Arc<SceneData>, options: ExportOptions, path: PathBuf) -> u64 {
        self.cancel_kind(&JobKind::Export);
        let title = format!("Exporting {}", file_name(&path));
        self.spawn(
            JobKind::Export,
            title,
            |msg| JobResult::Wrote(Err(format!("export failed: {msg}"))),
            move |progress| {
                JobResult::Wrote(
                    crate::render::export(&scene, &options, &path, progress)
                        .map(|s| export_message(&s, &path))
                        .map_err(|e| e.to_string()),
                )
            },
        )
    }

    /// Write one PNG of `frame` (the current camera, head and morph) at `size` pixels.
    pub fn screenshot(
        &mut self,
        scene: Arc<SceneData>,
        names: Vec<String>,
        frame: FrameState,
        size: [u32; 2],
        path: PathBuf,
    ) -> u64 {
        let title = format!("Saving {}", file_name(&path));
        self.spawn(
            JobKind::Screenshot,
            title,
            |msg| JobResult::Wrote(Err(format!("screenshot failed: {msg}"))),
            move |_| {
                JobResult::Wrote(
                    crate::app::render_glue::screenshot(&scene, &names, &frame, size, &path)
                        .map(|()| format!("Saved {}", path.display())),
                )
            },
        )
    }

    /// Run a short file job (saving a model) off the UI thread.
    pub fn write_file(
        &mut self,
        title: String,
        work: impl FnOnce() -> Result<String, String> + Send + 'static,
    ) -> u64 {
        self.spawn(
            JobKind::SaveModel,
            title,
            |msg| JobResult::Wrote(Err(format!("internal error: {msg}"))),
            move |_| JobResult::Wrote(work()),
        )
    }

    /// Apply a loaded model to the dataset in `slot` (no fitting), delivered like a fit.
    pub fn apply_model(
        &mut self,
        slot: SlotId,
        inputs: Vec<String>,
        dataset: Arc<Dataset>,
        settings: Settings,
        model: Arc<crate::align::Model>,
    ) -> u64 {
        self.cancel_kind(&JobKind::Fit(slot));
        let title = format!("Applying the model to {}", dataset.name);
        self.spawn(
            JobKind::Fit(slot),
            title,
            move |msg| JobResult::Fitted(slot, Err(format!("internal error: {msg}"))),
            move |progress| {
                let start = Instant::now();
                // A model names stored units: read every unit when only some were loaded.
                let dataset = match crate::analysis::model_file::require_all_units(&dataset) {
                    Ok(()) => dataset,
                    Err(_) => match crate::data::load(&inputs, None) {
                        Ok(mut full) => {
                            full.images = dataset.images.clone();
                            full.class_names = dataset.class_names.clone();
                            Arc::new(full)
                        }
                        Err(e) => return JobResult::Fitted(slot, Err(e.to_string())),
                    },
                };
                let result = crate::analysis::pipeline::apply_model(
                    &dataset,
                    &settings,
                    (*model).clone(),
                    progress,
                )
                .map_err(|e| e.to_string())
                .map(|output| {
                    Box::new(Fitted {
                        inputs,
                        dataset,
                        output: Arc::new(output),
                        settings,
                        seconds: start.elapsed().as_secs_f64(),
                        phase: Phase::Done,
                    })
                });
                JobResult::Fitted(slot, result)
            },
        )
    }

    /// Open a study and fit all its cells with `settings`, sending each cell as it finishes.
    /// Finished cells are kept in the default cache (none when it cannot be opened). A newer
    /// study replaces a running one.
    pub fn study(&mut self, input: String, settings: Settings) -> u64 {
        self.cancel_kind(&JobKind::Study);
        let title = format!("Study {}", short_inputs(std::slice::from_ref(&input)));
        self.spawn_live(
            JobKind::Study,
            title,
            |msg| JobResult::Study(StudyEvent::Done(Err(format!("internal error: {msg}")))),
            move |progress, live| {
                JobResult::Study(StudyEvent::Done(run_study_job(
                    &input, &settings, progress, live,
                )))
            },
        )
    }

    /// Read a model file off the UI thread.
    pub fn load_model(&mut self, path: PathBuf) -> u64 {
        let title = format!("Reading {}", file_name(&path));
        self.spawn(
            JobKind::LoadModel,
            title,
            |msg| JobResult::ModelLoaded(Err(format!("internal error: {msg}"))),
            move |_| JobResult::ModelLoaded(crate::app::model_files::load(&path).map(Box::new)),
        )
    }
}

fn load_and_fit(
    inputs: Vec<String>,
    dataset: Option<Arc<Dataset>>,
    settings: Settings,
    extra: Option<ExtraFiles>,
    progress: &Progress,
    preview: &dyn Fn(Fitted),
) -> Result<Fitted, String> {
    let start = Instant::now();
    let dataset = match dataset {
        Some(d) => d,
        None => {
            progress.stage(Stage::Load, 0.0);
            // Only the units this fit uses are read into memory; a refit with other unit
            // settings reads the files again (see `has_units_for`).
            let opts = crate::data::LoadOptions {
                keep_units: Some(crate::analysis::pipeline::keep_units_for(&settings)),
                ..Default::default()
            };
            let mut d = crate::data::load_with(&inputs, None, &opts).map_err(|e| e.to_string())?;
            if let Some(x) = extra {
                crate::data::attach(&mut d, x.images.as_deref(), x.class_names.as_deref());
            }
            progress.stage(Stage::Load, 1.0);
            Arc::new(d)
        }
    };
    if progress.cancelled() {
        return Err("cancelled".into());
    }
    let mut show = |part: Partial, output: crate::analysis::PipelineOutput| {
        preview(Fitted {
            inputs: inputs.clone(),
            dataset: dataset.clone(),
            output: Arc::new(output),
            settings: settings.clone(),
            seconds: start.elapsed().as_secs_f64(),
            phase: match part {
                Partial::Native => Phase::Aligning,
                Partial::Aligned => Phase::Measuring,
            },
        })
    };
    let output = crate::analysis::pipeline::run_preview(&dataset, &settings, progress, &mut show)
        .map_err(|e| e.to_string())?;
    Ok(Fitted {
        inputs,
        dataset,
        output: Arc::new(output),
        settings,
        seconds: start.elapsed().as_secs_f64(),
        phase: Phase::Done,
    })
}
