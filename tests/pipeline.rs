//! End-to-end properties of the pipeline on planted rotations.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ndarray::Array2;
use srmscope::analysis::{self, Algo, Center, Normalize, Settings};
use srmscope::progress::{silent, Progress, ProgressEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

fn settings(algo: Algo, k: usize) -> Settings {
    Settings {
        algo,
        k: Some(k),
        normalize: Normalize::None,
        smooth: 1,
        ..Settings::default()
    }
}

fn assert_orthonormal(w: &Array2<f64>) {
    approx::assert_abs_diff_eq!(w.t().dot(w), Array2::<f64>::eye(w.ncols()), epsilon = 1e-10);
}

#[test]
fn planted_rotation_is_recovered_by_every_algorithm() {
    let ds = common::planted(5, &[40], 8, 1000, 0.5, 1);
    for algo in [Algo::Prob, Algo::Det, Algo::Procrustes] {
        let out = silent(|p| analysis::run(&ds, &settings(algo, 8), p)).expect("pipeline");
        let isc = &out.metrics.isc;
        let native = isc.native.expect("equal widths");
        assert!(native < 0.2, "{algo:?}: native ISC {native}");
        assert!(isc.shared > 0.9, "{algo:?}: shared ISC {}", isc.shared);
        let rsa = &out.metrics.rsa;
        assert!(
            rsa.shared > 0.9 && rsa.native.unwrap() < rsa.shared,
            "{algo:?}: RSA {rsa:?}"
        );
        for w in &out.model.w {
            assert_orthonormal(w);
        }
        // Held-out variance explained from the mean shared response is high for a planted model.
        assert!(
            out.metrics.variance_explained.test.iter().all(|&v| v > 0.5),
            "{:?}",
            out.metrics.variance_explained
        );
        assert_eq!(out.scene.n_networks(), 5);
        assert_eq!(out.scene.n_frames(), out.test_idx.len());
        // Aligned trajectories nearly coincide; native ones do not.
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean(&out.scene.disagreement_after) < 0.5 * mean(&out.scene.disagreement_before));
    }
}

#[test]
fn objectives_are_monotone() {
    let ds = common::planted(4, &[30, 35, 40], 6, 300, 1.0, 2);
    for center in [Center::On, Center::Brainiak] {
        let s = Settings {
            n_iter: 25,
            center,
            ..settings(Algo::Prob, 6)
        };
        let out = silent(|p| analysis::run(&ds, &s, p)).expect("prob");
        let ll = &out.model.objective;
        assert_eq!(ll.len(), 26);
        for w in ll.windows(2) {
            assert!(
                w[1] >= w[0] - 1e-8 * w[0].abs(),
                "log-likelihood fell: {ll:?}"
            );
        }
        let s = Settings {
            n_iter: 25,
            center,
            ..settings(Algo::Det, 6)
        };
        let out = silent(|p| analysis::run(&ds, &s, p)).expect("det");
        for w in out.model.objective.windows(2) {
            assert!(
                w[1] <= w[0] + 1e-9 * w[0].abs(),
                "objective rose: {:?}",
                out.model.objective
            );
        }
    }
}

#[test]
fn ragged_networks_pad_the_before_view_and_skip_native_scores() {
    let ds = common::planted(3, &[20, 25, 30], 5, 200, 0.5, 3);
    let out = silent(|p| analysis::run(&ds, &settings(Algo::Prob, 5), p)).expect("ragged");
    assert!(out.scene.before_padded);
    assert!(out.metrics.isc.native.is_none());
    assert!(out.metrics.isc.shared > 0.9);
    assert!(out.notes.iter().any(|n| n.contains("zero-pads")));
}

#[test]
fn tolerance_stops_early_and_reports_progress() {
    let ds = common::planted(3, &[20], 4, 200, 0.3, 4);
    let events = Mutex::new(Vec::<ProgressEvent>::new());
    let report = |e: ProgressEvent| events.lock().unwrap().push(e);
    let cancel = AtomicBool::new(false);
    let s = Settings {
        n_iter: 500,
        tol: Some(1e-6),
        ..settings(Algo::Prob, 4)
    };
    let out = analysis::run(&ds, &s, &Progress::new(&report, &cancel)).expect("fit");
    let iters = out.model.objective.len() - 1;
    assert!(iters < 500, "stopped after {iters} iterations");
    let ev = events.lock().unwrap();
    assert!(ev.iter().filter(|e| e.iteration.is_some()).count() == iters);
    assert!(ev.iter().any(|e| e.objective.is_some()));
}

#[test]
fn cancellation_stops_the_fit() {
    let ds = common::planted(3, &[20], 4, 200, 0.3, 5);
    let cancel = AtomicBool::new(false);
    // Cancel from inside the progress callback after the second iteration.
    let report = |e: ProgressEvent| {
        if e.iteration.is_some_and(|(i, _)| i >= 2) {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let s = Settings {
        n_iter: 1000,
        ..settings(Algo::Prob, 4)
    };
    let err = analysis::run(&ds, &s, &Progress::new(&report, &cancel)).unwrap_err();
    assert!(matches!(err, analysis::AnalysisError::Cancelled), "{err}");
}

#[test]
fn bad_k_is_refused_with_a_clear_message() {
    let ds = common::planted(3, &[20, 12], 4, 100, 0.3, 6);
    let err = silent(|p| analysis::run(&ds, &settings(Algo::Prob, 15), p)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("k = 15") && msg.contains("12 units") && msg.contains("net1"),
        "{msg}"
    );
    let s = Settings {
        test_fraction: 0.9,
        ..settings(Algo::Prob, 12)
    };
    let msg = silent(|p| analysis::run(&ds, &s, p))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("training images"), "{msg}");
}

#[test]
fn one_network_is_refused() {
    let mut ds = common::planted(2, &[10], 3, 50, 0.3, 7);
    ds.networks.truncate(1);
    let msg = silent(|p| analysis::run(&ds, &Settings::default(), p))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("at least 2 networks"), "{msg}");
}

#[test]
fn transform_subject_maps_a_left_out_network() {
    let ds = common::planted(4, &[30], 5, 400, 0.3, 8);
    let owned: Vec<_> = ds.networks[1..].iter().map(|n| n.data.view_f64()).collect();
    let train: Vec<_> = owned.iter().map(|x| x.view()).collect();
    let names: Vec<String> = ds.networks[1..].iter().map(|n| n.name.clone()).collect();
    let opts = srmscope::align::AlignOptions {
        algo: Algo::Prob,
        k: 5,
        n_iter: 10,
        tol: None,
        seed: 0,
        init: srmscope::analysis::Init::Brainiak,
        center: Center::On,
        precision: Default::default(),
    };
    let model = silent(|p| srmscope::align::fit(&names, &train, &opts, String::new(), p)).unwrap();
    let w0 = srmscope::align::srm::transform_subject(
        ds.networks[0].data.view_f64().view(),
        &model.s,
        true,
    )
    .unwrap();
    assert_orthonormal(&w0);
    let x0 = &ds.networks[0].data.to_f64();
    let mu0 = x0.mean_axis(ndarray::Axis(0)).unwrap();
    let y0 = (x0 - &mu0).dot(&w0);
    let y1 = model
        .transform(0, ds.networks[1].data.view_f64().view())
        .unwrap();
    let isc = srmscope::analysis::metrics::isc_loo(&[y0.view(), y1.view()]);
    assert!(isc > 0.9, "left-out network ISC {isc}");
}

#[test]
fn model_file_round_trips_exactly() {
    let ds = common::planted(3, &[12, 15, 20], 4, 120, 0.3, 9);
    let s = Settings {
        max_units: Some(14),
        ..settings(Algo::Prob, 4)
    };
    let out = silent(|p| analysis::run(&ds, &s, p)).expect("fit");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.npz");
    srmscope::align::model_io::save_model(&path, &out.model).expect("save");
    let back = srmscope::align::model_io::load_model(&path).expect("load");
    let m = &out.model;
    assert_eq!(back.networks, m.networks);
    assert_eq!(back.w, m.w);
    assert_eq!(back.mu, m.mu);
    assert_eq!(back.s, m.s);
    assert_eq!(back.rho2, m.rho2);
    assert_eq!(back.sigma_s, m.sigma_s);
    assert_eq!(back.objective, m.objective);
    assert_eq!(back.params, m.params);
    assert_eq!(back.center_transform, m.center_transform);
    // Networks 1 and 2 were subsampled to 14 units; network 0 kept all 12.
    assert_eq!(back.units_kept, m.units_kept);
    assert!(
        back.units_kept[0].is_none() && back.units_kept[2].as_ref().map(|u| u.len()) == Some(14)
    );
    let params: serde_json::Value = serde_json::from_str(&back.params).expect("params JSON");
    assert_eq!(params["settings"]["algo"], "prob");
    assert_eq!(params["k_resolved"], 4);
}

#[test]
fn a_saved_model_is_applied_without_refitting() {
    let a = common::planted(3, &[16], 4, 200, 0.3, 10);
    let b = common::planted(3, &[16], 4, 200, 0.3, 11);
    let s = settings(Algo::Prob, 4);
    let fit_a = silent(|p| analysis::run(&a, &s, p)).expect("fit a");
    let fit_b = silent(|p| analysis::run(&b, &s, p)).expect("fit b");
    let applied =
        silent(|p| analysis::pipeline::apply_model(&b, &s, fit_a.model.clone(), p)).expect("apply");
    assert_eq!(
        applied.model.w, fit_a.model.w,
        "the saved maps are used as they are"
    );
    assert_ne!(applied.model.w, fit_b.model.w);
    assert_eq!(applied.scene.n_frames(), fit_b.scene.n_frames());
    // Maps from unrelated data do not align b's networks.
    assert!(
        applied.metrics.isc.shared < 0.5,
        "{}",
        applied.metrics.isc.shared
    );
    // Applying a model to its own data reproduces the fit's numbers.
    let again = silent(|p| analysis::pipeline::apply_model(&a, &s, fit_a.model.clone(), p))
        .expect("apply a");
    assert_eq!(again.metrics.isc.shared, fit_a.metrics.isc.shared);
    assert_eq!(
        again.scene.trajectories[0].after,
        fit_a.scene.trajectories[0].after
    );
    // A model for other widths is refused.
    let c = common::planted(3, &[12], 4, 200, 0.3, 12);
    let msg = silent(|p| analysis::pipeline::apply_model(&c, &s, fit_a.model.clone(), p))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("16 units") && msg.contains("12"), "{msg}");
}

/// The pipeline streams the training VE (two passes, one projection held at a time) and
/// computes RSA in tiles; both must equal the dense formulas on the same prepared data, and
/// `run_owned` (which frees the raw data as it goes) must give the same numbers as `run`.
#[test]
fn streamed_and_tiled_metrics_equal_the_dense_formulas() {
    use srmscope::analysis::metrics;
    use srmscope::analysis::pipeline::{prepare, run_owned};
    let ds = common::planted(4, &[20, 26, 20, 31], 6, 700, 0.7, 9);
    let s = Settings {
        normalize: Normalize::Row,
        k: Some(6),
        ..Settings::default()
    };
    let out = silent(|p| analysis::run(&ds, &s, p)).expect("fit");
    let prep = prepare(&ds, &s).expect("prepare");
    let centred = |x: &Array2<f64>, i: usize| x - &out.model.mu[i];
    let ys: Vec<Array2<f64>> = prep
        .train
        .iter()
        .enumerate()
        .map(|(i, x)| out.model.transform(i, x.view()).expect("transform"))
        .collect();
    let h: Vec<_> = prep.train.iter().map(|x| x.view()).collect();
    let sq: Vec<f64> = prep
        .train
        .iter()
        .enumerate()
        .map(|(i, x)| centred(x, i).iter().map(|v| v * v).sum())
        .collect();
    let yv: Vec<_> = ys.iter().map(|y| y.view()).collect();
    let want = metrics::variance_explained(&h, &sq, &yv);
    for (a, b) in out.metrics.variance_explained.train.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12, "train VE {a} vs {b}");
    }
    // Ragged widths: only the shared RSA exists, against the mean within-network RSM.
    let native: Vec<Array2<f64>> = prep
        .test
        .iter()
        .map(|x| x - &x.mean_axis(ndarray::Axis(0)).expect("mean"))
        .collect();
    let nv: Vec<_> = native.iter().map(|x| x.view()).collect();
    let yt: Vec<Array2<f64>> = prep
        .test
        .iter()
        .enumerate()
        .map(|(i, x)| out.model.transform(i, x.view()).expect("transform"))
        .collect();
    let ytv: Vec<_> = yt.iter().map(|y| y.view()).collect();
    let dense = metrics::lower_tri_corr(
        &metrics::inter_rsm_loo(&ytv),
        &metrics::mean_within_rsm(&nv),
    );
    assert!((out.metrics.rsa.shared - dense).abs() < 1e-10);
    assert!(out.metrics.rsa.native.is_none());
    let owned = silent(|p| run_owned(ds.clone(), &s, p)).expect("owned");
    assert_eq!(owned.metrics.isc.shared, out.metrics.isc.shared);
    assert_eq!(
        owned.metrics.variance_explained.test,
        out.metrics.variance_explained.test
    );
}

#[test]
fn loading_only_the_fitted_units_gives_the_same_fit() {
    // 3 networks of 24 units; the fit keeps 10 of each, so the viewer reads only those.
    let ds = common::planted(3, &[24], 4, 300, 0.3, 21);
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<String> = ds
        .networks
        .iter()
        .map(|n| {
            let p = tmp.path().join(format!("{}.npy", n.name));
            srmscope::data::write_npy_atomic(&p, &n.data.to_f64()).unwrap();
            p.to_string_lossy().into_owned()
        })
        .collect();
    let s = Settings {
        max_units: Some(10),
        bootstrap: 20,
        ..Settings::default()
    };
    let opts = srmscope::data::LoadOptions {
        keep_units: Some(analysis::pipeline::keep_units_for(&s)),
        ..Default::default()
    };
    let part = srmscope::data::load_with(&files, None, &opts).unwrap();
    let full = srmscope::data::load(&files, None).unwrap();
    for (i, (p, f)) in part.networks.iter().zip(&full.networks).enumerate() {
        let kept = p.units.clone().expect("units kept at load");
        assert_eq!(p.data.dim(), (300, 10));
        assert_eq!((p.stored_units(), f.stored_units()), (24, 24));
        let want = f.data.view_f64().select(ndarray::Axis(1), &kept);
        assert_eq!(p.data.view_f64(), want, "network {i}");
    }
    let a = silent(|p| analysis::run(&part, &s, p)).unwrap();
    let b = silent(|p| analysis::run(&full, &s, p)).unwrap();
    assert_eq!(a.units_kept, b.units_kept);
    // Equal data; only the products' memory alignment (and so rounding) may differ.
    for (wa, wb) in a.model.w.iter().zip(&b.model.w) {
        approx::assert_abs_diff_eq!(wa, wb, epsilon = 1e-10);
    }
    approx::assert_abs_diff_eq!(a.metrics.isc.shared, b.metrics.isc.shared, epsilon = 1e-10);
    approx::assert_abs_diff_eq!(a.metrics.rsa.shared, b.metrics.rsa.shared, epsilon = 1e-10);
    // Other unit settings need the files again; a saved model needs every unit.
    assert!(analysis::pipeline::has_units_for(&part, &s));
    let other = Settings {
        seed: 5,
        ..s.clone()
    };
    assert!(!analysis::pipeline::has_units_for(&part, &other));
    assert!(analysis::pipeline::has_units_for(&full, &other));
    let e = silent(|p| analysis::run(&part, &other, p))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("were loaded") && e.contains("open the files again"),
        "{e}"
    );
    let e = silent(|p| analysis::pipeline::apply_model(&part, &s, b.model.clone(), p))
        .unwrap_err()
        .to_string();
    assert!(e.contains("a saved model needs all of them"), "{e}");
}

#[test]
fn preview_hands_over_the_final_trajectories_before_the_measures() {
    let ds = common::planted(3, &[12], 3, 200, 0.3, 4);
    let s = Settings {
        bootstrap: 10,
        ..Settings::default()
    };
    let mut previews = Vec::new();
    let out = silent(|p| {
        analysis::pipeline::run_preview(&ds, &s, p, &mut |part, o| previews.push((part, o)))
    })
    .unwrap();
    use analysis::pipeline::Partial;
    let parts: Vec<Partial> = previews.iter().map(|(p, _)| *p).collect();
    assert_eq!(parts, [Partial::Native, Partial::Aligned]);
    // While the fit runs: the final "before" view, shown in both views.
    let native = &previews[0].1;
    for (a, b) in native
        .scene
        .trajectories
        .iter()
        .zip(&out.scene.trajectories)
    {
        assert_eq!((&a.name, &a.before), (&b.name, &b.before));
        assert_eq!(a.after, a.before);
    }
    assert!(native.scene.disagreement_after.is_empty());
    assert!(native.scene.evr_after.iter().all(|v| v.is_nan()));
    assert_eq!(
        native.scene.disagreement_before,
        out.scene.disagreement_before
    );
    assert_eq!(native.scene.evr_before, out.scene.evr_before);
    assert_eq!(native.test_idx, out.test_idx);
    assert!(native.metrics.objective.is_empty());
    let pre = &previews[1].1;
    assert_eq!(pre.scene.trajectories.len(), 3);
    for (a, b) in pre.scene.trajectories.iter().zip(&out.scene.trajectories) {
        assert_eq!(
            (&a.name, &a.before, &a.after),
            (&b.name, &b.before, &b.after)
        );
    }
    assert_eq!(pre.test_idx, out.test_idx);
    assert_eq!(pre.metrics.objective, out.metrics.objective);
    assert_eq!(pre.metrics.fit_seconds, out.metrics.fit_seconds);
    // The measures come only with the final output.
    assert!(pre.metrics.rsa.ci95.is_none() && out.metrics.rsa.ci95.is_some());
    let plain = silent(|p| analysis::run(&ds, &s, p)).unwrap();
    // The command line (no preview) draws the same scene.
    for (a, b) in plain.scene.trajectories.iter().zip(&out.scene.trajectories) {
        assert_eq!((&a.before, &a.after), (&b.before, &b.after));
    }
    approx::assert_abs_diff_eq!(
        plain.metrics.isc.shared,
        out.metrics.isc.shared,
        epsilon = 1e-12
    );
}
