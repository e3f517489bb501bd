//! `srmscope bench --study`: the synthetic study (2 arches × 6 layers × 6 checkpoints ×
//! 5 networks × 1000 images × 512 units, k = all units), fitted from scratch and again from the
//! cache, each as a child process so that its wall time and peak RSS are its own.

use super::bench_common::{measure, write_f32_npy};
use anyhow::{Context, Result};
use ndarray::Array2;
use rand::SeedableRng;
use srmscope::linalg::gaussian;
use std::path::{Path, PathBuf};
use std::process::Command;

const ARCHES: [&str; 2] = ["convnet", "resnet"];
const LAYERS: usize = 6;
const CHECKPOINTS: [u64; 6] = [0, 1, 2, 4, 8, 16];
const NETS: usize = 5;
const IMAGES: usize = 1000;
const UNITS: usize = 512;
const CLASSES: usize = 10;

/// Writes the study: per cell a folder of f32 `.npy`, one per network. Each network is a
/// rotation of a shared response (class means + image noise) plus its own noise, with the
/// shared part growing over checkpoints.
fn generate(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let labels: Vec<i64> = (0..IMAGES as i64).map(|i| i % CLASSES as i64).collect();
    let lab = srmscope::data::NpyArray::from_i64(&ndarray::Array1::from(labels.clone()));
    srmscope::data::write_npy_array_atomic(&dir.join("labels.npy"), &lab)?;
    let mut cells = Vec::new();
    for arch in ARCHES {
        for l in 0..LAYERS {
            let means = Array2::from_shape_simple_fn((CLASSES, UNITS), || gaussian(&mut rng));
            for (ci, &ck) in CHECKPOINTS.iter().enumerate() {
                let learned = ci as f64 / (CHECKPOINTS.len() - 1) as f64;
                let s = Array2::from_shape_fn((IMAGES, UNITS), |(i, j)| {
                    learned * means[[labels[i] as usize, j]] + gaussian(&mut rng)
                });
                let rel = format!("{arch}/e{ck}/layer{l}");
                let cell = dir.join(&rel);
                std::fs::create_dir_all(&cell)?;
                for n in 0..NETS {
                    let g = Array2::from_shape_simple_fn((UNITS, UNITS), || gaussian(&mut rng));
                    let q = srmscope::linalg::householder_qr(g.view()).0;
                    let mut x = srmscope::linalg::matmul(s.view(), q.t());
                    x.mapv_inplace(|v| v + 0.3 * gaussian(&mut rng));
                    let x32 = x.mapv(|v| v as f32);
                    write_f32_npy(&cell.join(format!("net{n}.npy")), &x32.view())?;
                }
                cells.push(serde_json::json!({
                    "arch": arch, "layer": format!("layer{l}"), "checkpoint": ck, "path": rel
                }));
            }
        }
    }
    let manifest = serde_json::json!({"name": "synthetic", "labels": "labels.npy", "cells": cells});
    super::write_text_atomic(
        &dir.join("study.json"),
        &serde_json::to_string_pretty(&manifest)?,
    )?;
    Ok(())
}

pub fn run(keep: Option<PathBuf>, bootstrap: usize) -> Result<()> {
    let tmp;
    let dir = match keep {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let data = dir.join("study");
    if !data.join("study.json").is_file() {
        eprintln!("writing the synthetic study into {} ...", data.display());
        let t0 = std::time::Instant::now();
        generate(&data)?;
        eprintln!("  {:.1} s", t0.elapsed().as_secs_f64());
    }
    let cache = dir.join("cache");
    if cache.exists() {
        std::fs::remove_dir_all(&cache).with_context(|| format!("emptying {}", cache.display()))?;
    }
    let exe = std::env::current_exe()?;
    let threads = rayon::current_num_threads();
    println!(
        "bench --study: {} arches × {LAYERS} layers × {} checkpoints × {NETS} networks × {IMAGES} images × {UNITS} units, k = all units, --bootstrap {bootstrap}, {threads} threads",
        ARCHES.len(),
        CHECKPOINTS.len()
    );
    for (what, out) in [
        ("from scratch", "fresh.json"),
        ("cached re-run", "cached.json"),
    ] {
        let mut cmd = Command::new(&exe);
        cmd.arg("study")
            .arg(&data)
            .arg("--out")
            .arg(dir.join(out))
            .arg("--cache")
            .arg(&cache)
            .arg("--bootstrap")
            .arg(bootstrap.to_string());
        let r = measure(cmd)?;
        println!(
            "  {what:<14} wall {:8.2} s   peak RSS {:7.0} MB",
            r.seconds, r.peak_rss_mb
        );
    }
    Ok(())
}
