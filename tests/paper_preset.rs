//! `--preset paper` against the independent Python transcription of the authors' analysis
//! (tools/paper_reference.py, tests/data/paper/README.md), and scikit-learn's splits bit for bit.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use srmscope::analysis::metrics::{inter_rsm_loo, lower_tri_corr, mean_within_rsm};
use srmscope::analysis::preprocess::split_with;
use srmscope::analysis::sklearn_split::train_test_split;
use srmscope::analysis::{self, model_file, pipeline, Center, Settings, SplitMethod};
use srmscope::progress::silent;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOL: f64 = 1e-10;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/paper")
        .join(name)
}

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(data("golden.json")).expect("golden.json");
    serde_json::from_str(&text).expect("json")
}

fn indices(v: &serde_json::Value) -> Vec<usize> {
    serde_json::from_value(v.clone()).expect("indices")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).expect("floats")
}

fn load(name: &str) -> srmscope::data::Dataset {
    let path = data(&format!("{name}.npz")).display().to_string();
    srmscope::data::load(&[path], None).expect("load")
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() < TOL,
        "{what}: {got} vs {want} (diff {:e})",
        got - want
    );
}

/// The preset's numbers on `ds` against the reference's `want`, with and without intervals.
fn check_case(name: &str, ds: &srmscope::data::Dataset, want: &serde_json::Value, boots: &[usize]) {
    // Both RSA paths: dense RSMs (with intervals) and tiles (without).
    for &bootstrap in boots {
        let s = Settings {
            bootstrap,
            ..Settings::paper()
        };
        let out = silent(|p| analysis::run(ds, &s, p)).expect("fit");
        let m = &out.metrics;
        let what = |k: &str| format!("{name} (bootstrap {bootstrap}) {k}");
        assert_eq!(out.train_idx, indices(&want["split"]["train"]), "{name}");
        assert_eq!(out.test_idx, indices(&want["split"]["test"]), "{name}");
        let split = m.split.as_ref().expect("split in the metrics");
        assert_eq!(split.train, out.train_idx);
        assert_eq!(split.test, out.test_idx);
        assert_eq!(out.model.split.as_ref(), Some(split));
        assert_eq!(out.k as u64, want["k"].as_u64().expect("k"));
        close(
            &what("rsa native"),
            m.rsa.native.expect("equal widths"),
            want["rsa"]["native"].as_f64().expect("f64"),
        );
        close(
            &what("rsa shared"),
            m.rsa.shared,
            want["rsa"]["shared"].as_f64().expect("f64"),
        );
        close(
            &what("isc native"),
            m.isc.native.expect("equal widths"),
            want["isc"]["native"].as_f64().expect("f64"),
        );
        close(
            &what("isc shared"),
            m.isc.shared,
            want["isc"]["shared"].as_f64().expect("f64"),
        );
        for part in ["train", "test"] {
            let got = match part {
                "train" => &m.variance_explained.train,
                _ => &m.variance_explained.test,
            };
            let exp = floats(&want["variance_explained"][part]);
            assert_eq!(got.len(), exp.len());
            for (i, (a, b)) in got.iter().zip(&exp).enumerate() {
                close(&what(&format!("VE {part} net{i}")), *a, *b);
            }
        }
    }
}

#[test]
fn preset_equals_the_python_transcription() {
    let g = golden();
    let cases = g["cases"].as_object().expect("cases");
    assert_eq!(cases.len(), 2);
    for (name, want) in cases {
        check_case(name, &load(name), want, &[0, 200]);
    }
}

#[test]
fn preset_equals_the_python_transcription_on_the_untrained_demo() {
    // Its uncentred RSMs share a large mean (0.99 ± 0.002): the case where a one-pass Pearson
    // lost 5e-10 to cancellation.
    let want = &golden()["demo"]["convnet_untrained"];
    let ds = srmscope::data::load(&["demo:convnet_untrained".to_string()], None).expect("demo");
    check_case("demo:convnet_untrained", &ds, want, &[0]);
}

#[test]
fn split_equals_scikit_learn_bit_for_bit() {
    let g = golden();
    let splits = g["splits"].as_array().expect("splits");
    assert!(splits.len() >= 6);
    for case in splits {
        let name = case["name"].as_str().expect("name");
        let n = case["n"].as_u64().expect("n") as usize;
        let labels: Option<Vec<i64>> = serde_json::from_value(case["labels"].clone()).ok();
        let size = case["test_size"].as_f64().expect("test_size");
        let seed = case["seed"].as_u64().expect("seed");
        let (train, test) = (indices(&case["train"]), indices(&case["test"]));
        let got = train_test_split(n, labels.as_deref(), size, seed as u32).expect(name);
        assert_eq!(got, (train.clone(), test.clone()), "{name}");
        // The pipeline's split: scikit-learn's training order, its test images by class,
        // stably (or by index without labels).
        let (tr, te) =
            split_with(n, labels.as_deref(), size, seed, SplitMethod::Sklearn).expect(name);
        assert_eq!(tr, train, "{name}");
        let mut want = test.clone();
        match &labels {
            Some(l) => want.sort_by_key(|&i| l[i]),
            None => want.sort_unstable(),
        }
        assert_eq!(te, want, "{name}");
    }
}

#[test]
fn center_brainiak_builds_native_and_shared_rsms_alike() {
    let ds = load("tall");
    let s = Settings {
        center: Center::Brainiak,
        bootstrap: 0,
        ..Settings::default()
    };
    let out = silent(|p| analysis::run(&ds, &s, p)).expect("fit");
    assert!(!out.model.center_transform);
    // Neither space is centred: the held-out data as preprocessed, and W_iᵀx.
    let native = pipeline::prepare(&ds, &s).expect("prepare").test;
    let shared: Vec<_> = native
        .iter()
        .enumerate()
        .map(|(i, x)| out.model.transform(i, x.view()).expect("transform"))
        .collect();
    let nv: Vec<_> = native.iter().map(|x| x.view()).collect();
    let sv: Vec<_> = shared.iter().map(|x| x.view()).collect();
    let within = mean_within_rsm(&nv);
    close(
        "rsa native",
        out.metrics.rsa.native.expect("equal widths"),
        lower_tri_corr(&inter_rsm_loo(&nv), &within),
    );
    close(
        "rsa shared",
        out.metrics.rsa.shared,
        lower_tri_corr(&inter_rsm_loo(&sv), &within),
    );
    assert_eq!(pipeline::native_test(&ds, &s).expect("native"), native);
}

#[test]
fn the_model_file_records_the_split_and_applies_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("m.npz");
    let ds = load("wide");
    let s = Settings {
        bootstrap: 0,
        ..Settings::paper()
    };
    let out = silent(|p| analysis::run(&ds, &s, p)).expect("fit");
    model_file::save(&path, &out.model, &s).expect("save");
    let mf = model_file::load(&path).expect("load");
    assert_eq!(mf.model.split, out.model.split);
    assert!(mf.settings.is_paper());
    let again = silent(|p| pipeline::apply_model(&ds, &mf.settings, mf.model, p)).expect("apply");
    assert_eq!(again.test_idx, out.test_idx);
    assert_eq!(again.metrics.rsa.shared, out.metrics.rsa.shared);

    // A file without the split (written before it was stored) still loads and splits again.
    let mut old = out.model.clone();
    old.split = None;
    model_file::save(&path, &old, &s).expect("save");
    let mf = model_file::load(&path).expect("load");
    assert_eq!(mf.model.split, None);
    let again = silent(|p| pipeline::apply_model(&ds, &mf.settings, mf.model, p)).expect("apply");
    assert_eq!(again.train_idx, out.train_idx);
    assert_eq!(again.test_idx, out.test_idx);
}

#[test]
fn cli_preset_writes_the_split_and_refuses_conflicting_flags() {
    let dir = tempfile::tempdir().expect("tmp");
    let (model, metrics) = (dir.path().join("m.npz"), dir.path().join("m.json"));
    let input = data("tall.npz").display().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_srmscope"))
        .args([
            "fit",
            &input,
            "--preset",
            "paper",
            "--bootstrap",
            "0",
            "--out",
        ])
        .arg(&model)
        .arg("--metrics")
        .arg(&metrics)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).expect("metrics")).expect("json");
    let want = &golden()["cases"]["tall"];
    assert_eq!(m["split"], want["split"]);
    close(
        "cli rsa shared",
        m["rsa"]["shared"].as_f64().expect("f64"),
        want["rsa"]["shared"].as_f64().expect("f64"),
    );
    for flag in [["--center", "on"], ["--seed", "3"], ["--split", "srmscope"]] {
        let o = Command::new(env!("CARGO_BIN_EXE_srmscope"))
            .args(["fit", &input, "--preset", "paper", "--out"])
            .arg(&model)
            .args(flag)
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{flag:?} accepted");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.contains("--preset") && first.contains(flag[0]),
            "{flag:?}: {err}"
        );
    }
}
