//! Subcommands of the binary. Each file holds one command's arguments and its `run`.

pub mod bench;
pub mod bench_common;
pub mod bench_floor;
pub mod bench_paper;
pub mod bench_peers;
pub mod bench_study;
pub mod demo;
pub mod export;
pub mod fit;
pub mod info;
pub mod study;
pub mod transform;
pub mod view;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use srmscope::analysis::{Algo, Center, Init, Normalize, Precision, Preset, Settings, SplitMethod};
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

#[derive(Clone, Copy, ValueEnum)]
pub enum PresetArg {
    Paper,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SplitArg {
    Srmscope,
    Sklearn,
}

/// Every pipeline option; the defaults are srmscope's corrected pipeline, `--preset paper` the
/// authors' analysis.
#[derive(Args, Clone)]
pub struct FitArgs {
    /// paper: the authors' analysis exactly (scikit-learn's split, BrainIAK's SRM and
    /// transform, uncentred RSMs; docs/paper_parity.md). The fit options it sets are refused
    /// beside it; --labels, --images, --class-names, --bootstrap, --knn and --smooth stay free.
    #[arg(
        long,
        value_enum,
        conflicts_with_all = [
            "k", "algo", "iters", "tol", "seed", "init", "center", "normalize", "max_units",
            "test_fraction", "precision", "split",
        ]
    )]
    pub preset: Option<PresetArg>,
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
    /// on: subtract training unit means everywhere (fixes BrainIAK #406); brainiak: reproduce it
    /// (no centring in transform, RSMs of uncentred data, as the paper).
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
    /// srmscope: its own stratified draw; sklearn: scikit-learn's train_test_split(test_size,
    /// random_state=seed, stratify=labels), bit for bit (the paper's).
    #[arg(long, value_enum, default_value = "srmscope")]
    pub split: SplitArg,
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
    /// Precision of the SRM products with the data (sums stay float64): f64 is BrainIAK parity.
    /// f32 keeps a float32 copy of the training data (half its float64 size in memory); on an
    /// AMD EPYC (Zen 2, AVX2, 2 cores) it took 0.67–0.71× the f64 time on `srmscope bench` and
    /// 0.71× the f64 fit on paper workload B (47.9 s against 67.9 s; the polar factors stay
    /// f64). The Gram route (more images than units, e.g. workload A) runs in f64 either way.
    /// ISC/RSA move by ≤ 1e-9.
    #[arg(long, value_enum, default_value = "f64")]
    pub precision: PrecisionArg,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PrecisionArg {
    F64,
    F32,
}

impl FitArgs {
    pub fn settings(&self, smooth: usize) -> Settings {
        if let Some(PresetArg::Paper) = self.preset {
            return Settings {
                smooth,
                bootstrap: self.bootstrap,
                knn: self.knn,
                ..Preset::Paper.settings()
            };
        }
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
            precision: match self.precision {
                PrecisionArg::F64 => Precision::F64,
                PrecisionArg::F32 => Precision::F32,
            },
            split: match self.split {
                SplitArg::Srmscope => SplitMethod::Srmscope,
                SplitArg::Sklearn => SplitMethod::Sklearn,
            },
        }
    }
}

/// [`load`] with the fit options' labels, images and class names, reading only the units a fit
/// with `settings` uses (`--max-units`).
pub fn load_fit(files: &[String], fit: &FitArgs, settings: &Settings) -> Result<Dataset> {
    let keep = srmscope::analysis::pipeline::keep_units_for(settings);
    let mut ds = load_with_units(files, fit.labels.as_deref(), Some(keep))?;
    srmscope::data::attach(&mut ds, fit.images.as_deref(), fit.class_names.as_deref());
    for note in &ds.notes {
        eprintln!("note: {note}");
    }
    Ok(ds)
}

/// `--max-memory` of this run (bytes), set once by `main` before any command runs.
pub static MAX_MEMORY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Parses `--max-memory`: bytes, or a number with K, M, G or T (powers of 1024), e.g. `2G`.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let t = s.trim().trim_end_matches(['B', 'b']);
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("'{s}': use a size such as 512M or 4G")),
            };
            (&t[..i], (1u64 << shift) as f64)
        }
        _ => (t, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}': use a size such as 512M or 4G"))?;
    let bytes = v * mult;
    if bytes.is_finite() && bytes > u64::MAX as f64 {
        return Err(format!("'{s}': too large; the most is {}T", u64::MAX >> 40));
    }
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("'{s}': must be a positive size such as 512M or 4G"));
    }
    Ok(bytes as u64)
}

fn announce(msg: &str) {
    eprintln!("note: {msg}");
}

/// Loads with this run's memory cap and announcements; the notes are left to the caller.
fn load_quiet(files: &[String], labels: Option<&Path>) -> Result<Dataset> {
    load_with_units(files, labels, None)
}

fn load_with_units(
    files: &[String],
    labels: Option<&Path>,
    keep_units: Option<srmscope::data::KeepUnits>,
) -> Result<Dataset> {
    let mut opts = srmscope::data::LoadOptions {
        announce: Some(announce),
        keep_units,
        ..Default::default()
    };
    if let Some(&m) = MAX_MEMORY.get() {
        opts.max_bytes = opts.max_bytes.min(m);
    }
    Ok(srmscope::data::load_with(files, labels, &opts)?)
}

pub fn load(files: &[String], labels: Option<&Path>) -> Result<Dataset> {
    let ds = load_quiet(files, labels)?;
    for note in &ds.notes {
        eprintln!("note: {note}");
    }
    Ok(ds)
}

/// The input files of a command (demo sets excluded), to keep outputs from overwriting them.
pub fn input_paths(files: &[String], extra: &[Option<&Path>]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = files
        .iter()
        .filter(|f| !f.starts_with("demo:"))
        .map(PathBuf::from)
        .collect();
    v.extend(extra.iter().flatten().map(|p| p.to_path_buf()));
    // Inside folder inputs, the .npy files are inputs too (nothing else there is read).
    let folders: Vec<PathBuf> = v.iter().filter(|p| p.is_dir()).cloned().collect();
    for dir in folders {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            v.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))),
            );
        }
    }
    v
}

/// Checks an output path before anything is loaded: a regular file (or nothing) in an existing
/// folder, not one of the inputs, with the expected extension when `ext` is given.
pub fn check_output(flag: &str, path: &Path, inputs: &[PathBuf], ext: Option<&str>) -> Result<()> {
    if let Some(ext) = ext {
        let ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case(ext));
        if !ok {
            bail!(
                "{flag} {}: the output is written as .{ext}; give a file name ending in .{ext}",
                srmscope::data::printable(&path.display().to_string())
            );
        }
    }
    srmscope::data::check_output(path, inputs).with_context(|| flag.to_string())?;
    Ok(())
}

/// A stderr progress bar fed by pipeline events; it also notes when each step began and the
/// peak RSS by then, for `--timings`.
pub struct Bar {
    bar: ProgressBar,
    steps: std::sync::Mutex<Vec<(String, std::time::Instant, f64)>>,
}

/// This process's peak resident set so far, in MB (0 where unavailable).
pub fn peak_rss_mb() -> f64 {
    // SAFETY: rusage is plain old data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain FFI call; `usage` is a valid, writable rusage for the call's duration.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    // Linux reports ru_maxrss in KiB; this is MB (10⁶ bytes), like the data sizes printed.
    usage.ru_maxrss as f64 * 1024.0 / 1e6
}

impl Bar {
    pub fn new() -> Self {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:32} [{bar:30}] {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self {
            bar,
            steps: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn report(&self, e: ProgressEvent) {
        // Iterations belong to one "fitting" step; other events name their stage and where in
        // it they start (the metrics report several sub-steps).
        let step = match e.stage {
            Stage::Fit => e.stage.label().to_string(),
            _ if e.fraction <= 0.0 => e.stage.label().to_string(),
            _ => format!("{} from {:.0} %", e.stage.label(), e.fraction * 100.0),
        };
        if let Ok(mut steps) = self.steps.lock() {
            if steps.last().is_none_or(|(last, _, _)| *last != step) {
                steps.push((step, std::time::Instant::now(), peak_rss_mb()));
            }
        }
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

    /// Wall time of each step seen, in order, with the peak RSS at its end ("step 1.23 s
    /// (peak 812 MB), ..."); the last step ends now.
    pub fn timings(&self) -> String {
        let (now, rss_now) = (std::time::Instant::now(), peak_rss_mb());
        let Ok(steps) = self.steps.lock() else {
            return String::new();
        };
        steps
            .iter()
            .enumerate()
            .map(|(i, (name, t0, _))| {
                let (end, rss) = steps
                    .get(i + 1)
                    .map_or((now, rss_now), |(_, t, r)| (*t, *r));
                format!(
                    "{name} {:.2} s (peak {rss:.0} MB)",
                    end.duration_since(*t0).as_secs_f64()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Writes `text` to `path` atomically, through the one writer every output uses.
pub fn write_text_atomic(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    srmscope::data::write_atomic(path, |f| f.write_all(text.as_bytes()))?;
    Ok(())
}
