//! Alignment: probabilistic and deterministic SRM (BrainIAK-faithful), Procrustes and the
//! hyperalignment template, and their initialisation.

use ndarray::{Array1, Array2};

#[derive(Debug, thiserror::Error)]
pub enum AlignError {
    #[error("{0}")]
    Invalid(String),
    #[error("linear algebra failed: {0}")]
    Linalg(String),
    #[error("cancelled")]
    Cancelled,
}

/// A fitted alignment: per-network maps into a k-dimensional shared space.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub networks: Vec<String>,
    /// W_i, units_i × k, orthonormal columns.
    pub w: Vec<Array2<f64>>,
    /// Training unit means μ_i.
    pub mu: Vec<Array1<f64>>,
    /// Shared response, k × n_train (BrainIAK orientation).
    pub s: Array2<f64>,
    /// Probabilistic SRM only.
    pub rho2: Option<Array1<f64>>,
    pub sigma_s: Option<Array2<f64>>,
    /// Per-iteration objective or log-likelihood.
    pub objective: Vec<f64>,
    /// JSON of every setting used, so a fit can be reproduced.
    pub params: String,
}

pub mod init;
pub mod srm;
