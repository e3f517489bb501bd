//! The binary end to end on files written by numpy (tests/data/cli/make_planted.py).

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_srmscope"))
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn info_describes_npz_and_folder_inputs() {
    for input in [data("cli/planted.npz"), data("cli/planted_dir")] {
        let o = bin().args(["info", &input]).output().expect("runs");
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert!(out.contains("3 networks, 240 images"), "{out}");
        assert!(out.contains("net2") && out.contains("240×30"), "{out}");
        assert!(out.contains("labels: 4 classes"), "{out}");
        assert!(out.contains("unit counts differ"), "{out}");
    }
}

#[test]
fn fit_writes_model_and_metrics_then_transform_reads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model.npz");
    let metrics = dir.path().join("metrics.json");
    let o = bin()
        .args(["fit", &data("cli/planted.npz"), "--k", "6", "--out"])
        .arg(&model)
        .arg("--metrics")
        .arg(&metrics)
        .output()
        .expect("runs");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("k = 6") && out.contains("192 train / 48 test"),
        "{out}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).expect("metrics")).expect("json");
    for key in [
        "objective",
        "variance_explained",
        "isc",
        "rsa",
        "procrustes_ve",
        "pca_explained_variance",
        "fit_seconds",
    ] {
        assert!(m.get(key).is_some(), "METRICS.json lacks {key}");
    }
    assert_eq!(m["objective"].as_array().map(|a| a.len()), Some(11));
    assert_eq!(
        m["variance_explained"]["test"].as_array().map(|a| a.len()),
        Some(3)
    );
    assert!(
        m["isc"]["native"].is_null(),
        "ragged widths have no native ISC"
    );
    assert!(m["isc"]["shared"].as_f64().expect("shared") > 0.9);
    assert_eq!(
        m["pca_explained_variance"]["after"]
            .as_array()
            .map(|a| a.len()),
        Some(3)
    );

    let loaded = srmscope::align::model_io::load_model(&model).expect("model loads");
    assert_eq!(loaded.networks, vec!["net0", "net1", "net2"]);
    assert_eq!(loaded.w[2].dim(), (30, 6));
    assert!(loaded.params.contains("\"k_resolved\":6"));

    let aligned = dir.path().join("aligned.npz");
    let o = bin()
        .arg("transform")
        .arg(&model)
        .arg(data("cli/planted_dir"))
        .args(["--smooth", "5", "--pca", "3", "--out"])
        .arg(&aligned)
        .output()
        .expect("runs");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("3 networks × 236 images × 3 dims"), "{out}");
    // The aligned file is itself a valid srmscope input.
    let ds = srmscope::data::load(&[aligned.display().to_string()], None).expect("aligned loads");
    assert_eq!(ds.networks.len(), 3);
    assert_eq!(ds.labels.as_ref().map(|l| l.len()), Some(236));
}

#[test]
fn errors_are_one_line_name_the_file_and_leave_no_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out: PathBuf = dir.path().join("model.npz");
    let bad = data("loading/nonfinite.npy");
    let o = bin()
        .args(["fit", &bad, &data("loading/f32.npy"), "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("nonfinite.npy") && err.contains("NaN"),
        "{err}"
    );
    assert!(!out.exists(), "no half-written model");
    // k larger than the smallest network.
    let o = bin()
        .args(["fit", &data("cli/planted.npz"), "--k", "25", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("k = 25") && err.contains("20 units"), "{err}");
    assert!(!out.exists());
}

#[test]
fn demo_list_names_every_embedded_set() {
    let o = bin().args(["demo", "--list"]).output().expect("runs");
    let (out, _) = text(&o);
    for name in ["demo:convnet", "demo:resnet", "demo:convnet_untrained"] {
        assert!(out.contains(name), "{out}");
    }
}
