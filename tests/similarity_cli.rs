//! `info --similarity` and the new METRICS.json keys through the binary.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_srmscope"))
}

fn planted() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cli/planted.npz").to_string()
}

const KEYS: [&str; 8] = [
    "cka_linear",
    "cka_linear_debiased",
    "procrustes_angular",
    "procrustes_euclidean",
    "rsa_pearson",
    "rsa_spearman",
    "isc",
    "mutual_knn",
];

#[test]
fn info_similarity_prints_every_native_matrix_without_fitting() {
    let out = bin()
        .args(["info", "--similarity", "--knn", "5", &planted()])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("native space (no fit), on the"), "{text}");
    for key in KEYS {
        assert!(text.contains(&format!("{key} (")), "{key} missing:\n{text}");
    }
}

#[test]
fn fit_metrics_carry_pairs_intervals_and_chance() {
    let dir = tempfile::tempdir().expect("tmp");
    let (model, metrics) = (dir.path().join("m.npz"), dir.path().join("m.json"));
    let out = bin()
        .args([
            "fit",
            &planted(),
            "--k",
            "6",
            "--bootstrap",
            "50",
            "--knn",
            "4",
            "--out",
        ])
        .arg(&model)
        .arg("--metrics")
        .arg(&metrics)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).expect("read")).expect("json");
    for key in KEYS {
        let p = &v["pairs"][key];
        assert!(p["native"].is_array() && p["shared"].is_array(), "{key}");
    }
    for key in ["isc", "rsa"] {
        assert!(v[key]["ci95"]["shared"].is_array(), "{key}");
        assert!(v[key]["chance"].is_number(), "{key}");
        // Existing keys keep their meaning.
        assert!(v[key]["shared"].is_number(), "{key}");
    }
    assert!(v["variance_explained"]["ci95"].is_array());
    assert_eq!(v["uncertainty"]["bootstrap"], 50);
    assert_eq!(v["uncertainty"]["knn"], 4);
}
