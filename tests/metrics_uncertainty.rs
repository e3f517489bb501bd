//! The pipeline's intervals, chance levels and pairwise matrices (METRICS.json `pairs`).

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use srmscope::analysis::{self, Metrics, Normalize, Settings};
use srmscope::progress::silent;

fn settings(k: usize, bootstrap: usize) -> Settings {
    Settings {
        k: Some(k),
        normalize: Normalize::None,
        smooth: 1,
        n_iter: 5,
        bootstrap,
        ..Settings::default()
    }
}

fn run(ds: &srmscope::data::Dataset, s: &Settings) -> Metrics {
    silent(|p| analysis::run(ds, s, p))
        .expect("pipeline")
        .metrics
}

#[test]
fn intervals_bracket_the_estimates_and_chance_sits_below() {
    let ds = common::planted(4, &[12], 12, 400, 0.5, 3);
    let s = settings(12, 300);
    let m = run(&ds, &s);
    for (name, v) in [("isc", &m.isc), ("rsa", &m.rsa)] {
        let ci = v.ci95.as_ref().expect("ci95");
        for (est, iv) in [
            (v.native.expect("native"), ci.native),
            (v.shared, ci.shared),
        ] {
            let [lo, hi] = iv.expect("interval");
            assert!(lo <= est && est <= hi, "{name}: {est} outside [{lo}, {hi}]");
        }
        let chance = v.chance.expect("chance");
        assert!(
            chance.abs() < 0.2 && chance < v.shared - 0.5,
            "{name} chance {chance}"
        );
        let lono = v.leave_one_network_out.as_ref().expect("lono");
        let [lo, hi] = lono.shared.expect("range");
        assert!(lo <= hi);
    }
    let ve = m.variance_explained.ci95.as_ref().expect("ve ci95");
    assert_eq!(ve.len(), 4);
    for (v, iv) in m.variance_explained.test.iter().zip(ve) {
        let [lo, hi] = iv.expect("interval");
        assert!(lo <= *v && *v <= hi);
    }
    // Seeded: the same settings give the same intervals.
    let again = run(&ds, &s);
    assert_eq!(again.isc.ci95, m.isc.ci95);
    assert_eq!(again.rsa.ci95, m.rsa.ci95);
    // Off: no intervals, the rest unchanged.
    let off = run(&ds, &settings(12, 0));
    assert!(off.isc.ci95.is_none() && off.variance_explained.ci95.is_none());
    assert_eq!(off.isc.shared, m.isc.shared);
}

#[test]
fn pairs_cover_every_measure_and_survive_a_json_round_trip() {
    let ds = common::planted(3, &[10, 14, 18], 6, 200, 0.5, 4);
    let m = run(&ds, &settings(6, 50));
    let pairs = m.pairs.as_ref().expect("pairs");
    for info in srmscope::analysis::similarity::MEASURES {
        let pm = &pairs[info.key];
        assert_eq!(pm.native.len(), 3);
        assert_eq!(pm.shared.len(), 3);
        for i in 0..3 {
            for j in 0..3 {
                // Ragged native widths leave only per-unit ISC undefined, off the diagonal.
                let undefined = info.needs_equal_widths && i != j;
                assert_eq!(
                    pm.native[i][j].is_nan(),
                    undefined,
                    "{} [{i}][{j}]",
                    info.key
                );
                assert!(pm.shared[i][j].is_finite(), "{} shared", info.key);
            }
        }
    }
    // Shared ISC between planted networks is high.
    assert!(pairs["isc"].shared[0][1] > 0.8);
    let json = serde_json::to_string(&m).expect("json");
    let back: Metrics = serde_json::from_str(&json).expect("parse");
    let b = back.pairs.expect("pairs");
    assert!(b["isc"].native[0][1].is_nan());
    for (r, s) in b["cka_linear"]
        .shared
        .iter()
        .zip(&pairs["cka_linear"].shared)
    {
        for (x, y) in r.iter().zip(s) {
            assert!((x - y).abs() < 1e-15);
        }
    }
    assert!(back.isc.ci95.and_then(|c| c.shared).is_some());
}

/// With square W (k = units), shared is a rotation of native: rotation-invariant measures agree.
#[test]
fn rotation_invariant_measures_agree_native_and_shared_for_square_maps() {
    let ds = common::planted(3, &[8], 8, 150, 0.5, 5);
    let m = run(&ds, &settings(8, 0));
    let pairs = m.pairs.expect("pairs");
    for info in srmscope::analysis::similarity::MEASURES {
        if !info.invariant_to.contains("rotation") {
            continue;
        }
        let pm = &pairs[info.key];
        for i in 0..3 {
            for j in 0..3 {
                let (a, b) = (pm.native[i][j], pm.shared[i][j]);
                let tol = if info.key.starts_with("procrustes") {
                    1e-6
                } else {
                    1e-8
                };
                assert!((a - b).abs() < tol, "{} [{i}][{j}]: {a} vs {b}", info.key);
            }
        }
    }
}
