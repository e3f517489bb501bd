//! Alignment: probabilistic and deterministic SRM (BrainIAK-faithful), the Procrustes
//! hyperalignment template, their initialisation, and the fitted `Model`.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

mod direct;
mod em;
mod error;
pub mod gram;
pub mod init;
pub mod model_io;
pub mod procrustes;
pub mod srm;

/// Each unit's mean over images: the training means a model centres with.
pub use em::column_means;

use crate::progress::Progress;
use em::{FitOptions, TraceMode};
pub use error::{AlignError, Precision};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    /// Probabilistic SRM fitted by EM (BrainIAK `SRM`).
    #[default]
    Prob,
    /// Deterministic SRM (BrainIAK `DetSRM`).
    Det,
    /// Hyperalignment-style Procrustes template (HyperTools `align='hyper'`).
    Procrustes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// BrainIAK's MT19937 streams + Householder QR: reproduces its W_init bit for bit.
    #[default]
    Brainiak,
    /// A fast seeded Gaussian + QR.
    Random,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Center {
    /// Centre everything with the training unit means (fixes BrainIAK #406).
    #[default]
    On,
    /// Reproduce BrainIAK exactly: raw-norm trace in prob, DetSRM on raw data, no centring in
    /// transform.
    Brainiak,
}

impl Algo {
    pub fn label(self) -> &'static str {
        match self {
            Algo::Prob => "probabilistic SRM",
            Algo::Det => "deterministic SRM",
            Algo::Procrustes => "Procrustes (hyperalignment)",
        }
    }
}

/// What a fit needs to know, independent of preprocessing.
#[derive(Clone, Debug)]
pub struct AlignOptions {
    pub algo: Algo,
    pub k: usize,
    pub n_iter: usize,
    pub tol: Option<f64>,
    pub seed: u64,
    pub init: Init,
    pub center: Center,
    pub precision: Precision,
}

/// A fitted alignment: per-network maps into a k-dimensional shared space.
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// Per-iteration objective (det, procrustes) or log-likelihood (prob).
    pub objective: Vec<f64>,
    /// Whether `transform` subtracts the training means (false reproduces BrainIAK #406).
    pub center_transform: bool,
    /// JSON of every setting used, so a fit can be reproduced.
    pub params: String,
    /// Indices of the units each network kept after subsampling (None = all units).
    pub units_kept: Vec<Option<Vec<usize>>>,
    /// Training unit statistics per network, used by unit normalisation (None otherwise, and in
    /// model files written before they were stored).
    pub unit_norm: Vec<Option<UnitNorm>>,
    /// The images the model was fitted on and the held-out ones (None in files written before
    /// the split was stored).
    pub split: Option<ImageSplit>,
}

/// Image indices into the input: the training images in the order fitted, the held-out images
/// in display order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSplit {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// Per-unit mean and standard deviation over the training images (constant units have std 1).
#[derive(Clone, Debug, PartialEq)]
pub struct UnitNorm {
    pub mean: Array1<f64>,
    pub std: Array1<f64>,
}

impl Model {
    pub fn k(&self) -> usize {
        self.s.nrows()
    }

    /// Network i's samples (T × units_i) in the shared space (T × k).
    pub fn transform(&self, i: usize, x: ArrayView2<f64>) -> Result<Array2<f64>, AlignError> {
        let (Some(w), Some(mu)) = (self.w.get(i), self.mu.get(i)) else {
            return Err(AlignError::Invalid(format!("the model has no network {i}")));
        };
        if x.ncols() != w.nrows() {
            return Err(AlignError::Invalid(format!(
                "network {} has {} units but the model expects {}",
                self.networks.get(i).map_or("?", |s| s.as_str()),
                x.ncols(),
                w.nrows()
            )));
        }
        let mut y = crate::linalg::matmul(x, w.view());
        if self.center_transform {
            let shift = mu.dot(w);
            y -= &shift;
        }
        Ok(y)
    }
}

/// Fits the chosen algorithm on training data (samples × units per network).
pub fn fit(
    names: &[String],
    xs: &[ArrayView2<f64>],
    opts: &AlignOptions,
    params: String,
    progress: &Progress,
) -> Result<Model, AlignError> {
    let t = srm::validate(xs, opts.k)?;
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let w_init = || -> Result<Vec<Array2<f64>>, AlignError> {
        Ok(match opts.init {
            Init::Brainiak => {
                let seed = u32::try_from(opts.seed).map_err(|_| {
                    AlignError::Invalid(format!(
                        "--init brainiak needs a seed below 2^32 (numpy RandomState), got {}",
                        opts.seed
                    ))
                })?;
                init::brainiak_init(&units, opts.k, seed)
            }
            Init::Random => init::random_init(&units, opts.k, opts.seed),
        })
    };
    let fo = FitOptions {
        k: opts.k,
        n_iter: opts.n_iter,
        tol: opts.tol,
        route: srm::Route::Auto,
        precision: opts.precision,
    };
    let center = opts.center == Center::On;
    let mu: Vec<Array1<f64>> = xs.iter().map(srm::column_means).collect();
    let mut model = Model {
        networks: names.to_vec(),
        center_transform: center,
        params,
        ..Default::default()
    };
    match opts.algo {
        Algo::Prob => {
            let trace = if center {
                TraceMode::Centered
            } else {
                TraceMode::Raw
            };
            let f = srm::fit_prob_checked(xs, t, w_init()?, &fo, trace, progress)?;
            model.w = f.w;
            model.s = f.s;
            model.rho2 = Some(f.rho2);
            model.sigma_s = Some(f.sigma_s);
            model.objective = f.loglik;
        }
        Algo::Det => {
            let f = srm::fit_det_checked(xs, t, w_init()?, &fo, center, progress)?;
            model.w = f.w;
            model.s = f.s;
            model.objective = f.objective;
        }
        Algo::Procrustes => {
            let f = procrustes::fit_hyper(xs, opts.k, center, progress)?;
            model.w = f.w;
            model.s = f.s;
            model.objective = f.objective;
        }
    }
    model.mu = mu;
    Ok(model)
}
