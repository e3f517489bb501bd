//! From a dataset to numbers and scene-ready trajectories: preprocessing, split, PCA, smoothing,
//! metrics and the pipeline that strings them together.

pub mod metrics;
pub mod model_file;
pub mod pca;
pub mod pipeline;
pub mod preprocess;
pub mod scene;
pub mod settings;
pub mod similarity;
pub mod sklearn_split;
pub mod study;
pub mod uncertainty;

pub use metrics::Metrics;
pub use pipeline::{run, PipelineOutput};
pub use scene::{SceneData, Trajectory};
pub use settings::{
    Algo, Center, Init, Normalize, Precision, Preset, Settings, SettingsGuard, SplitMethod,
    ValidSettings, MAX_COUNT, MAX_ITERS,
};

/// Errors of the analysis layer. Messages are shown to users as they are.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Align(#[from] crate::align::AlignError),
    #[error(transparent)]
    Model(#[from] crate::align::model_io::ModelIoError),
    #[error("cancelled")]
    Cancelled,
}
