//! Every pipeline option. The defaults are srmscope's corrected pipeline; [`Settings::paper`]
//! is the authors' analysis (`--preset paper`, docs/paper_parity.md).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::ops::Deref;

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

/// How the images are split into train and held-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SplitMethod {
    /// srmscope's stratified draw (largest remainder per class); held-out images by class,
    /// then by index.
    #[default]
    Srmscope,
    /// scikit-learn's `train_test_split(test_size, random_state=seed, stratify=labels)` bit for
    /// bit (the paper's); training images in its order, held-out images by class, then in its
    /// order.
    Sklearn,
}

/// Named sets of settings (`--preset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The authors' analysis (Lu et al. 2018, `run_analyses.py`).
    Paper,
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
    /// The train/held-out split. Left out of the JSON when srmscope's, as `precision`.
    #[serde(skip_serializing_if = "is_srmscope_split")]
    pub split: SplitMethod,
}

fn is_f64(p: &Precision) -> bool {
    *p == Precision::F64
}

fn is_srmscope_split(s: &SplitMethod) -> bool {
    *s == SplitMethod::Srmscope
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
            split: SplitMethod::Srmscope,
        }
    }
}

impl Preset {
    pub fn settings(self) -> Settings {
        match self {
            Preset::Paper => Settings::paper(),
        }
    }
}

/// Most iterations a fit may run: enough for any convergence, few enough to stay cancellable and
/// to keep the per-iteration objective small.
pub const MAX_ITERS: usize = 100_000;
/// Largest k, moving-average window or unit cap accepted before anything is allocated.
pub const MAX_COUNT: usize = 1 << 24;

impl Settings {
    /// The authors' analysis: scikit-learn's stratified 80/20 split with `random_state=0`,
    /// each image z-scored across units, BrainIAK's SRM (k = units, 10 iterations, seed 0, its
    /// initialisation, its uncentred transform), RSMs of uncentred data. The unit subsample
    /// above 1000 units stays srmscope's seeded draw (the authors' was unseeded).
    pub fn paper() -> Settings {
        Settings {
            algo: Algo::Prob,
            k: None,
            n_iter: 10,
            tol: None,
            seed: 0,
            init: Init::Brainiak,
            center: Center::Brainiak,
            normalize: Normalize::Row,
            max_units: Some(1000),
            test_fraction: 0.2,
            smooth: 10,
            precision: Precision::F64,
            split: SplitMethod::Sklearn,
            ..Settings::default()
        }
    }

    /// Whether the settings that decide the numbers are the paper preset's (measurement-only
    /// options such as the bootstrap may differ).
    pub fn is_paper(&self) -> bool {
        let p = Settings::paper();
        Settings {
            smooth: p.smooth,
            bootstrap: p.bootstrap,
            knn: p.knn,
            ..self.clone()
        } == p
    }

    /// Refuses values that cannot give a meaningful fit, before any data is loaded; the
    /// settings that pass carry the proof in their type.
    pub fn check(self) -> Result<ValidSettings, String> {
        self.validate()?;
        Ok(ValidSettings(self))
    }

    fn validate(&self) -> Result<(), String> {
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
        if self.knn == 0 {
            return Err("--knn must be at least 1".into());
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
        if self.split == SplitMethod::Sklearn && self.seed > u64::from(u32::MAX) {
            return Err(format!(
                "--split sklearn needs a seed below 2^32 (numpy RandomState), got {}",
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

/// [`Settings`] that passed [`Settings::check`]: the pipeline and the study runner take these,
/// so the settings are checked once, where they come in. Read-only through `Deref`.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidSettings(Settings);

impl ValidSettings {
    pub fn into_inner(self) -> Settings {
        self.0
    }
}

impl Deref for ValidSettings {
    type Target = Settings;

    fn deref(&self) -> &Settings {
        &self.0
    }
}

/// Settings an entry point accepts (linfa's `ParamGuard`): checked ones as they are, plain ones
/// checked first, with [`Settings::check`]'s message.
pub trait SettingsGuard {
    fn checked(&self) -> Result<Cow<'_, ValidSettings>, String>;
}

impl SettingsGuard for Settings {
    fn checked(&self) -> Result<Cow<'_, ValidSettings>, String> {
        self.clone().check().map(Cow::Owned)
    }
}

impl SettingsGuard for ValidSettings {
    fn checked(&self) -> Result<Cow<'_, ValidSettings>, String> {
        Ok(Cow::Borrowed(self))
    }
}
