//! The Gram-space route (`align::gram`) against the direct route: the same W, S, ρ², Σ_s and
//! objective curves to 1e-9, on planted and random data, equal and ragged unit counts, both
//! trace modes, with and without centring, and with early stopping.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use approx::assert_abs_diff_eq;
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use srmscope::align::init::{brainiak_init, random_init};
use srmscope::align::srm::{fit_det, fit_prob, FitOptions, Route, TraceMode};
use srmscope::progress::silent;

fn max_rel(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let scale = b.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
    (a - b).iter().fold(0.0f64, |m, x| m.max(x.abs())) / scale
}

fn curves_match(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{x} vs {y}");
    }
}

fn opts(k: usize, n_iter: usize, tol: Option<f64>, route: Route) -> FitOptions {
    FitOptions {
        k,
        n_iter,
        tol,
        route,
        precision: Default::default(),
    }
}

fn random_data(units: &[usize], t: usize, seed: u64) -> Vec<Array2<f64>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    units
        .iter()
        .map(|&v| {
            // Offsets per unit make centring matter.
            let off: Vec<f64> = (0..v).map(|_| 3.0 * common::gaussian(&mut rng)).collect();
            Array2::from_shape_fn((t, v), |(_, j)| off[j] + common::gaussian(&mut rng))
        })
        .collect()
}

fn planted_data(units: &[usize], k: usize, t: usize, seed: u64) -> Vec<Array2<f64>> {
    common::planted(units.len(), units, k, t, 0.3, seed)
        .networks
        .into_iter()
        .map(|n| n.data.into_f64())
        .collect()
}

fn compare_prob(xs: &[Array2<f64>], k: usize, n_iter: usize, tol: Option<f64>, trace: TraceMode) {
    let views: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let w0 = brainiak_init(&units, k, 3);
    let direct = silent(|p| {
        fit_prob(
            &views,
            w0.clone(),
            &opts(k, n_iter, tol, Route::Direct),
            trace,
            p,
        )
    })
    .expect("direct");
    let gram = silent(|p| fit_prob(&views, w0, &opts(k, n_iter, tol, Route::Gram), trace, p))
        .expect("gram");
    assert_eq!(direct.iterations, gram.iterations);
    for (a, b) in gram.w.iter().zip(&direct.w) {
        assert_abs_diff_eq!(a, b, epsilon = 1e-9);
    }
    assert!(max_rel(&gram.s, &direct.s) < 1e-9, "S differs");
    assert!(
        max_rel(&gram.sigma_s, &direct.sigma_s) < 1e-9,
        "Σ_s differs"
    );
    for (a, b) in gram.rho2.iter().zip(&direct.rho2) {
        assert!((a / b - 1.0).abs() < 1e-9, "ρ² {a} vs {b}");
    }
    curves_match(&gram.loglik, &direct.loglik);
}

fn compare_det(xs: &[Array2<f64>], k: usize, n_iter: usize, tol: Option<f64>, center: bool) {
    let views: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let w0 = random_init(&units, k, 5);
    let direct = silent(|p| {
        fit_det(
            &views,
            w0.clone(),
            &opts(k, n_iter, tol, Route::Direct),
            center,
            p,
        )
    })
    .expect("direct");
    let gram = silent(|p| fit_det(&views, w0, &opts(k, n_iter, tol, Route::Gram), center, p))
        .expect("gram");
    assert_eq!(direct.iterations, gram.iterations);
    for (a, b) in gram.w.iter().zip(&direct.w) {
        assert_abs_diff_eq!(a, b, epsilon = 1e-9);
    }
    assert!(max_rel(&gram.s, &direct.s) < 1e-9, "S differs");
    curves_match(&gram.objective, &direct.objective);
}

#[test]
fn gram_equals_direct_prob_random_ragged() {
    let xs = random_data(&[30, 45, 25], 200, 1);
    compare_prob(&xs, 10, 10, None, TraceMode::Raw);
    compare_prob(&xs, 10, 10, None, TraceMode::Centered);
}

#[test]
fn gram_equals_direct_prob_planted_full_rank() {
    // k = every unit: the paper's pure rotation.
    let xs = planted_data(&[24, 24, 24, 24], 24, 300, 2);
    compare_prob(&xs, 24, 10, None, TraceMode::Centered);
    compare_prob(&xs, 24, 10, None, TraceMode::Raw);
}

#[test]
fn gram_equals_direct_prob_with_early_stop() {
    let xs = planted_data(&[20, 28], 8, 150, 3);
    compare_prob(&xs, 8, 50, Some(1e-6), TraceMode::Centered);
}

#[test]
fn gram_equals_direct_det() {
    let xs = random_data(&[30, 45, 25], 200, 4);
    compare_det(&xs, 10, 10, None, false);
    compare_det(&xs, 10, 10, None, true);
    let ys = planted_data(&[16, 16, 16], 16, 120, 5);
    compare_det(&ys, 16, 10, None, true);
    compare_det(&ys, 16, 40, Some(1e-8), true);
}

#[test]
fn zero_iterations_agree() {
    let xs = random_data(&[12, 12], 40, 6);
    compare_prob(&xs, 5, 0, None, TraceMode::Raw);
    compare_det(&xs, 5, 0, None, false);
}

#[test]
fn automatic_route_prefers_gram_only_when_it_is_cheaper() {
    use srmscope::align::gram::gram_pays;
    let big = 512 << 20;
    // Paper workload A: 5 × 512 units, 8000 images, k = 512.
    assert!(gram_pays(&[512; 5], 8000, 512, 10, big));
    // The small benchmark: V = 5120 > T = 2000, k = 50.
    assert!(!gram_pays(&[512; 10], 2000, 50, 10, big));
    // A Gram matrix over the memory budget is never built.
    assert!(!gram_pays(&[512; 5], 8000, 512, 10, 1 << 20));
}
