//! What the steps of the pipeline share: a run's inputs, progress between steps,
//! cancellation and views.

use crate::analysis::{AnalysisError, ValidSettings};
use crate::data::Dataset;
use crate::progress::{Progress, Stage};
use ndarray::{Array2, ArrayView2};

/// What every step of one run reads: the dataset, the checked settings and the progress.
pub(super) struct Run<'a> {
    pub ds: &'a Dataset,
    pub s: &'a ValidSettings,
    pub progress: &'a Progress<'a>,
}

/// Reports the next step after handing the previous step's freed memory back, so that it
/// does not add to this step's peak.
pub(super) fn next_step(progress: &Progress, stage: Stage, fraction: f32) {
    crate::memory::release_free();
    progress.stage(stage, fraction);
}

/// Stops the run between steps once the user has cancelled it.
pub(super) fn check_cancel(progress: &Progress) -> Result<(), AnalysisError> {
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    Ok(())
}

pub(super) fn views(xs: &[Array2<f64>]) -> Vec<ArrayView2<'_, f64>> {
    xs.iter().map(|x| x.view()).collect()
}
