//! `--precision f32`: single-precision products with the data, float64 everywhere else. The
//! fit must stay a valid SRM (orthonormal W, the same objective curve to f32 rounding) and the
//! measures must match the float64 fit closely; float64 stays the default and keeps the settings
//! JSON of earlier files.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ndarray::{Array2, ArrayView2};
use srmscope::align::init::brainiak_init;
use srmscope::align::srm::{fit_det, fit_prob, FitOptions, Route, TraceMode};
use srmscope::align::Precision;
use srmscope::analysis::{self, Settings};
use srmscope::progress::silent;

fn opts(k: usize, precision: Precision) -> FitOptions {
    FitOptions {
        k,
        n_iter: 8,
        tol: None,
        route: Route::Direct,
        precision,
    }
}

/// Ragged widths, and more images than one f32 block (2048) with a partial last block.
fn data() -> Vec<Array2<f64>> {
    common::planted(3, &[40, 52, 47], 8, 4500, 0.3, 11)
        .networks
        .into_iter()
        .map(|n| n.data.into_f64())
        .collect()
}

fn orthonormal(w: &Array2<f64>) {
    let g = w.t().dot(w);
    let err = (&g - &Array2::<f64>::eye(g.nrows()))
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(err < 1e-10, "WᵀW − I = {err}");
}

fn max_rel(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let scale = b.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
    (a - b).iter().fold(0.0f64, |m, x| m.max(x.abs())) / scale
}

#[test]
fn f32_products_give_the_same_prob_and_det_fits_to_f32_rounding() {
    let xs = data();
    let views: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
    // Samples × units views with unit stride down the columns (the fixtures' layout) too.
    let transposed: Vec<Array2<f64>> = xs
        .iter()
        .map(|x| x.t().as_standard_layout().to_owned())
        .collect();
    let tviews: Vec<ArrayView2<f64>> = transposed.iter().map(|x| x.t()).collect();
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let k = 8;
    let w0 = brainiak_init(&units, k, 3);
    let prob = |v: &[ArrayView2<f64>], p: Precision| {
        silent(|pr| fit_prob(v, w0.clone(), &opts(k, p), TraceMode::Centered, pr)).expect("prob")
    };
    let (a, b, c) = (
        prob(&views, Precision::F64),
        prob(&views, Precision::F32),
        prob(&tviews, Precision::F32),
    );
    for fit in [&b, &c] {
        assert_eq!(fit.loglik.len(), a.loglik.len());
        for (x, y) in fit.loglik.iter().zip(&a.loglik) {
            assert!((x - y).abs() <= 1e-6 * y.abs(), "log-likelihood {x} vs {y}");
        }
        for (wf, wd) in fit.w.iter().zip(&a.w) {
            orthonormal(wf);
            assert!(max_rel(wf, wd) < 1e-4, "W differs by {}", max_rel(wf, wd));
        }
        assert!(
            max_rel(&fit.s, &a.s) < 1e-4,
            "S differs by {}",
            max_rel(&fit.s, &a.s)
        );
        for (x, y) in fit.rho2.iter().zip(a.rho2.iter()) {
            assert!((x - y).abs() <= 1e-5 * y.abs());
        }
    }
    // Single precision really ran (a float64 fit would agree to ~1e-15).
    assert!(max_rel(&b.s, &a.s) > 1e-10, "{}", max_rel(&b.s, &a.s));
    // The layout of the data does not change the f32 products.
    assert!(max_rel(&c.s, &b.s) < 1e-6);

    let det = |p: Precision| {
        silent(|pr| fit_det(&views, w0.clone(), &opts(k, p), true, pr)).expect("det")
    };
    let (d64, d32) = (det(Precision::F64), det(Precision::F32));
    for (x, y) in d32.objective.iter().zip(&d64.objective) {
        assert!((x - y).abs() <= 1e-6 * y.abs(), "objective {x} vs {y}");
    }
    for (wf, wd) in d32.w.iter().zip(&d64.w) {
        orthonormal(wf);
        assert!(max_rel(wf, wd) < 1e-4);
    }
}

#[test]
fn f32_products_leave_the_measures_as_they_were() {
    let ds = common::planted(4, &[30], 6, 900, 0.3, 5);
    let base = Settings {
        bootstrap: 20,
        ..Settings::default()
    };
    let f32s = Settings {
        precision: Precision::F32,
        ..base.clone()
    };
    let a = silent(|p| analysis::run(&ds, &base, p)).unwrap();
    let b = silent(|p| analysis::run(&ds, &f32s, p)).unwrap();
    let close = |x: f64, y: f64| assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    close(a.metrics.isc.shared, b.metrics.isc.shared);
    close(a.metrics.rsa.shared, b.metrics.rsa.shared);
    for (x, y) in a
        .metrics
        .variance_explained
        .test
        .iter()
        .zip(&b.metrics.variance_explained.test)
    {
        close(*x, *y);
    }
    // The recorded settings say which precision made the model.
    let json = serde_json::to_value(&f32s).unwrap();
    assert_eq!(json["precision"], "f32");
    let back: Settings = serde_json::from_value(json).unwrap();
    assert_eq!(back.precision, Precision::F32);
}

#[test]
fn float64_is_the_default_and_earlier_settings_read_the_same() {
    let s = Settings::default();
    assert_eq!(s.precision, Precision::F64);
    // Left out of the JSON, so earlier model files and study cache keys are unchanged.
    let json = serde_json::to_value(&s).unwrap();
    assert!(json.get("precision").is_none(), "{json}");
    let old: Settings = serde_json::from_str(r#"{"algo": "prob", "n_iter": 10}"#).unwrap();
    assert_eq!(old.precision, Precision::F64);
}
