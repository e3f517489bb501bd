//! Synthetic data shared by the integration tests: networks built as Q_i·S + offsets + noise.

#![allow(dead_code)]

use ndarray::Array2;
use rand::SeedableRng;
use srmscope::data::{Dataset, Network};

pub use srmscope::linalg::gaussian;

/// m networks with `units` units each, all planted rotations of one k-dim response over T
/// images with `classes` classes (the response depends on the class, as real activations do).
pub fn planted(m: usize, units: &[usize], k: usize, t: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let classes = 5;
    let labels: Vec<i64> = (0..t).map(|i| ((i * 7919) % classes) as i64).collect();
    let centers = Array2::from_shape_simple_fn((classes, k), || 2.0 * gaussian(&mut rng));
    let scale: Vec<f64> = (0..k)
        .map(|j| 3.0 - 2.0 * j as f64 / k.max(2) as f64)
        .collect();
    let s = Array2::from_shape_fn((t, k), |(i, j)| {
        centers[[labels[i] as usize, j]] + scale[j] * gaussian(&mut rng)
    });
    let networks = (0..m)
        .map(|i| {
            let v = units[i % units.len()];
            let g = Array2::from_shape_simple_fn((v, k), || gaussian(&mut rng));
            let (q, _) = srmscope::linalg::householder_qr(g.view());
            let offsets: Vec<f64> = (0..v).map(|_| 2.0 * gaussian(&mut rng)).collect();
            let mut x = s.dot(&q.t());
            for mut row in x.rows_mut() {
                for (xj, o) in row.iter_mut().zip(&offsets) {
                    *xj += o + noise * gaussian(&mut rng);
                }
            }
            Network {
                name: format!("net{i}"),
                data: x.into(),
                source: format!("synthetic:net{i}"),
                dtype: "<f8".into(),
                original_shape: vec![t, v],
                units: None,
            }
        })
        .collect();
    Dataset {
        name: "planted".into(),
        networks,
        labels: Some(labels),
        notes: vec![],
        ..Default::default()
    }
}

/// A Python interpreter that imports every module in `modules`: `$SRMSCOPE_TEST_PYTHON`, then
/// `python3` on PATH, then Debian's `/usr/bin/python3` (where apt's python3-numpy lands when a
/// pyenv or venv python3 shadows it on PATH).
pub fn python_with(modules: &[&str]) -> Option<std::path::PathBuf> {
    let imports = format!("import {}", modules.join(", "));
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("SRMSCOPE_TEST_PYTHON") {
        candidates.push(p.into());
    }
    candidates.push("python3".into());
    candidates.push("/usr/bin/python3".into());
    candidates.into_iter().find(|py| {
        std::process::Command::new(py)
            .args(["-c", &imports])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}
