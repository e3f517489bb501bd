//! What the worker's jobs are and what they hand back: the kinds, the running [`Job`] with its
//! progress, and the results.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use super::dialogs::{DialogPurpose, PickOutcome};
use super::messages::study_status;
use crate::analysis::study::runner::StudyProgress;
use crate::analysis::study::{CellResult, CellView};
use crate::analysis::{PipelineOutput, Settings};
use crate::app::slot::SlotId;
use crate::data::study::CellSpec;
use crate::data::Dataset;
use crate::progress::ProgressEvent;

/// A successful load + fit.
#[derive(Debug)]
pub struct Fitted {
    pub inputs: Vec<String>,
    pub dataset: Arc<Dataset>,
    pub output: Arc<PipelineOutput>,
    pub settings: Settings,
    pub seconds: f64,
    /// Partial outputs are sent ahead while the job runs; its final result has everything.
    pub phase: Phase,
}

/// How far a fit on screen has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Native trajectories only (in both views): the fit is running.
    Aligning,
    /// Both views; the measures are being computed.
    Measuring,
    /// Trajectories and measures.
    Done,
}

/// What a finished job hands back.
#[derive(Debug)]
pub enum JobResult {
    Fitted(SlotId, Result<Box<Fitted>, String>),
    Picked(DialogPurpose, PickOutcome),
    /// A success message (what was written) or the error.
    Wrote(Result<String, String>),
    ModelLoaded(Result<Box<crate::app::model_files::ModelSummary>, String>),
    /// News from a running study (sent while it runs) and its end.
    Study(StudyEvent),
}

/// What a study job reports, in order: the manifest, each cell as it finishes, the end.
#[derive(Debug)]
pub enum StudyEvent {
    Opened(Box<StudyOpened>),
    Cell {
        result: Box<CellResult>,
        /// `None` when a cached cell's view could not be read back.
        view: Option<Arc<CellView>>,
    },
    /// The whole study is done (cells, seconds) or failed.
    Done(Result<(usize, f64), String>),
}

/// A study's manifest, as the Study view needs it.
#[derive(Debug)]
pub struct StudyOpened {
    pub input: String,
    pub name: String,
    pub cells: Vec<CellSpec>,
    pub class_names: Option<Vec<String>>,
    /// Where finished cells are kept, or why there is no cache.
    pub cache: Result<PathBuf, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobKind {
    Fit(SlotId),
    Export,
    Screenshot,
    Dialog,
    SaveModel,
    LoadModel,
    Study,
}

/// A job the UI still waits for.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    /// Shown next to the progress bar.
    pub title: String,
    pub started: Instant,
    pub progress: Option<ProgressEvent>,
    /// Objective after each fit iteration so far (live convergence curve).
    pub objective: Vec<f64>,
    /// A study's cells done, running and ETA.
    pub study: Option<StudyProgress>,
    pub(super) cancel: Arc<AtomicBool>,
}

impl Job {
    /// A one-line status: stage, iteration and objective.
    pub fn status(&self) -> String {
        if let Some(p) = &self.study {
            return format!("{}: {}", self.title, study_status(p));
        }
        let Some(p) = &self.progress else {
            return format!("{}: starting…", self.title);
        };
        let mut s = format!("{}: {}", self.title, p.stage.label());
        if let Some((i, n)) = p.iteration {
            s.push_str(&format!(" — iteration {i}/{n}"));
        }
        if let Some(o) = p.objective {
            s.push_str(&format!(", objective {o:.6}"));
        }
        s
    }

    /// The stage alone, short enough for a progress bar: `fitting 6/10`, `PCA`, `starting`.
    pub fn stage_text(&self) -> String {
        if let Some(p) = &self.study {
            return format!("cells {}/{}", p.done, p.total);
        }
        match &self.progress {
            None => "starting".into(),
            Some(p) => match p.iteration {
                Some((i, n)) => format!("{} {i}/{n}", p.stage.label()),
                None => p.stage.label().to_string(),
            },
        }
    }

    pub fn fraction(&self) -> f32 {
        if let Some(p) = &self.study {
            return if p.total == 0 {
                0.0
            } else {
                p.done as f32 / p.total as f32
            };
        }
        self.progress
            .as_ref()
            .map_or(0.0, |p| p.fraction.clamp(0.0, 1.0))
    }

    pub fn cancellable(&self) -> bool {
        self.kind != JobKind::Dialog
    }
}
