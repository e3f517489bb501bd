//! `srmscope bench --similarity --against-python`: srmscope's pairwise measures timed against
//! the tools researchers use for them, on the same data and pairs, in the same run
//! (`tools/bench_similarity_peers.py`: numpy linear CKA, netrep-style Procrustes with scipy,
//! rsatoolbox 0.3.2 RDMs and `compare`). Prints the ratio srmscope/peer per measure and the
//! largest difference between the values each side computed.

use anyhow::{Context, Result};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde_json::Value;
use srmscope::analysis::metrics;
use srmscope::analysis::similarity::{self, Summary};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use super::bench_common::write_f32_npy;

const SCRIPT: &str = include_str!("../../tools/bench_similarity_peers.py");
const PIP: &str = "numpy scipy threadpoolctl rsatoolbox==0.3.2";
/// Neighbours for the summaries, as `bench --similarity` and `fit` use.
const KNN: usize = 10;

/// One timed step: its key in the script's "seconds", what it is, and the value keys it yields.
struct Step {
    key: &'static str,
    label: &'static str,
    peer: &'static str,
    values: &'static [&'static str],
}

const STEPS: [Step; 5] = [
    Step {
        key: "rdm",
        label: "RDMs (one per network)",
        peer: "rsatoolbox calc_rdm 'correlation'",
        values: &["rdm"],
    },
    Step {
        key: "cka_linear",
        label: "linear CKA",
        peer: "numpy, feature-space formula",
        values: &["cka_linear"],
    },
    Step {
        key: "procrustes",
        label: "Procrustes angular + Euclidean",
        peer: "scipy orthogonal_procrustes, netrep alpha=1",
        values: &["procrustes_angular", "procrustes_euclidean"],
    },
    Step {
        key: "rsa_pearson",
        label: "RSA Pearson",
        peer: "rsatoolbox calc_rdm + compare 'corr'",
        values: &["rsa_pearson"],
    },
    Step {
        key: "rsa_spearman",
        label: "RSA Spearman",
        peer: "rsatoolbox calc_rdm + compare 'spearman'",
        values: &["rsa_spearman"],
    },
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn centred(x: &ArrayView2<f64>) -> Array2<f64> {
    let m = x
        .mean_axis(Axis(0))
        .unwrap_or_else(|| ndarray::Array1::zeros(x.ncols()));
    x - &m
}

/// srmscope's times per step (seconds per repeat) and its last pair matrices.
struct Ours {
    seconds: Vec<Vec<f64>>,
    summaries: Vec<f64>,
    values: std::collections::BTreeMap<&'static str, Vec<Vec<f64>>>,
}

/// Each measure is timed from the raw data: its own fresh per-network summaries (the centred
/// kernel and RSM pieces every measure shares; ranks and neighbours are made only when a measure
/// asks for them), then every pair. `summaries` is the shared part's time alone.
fn time_ours(xs: &[ArrayView2<f64>], repeat: usize) -> Result<Ours> {
    let m = xs.len();
    let pairs: Vec<(usize, usize)> = (0..m).flat_map(|i| (i..m).map(move |j| (i, j))).collect();
    let mut seconds = vec![Vec::new(); STEPS.len()];
    let mut summaries = Vec::new();
    let mut values = std::collections::BTreeMap::new();
    let matrix = |v: &[f64]| {
        let mut mat = vec![vec![f64::NAN; m]; m];
        for (&(i, j), &x) in pairs.iter().zip(v) {
            mat[i][j] = x;
            mat[j][i] = x;
        }
        mat
    };
    let summarise = || -> Result<Vec<Summary>> {
        Ok(xs
            .par_iter()
            .map(|x| Summary::new(*x, KNN))
            .collect::<Result<_, _>>()?)
    };
    // Fresh summaries, then `f` over every pair: (seconds for both, the values).
    let each = |f: &(dyn Fn(&Summary, &Summary) -> f64 + Sync)| -> Result<(f64, Vec<f64>)> {
        let t0 = Instant::now();
        let sums = summarise()?;
        let v: Vec<f64> = pairs
            .par_iter()
            .map(|&(i, j)| f(&sums[i], &sums[j]))
            .collect();
        Ok((t0.elapsed().as_secs_f64(), v))
    };
    for _ in 0..repeat {
        let t0 = Instant::now();
        for x in xs {
            // The RSM srmscope's metrics use (image × image Pearson r), on centred units.
            let c = centred(x);
            std::hint::black_box(metrics::rsm(&c.view(), &c.view()));
        }
        seconds[0].push(t0.elapsed().as_secs_f64());

        let t0 = Instant::now();
        let sums = summarise()?;
        summaries.push(t0.elapsed().as_secs_f64());
        drop(sums);

        let (t, v) = each(&similarity::cka_linear_of)?;
        seconds[1].push(t);
        values.insert("cka_linear", matrix(&v));

        let t0 = Instant::now();
        let sums = summarise()?;
        let pr: Vec<(f64, f64)> = pairs
            .par_iter()
            .map(|&(i, j)| similarity::procrustes_of(&sums[i], &sums[j]))
            .collect::<Result<_, _>>()?;
        seconds[2].push(t0.elapsed().as_secs_f64());
        let (ang, euc): (Vec<f64>, Vec<f64>) = pr.into_iter().unzip();
        values.insert("procrustes_angular", matrix(&ang));
        values.insert("procrustes_euclidean", matrix(&euc));

        let (t, v) = each(&similarity::rsa_pearson_of)?;
        seconds[3].push(t);
        values.insert("rsa_pearson", matrix(&v));
        let (t, v) = each(&similarity::rsa_spearman_of)?;
        seconds[4].push(t);
        values.insert("rsa_spearman", matrix(&v));
    }
    Ok(Ours {
        seconds,
        summaries,
        values,
    })
}

/// What the peers printed, or why there is nothing.
enum Peers {
    Ran(Value),
    Failed(String),
}

fn run_peers(python: &str, dir: &Path, m: usize, threads: usize, repeat: usize) -> Peers {
    let script = dir.join("bench_similarity_peers.py");
    if let Err(e) = std::fs::write(&script, SCRIPT) {
        return Peers::Failed(format!("could not write the script: {e}"));
    }
    let t = threads.to_string();
    let out = Command::new(python)
        .arg(&script)
        .args([t.clone(), repeat.to_string()])
        .arg(dir.join("rdms.npy"))
        .args((0..m).map(|i| dir.join(format!("net{i}.npy"))))
        // threadpoolctl sets the same; these cover a Python without it.
        .env("OPENBLAS_NUM_THREADS", &t)
        .env("OMP_NUM_THREADS", &t)
        .env("MKL_NUM_THREADS", &t)
        .stderr(std::process::Stdio::inherit())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => return Peers::Failed(format!("could not start {python}: {e}")),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Peers::Failed(format!("{python} failed ({}): {text}", out.status));
    }
    match text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
    {
        Some(v) => Peers::Ran(v),
        None => Peers::Failed(format!("{python} printed no JSON line: {text}")),
    }
}

/// The larger difference; NaN (a value one side could not compute) wins, so it shows.
fn worse(acc: Option<f64>, d: f64) -> Option<f64> {
    Some(match acc {
        None => d,
        Some(a) if a.is_nan() || d.is_nan() => f64::NAN,
        Some(a) => a.max(d),
    })
}

/// Largest |ours − theirs| over pairs i < j and over the self pairs i = i (NaN where absent).
fn max_diff(ours: &[Vec<f64>], theirs: &Value) -> (f64, f64) {
    let (mut off, mut diag) = (None, None);
    for (i, row) in ours.iter().enumerate() {
        for (j, &a) in row.iter().enumerate().skip(i) {
            let cell = &theirs[i][j];
            if cell.is_null() {
                continue;
            }
            // The script writes a non-finite value as a string: NaN here.
            let d = (a - cell.as_f64().unwrap_or(f64::NAN)).abs();
            if i == j {
                diag = worse(diag, d);
            } else {
                off = worse(off, d);
            }
        }
    }
    (off.unwrap_or(f64::NAN), diag.unwrap_or(f64::NAN))
}

/// Largest |(1 − RSM) − rsatoolbox's RDM| over every network's upper-triangle cells.
fn rdm_diff(xs: &[ArrayView2<f64>], path: &Path) -> Result<f64> {
    let rdms = srmscope::data::read_npy(path)?
        .to_f64()
        .and_then(|a| a.into_dimensionality::<ndarray::Ix2>().ok())
        .context("rsatoolbox's RDMs")?;
    let mut worst = 0.0f64;
    for (x, theirs) in xs.iter().zip(rdms.rows()) {
        let c = centred(x);
        let r = metrics::rsm(&c.view(), &c.view());
        let n = r.nrows();
        let ours = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j)));
        for ((i, j), &b) in ours.zip(theirs.iter()) {
            worst = worse(Some(worst), ((1.0 - r[[i, j]]) - b).abs()).unwrap_or(f64::NAN);
        }
    }
    Ok(worst)
}

fn cpu() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let flags = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    format!(
        "{model}, avx2 {}, avx512f {}",
        if has("avx2") { "yes" } else { "no" },
        if has("avx512f") { "yes" } else { "no" }
    )
}

fn blas_text(v: &Value) -> String {
    let Some(list) = v["blas"].as_array() else {
        return "BLAS threads unknown (no threadpoolctl)".into();
    };
    list.iter()
        .map(|d| {
            format!(
                "{}{}{} on {} threads",
                d["internal_api"].as_str().unwrap_or("?"),
                d["version"]
                    .as_str()
                    .map_or(String::new(), |v| format!(" {v}")),
                d["architecture"]
                    .as_str()
                    .map_or(String::new(), |a| format!(" ({a})")),
                d["num_threads"]
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the comparison needs from the command line.
pub struct PeerArgs<'a> {
    pub python: &'a str,
    pub m: usize,
    pub v: usize,
    pub t: usize,
    pub repeat: usize,
}

pub fn run(a: &PeerArgs, xs: &[Array2<f64>]) -> Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("srmscope-peers-")
        .tempdir()?;
    // Both sides read the float32 values the files hold.
    let mut data = Vec::with_capacity(xs.len());
    for (i, x) in xs.iter().enumerate() {
        let x32 = x.mapv(|v| v as f32);
        write_f32_npy(&tmp.path().join(format!("net{i}.npy")), &x32.view())?;
        data.push(x32.mapv(f64::from));
    }
    let views: Vec<ArrayView2<f64>> = data.iter().map(|x| x.view()).collect();
    let threads = rayon::current_num_threads();
    let repeat = a.repeat.max(1);
    let pairs = a.m * (a.m + 1) / 2;
    println!(
        "bench --similarity --against-python: m={} networks × {} images × {} units (float32 files, read as float64), {pairs} pairs i ≤ j, {repeat} repeats",
        a.m, a.t, a.v
    );
    println!("  CPU: {}; load average {}", cpu(), load());
    println!(
        "  srmscope: backend {}, {threads} threads",
        srmscope::linalg::BACKEND
    );
    let (ours, peers) = take_turns(a, &views, tmp.path(), threads, repeat)?;
    let empty = Value::Null;
    let json = describe_peers(a.python, &peers, &empty);
    println!("  load average after: {}", load());
    println!(
        "  srmscope's pair measures start from one summary per network (the centred kernel and RSM pieces they share): median {:.3} s; each row below makes its own from the raw data, with the ranks or neighbours only where that measure needs them",
        median(ours.summaries.clone())
    );
    let mismatch = print_table(&ours, json, &views, tmp.path())?;
    if !json.is_null() {
        if mismatch.is_empty() {
            println!("  every peer value equals srmscope's to 1e-8 on the pairs i < j");
        } else {
            println!(
                "  MISMATCH beyond 1e-8 on pairs i < j: {} (see docs/performance.md)",
                mismatch.join(", ")
            );
        }
    }
    print_repeats(&ours, json);
    println!("  ratio = srmscope median / peer median (goal ≤ 0.2); medians over {repeat} repeats; the peers' RSA rows include their RDMs");
    Ok(())
}

/// srmscope and the peers take turns, one repeat each, so both see the same load on a shared
/// machine; the peers' times of every turn are gathered under `seconds`.
fn take_turns(
    a: &PeerArgs,
    views: &[ArrayView2<f64>],
    dir: &Path,
    threads: usize,
    repeat: usize,
) -> Result<(Ours, Peers)> {
    let mut ours = time_ours(views, 1)?;
    let mut peers = run_peers(a.python, dir, a.m, threads, 1);
    let mut peer_seconds = serde_json::Map::new();
    for round in 0..repeat {
        if round > 0 {
            let o = time_ours(views, 1)?;
            for (all, new) in ours.seconds.iter_mut().zip(o.seconds) {
                all.extend(new);
            }
            ours.summaries.extend(o.summaries);
            ours.values = o.values;
            if let Peers::Ran(_) = peers {
                peers = run_peers(a.python, dir, a.m, threads, 1);
            }
        }
        if let Peers::Ran(v) = &peers {
            for (k, t) in v["seconds"].as_object().into_iter().flatten() {
                if let Value::Array(list) = peer_seconds
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    list.extend(t.as_array().into_iter().flatten().cloned());
                }
            }
        }
    }
    if let Peers::Ran(v) = &mut peers {
        v["seconds"] = Value::Object(peer_seconds);
    }
    Ok((ours, peers))
}

/// Prints which Python, numpy, scipy, rsatoolbox and BLAS ran (or why none did); the peers'
/// JSON, or `empty`.
fn describe_peers<'a>(python: &str, peers: &'a Peers, empty: &'a Value) -> &'a Value {
    match peers {
        Peers::Ran(v) => {
            println!(
                "  peers: {} — Python {}, numpy {}, scipy {}, rsatoolbox {}; {}",
                python,
                v["python"].as_str().unwrap_or("?"),
                v["numpy"].as_str().unwrap_or("—"),
                v["scipy"].as_str().unwrap_or("—"),
                v["rsatoolbox"].as_str().unwrap_or("—"),
                blas_text(v)
            );
            let missing: Vec<&str> = v["missing"]
                .as_array()
                .map(|l| l.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !missing.is_empty() {
                println!(
                    "  peers: {} lacks {}: pip install {}",
                    python,
                    missing.join(", "),
                    missing.join(" ")
                );
            }
            v
        }
        Peers::Failed(why) => {
            println!("  peers: not run: {why}");
            println!("  peers: pip install {PIP} (into the Python --python names)");
            empty
        }
    }
}

fn peer_times(json: &Value, key: &str) -> Vec<f64> {
    json["seconds"][key]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// One row per measure: both medians, the ratio and the largest difference of the values;
/// returns the measures whose values differ beyond 1e-8.
fn print_table(
    ours: &Ours,
    json: &Value,
    views: &[ArrayView2<f64>],
    dir: &Path,
) -> Result<Vec<&'static str>> {
    println!(
        "  {:<32} {:>10} {:>10} {:>7}  {:<44} max |Δ| i<j (i=i)",
        "measure", "srmscope", "peer", "ratio", "peer computes"
    );
    let mut mismatch = Vec::new();
    for (step, ours_t) in STEPS.iter().zip(&ours.seconds) {
        let o = median(ours_t.clone());
        let theirs = peer_times(json, step.key);
        let (p, ratio) = if theirs.is_empty() {
            ("—".to_string(), "—".to_string())
        } else {
            let p = median(theirs);
            (format!("{p:.3} s"), format!("{:.3}", o / p))
        };
        let mut diffs = Vec::new();
        for key in step.values {
            let text = if json.is_null() || json["seconds"][step.key].is_null() {
                "—".to_string()
            } else if *key == "rdm" {
                let d = rdm_diff(views, &dir.join("rdms.npy"))?;
                if d.is_nan() || d > 1e-8 {
                    mismatch.push(*key);
                }
                format!("{d:.1e}")
            } else {
                let (off, diag) = ours
                    .values
                    .get(key)
                    .map_or((f64::NAN, f64::NAN), |v| max_diff(v, &json["values"][key]));
                if off.is_nan() || off > 1e-8 {
                    mismatch.push(*key);
                }
                format!("{off:.1e} ({diag:.1e})")
            };
            diffs.push(if step.values.len() > 1 {
                format!("{}: {text}", key.trim_start_matches("procrustes_"))
            } else {
                text
            });
        }
        println!(
            "  {:<32} {:>8.3} s {:>10} {:>7}  {:<44} {}",
            step.label,
            o,
            p,
            ratio,
            step.peer,
            diffs.join(", ")
        );
    }
    Ok(mismatch)
}

/// Every repeat's seconds, both sides, so a noisy turn shows.
fn print_repeats(ours: &Ours, json: &Value) {
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("  seconds per repeat, srmscope | peer (taking turns):");
    for (step, ours_t) in STEPS.iter().zip(&ours.seconds) {
        println!(
            "    {:<32} {} | {}",
            step.label,
            list(ours_t),
            list(&peer_times(json, step.key))
        );
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
