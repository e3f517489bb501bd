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
                write_npz(
                    &dir.join(&rel),
                    &nets(100 * a as u64 + 10 * li as u64 + ck, units),
                );
                cells.push(serde_json::json!({"arch": arch, "layer": layer, "checkpoint": ck, "path": rel}));
            }
        }
    }
    let m = serde_json::json!({"name": name, "labels": "labels.npy", "cells": cells});
    std::fs::write(
        dir.join("study.json"),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
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
    c.args([
        "study",
        study.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
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

// 2. Class names were read with no file-type or size check.
#[test]
fn d02_class_names_fifo_and_device_are_refused() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let fifo = d.path().join("names.txt");
    mkfifo(&fifo);
    let zero = d.path().join("zero.txt");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    for (p, kind) in [(&fifo, "FIFO"), (&zero, "a device")] {
        let e = srmscope::data::read_class_names_file(p)
            .unwrap_err()
            .to_string();
        assert!(e.contains(kind) && e.contains("not a regular file"), "{e}");
        assert!(!e.contains("expected a .npy"), "not about activations: {e}");
        // `fit` opens without the names and says so.
        let mut c = bin();
        c.args(["fit", s.join("cnn/e0/l1.npz").to_str().unwrap()]);
        c.args(["--class-names", p.to_str().unwrap(), "--bootstrap", "0"]);
        c.args(["--out", d.path().join("m.npz").to_str().unwrap()]);
        let o = run_guarded(c, 120);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains(kind), "{}", stderr(&o));
    }
    // A study's class_names FIFO, without the cache: a note, not a hang.
    std::fs::rename(&fifo, s.join("names.txt")).unwrap();
    set_manifest(&s, |m| m["class_names"] = "names.txt".into());
    let out = d.path().join("r.json");
    let o = run_guarded(study_cmd(&s, &out, &["--no-cache"]), 120);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("FIFO"), "{}", stderr(&o));
    // Not UTF-8: the same note from a folder and from a zip.
    std::fs::remove_file(s.join("names.txt")).unwrap();
    std::fs::write(s.join("names.txt"), b"cat\n\xff\xfedog\n").unwrap();
    let z = d.path().join("s.zip");
    zip_dir(&s, &z);
    for input in [s.clone(), z] {
        let st = Study::open(input.to_str().unwrap()).unwrap();
        assert_eq!(st.class_names(), None);
        let ds = st.load_cell(0, &LoadOptions::default()).unwrap();
        assert!(ds.class_names.is_none());
        assert!(
            ds.notes.iter().any(|n| n.contains("UTF-8")),
            "{:?}",
            ds.notes
        );
    }
}

// 3. Zip bomb: members are inflated only when read, never past --max-memory.
#[test]
fn d03_zip_members_are_capped_and_unused_ones_never_inflated() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    // 8 MB of zeros deflate to a few kB.
    std::fs::write(s.join("junk.bin"), vec![0u8; 8 << 20]).unwrap();
    let z = d.path().join("s.zip");
    zip_dir(&s, &z);
    let out = d.path().join("r.json");
    // Unused: the study runs under a 2 MB limit.
    let o = run_guarded(
        {
            let mut c = study_cmd(&z, &out, &["--no-cache", "--max-memory", "2M"]);
            c.args(["--jobs", "1"]);
            c
        },
        300,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Used as a cell: refused before it is inflated, naming the member and the limit.
    set_manifest(&s, |m| m["cells"][0]["path"] = "junk.bin".into());
    zip_dir(&s, &z);
    let o = run_guarded(
        study_cmd(&z, &out, &["--no-cache", "--max-memory", "2M"]),
        120,
    );
    let e = one_line_error(&o);
    assert!(e.contains("junk.bin") && e.contains("--max-memory"), "{e}");
    // The library: the same cap.
    let st = Study::open_with(z.to_str().unwrap(), 2 << 20).unwrap();
    let err = st
        .load_cell(0, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("inflates to"), "{err}");
}

// 4. `--shard I/N` accepted any N.
#[test]
fn d04_shard_n_is_bounded() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let out = d.path().join("r.json");
    for shard in [
        "1/1099511627776",
        "18446744073709551615/18446744073709551615",
    ] {
        let o = run_guarded(study_cmd(&s, &out, &["--shard", shard, "--no-cache"]), 60);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.len() < 2000 && e.contains("--shard"), "{e}");
    }
    let o = run_guarded(
        study_cmd(&s, &out, &["--shard", "1/1000000", "--no-cache"]),
        60,
    );
    let e = one_line_error(&o);
    assert!(e.len() < 300 && e.contains("4 cells"), "{e}");
    // A shard file that claims a huge N is refused at merge, without allocating for it.
    let o = run_guarded(study_cmd(&s, &out, &["--shard", "1/2", "--no-cache"]), 120);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    v["shard"] = serde_json::json!([1u64, 1099511627776u64]);
    let bad = d.path().join("bad.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    let mut c = bin();
    c.args(["study", "--merge", bad.to_str().unwrap(), "--out"]);
    c.arg(d.path().join("m.json"));
    let e = one_line_error(&run_guarded(c, 60));
    assert!(e.len() < 300 && e.contains("bad.json"), "{e}");
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
    c.args(["study", "--merge"])
        .arg(&sa)
        .arg(&sb)
        .arg("--out")
        .arg(&merged);
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
    c.args(["study", "--merge"])
        .arg(&oa1)
        .arg(&oa2)
        .arg("--out")
        .arg(&merged);
    let o = run_guarded(c, 60);
    assert!(o.status.success(), "{}", stderr(&o));
    // ...but not with new ones.
    let mut c = bin();
    c.args(["study", "--merge"])
        .arg(&oa1)
        .arg(&sa2)
        .arg("--out")
        .arg(&merged);
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
        c0.notes
            .iter()
            .any(|n| n.contains("changed while the study ran")),
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
                c.notes
                    .iter()
                    .any(|n| n.contains("dev_vs_final not computed")),
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
                let p = c["path"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches(".npz")
                    .to_string();
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
    let folder = run_lib(
        &Study::open(s.to_str().unwrap()).unwrap(),
        &settings(),
        None,
    );
    let zipped = run_lib(
        &Study::open(z.to_str().unwrap()).unwrap(),
        &settings(),
        None,
    );
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
        let e = st
            .load_cell(0, &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("need at least 2 networks"), "{e}");
    }
}

// 9. `--figures` was checked after the whole study had run.
#[test]
fn d09_figures_path_is_checked_before_any_work() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let out = d.path().join("r.json");
    let file = d.path().join("existing_file");
    std::fs::write(&file, b"x").unwrap();
    let o = run_guarded(
        study_cmd(
            &s,
            &out,
            &["--no-cache", "--figures", file.to_str().unwrap()],
        ),
        60,
    );
    let e = one_line_error(&o);
    assert!(e.contains("--figures") && e.contains("not a folder"), "{e}");
    // Nothing ran: no results were written.
    assert!(!out.exists());
    let missing = d.path().join("no/such/dir");
    let o = run_guarded(
        study_cmd(
            &s,
            &out,
            &["--no-cache", "--figures", missing.to_str().unwrap()],
        ),
        60,
    );
    one_line_error(&o);
    assert!(!out.exists());
}

// 10. Study images: dropped without a word, and decoded again for every cell.
#[test]
fn d10_study_images_are_read_once_and_problems_reported() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let img = ndarray::Array3::<f64>::from_shape_fn((N, 4, 4), |(i, y, x)| (i + y + x) as f64);
    let imgs = srmscope::data::NpyArray::from_f64(&img);
    srmscope::data::write_npy_array_atomic(&s.join("images.npy"), &imgs).unwrap();
    set_manifest(&s, |m| m["images"] = "images.npy".into());
    let st = Study::open(s.to_str().unwrap()).unwrap();
    let a = st.load_cell(0, &LoadOptions::default()).unwrap();
    let b = st.load_cell(1, &LoadOptions::default()).unwrap();
    let (a, b) = (a.images.unwrap(), b.images.unwrap());
    assert!(
        std::sync::Arc::ptr_eq(&a, &b),
        "decoded once for every cell"
    );

    // The wrong count: a note on stderr and in the results.
    let wrong = ndarray::Array3::<f64>::zeros((N - 1, 4, 4)) + 1.0;
    srmscope::data::write_npy_array_atomic(&s.join("images.npy"), &NpyArray::from_f64(&wrong))
        .unwrap();
    let out = d.path().join("r.json");
    let o = run_guarded(study_cmd(&s, &out, &["--no-cache"]), 300);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("images.npy"), "{}", stderr(&o));
    let r = read_results(&out);
    assert!(r.cells[0].notes.iter().any(|n| n.contains("images.npy")));
    // A FIFO: a note, not a hang.
    std::fs::remove_file(s.join("images.npy")).unwrap();
    mkfifo(&s.join("images.npy"));
    let o = run_guarded(study_cmd(&s, &out, &["--no-cache"]), 300);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("FIFO"), "{}", stderr(&o));
    assert!(read_results(&out).cells[0]
        .notes
        .iter()
        .any(|n| n.contains("FIFO")));
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

// 12. `--knn` was clamped silently.
#[test]
fn d12_knn_zero_is_refused_and_clamping_is_recorded() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let out = d.path().join("r.json");
    let e = one_line_error(&run_guarded(
        study_cmd(&s, &out, &["--knn", "0", "--no-cache"]),
        60,
    ));
    assert!(e.contains("--knn"), "{e}");
    let o = run_guarded(study_cmd(&s, &out, &["--knn", "1000", "--no-cache"]), 300);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("--knn 1000"), "{}", stderr(&o));
    let r = read_results(&out);
    let c: &CellResult = &r.cells[0];
    let used = c.metrics.uncertainty.as_ref().unwrap().knn;
    assert_eq!(used, c.n_test - 1);
    assert!(c.notes.iter().any(|n| n.contains("--knn 1000")));
}

/// Sets the general-purpose flag or the method of every entry of a zip (local and central
/// headers), to make encrypted or LZMA archives without an encrypting writer.
fn patch_zip(p: &Path, encrypt: bool) {
    let mut b = std::fs::read(p).unwrap();
    let mut i = 0;
    while i + 4 <= b.len() {
        let sig = &b[i..i + 4];
        let (flag, method) = if sig == b"PK\x03\x04" {
            (i + 6, i + 8)
        } else if sig == b"PK\x01\x02" {
            (i + 8, i + 10)
        } else {
            i += 1;
            continue;
        };
        if encrypt {
            b[flag] |= 1;
        } else {
            b[method] = 14;
            b[method + 1] = 0;
        }
        i += 4;
    }
    std::fs::write(p, b).unwrap();
}

// 13. Unclear messages.
#[test]
fn d13_messages_say_what_is_wrong() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let out = d.path().join("r.json");
    let npz = s.join("cnn/e0/l1.npz");
    let e = one_line_error(&run_guarded(study_cmd(&npz, &out, &[]), 60));
    assert!(
        e.contains("not a study") && !e.contains("expected value"),
        "{e}"
    );
    let mut c = bin();
    c.arg("info").arg(&s);
    let e = one_line_error(&run_guarded(c, 60));
    assert!(e.contains("a study") && e.contains("srmscope study"), "{e}");
    let mut c = bin();
    c.args(["fit", "demo:digits-study", "--out"])
        .arg(d.path().join("m.npz"));
    let e = one_line_error(&run_guarded(c, 60));
    assert!(e.contains("a study") && !e.contains("unknown demo"), "{e}");
    for (encrypt, words) in [(true, "encrypted"), (false, "LZMA")] {
        let z = d.path().join(format!("z{encrypt}.zip"));
        zip_dir(&s, &z);
        patch_zip(&z, encrypt);
        let e = one_line_error(&run_guarded(study_cmd(&z, &out, &["--no-cache"]), 60));
        assert!(e.contains(words) && !e.contains("damaged"), "{e}");
    }
    let mut c = bin();
    c.args(["info", "demo:digits", "--max-memory", "99999999999T"]);
    let e = stderr(&run_guarded(c, 60));
    assert!(e.contains("too large") && !e.contains("positive"), "{e}");
    let mut c = bin();
    c.args(["fit", "--max-memory", "1K"]).arg(&npz);
    c.arg("--out").arg(d.path().join("m.npz"));
    let e = one_line_error(&run_guarded(c, 60));
    assert!(
        e.contains("--max-memory") && !e.contains("this machine"),
        "{e}"
    );
    // One unit that varies: the message has no run of spaces.
    let mut x = nets(3, UNITS);
    x[1].columns_mut()
        .into_iter()
        .skip(1)
        .for_each(|mut c| c.fill(1.0));
    let one = d.path().join("one_varies.npz");
    write_npz(&one, &x);
    let mut c = bin();
    c.args(["fit", one.to_str().unwrap(), "--normalize", "none", "--out"]);
    c.arg(d.path().join("m.npz"));
    let e = stderr(&run_guarded(c, 60));
    assert!(e.contains("vary") && !e.contains("   "), "{e}");
    // Constant and all-NaN images.
    let cst = NpyArray::from_f64(&(ndarray::Array3::<f64>::zeros((4, 3, 3)) + 7.0));
    srmscope::data::write_npy_array_atomic(&d.path().join("c.npy"), &cst).unwrap();
    let (_, note) = srmscope::data::read_images_file(&d.path().join("c.npy")).unwrap();
    let note = note.unwrap();
    assert!(
        note.contains("every pixel value is 7") && !note.contains("[0.0000"),
        "{note}"
    );
    let nan = NpyArray::from_f64(&(ndarray::Array3::<f64>::zeros((4, 3, 3)) * f64::NAN));
    srmscope::data::write_npy_array_atomic(&d.path().join("n.npy"), &nan).unwrap();
    let e = srmscope::data::read_images_file(&d.path().join("n.npy"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no finite"), "{e}");
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

// Also seen: an unwritable cache aborted the study after fitting.
#[test]
fn also_an_unwritable_cache_is_a_warning() {
    let d = tmp();
    let s = small_study(&d.path().join("s"));
    let out = d.path().join("r.json");
    // A file where the cache's folders should go: it cannot be opened...
    let cache = d.path().join("cache");
    std::fs::write(&cache, b"not a folder").unwrap();
    let o = run_guarded(
        study_cmd(&s, &out, &["--cache", cache.to_str().unwrap()]),
        300,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: study cache"),
        "{}",
        stderr(&o)
    );
    assert!(out.exists());
    // ...or opened but not written: one warning, and the results.
    let cache = d.path().join("cache2");
    std::fs::create_dir_all(cache.join("cells")).unwrap();
    std::fs::write(cache.join("models"), b"not a folder").unwrap();
    std::fs::remove_file(&out).unwrap();
    let o = run_guarded(
        study_cmd(&s, &out, &["--cache", cache.to_str().unwrap()]),
        300,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.matches("warning: study cache").count(), 1, "{e}");
    assert!(out.exists());
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

// Also seen: Ctrl-C exited 1, not 130.
#[test]
fn also_ctrl_c_exits_130() {
    let d = tmp();
    let s = study_with(&d.path().join("s"), "big", &["a", "b", "c", "d", "e"], 40);
    let out = d.path().join("r.json");
    // Far more work than 1.5 s: the signal always arrives mid-fit.
    let mut c = study_cmd(
        &s,
        &out,
        &["--no-cache", "--jobs", "1", "--iters", "100000"],
    );
    let mut child = c
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: signalling our own child by its id.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("did not stop after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(130));
    assert!(!out.exists());
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
