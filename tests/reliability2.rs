//! Reliability II (issue 22): the study runner, its cache, zipped studies, shards, images and
//! class names under bad input. One test (or more) per defect of the issue, numbered as there.
//! A test that would hang if a defect came back runs the binary as a child with a generous
//! kill timeout; the timeout is a safety net, never the assertion.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use srmscope::analysis::study::cache::Cache;
use srmscope::analysis::study::runner::{run_study, RunOptions, StudyProgress, StudySink};
use srmscope::analysis::study::{CellResult, StudyResults};
use srmscope::analysis::Settings;
use srmscope::data::study::{NoMemo, Study};
use srmscope::data::{write_npz_atomic, LoadOptions, NpyArray};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const N: usize = 120;
const UNITS: usize = 6;

fn gauss_matrix(n: usize, p: usize, seed: u64) -> Array2<f64> {
    let mut r = rand::rngs::StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((n, p), |_| {
        let (u, v): (f64, f64) = (r.random::<f64>().max(1e-12), r.random());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    })
}

fn labels() -> Vec<i64> {
    (0..N as i64).map(|i| i % 3).collect()
}

/// Three networks: class means plus noise, a different signal per seed.
fn nets(seed: u64, units: usize) -> Vec<Array2<f64>> {
    let means = gauss_matrix(3, units, seed);
    let l = labels();
    (0..3)
        .map(|n| {
            let noise = gauss_matrix(N, units, seed * 10 + n + 1) * 0.6;
            Array2::from_shape_fn((N, units), |(i, j)| {
                means[[l[i] as usize, j]] + noise[[i, j]]
            })
        })
        .collect()
}

fn write_npz(p: &Path, nets: &[Array2<f64>]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let arrays: Vec<(String, NpyArray)> = nets
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("net{i}"), NpyArray::from_f64(x)))
        .collect();
    write_npz_atomic(p, &arrays).unwrap();
}

fn write_labels(p: &Path, l: &[i64]) {
    let a = NpyArray::from_i64(&Array1::from(l.to_vec()));
    srmscope::data::write_npy_array_atomic(p, &a).unwrap();
}

/// A study: `archs` × layers `l1`, `l2` × checkpoints 0 and 5, study-wide labels.
fn study_with(dir: &Path, name: &str, archs: &[&str], units: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    write_labels(&dir.join("labels.npy"), &labels());
    let mut cells = Vec::new();
    for (a, arch) in archs.iter().enumerate() {
        for (li, layer) in ["l1", "l2"].iter().enumerate() {
            for ck in [0u64, 5] {
                let rel = format!("{arch}/e{ck}/{layer}.npz");
                write_npz(&dir.join(&rel), &nets(100 * a as u64 + 10 * li as u64 + ck, units));
                cells.push(serde_json::json!({"arch": arch, "layer": layer, "checkpoint": ck, "path": rel}));
            }
        }
    }
    let m = serde_json::json!({"name": name, "labels": "labels.npy", "cells": cells});
    std::fs::write(dir.join("study.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    dir.to_path_buf()
}

fn small_study(dir: &Path) -> PathBuf {
    study_with(dir, "small", &["cnn"], UNITS)
}

fn set_manifest(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("study.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut m);
    std::fs::write(&p, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

/// Zips every file under `dir` (deflate), paths relative to it.
fn zip_dir(dir: &Path, out: &Path) {
    use npyz::zip::write::FileOptions;
    let mut zw = npyz::zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        zw.start_file(rel, FileOptions::default()).unwrap();
        zw.write_all(&std::fs::read(&p).unwrap()).unwrap();
    }
    zw.finish().unwrap();
}

fn settings() -> Settings {
    Settings {
        bootstrap: 0,
        max_units: None,
        smooth: 3,
        ..Default::default()
    }
}

fn run_lib(study: &Study, s: &Settings, cache: Option<&Cache>) -> StudyResults {
    let opts = RunOptions {
        shard: None,
        cache,
        workers: 1,
        load: LoadOptions::default(),
    };
    run_study(study, s, &opts, &Quiet, &AtomicBool::new(false)).unwrap()
}

struct Quiet;
impl StudySink for Quiet {}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_srmscope"));
    c.stdin(Stdio::null());
    c
}

/// Runs the binary; kills it after `secs` (a safety net against a hang, not an assertion of
/// speed: the caller asserts on what the run did).
fn run_guarded(mut cmd: Command, secs: u64) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "killed after {secs} s (a hang): {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails with exit 1 and exactly one line on stderr, which is returned.
fn one_line_error(o: &Output) -> String {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit 1 expected: {e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line expected: {e}");
    e
}

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
    assert!(ok, "mkfifo");
}

fn study_cmd(study: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = bin();
    c.args(["study", study.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    c.args(["--bootstrap", "0", "--max-units", "0"]);
    c.args(extra);
    c
}

fn read_results(p: &Path) -> StudyResults {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

// 1. The cache hashed FIFOs and devices.
#[test]
fn d01_fifo_or_device_cells_are_refused_with_the_cache_too() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let cell = s.join("cnn/e0/l1.npz");
    std::fs::remove_file(&cell).unwrap();
    mkfifo(&cell);
    let out = d.path().join("r.json");
    let cache = d.path().join("cache");
    let o = run_guarded(
        study_cmd(&s, &out, &["--cache", cache.to_str().unwrap()]),
        120,
    );
    let e = one_line_error(&o);
    assert!(e.contains("l1.npz") && e.contains("FIFO"), "{e}");
    assert!(!out.exists());

    // Labels that are a symbolic link to /dev/zero: a device, refused before reading.
    let s2 = small_study(&d.path().join("s2"));
    std::fs::remove_file(s2.join("labels.npy")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", s2.join("labels.npy")).unwrap();
    let o = run_guarded(
        study_cmd(&s2, &out, &["--cache", cache.to_str().unwrap()]),
        120,
    );
    let e = one_line_error(&o);
    assert!(e.contains("labels.npy") && e.contains("a device"), "{e}");

    // The digest alone (the library's cache path) refuses it too.
    let st = Study::open(s2.to_str().unwrap()).unwrap();
    assert!(st.cell_digest(0, &mut NoMemo).is_err());
}

// 5. `--merge` joined shards of unrelated studies.
#[test]
fn d05_merge_refuses_shards_of_another_study() {
    let d = tmp();
    let a = study_with(&d.path().join("a"), "same", &["cnn", "res"], UNITS);
    let b = study_with(&d.path().join("b"), "same", &["vit", "mlp"], UNITS);
    let (sa, sb) = (d.path().join("a1.json"), d.path().join("b2.json"));
    for (s, out, shard) in [(&a, &sa, "1/2"), (&b, &sb, "2/2")] {
        let o = run_guarded(study_cmd(s, out, &["--shard", shard, "--no-cache"]), 300);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let merged = d.path().join("m.json");
    let mut c = bin();
    c.args(["study", "--merge"]).arg(&sa).arg(&sb).arg("--out").arg(&merged);
    let e = one_line_error(&run_guarded(c, 60));
    assert!(e.contains("b2.json") && e.contains("manifest"), "{e}");
    assert!(!merged.exists());
    // Files of an older srmscope (no manifest digest) still merge with each other...
    let sa2 = d.path().join("a2.json");
    let o = run_guarded(study_cmd(&a, &sa2, &["--shard", "2/2", "--no-cache"]), 300);
    assert!(o.status.success(), "{}", stderr(&o));
    let strip = |p: &Path| {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("manifest_sha256");
        let q = p.with_extension("old.json");
        std::fs::write(&q, v.to_string()).unwrap();
        q
    };
    let (oa1, oa2) = (strip(&sa), strip(&sa2));
    let mut c = bin();
    c.args(["study", "--merge"]).arg(&oa1).arg(&oa2).arg("--out").arg(&merged);
    let o = run_guarded(c, 60);
    assert!(o.status.success(), "{}", stderr(&o));
    // ...but not with new ones.
    let mut c = bin();
    c.args(["study", "--merge"]).arg(&oa1).arg(&sa2).arg("--out").arg(&merged);
    let e = one_line_error(&run_guarded(c, 60));
    assert!(e.contains("older srmscope"), "{e}");
}

/// Swaps one cell file for other data the moment the runner starts loading it.
struct SwapOnLoad {
    cell: String,
    file: PathBuf,
    other: Vec<u8>,
    done: Mutex<bool>,
}

impl StudySink for SwapOnLoad {
    fn progress(&self, p: &StudyProgress) {
        let mut done = self.done.lock().unwrap();
        if !*done && p.running.iter().any(|(_, c, _)| *c == self.cell) {
            let tmp = self.file.with_extension("swap");
            std::fs::write(&tmp, &self.other).unwrap();
            std::fs::rename(&tmp, &self.file).unwrap();
            *done = true;
        }
    }
}

// 6. A file replaced during a run poisoned the cache.
#[test]
fn d06_a_file_replaced_during_the_run_cannot_poison_the_cache() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let st = Study::open(s.to_str().unwrap()).unwrap();
    let truth = run_lib(&st, &settings(), None);
    let file = s.join("cnn/e0/l1.npz");
    let original = std::fs::read(&file).unwrap();
    write_npz(&d.path().join("other.npz"), &nets(999, UNITS));
    let other = std::fs::read(d.path().join("other.npz")).unwrap();
    let cache = Cache::open(&d.path().join("cache")).unwrap();
    let sink = SwapOnLoad {
        cell: "cnn/l1/0".into(),
        file: file.clone(),
        other,
        done: Mutex::new(false),
    };
    let opts = RunOptions {
        shard: None,
        cache: Some(&cache),
        workers: 1,
        load: LoadOptions::default(),
    };
    let swapped = run_study(&st, &settings(), &opts, &sink, &AtomicBool::new(false)).unwrap();
    assert!(*sink.done.lock().unwrap());
    let c0 = &swapped.cells[0];
    assert!(
        c0.notes.iter().any(|n| n.contains("changed while the study ran")),
        "{:?}",
        c0.notes
    );
    // Put the original back: a cached re-run gives the true numbers.
    std::fs::write(file.with_extension("back"), &original).unwrap();
    std::fs::rename(file.with_extension("back"), &file).unwrap();
    let again = run_lib(&st, &settings(), Some(&cache));
    for (a, b) in again.cells.iter().zip(&truth.cells) {
        let (x, y) = (a.metrics.isc.shared, b.metrics.isc.shared);
        assert!((x - y).abs() < 1e-12, "{}: {x} vs {y}", a.layer);
        let (x, y) = (a.dev_vs_final.unwrap(), b.dev_vs_final.unwrap());
        assert!((x - y).abs() < 1e-12, "{}: {x} vs {y}", a.layer);
    }
    // The digest of the bytes loaded is the digest the cache looks up.
    let (_, loaded) = st.load_cell_digest(0, &LoadOptions::default()).unwrap();
    assert_eq!(loaded, st.cell_digest(0, &mut NoMemo).unwrap());
}

// 7. dev_vs_final paired rows by position across different splits.
#[test]
fn d07_dev_vs_final_pairs_images_not_positions() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let st = Study::open(s.to_str().unwrap()).unwrap();
    let plain = run_lib(&st, &settings(), None);
    // Only the last checkpoint gets labels that rename the classes (same grouping).
    let renamed: Vec<i64> = labels().iter().map(|&l| [2, 0, 1][l as usize]).collect();
    write_labels(&s.join("renamed.npy"), &renamed);
    set_manifest(&s, |m| {
        for c in m["cells"].as_array_mut().unwrap() {
            if c["checkpoint"] == 5 {
                c["labels"] = "renamed.npy".into();
            }
        }
    });
    let st = Study::open(s.to_str().unwrap()).unwrap();
    let r = run_lib(&st, &settings(), None);
    for (c, p) in r.cells.iter().zip(&plain.cells) {
        if c.checkpoint != 0 {
            continue;
        }
        match c.dev_vs_final {
            // Paired by image, it is the same measure as without the renaming when the
            // splits hold the same images...
            Some(v) => {
                let same = p.dev_vs_final.unwrap();
                assert!((v - same).abs() < 1e-9, "{v} vs {same}");
            }
            // ...and refused, with a note, when they do not.
            None => assert!(
                c.notes.iter().any(|n| n.contains("dev_vs_final not computed")),
                "{:?}",
                c.notes
            ),
        }
    }
}

/// A study whose first layer's cells are folders of `.npy`, with labels given as `./labels.npy`.
fn npy_folder_study(dir: &Path) -> PathBuf {
    let s = small_study(dir);
    for ck in [0u64, 5] {
        let folder = s.join(format!("cnn/e{ck}/l1"));
        std::fs::create_dir_all(&folder).unwrap();
        for (i, x) in nets(10 + ck, UNITS).iter().enumerate() {
            srmscope::data::write_npy_array_atomic(
                &folder.join(format!("net{i}.npy")),
                &NpyArray::from_f64(x),
            )
            .unwrap();
        }
    }
    set_manifest(&s, |m| {
        m["labels"] = "./labels.npy".into();
        for c in m["cells"].as_array_mut().unwrap() {
            if c["layer"] == "l1" {
                let p = c["path"].as_str().unwrap().trim_end_matches(".npz").to_string();
                c["path"] = p.into();
            }
        }
    });
    s
}

// 8. Zipped studies did not accept what folders accept.
#[test]
fn d08_zipped_and_folder_studies_accept_the_same_cells() {
    let d = tmp();
    let s = npy_folder_study(&d.path().join("s"));
    let z = d.path().join("s.zip");
    zip_dir(&s, &z);
    let folder = run_lib(&Study::open(s.to_str().unwrap()).unwrap(), &settings(), None);
    let zipped = run_lib(&Study::open(z.to_str().unwrap()).unwrap(), &settings(), None);
    assert_eq!(folder.cells.len(), 4);
    for (a, b) in folder.cells.iter().zip(&zipped.cells) {
        assert_eq!(a.networks, b.networks);
        assert_eq!(a.metrics.isc.shared, b.metrics.isc.shared);
        assert_eq!(a.dev_vs_final, b.dev_vs_final);
    }
    // Their cache digests agree too (the same content is the same cell).
    let (sf, sz) = (
        Study::open(s.to_str().unwrap()).unwrap(),
        Study::open(z.to_str().unwrap()).unwrap(),
    );
    for i in 0..4 {
        assert_eq!(
            sf.cell_digest(i, &mut NoMemo).unwrap(),
            sz.cell_digest(i, &mut NoMemo).unwrap()
        );
    }
    // A `.npy` cell (one network) gives the same message in both.
    srmscope::data::write_npy_array_atomic(
        &s.join("one.npy"),
        &NpyArray::from_f64(&nets(1, UNITS)[0]),
    )
    .unwrap();
    set_manifest(&s, |m| m["cells"][0]["path"] = "one.npy".into());
    zip_dir(&s, &z);
    for input in [&s, &z] {
        let st = Study::open(input.to_str().unwrap()).unwrap();
        let e = st.load_cell(0, &LoadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("need at least 2 networks"), "{e}");
    }
}

// 11. A cached model that did not fit blamed the user's data.
#[test]
fn d11_a_cached_model_that_does_not_fit_is_a_miss() {
    let d = tmp();
    let a = study_with(&d.path().join("a"), "a", &["cnn"], UNITS);
    let b = study_with(&d.path().join("b"), "b", &["cnn"], UNITS + 4);
    let (ca, cb) = (d.path().join("ca"), d.path().join("cb"));
    for (s, c) in [(&a, &ca), (&b, &cb)] {
        let st = Study::open(s.to_str().unwrap()).unwrap();
        run_lib(&st, &settings(), Some(&Cache::open(c).unwrap()));
    }
    // Every model of a's cache replaced by one of b's (other widths).
    let from = std::fs::read_dir(cb.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "npz"))
        .unwrap();
    for e in std::fs::read_dir(ca.join("models")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "npz") {
            std::fs::copy(&from, &p).unwrap();
        }
    }
    // Another smoothing: the cells miss, the fits hit (and do not fit).
    let s2 = Settings {
        smooth: 4,
        ..settings()
    };
    let st = Study::open(a.to_str().unwrap()).unwrap();
    let got = run_lib(&st, &s2, Some(&Cache::open(&ca).unwrap()));
    let truth = run_lib(&st, &s2, None);
    for (g, t) in got.cells.iter().zip(&truth.cells) {
        assert_eq!(g.metrics.isc.shared, t.metrics.isc.shared);
        assert!(
            g.notes
                .iter()
                .any(|n| n.contains("study cache") && n.contains("does not fit")),
            "{:?}",
            g.notes
        );
    }
}

// 14. Raw terminal escapes in arch or layer names reached stdout and stderr.
#[test]
fn d14_control_characters_in_names_never_reach_the_terminal() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    set_manifest(&s, |m| {
        for c in m["cells"].as_array_mut().unwrap() {
            c["arch"] = "cnn\u{1b}]0;pwned\u{7}\u{1b}[2J".into();
            let l = c["layer"].as_str().unwrap().to_string();
            c["layer"] = format!("{l}\u{1b}[31m").into();
        }
    });
    let out = d.path().join("r.json");
    let o = run_guarded(study_cmd(&s, &out, &["--no-cache"]), 300);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!o.stdout.contains(&0x1b) && !o.stderr.contains(&0x1b));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\\u{1b}"));
    // And in an error naming a cell.
    std::fs::remove_file(s.join("cnn/e0/l1.npz")).unwrap();
    let o = run_guarded(study_cmd(&s, &out, &["--no-cache"]), 60);
    one_line_error(&o);
    assert!(!o.stderr.contains(&0x1b));
}

// Also seen: concurrent shards overwrote each other's digest memo.
#[test]
fn also_concurrent_memos_merge_on_write() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let st = Study::open(s.to_str().unwrap()).unwrap();
    let dir = d.path().join("cache");
    // Two processes' views of one cache, each opened before the other wrote.
    let (a, b) = (Cache::open(&dir).unwrap(), Cache::open(&dir).unwrap());
    a.cell_digest(&st, 0).unwrap();
    b.cell_digest(&st, 1).unwrap();
    a.save_memo().unwrap();
    b.save_memo().unwrap();
    let memo: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("digests.json")).unwrap()).unwrap();
    // Two cell files and the labels.
    assert_eq!(memo.len(), 3, "{:?}", memo.keys().collect::<Vec<_>>());
}

// The fuzz targets' entry points on their seed corpus (the fuzzers run in CI, `.ci/run`).
#[test]
fn fuzz_entry_points_on_their_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for e in std::fs::read_dir(root.join("study")).unwrap() {
        let b = std::fs::read(e.unwrap().path()).unwrap();
        let _ = Study::parse_manifest("seed/study.json", &b);
    }
    let full = std::fs::read(root.join("study/seed_full.json")).unwrap();
    assert_eq!(Study::parse_manifest("s", &full).unwrap().len(), 3);
    let conflict = std::fs::read(root.join("study/seed_conflict.json")).unwrap();
    assert!(Study::parse_manifest("s", &conflict).is_err());
    let b = std::fs::read(root.join("study_zip/seed_study.zip")).unwrap();
    let st = Study::from_zip_bytes("seed.zip", b, 64 << 20).unwrap();
    let opts = LoadOptions::default();
    for i in 0..st.cells.len() {
        let (ds, digest) = st.load_cell_digest(i, &opts).unwrap();
        assert_eq!(digest, st.cell_digest(i, &mut NoMemo).unwrap());
        assert_eq!(ds.class_names.as_deref().map(<[String]>::len), Some(3));
        assert!(ds.images.is_some(), "{:?}", ds.notes);
    }
    let b = std::fs::read(root.join("study_zip/seed_npy_cell.zip")).unwrap();
    let st = Study::from_zip_bytes("seed.zip", b, 64 << 20).unwrap();
    assert!(st.load_cell(0, &opts).is_err());
    // Every prefix of a zipped study (a truncated download) fails cleanly.
    let b = std::fs::read(root.join("study_zip/seed_study.zip")).unwrap();
    for cut in (0..b.len()).step_by(97) {
        if let Ok(st) = Study::from_zip_bytes("cut.zip", b[..cut].to_vec(), 1 << 20) {
            for i in 0..st.cells.len() {
                let _ = st.load_cell_digest(i, &opts);
            }
        }
    }
}
