//! normalise → unit subsample → split → fit → transform → smooth → joint PCA.

use super::{AnalysisError, Metrics, SceneData, Settings};
use crate::align::Model;
use crate::data::Dataset;
use crate::progress::Progress;

/// Everything one run of the pipeline produces.
#[derive(Clone, Debug)]
pub struct PipelineOutput {
    pub model: Model,
    pub metrics: Metrics,
    pub scene: SceneData,
    /// Original indices of the train and (class-sorted) test images.
    pub train_idx: Vec<usize>,
    pub test_idx: Vec<usize>,
}

pub fn run(
    _dataset: &Dataset,
    _settings: &Settings,
    _progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    Err(AnalysisError::Invalid("pipeline not implemented yet".into()))
}
