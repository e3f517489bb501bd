//! Every pipeline option, with the paper's defaults (../shared/docs/paper.md).

use serde::{Deserialize, Serialize};

pub use crate::align::{Algo, Center, Init};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    None,
    /// z-score each unit over images.
    Unit,
    /// z-score each image across units (the paper's choice).
    #[default]
    Row,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub algo: Algo,
    /// Shared features. `None` = the smallest unit count (a pure rotation, as in the paper).
    pub k: Option<usize>,
    pub n_iter: usize,
    /// Relative change of the objective below which the fit stops early. `None` = BrainIAK parity.
    pub tol: Option<f64>,
    pub seed: u64,
    pub init: Init,
    pub center: Center,
    pub normalize: Normalize,
    /// Keep at most this many units per network (seeded draw). The paper used 1000.
    pub max_units: Option<usize>,
    /// Held-out fraction (stratified by label). 0 fits and shows every image.
    pub test_fraction: f64,
    /// Moving-average window over images for the trajectories ('valid' mode).
    pub smooth: usize,
    /// Bootstrap resamples of the held-out images for the metrics' 95 % intervals (0 = off, and
    /// with it the chance levels and leave-one-network-out ranges).
    pub bootstrap: usize,
    /// Neighbours per image for the mutual k-NN measure.
    pub knn: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            algo: Algo::Prob,
            k: None,
            n_iter: 10,
            tol: None,
            seed: 0,
            init: Init::Brainiak,
            center: Center::On,
            normalize: Normalize::Row,
            max_units: Some(1000),
            test_fraction: 0.2,
            smooth: 10,
            bootstrap: 1000,
            knn: 10,
        }
    }
}
