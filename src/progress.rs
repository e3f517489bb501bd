//! Progress reporting and cancellation shared by every long-running job (fit, PCA, export).

use std::sync::atomic::{AtomicBool, Ordering};

/// One progress event. `fraction` is in 0..=1 for the current stage.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressEvent {
    pub stage: Stage,
    pub fraction: f32,
    /// Iteration number (1-based) and the objective after it, when the stage is a fit.
    pub iteration: Option<(usize, usize)>,
    pub objective: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Load,
    Preprocess,
    Fit,
    Metrics,
    Pca,
    Export,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Load => "loading",
            Stage::Preprocess => "preprocessing",
            Stage::Fit => "fitting",
            Stage::Metrics => "measuring",
            Stage::Pca => "PCA",
            Stage::Export => "exporting",
        }
    }
}

/// What a long job gets: a callback for progress and a flag it polls to stop early.
pub struct Progress<'a> {
    pub report: &'a (dyn Fn(ProgressEvent) + Sync),
    pub cancel: &'a AtomicBool,
}

impl<'a> Progress<'a> {
    pub fn new(report: &'a (dyn Fn(ProgressEvent) + Sync), cancel: &'a AtomicBool) -> Self {
        Self { report, cancel }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn stage(&self, stage: Stage, fraction: f32) {
        (self.report)(ProgressEvent {
            stage,
            fraction,
            iteration: None,
            objective: None,
        });
    }

    pub fn iteration(&self, iter: usize, n_iter: usize, objective: Option<f64>) {
        (self.report)(ProgressEvent {
            stage: Stage::Fit,
            fraction: iter as f32 / n_iter.max(1) as f32,
            iteration: Some((iter, n_iter)),
            objective,
        });
    }
}

/// A progress sink that ignores events and is never cancelled (tests, simple callers).
pub fn silent<R>(f: impl FnOnce(&Progress) -> R) -> R {
    let cancel = AtomicBool::new(false);
    let report = |_e: ProgressEvent| {};
    f(&Progress::new(&report, &cancel))
}
