//! Subcommands of the binary. Each file holds one command's arguments and its `run`.

pub mod bench;
pub mod bench_paper;
pub mod demo;
pub mod export;
pub mod fit;
pub mod info;
pub mod transform;
pub mod view;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use srmscope::analysis::{Algo, Center, Init, Normalize, Settings};
use srmscope::data::Dataset;
use srmscope::progress::{ProgressEvent, Stage};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, ValueEnum)]
pub enum AlgoArg {
    Prob,
    Det,
    Procrustes,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum InitArg {
    Brainiak,
    Random,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CenterArg {
    On,
    Brainiak,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum NormalizeArg {
    None,
    Unit,
    Row,
}

/// Every pipeline option; defaults follow the paper.
#[derive(Args, Clone)]
pub struct FitArgs {
    /// Shared features k (default: the smallest unit count, a pure rotation as in the paper).
    #[arg(long)]
    pub k: Option<usize>,
    #[arg(long, value_enum, default_value = "prob")]
    pub algo: AlgoArg,
    /// Iterations (BrainIAK's default is 10).
    #[arg(long, default_value_t = 10)]
    pub iters: usize,
    /// Stop early when the objective's relative change falls below T (off: BrainIAK parity).
    #[arg(long)]
    pub tol: Option<f64>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "brainiak")]
    pub init: InitArg,
    /// on: subtract training unit means everywhere (fixes BrainIAK #406); brainiak: reproduce it.
    #[arg(long, value_enum, default_value = "on")]
    pub center: CenterArg,
    /// row: z-score each image across units (the paper); unit: each unit over images.
    #[arg(long, value_enum, default_value = "row")]
    pub normalize: NormalizeArg,
    /// Keep at most N units per network, drawn with the seed (0 keeps all).
    #[arg(long, default_value_t = 1000)]
    pub max_units: usize,
    /// Held-out fraction, stratified by label; 0 fits and shows every image.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Integer class labels per image (.npy); otherwise `labels` in the npz or labels.npy beside.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Bootstrap resamples of the held-out images for the metrics' 95 % intervals (0 = off,
    /// and with it the chance levels and leave-one-network-out ranges).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Neighbours per image for the mutual k-NN measure.
    #[arg(long, default_value_t = 10)]
    pub knn: usize,
    /// Input images (.npy, one per row); otherwise `images` in the npz or images.npy beside.
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Class names (.txt, one a line); otherwise `class_names` in the npz or class_names.txt beside.
    #[arg(long)]
    pub class_names: Option<PathBuf>,
}

impl FitArgs {
    pub fn settings(&self, smooth: usize) -> Settings {
        Settings {
            algo: match self.algo {
                AlgoArg::Prob => Algo::Prob,
                AlgoArg::Det => Algo::Det,
                AlgoArg::Procrustes => Algo::Procrustes,
            },
            k: self.k,
            n_iter: self.iters,
            tol: self.tol,
            seed: self.seed,
            init: match self.init {
                InitArg::Brainiak => Init::Brainiak,
                InitArg::Random => Init::Random,
            },
            center: match self.center {
                CenterArg::On => Center::On,
                CenterArg::Brainiak => Center::Brainiak,
            },
            normalize: match self.normalize {
                NormalizeArg::None => Normalize::None,
                NormalizeArg::Unit => Normalize::Unit,
                NormalizeArg::Row => Normalize::Row,
            },
            max_units: (self.max_units > 0).then_some(self.max_units),
            test_fraction: self.test_fraction,
            smooth,
            bootstrap: self.bootstrap,
            knn: self.knn,
        }
    }
}

/// [`load`] with the fit options' labels, images and class names.
pub fn load_fit(files: &[String], fit: &FitArgs) -> Result<Dataset> {
    let mut ds = srmscope::data::load(files, fit.labels.as_deref())?;
    srmscope::data::attach(&mut ds, fit.images.as_deref(), fit.class_names.as_deref());
    for note in &ds.notes {
        eprintln!("note: {note}");
    }
    Ok(ds)
}

pub fn load(files: &[String], labels: Option<&Path>) -> Result<Dataset> {
    let ds = srmscope::data::load(files, labels)?;
    for note in &ds.notes {
        eprintln!("note: {note}");
    }
    Ok(ds)
}

/// A stderr progress bar fed by pipeline events.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Self {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:32} [{bar:30}] {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self { bar }
    }

    pub fn report(&self, e: ProgressEvent) {
        let msg = match (e.stage, e.iteration, e.objective) {
            (Stage::Fit, Some((i, n)), Some(obj)) => format!("fit {i}/{n}  objective {obj:.6e}"),
            (stage, _, _) => stage.label().to_string(),
        };
        self.bar.set_message(msg);
        self.bar
            .set_position((e.fraction.clamp(0.0, 1.0) * 1000.0) as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Writes `text` to `path` atomically (temp file in the same folder, then rename).
pub fn write_text_atomic(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write to folder {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.flush())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
