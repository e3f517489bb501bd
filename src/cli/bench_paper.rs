//! `srmscope bench --paper`: the paper's workloads (k = all units, thousands of images), timed
//! side by side with BrainIAK 0.12 in the same run when it is installed.
//!
//! A: 5 nets × 8000 images × 512 units, k = 512, prob SRM, 10 iterations (the fit alone, f64,
//!    against BrainIAK `SRM.fit` on one OpenBLAS thread; S compared), then the whole `fit` command.
//! B: 10 nets × 10,000 images × 1000 units (8000 fit, 2000 held out), k = 1000: the whole `fit`
//!    command (load, fit, metrics, write) with its wall time and peak RSS, with float64 and with
//!    float32 products (`--precision f32`) in turns.

use anyhow::{Context, Result};
use ndarray::{Array2, ArrayView2};
use srmscope::align::init::brainiak_init;
use srmscope::align::srm::{fit_prob, FitOptions, Route, TraceMode};
use srmscope::progress::silent;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::bench_common::{measure, synth, write_f32_npy, Run};

const BRAINIAK_SCRIPT: &str = include_str!("../../tools/bench_brainiak.py");

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Networks as f32 files in `dir` (what users have), returned as the f64 values those hold.
fn write_networks(dir: &Path, m: usize, v: usize, t: usize) -> Result<Vec<Array2<f64>>> {
    std::fs::create_dir_all(dir)?;
    let xs = synth(m, v, v / 2, t);
    let mut out = Vec::with_capacity(m);
    for (i, x) in xs.into_iter().enumerate() {
        let x32 = x.mapv(|a| a as f32);
        write_f32_npy(&dir.join(format!("net{i}.npy")), &x32.view())?;
        out.push(x32.mapv(f64::from));
    }
    Ok(out)
}

fn brainiak_available(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import brainiak.funcalign.srm"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// BrainIAK's fit on the files in `dir`, one OpenBLAS thread; its times and S (k × T).
fn run_brainiak(
    python: &str,
    dir: &Path,
    m: usize,
    k: usize,
    repeat: usize,
) -> Result<(Vec<f64>, f64, Array2<f64>)> {
    // Beside the data folder, not in it: `fit DIR` reads every .npy there.
    let out = dir.with_extension("brainiak");
    std::fs::create_dir_all(&out)?;
    let script = out.join("bench_brainiak.py");
    super::write_text_atomic(&script, BRAINIAK_SCRIPT)?;
    let s_path = out.join("brainiak_s.npy");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .args([k.to_string(), "10".into(), repeat.to_string()])
        .arg(&s_path)
        .args((0..m).map(|i| dir.join(format!("net{i}.npy"))))
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("OMP_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1");
    let run = measure(cmd)?;
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .with_context(|| format!("BrainIAK printed: {}", run.stdout))?;
    let times: Vec<f64> = json["seconds"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default();
    let s = srmscope::data::read_npy(&s_path)?
        .to_f64()
        .and_then(|a| a.into_dimensionality::<ndarray::Ix2>().ok())
        .context("BrainIAK's S")?;
    Ok((times, run.peak_rss_mb, s))
}

fn fit_command(dir: &Path, out: &str, extra: &[&str]) -> Result<Run> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("fit")
        .arg(dir)
        .args(extra)
        .arg("--out")
        .arg(dir.join(format!("{out}.npz")))
        .arg("--metrics")
        .arg(dir.join(format!("{out}.json")));
    measure(cmd)
}

fn fit_seconds(dir: &Path, out: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(format!("{out}.json"))).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["fit_seconds"].as_f64()
}

pub fn run(repeat: usize, python: &str, skip_b: bool, keep: Option<PathBuf>) -> Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("srmscope-paper-")
        .tempdir()?;
    // --keep: the data and outputs stay for profiling or a rerun.
    let discard = keep.is_none();
    let root = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    let have_brainiak = brainiak_available(python);
    println!(
        "bench --paper (backend {}, {} threads; BrainIAK: {})",
        srmscope::linalg::BACKEND,
        rayon::current_num_threads(),
        if have_brainiak {
            format!("{python}, 1 OpenBLAS thread")
        } else {
            format!("not importable by {python}; pip install brainiak mpich")
        }
    );
    let dir_a = root.join("a");
    workload_a(&dir_a, repeat, have_brainiak.then_some(python))?;
    if discard {
        std::fs::remove_dir_all(&dir_a).ok();
    }
    if skip_b {
        return Ok(());
    }
    let dir_b = root.join("b");
    workload_b(&dir_b, repeat)?;
    if discard {
        std::fs::remove_dir_all(&dir_b).ok();
    }
    Ok(())
}

/// Workload A in `dir`: our fit alone (both routes), BrainIAK's beside it when `brainiak`
/// names a Python that has it, then the whole `fit` command.
fn workload_a(dir: &Path, repeat: usize, brainiak: Option<&str>) -> Result<()> {
    let (m, v, t, k) = (5, 512, 8000, 512);
    let xs = write_networks(dir, m, v, t)?;
    let data_mb = (m * v * t * 4) as f64 / 1e6;
    println!("A: {m} nets × {t} images × {v} units (float32 files, {data_mb:.0} MB), k = {k}, prob SRM, 10 iterations");
    let (ours, s_ours) = time_fits(&xs, k, repeat)?;
    drop(xs);
    if let Some(python) = brainiak {
        compare_brainiak(python, dir, m, k, repeat, &ours, &s_ours)?;
    }
    let run = fit_command(
        dir,
        "model",
        &[
            "--k",
            "512",
            "--iters",
            "10",
            "--test-fraction",
            "0",
            "--normalize",
            "none",
            "--max-units",
            "512",
        ],
    )?;
    println!(
        "  whole `srmscope fit --k 512 --test-fraction 0 --normalize none --max-units 512`: {:.2} s wall (fit {:.2} s), peak RSS {:.0} MB",
        run.seconds,
        fit_seconds(dir, "model").unwrap_or(f64::NAN),
        run.peak_rss_mb
    );
    Ok(())
}

/// Our probabilistic SRM on `xs`, timed on the automatic route (`repeat` runs) and the direct
/// one (once); the automatic route's times and its S.
fn time_fits(xs: &[Array2<f64>], k: usize, repeat: usize) -> Result<(Vec<f64>, Array2<f64>)> {
    let views: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let mut ours = Vec::new();
    let mut s_ours = Array2::<f64>::zeros((0, 0));
    for route in [Route::Auto, Route::Direct] {
        let opts = FitOptions {
            k,
            n_iter: 10,
            tol: None,
            route,
            precision: Default::default(),
        };
        let mut times = Vec::new();
        let n = if route == Route::Auto {
            repeat.max(1)
        } else {
            1
        };
        for _ in 0..n {
            let t0 = Instant::now();
            let w = brainiak_init(&units, k, 0);
            let fit = silent(|p| fit_prob(&views, w, &opts, TraceMode::Raw, p))?;
            times.push(t0.elapsed().as_secs_f64());
            if route == Route::Auto {
                s_ours = fit.s;
            }
        }
        let label = if opts.uses_gram(&views) {
            "Gram space"
        } else {
            "direct"
        };
        println!(
            "  srmscope fit, f64, {label} route: median {:.2} s over {n} run(s) {:?}",
            median(times.clone()),
            times
                .iter()
                .map(|x| (x * 100.0).round() / 100.0)
                .collect::<Vec<_>>()
        );
        if route == Route::Auto {
            ours = times;
        }
    }
    Ok((ours, s_ours))
}

/// BrainIAK's fit on the same files, and how our times and S compare with its.
fn compare_brainiak(
    python: &str,
    dir: &Path,
    m: usize,
    k: usize,
    repeat: usize,
    ours: &[f64],
    s_ours: &Array2<f64>,
) -> Result<()> {
    let (times, rss, s_b) = run_brainiak(python, dir, m, k, repeat)?;
    let scale = s_b.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    let diff = if s_b.dim() == s_ours.dim() {
        (&s_b - s_ours).iter().fold(0.0f64, |a, x| a.max(x.abs())) / scale
    } else {
        f64::NAN
    };
    let (b, o) = (median(times.clone()), median(ours.to_vec()));
    println!(
        "  BrainIAK 0.12 SRM.fit, 1 thread: median {b:.2} s over {} run(s) {:?}, peak RSS {rss:.0} MB",
        times.len(),
        times.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>()
    );
    println!(
        "  → srmscope takes {:.2} of BrainIAK's time ({:.1}× faster); max |ΔS|/max|S| = {diff:.1e}",
        o / b,
        b / o
    );
    Ok(())
}

/// Workload B in `dir`: the whole `fit` command, float64 and float32 products in turns.
fn workload_b(dir: &Path, repeat: usize) -> Result<()> {
    let (m, v, t) = (10, 1000, 10_000);
    drop(write_networks(dir, m, v, t)?);
    let data_mb = (m * v * t * 4) as f64 / 1e6;
    println!("B: {m} nets × {t} images × {v} units (float32 files, {data_mb:.0} MB), defaults: 8000 fit / 2000 held out, k = 1000, row z-scoring");
    // Float64 and float32 products take turns, so both see the same load on the machine.
    let variants: [(&str, &[&str]); 2] = [
        ("srmscope fit", &[]),
        ("srmscope fit --precision f32", &["--precision", "f32"]),
    ];
    let mut runs: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = vec![Default::default(); variants.len()];
    for _ in 0..repeat.clamp(1, 3) {
        for ((_, args), (walls, rss, fits)) in variants.iter().zip(runs.iter_mut()) {
            let run = fit_command(dir, "model", args)?;
            walls.push(run.seconds);
            rss.push(run.peak_rss_mb);
            fits.push(fit_seconds(dir, "model").unwrap_or(f64::NAN));
        }
    }
    for ((name, _), (walls, rss, fits)) in variants.iter().zip(runs) {
        let top = rss.iter().copied().fold(f64::NAN, f64::max);
        println!(
            "  whole `{name}`: median {:.1} s wall {:?} (fit {:.1} s), peak RSS median {:.0} MB, max {top:.0} MB = data + {:.0} MB",
            median(walls.clone()),
            walls.iter().map(|x| (x * 10.0).round() / 10.0).collect::<Vec<_>>(),
            median(fits),
            median(rss),
            top - data_mb
        );
    }
    Ok(())
}
