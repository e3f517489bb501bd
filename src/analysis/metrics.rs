//! Before/after alignment metrics, as defined in ../shared/docs/paper.md.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainTest {
    pub train: Vec<f64>,
    pub test: Vec<f64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NativeShared {
    /// `None` when native space has no meaning across networks (differing unit counts).
    pub native: Option<f64>,
    pub shared: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BeforeAfter {
    pub before: [f64; 3],
    pub after: [f64; 3],
}

/// The METRICS.json schema.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Per-iteration objective: log-likelihood (prob), or the objective (det, procrustes).
    pub objective: Vec<f64>,
    pub variance_explained: TrainTest,
    pub isc: NativeShared,
    pub rsa: NativeShared,
    /// Pairwise Procrustes variance explained on held-out images, row-major m × m.
    pub procrustes_ve: Vec<Vec<f64>>,
    pub pca_explained_variance: BeforeAfter,
    pub fit_seconds: f64,
}
