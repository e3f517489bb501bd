//! srmscope's SRM against BrainIAK 0.12's golden results (tests/data/fixtures, see README there).

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use approx::AbsDiffEq;
use ndarray::{Array1, Array2, ArrayView2};
use srmscope::align::init::brainiak_init;
use srmscope::align::srm::{fit_det, fit_prob, FitOptions, Route, TraceMode};
use srmscope::progress::silent;
use std::path::{Path, PathBuf};

struct Fixture {
    name: String,
    algo: String,
    k: usize,
    n_iter: usize,
    seed: u32,
    arrays: std::collections::HashMap<String, (Vec<u64>, Vec<f64>)>,
}

impl Fixture {
    fn mat(&self, key: &str) -> Array2<f64> {
        let (shape, data) = &self.arrays[key];
        Array2::from_shape_vec((shape[0] as usize, shape[1] as usize), data.clone()).expect(key)
    }
    fn vec(&self, key: &str) -> Array1<f64> {
        Array1::from(self.arrays[key].1.clone())
    }
    fn m(&self) -> usize {
        (0..)
            .take_while(|i| self.arrays.contains_key(&format!("x_{i}")))
            .count()
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fixtures")
}

fn load_all() -> Vec<Fixture> {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("index.json")).expect("index"))
            .expect("index json");
    let mut out = Vec::new();
    for (name, meta) in index.as_object().expect("object") {
        let mut npz = npyz::npz::NpzArchive::open(dir().join(name)).expect(name);
        let names: Vec<String> = npz.array_names().map(String::from).collect();
        let mut arrays = std::collections::HashMap::new();
        for a in names {
            let npy = npz.by_name(&a).expect("array").expect("present");
            let shape = npy.shape().to_vec();
            let data: Vec<f64> = npy.into_vec().expect("f64");
            arrays.insert(a, (shape, data));
        }
        out.push(Fixture {
            name: name.clone(),
            algo: meta["algo"].as_str().expect("algo").to_string(),
            k: meta["k"].as_u64().expect("k") as usize,
            n_iter: meta["n_iter"].as_u64().expect("n_iter") as usize,
            seed: meta["rand_seed"].as_u64().expect("seed") as u32,
            arrays,
        });
    }
    assert_eq!(out.len(), 12, "every fixture is checked");
    out
}

#[test]
fn brainiak_init_reproduces_w_init_exactly() {
    for f in load_all() {
        let xs: Vec<Array2<f64>> = (0..f.m()).map(|i| f.mat(&format!("x_{i}"))).collect();
        let units: Vec<usize> = xs.iter().map(|x| x.nrows()).collect();
        let w = brainiak_init(&units, f.k, f.seed);
        for (i, wi) in w.iter().enumerate() {
            assert!(
                wi.abs_diff_eq(&f.mat(&format!("w_init_{i}")), 1e-13),
                "{}: w_init_{i} differs by 1e-13 or more",
                f.name
            );
        }
    }
}

#[test]
fn fits_match_brainiak_to_1e8_direct() {
    fits_match_brainiak(Route::Direct);
}

/// The Gram-space route reproduces BrainIAK too (its iterations never touch the data).
#[test]
fn fits_match_brainiak_to_1e8_gram() {
    fits_match_brainiak(Route::Gram);
}

fn fits_match_brainiak(route: Route) {
    for f in load_all() {
        let xs: Vec<Array2<f64>> = (0..f.m()).map(|i| f.mat(&format!("x_{i}"))).collect();
        // Fixtures are units × samples; srmscope takes samples × units.
        let views: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.t()).collect();
        let w_init: Vec<Array2<f64>> = (0..f.m()).map(|i| f.mat(&format!("w_init_{i}"))).collect();
        let opts = FitOptions {
            k: f.k,
            n_iter: f.n_iter,
            tol: None,
            route,
            precision: Default::default(),
        };
        let logged = f.vec("logged_objective");
        let (w, s, curve) = if f.algo == "prob" {
            let fit = silent(|p| fit_prob(&views, w_init, &opts, TraceMode::Raw, p)).expect("fit");
            let rho2 = f.vec("rho2");
            assert!(
                fit.rho2.abs_diff_eq(&rho2, 1e-8),
                "{}: rho2 differs by 1e-8 or more",
                f.name
            );
            assert!(
                fit.sigma_s.abs_diff_eq(&f.mat("sigma_s"), 1e-8),
                "{}: sigma_s differs by 1e-8 or more",
                f.name
            );
            for i in 0..f.m() {
                let mu = f.vec(&format!("mu_{i}"));
                assert!(
                    fit.mu[i].abs_diff_eq(&mu, 1e-10),
                    "{}: mu_{i} differs by 1e-10 or more",
                    f.name
                );
            }
            // BrainIAK logs the LL at the start of each iteration; we also append the final one.
            assert_eq!(fit.loglik.len(), f.n_iter + 1);
            (fit.w, fit.s, fit.loglik[..f.n_iter].to_vec())
        } else {
            let fit = silent(|p| fit_det(&views, w_init, &opts, false, p)).expect("fit");
            assert_eq!(fit.objective.len(), f.n_iter + 1);
            (fit.w, fit.s, fit.objective)
        };
        for (i, wi) in w.iter().enumerate() {
            assert!(
                wi.abs_diff_eq(&f.mat(&format!("w_{i}")), 1e-8),
                "{}: w_{i} differs by 1e-8 or more",
                f.name
            );
        }
        assert!(
            s.abs_diff_eq(&f.mat("s"), 1e-8),
            "{}: s differs by 1e-8 or more",
            f.name
        );
        // The log rounds to 6 decimals.
        let n = logged.len().min(curve.len());
        assert!(n >= f.n_iter.min(logged.len()));
        for (t, (a, b)) in curve.iter().zip(logged.iter()).enumerate() {
            assert!(
                (a - b).abs() < 1e-6 + 1e-9 * b.abs(),
                "{}: objective[{t}] {a} vs {b}",
                f.name
            );
        }
    }
}
