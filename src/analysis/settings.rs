//! Every pipeline option, with the paper's defaults (../shared/docs/paper.md).

use serde::{Deserialize, Serialize};

pub use crate::align::{Algo, Center, Init, Precision};

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
    /// Precision of the fit's products with the data. Left out of the JSON when float64, so
    /// the settings of earlier files and caches read and key the same.
    #[serde(skip_serializing_if = "is_f64")]
    pub precision: Precision,
}

fn is_f64(p: &Precision) -> bool {
    *p == Precision::F64
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
            precision: Precision::F64,
        }
    }
}

/// Most iterations a fit may run: enough for any convergence, few enough to stay cancellable and
/// to keep the per-iteration objective small.
pub const MAX_ITERS: usize = 100_000;
/// Largest k, moving-average window or unit cap accepted before anything is allocated.
pub const MAX_COUNT: usize = 1 << 24;

impl Settings {
    /// Refuses values that cannot give a meaningful fit, before any data is loaded.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_ITERS).contains(&self.n_iter) {
            return Err(format!(
                "--iters must be between 1 and {MAX_ITERS}, got {}",
                self.n_iter
            ));
        }
        if let Some(t) = self.tol {
            if !t.is_finite() || t < 0.0 {
                return Err(format!("--tol must be a finite number ≥ 0, got {t}"));
            }
        }
        if !self.test_fraction.is_finite() || !(0.0..1.0).contains(&self.test_fraction) {
            return Err(format!(
                "--test-fraction must be in [0, 1), got {}",
                self.test_fraction
            ));
        }
        match self.k {
            Some(0) => return Err("--k must be at least 1".into()),
            Some(k) if k > MAX_COUNT => {
                return Err(format!("--k must be at most {MAX_COUNT}, got {k}"))
            }
            _ => {}
        }
        match self.max_units {
            Some(1) => {
                return Err(
                    "--max-units 1 leaves one unit per network; alignment needs at least 2 \
                     (0 keeps all)"
                        .into(),
                )
            }
            Some(n) if n > MAX_COUNT => {
                return Err(format!(
                    "--max-units must be at most {MAX_COUNT} (0 keeps all), got {n}"
                ))
            }
            _ => {}
        }
        if self.smooth > MAX_COUNT {
            return Err(format!(
                "--smooth must be at most {MAX_COUNT}, got {}",
                self.smooth
            ));
        }
        if self.init == Init::Brainiak && self.seed > u64::from(u32::MAX) {
            return Err(format!(
                "--init brainiak needs a seed below 2^32 (numpy RandomState), got {}",
                self.seed
            ));
        }
        Ok(())
    }

    /// The settings a fitted model depends on: the rest (smoothing, bootstrap, k-NN) only
    /// change what is measured and drawn after the fit.
    pub fn fit_part(&self) -> Settings {
        let d = Settings::default();
        Settings {
            smooth: d.smooth,
            bootstrap: d.bootstrap,
            knn: d.knn,
            ..self.clone()
        }
    }

    /// Remarks about settings that are accepted but have no effect.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.algo == Algo::Procrustes
            && (self.n_iter != Settings::default().n_iter || self.tol.is_some())
        {
            notes.push(
                "Procrustes runs a fixed number of passes; --iters and --tol are ignored".into(),
            );
        }
        if self.algo == Algo::Procrustes && self.precision == Precision::F32 {
            notes.push("--precision f32 applies to SRM only; Procrustes ran in float64".into());
        }
        notes
    }
}
