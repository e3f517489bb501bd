//! Regression tests for the fault sweep of issue 9 ("Nothing lost, nothing destroyed"): one
//! test per numbered defect, named after it, mostly through the binary as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use approx::AbsDiffEq;
use ndarray::Array2;
use srmscope::analysis::{self, Normalize, Settings};
use srmscope::data::{read_npz, write_npy_atomic, write_npz_atomic, NpyArray};
use srmscope::progress::silent;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_srmscope"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

/// Only there so that a run that never ends (a FIFO opened for reading, a count that was not
/// refused) fails the test instead of hanging the suite; no test here asserts a speed.
const HANG_GUARD: Duration = Duration::from_secs(600);

/// Waits for `child` to exit; kills it and fails, saying `what` hung, after [`HANG_GUARD`].
fn wait_or_hung(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} hung: still running after {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`run`] behind the hang guard.
fn run_guarded(args: &[&str]) -> Output {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Drained on threads so that a chatty child never blocks on a full pipe.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                r.read_to_end(&mut buf).unwrap();
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|r| Box::new(r) as _));
    let err = drain(child.stderr.take().map(|r| Box::new(r) as _));
    let status = wait_or_hung(&mut child, &format!("srmscope {}", args.join(" ")));
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Waits until process `pid` catches SIGINT and SIGTERM (its handlers are installed, so a
/// signal now cancels the command instead of killing it), as /proc/PID/status reports.
fn wait_for_signal_handlers(pid: u32) {
    // Bit n-1 of SigCgt is signal n: SIGINT is 2, SIGTERM 15.
    const WANTED: u64 = (1 << (2 - 1)) | (1 << (15 - 1));
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_else(|e| panic!("process {pid} ended before its handlers showed: {e}"));
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap_or(0);
        if caught & WANTED == WANTED {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} hung before installing its signal handlers"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The one line of a failed run (asserts failure and a single `error:` line).
fn fails(o: &Output) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "must fail: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    errors[0].to_string()
}

/// Three planted networks as .npy files in `dir` (a, b, c) plus labels, `t` images.
fn planted_files(dir: &Path, t: usize) -> Vec<String> {
    let ds = common::planted(3, &[12, 10, 8], 4, t, 0.1, 7);
    let mut out = Vec::new();
    for (name, net) in ["a", "b", "c"].iter().zip(&ds.networks) {
        let p = dir.join(format!("{name}.npy"));
        write_npy_atomic(&p, &net.data.to_f64()).unwrap();
        out.push(p.display().to_string());
    }
    out
}

fn fifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(ok.success());
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

fn temp_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".srmscope-"))
        .collect()
}

// 1. -------------------------------------------------------------------------------------------

#[test]
fn d1_rename_never_replaces_a_device_fifo_or_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 60);
    // A FIFO stands in for a device node (mknod needs root); both are "not a regular file".
    let fake = dir.path().join("fakenull.npz");
    fifo(&fake);
    let mut args = vec!["fit"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--iters", "2", "--out", s(&fake)]);
    let line = fails(&run(&args));
    assert!(
        line.contains("fakenull.npz") && line.contains("not") && line.contains("FIFO"),
        "{line}"
    );
    assert!(is_fifo(&fake), "the FIFO is still there");
    // The real null device is refused too, without touching it.
    let line = fails(&run(&[
        "fit",
        &files[0],
        &files[1],
        "--metrics",
        "/dev/null",
        "--out",
        s(&dir.path().join("m.npz")),
    ]));
    assert!(
        line.contains("/dev/null") && line.contains("device"),
        "{line}"
    );
    assert!(!dir.path().join("m.npz").exists());

    // A symlink is written through: the link stays, its target gets the model.
    let real = dir.path().join("real.npz");
    let link = dir.path().join("link.npz");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    std::fs::write(&real, b"old").unwrap();
    let mut args = vec!["fit"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--iters", "2", "--out", s(&link)]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(srmscope::align::model_io::load_model(&real).is_ok());

    // Export checks its output the same way, before loading anything.
    let gif = dir.path().join("anim.gif");
    fifo(&gif);
    let line = fails(&run(&["export", "missing.npy", "--out", s(&gif)]));
    assert!(line.contains("anim.gif") && line.contains("FIFO"), "{line}");
    assert!(is_fifo(&gif));
}

// 2. -------------------------------------------------------------------------------------------

#[test]
fn d2_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 60);
    let before = std::fs::read(&files[0]).unwrap();
    let line = fails(&run(&["fit", &files[0], &files[1], "--out", &files[0]]));
    assert!(line.contains(".npz"), "{line}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), before, "input untouched");

    // Same file under an .npz name (a hard link) and an .npz input written over itself.
    let npz = dir.path().join("nets.npz");
    let ds = common::planted(3, &[6, 6, 6], 3, 40, 0.1, 1);
    let arrays: Vec<(String, NpyArray)> = ds
        .networks
        .iter()
        .map(|n| (n.name.clone(), NpyArray::from_f64(&n.data.to_f64())))
        .collect();
    write_npz_atomic(&npz, &arrays).unwrap();
    let before = std::fs::read(&npz).unwrap();
    let line = fails(&run(&["fit", s(&npz), "--out", s(&npz)]));
    assert!(line.contains("input"), "{line}");
    let alias = dir.path().join("alias.npz");
    std::fs::hard_link(&files[1], &alias).unwrap();
    let line = fails(&run(&["fit", &files[0], &files[1], "--out", s(&alias)]));
    assert!(line.contains("input"), "{line}");
    assert_eq!(std::fs::read(&npz).unwrap(), before);
    // Inside a folder input too (alias.npz is b.npy under another name).
    let line = fails(&run(&["fit", s(dir.path()), "--out", s(&alias)]));
    assert!(line.contains("input"), "{line}");
    // But a file the folder load does not read is a fine output.
    let o = run(&["fit", s(dir.path()), "--iters", "1", "--out", s(&npz)]);
    assert!(o.status.success(), "{}", stderr(&o));
}

// 3. -------------------------------------------------------------------------------------------

#[test]
fn d3_huge_counts_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 40);
    let out = dir.path().join("m.npz");
    for extra in [
        &["--iters", "10000000000"][..],
        &["--iters", "18446744073709551615"][..],
        &["--algo", "det", "--iters", "18446744073709551615"][..],
        &["--iters", "0"][..],
        &["--k", "18446744073709551615"][..],
        &["--smooth", "18446744073709551615"][..],
    ] {
        let mut args = vec!["fit", &files[0], &files[1]];
        args.extend_from_slice(extra);
        args.extend(["--out", s(&out)]);
        // Refused by the settings check, naming the option, before anything is sized by it
        // (one not refused would run for hours, which the hang guard reports).
        let line = fails(&run_guarded(&args));
        let flag = extra[extra.len() - 2];
        assert!(line.contains(flag), "{extra:?}: {line}");
        assert!(!line.contains("allocation"), "{line}");
    }
    let line = fails(&run(&[
        "fit",
        &files[0],
        &files[1],
        "--iters",
        "100001",
        "--out",
        s(&out),
    ]));
    assert!(line.contains("100000"), "{line}");
    for extra in [
        &["--m", "18446744073709551615"][..],
        &["--v", "18446744073709551615"][..],
        &["--iters", "18446744073709551615"][..],
        &["--m", "4", "--v", "100000", "--t", "10000000"][..],
    ] {
        let mut args = vec!["bench"];
        args.extend_from_slice(extra);
        let line = fails(&run(&args));
        assert!(!line.contains("capacity"), "{line}");
    }
    // Export goes through the same settings check.
    let line = fails(&run(&[
        "export",
        &files[0],
        &files[1],
        "--iters",
        "10000000000",
        "--out",
        s(&dir.path().join("a.gif")),
    ]));
    assert!(line.contains("--iters"), "{line}");
}

// 4. -------------------------------------------------------------------------------------------

#[test]
fn d4_labels_follow_the_clipped_smoothing_window() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 50);
    let labels: Vec<i64> = (0..50).collect();
    let lab = dir.path().join("L.npy");
    srmscope::data::write_npy_array_atomic(
        &lab,
        &NpyArray::I64 {
            shape: vec![50],
            data: labels,
        },
    )
    .unwrap();
    let model = dir.path().join("m.npz");
    let o = run(&[
        "fit",
        &files[0],
        &files[1],
        &files[2],
        "--iters",
        "2",
        "--out",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("t.npz");
    let o = run(&[
        "transform",
        s(&model),
        &files[0],
        &files[1],
        &files[2],
        "--labels",
        s(&lab),
        "--smooth",
        "60",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("clipped from 60 to 50"),
        "{}",
        stderr(&o)
    );
    let arrays = read_npz(&out).unwrap();
    let rows: Vec<usize> = arrays
        .iter()
        .filter(|(n, _)| n != "labels")
        .map(|(_, a)| a.shape()[0])
        .collect();
    assert_eq!(rows, vec![1, 1, 1], "the window covers all 50 images once");
    let (_, l) = arrays.iter().find(|(n, _)| n == "labels").unwrap();
    assert_eq!(
        l.to_i64().unwrap().iter().copied().collect::<Vec<_>>(),
        vec![25]
    );
}

// 5. -------------------------------------------------------------------------------------------

fn fit_error(ds: &srmscope::data::Dataset, s: &Settings) -> String {
    match silent(|p| analysis::run(ds, s, p)) {
        Ok(out) => panic!("must be refused, got metrics {:?}", out.metrics.isc),
        Err(e) => e.to_string(),
    }
}

#[test]
fn d5_degenerate_inputs_are_refused_never_nan() {
    // One unit per network.
    let ds = common::planted(3, &[1], 1, 60, 0.1, 3);
    let e = fit_error(&ds, &Settings::default());
    assert!(e.contains("at least 2 units"), "{e}");
    // An all-constant network.
    let mut ds = common::planted(3, &[8], 3, 60, 0.1, 3);
    ds.networks[1].data.as_f64_mut().unwrap().fill(2.5);
    for normalize in [Normalize::Row, Normalize::Unit, Normalize::None] {
        let s = Settings {
            normalize,
            ..Default::default()
        };
        let e = fit_error(&ds, &s);
        assert!(e.contains("synthetic:net1"), "{e}");
    }
    // Row z-scoring of an image that is constant across units.
    let mut ds = common::planted(3, &[8], 3, 60, 0.1, 3);
    ds.networks[0]
        .data
        .as_f64_mut()
        .unwrap()
        .row_mut(7)
        .fill(1.0);
    let e = fit_error(&ds, &Settings::default());
    assert!(e.contains("image 7") && e.contains("--normalize"), "{e}");
    // --max-units 1, through the binary.
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 40);
    let line = fails(&run(&[
        "fit",
        &files[0],
        &files[1],
        "--max-units",
        "1",
        "--out",
        s(&dir.path().join("m.npz")),
    ]));
    assert!(line.contains("--max-units"), "{line}");
    // A healthy fit reports no NaN anywhere.
    let ds = common::planted(3, &[8], 3, 60, 0.1, 3);
    let out = silent(|p| analysis::run(&ds, &Settings::default(), p)).unwrap();
    let json = serde_json::to_value(&out.metrics).unwrap();
    let mut nulls = Vec::new();
    null_paths(&json, "", &mut nulls);
    // Leave-one-network-out RSA is computed in shared space only; every other null would be
    // a NaN.
    nulls.retain(|p| p != "/rsa/leave_one_network_out/native");
    assert!(nulls.is_empty(), "null (NaN) at {nulls:?}");
}

/// JSON pointers of every null below `v`.
fn null_paths(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Null => out.push(at.to_string()),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                null_paths(x, &format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                null_paths(x, &format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

// 6. -------------------------------------------------------------------------------------------

/// A fitted model file in `dir` and its arrays.
fn model_arrays(dir: &Path, max_units: usize) -> (PathBuf, Vec<(String, NpyArray)>, Vec<String>) {
    let files = planted_files(dir, 60);
    let model = dir.join("model.npz");
    let o = run(&[
        "fit",
        &files[0],
        &files[1],
        &files[2],
        "--iters",
        "3",
        "--max-units",
        &max_units.to_string(),
        "--out",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let arrays = read_npz(&model).unwrap();
    (model, arrays, files)
}

fn with_changed(
    arrays: &[(String, NpyArray)],
    name: &str,
    new: Option<NpyArray>,
) -> Vec<(String, NpyArray)> {
    let mut out: Vec<(String, NpyArray)> =
        arrays.iter().filter(|(n, _)| n != name).cloned().collect();
    if let Some(a) = new {
        out.push((name.to_string(), a));
    }
    out
}

#[test]
fn d6_corrupt_models_are_refused() {
    use srmscope::analysis::model_file;
    let dir = tempfile::tempdir().unwrap();
    let (_, arrays, _) = model_arrays(dir.path(), 9);
    let w0 = arrays.iter().find(|(n, _)| n == "w_0").unwrap().1.clone();
    let units0 = arrays
        .iter()
        .find(|(n, _)| n == "units_0")
        .unwrap()
        .1
        .clone();
    let NpyArray::F64 { shape, mut data } = w0 else {
        panic!("w_0 is float")
    };
    let n_units = shape[0];
    type Case<'a> = (&'a str, Vec<(String, NpyArray)>, &'a str);
    let mut cases: Vec<Case> = Vec::new();
    for bad in [f64::NAN, f64::INFINITY] {
        data[3] = bad;
        cases.push((
            "nan",
            with_changed(
                &arrays,
                "w_0",
                Some(NpyArray::F64 {
                    shape: shape.clone(),
                    data: data.clone(),
                }),
            ),
            "NaN",
        ));
    }
    let NpyArray::I64 { data: idx, .. } = units0 else {
        panic!("units_0 is int")
    };
    let mut neg = idx.clone();
    neg[0] = -3;
    cases.push((
        "negative",
        with_changed(
            &arrays,
            "units_0",
            Some(NpyArray::I64 {
                shape: vec![n_units],
                data: neg,
            }),
        ),
        "negative",
    ));
    cases.push((
        "float units",
        with_changed(
            &arrays,
            "units_0",
            Some(NpyArray::F64 {
                shape: vec![n_units],
                data: idx.iter().map(|&v| v as f64).collect(),
            }),
        ),
        "integer",
    ));
    cases.push((
        "short units",
        with_changed(
            &arrays,
            "units_0",
            Some(NpyArray::I64 {
                shape: vec![n_units - 1],
                data: idx[..n_units - 1].to_vec(),
            }),
        ),
        "units_0 lists",
    ));
    cases.push((
        "bad params",
        with_changed(&arrays, "params", Some(NpyArray::string("{not json"))),
        "params",
    ));
    cases.push((
        "bad settings",
        with_changed(
            &arrays,
            "settings",
            Some(NpyArray::string("{\"n_iter\": \"ten\"}")),
        ),
        "settings",
    ));
    for (what, arrays, expect) in cases {
        let p = dir.path().join("bad.npz");
        write_npz_atomic(&p, &arrays).unwrap();
        let e = model_file::load(&p)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("bad.npz") && e.contains(expect), "{what}: {e}");
    }
}

#[test]
fn d6_transform_matches_networks_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _, files) = model_arrays(dir.path(), 0);
    let in_order = dir.path().join("o.npz");
    let shuffled = dir.path().join("s.npz");
    for (out, order) in [(&in_order, [0, 1, 2]), (&shuffled, [2, 0, 1])] {
        let o = run(&[
            "transform",
            s(&model),
            &files[order[0]],
            &files[order[1]],
            &files[order[2]],
            "--out",
            s(out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        if order != [0, 1, 2] {
            assert!(
                stderr(&o).contains("matched to the model by name"),
                "{}",
                stderr(&o)
            );
        }
    }
    assert_eq!(read_npz(&in_order).unwrap(), read_npz(&shuffled).unwrap());
    // Partly matching names are refused.
    let other = dir.path().join("zz.npy");
    std::fs::copy(&files[2], &other).unwrap();
    let line = fails(&run(&[
        "transform",
        s(&model),
        &files[0],
        &files[1],
        s(&other),
        "--out",
        s(&dir.path().join("x.npz")),
    ]));
    assert!(line.contains("only in part"), "{line}");
}

// 7. -------------------------------------------------------------------------------------------

#[test]
fn d7_interrupt_and_stale_temp_files_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that 100000 det iterations are still running when the signal arrives.
    let ds = common::planted(3, &[200], 20, 400, 0.5, 5);
    let mut files = Vec::new();
    for (i, net) in ds.networks.iter().enumerate() {
        let p = dir.path().join(format!("n{i}.npy"));
        write_npy_atomic(&p, &net.data.to_f64()).unwrap();
        files.push(p.display().to_string());
    }
    // What a KILLed run leaves: a temp file named with a pid that no longer exists.
    let stale = dir.path().join(".srmscope-4194303-abcdef.tmp");
    std::fs::write(&stale, b"partial").unwrap();
    let stale_dir = dir.path().join(".srmscope-4194303-frames-xyz");
    std::fs::create_dir(&stale_dir).unwrap();
    std::fs::write(stale_dir.join("frame_00000.png"), b"x").unwrap();

    let out = dir.path().join("m.npz");
    for signal in ["-INT", "-TERM"] {
        let mut child = bin()
            .args(["fit", &files[0], &files[1], &files[2]])
            .args(["--algo", "det", "--iters", "100000", "--out", s(&out)])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_signal_handlers(child.id());
        let ok = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = wait_or_hung(&mut child, &format!("the fit after {signal}"));
        assert!(!status.success());
        assert!(!out.exists(), "nothing published after {signal}");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(err.contains("cancelled"), "{signal}: {err}");
    }
    // The next successful write in the folder sweeps what the dead run left.
    let o = run(&[
        "fit",
        &files[0],
        &files[1],
        "--iters",
        "1",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(temp_leftovers(dir.path()), Vec::<String>::new());
}

// 8. -------------------------------------------------------------------------------------------

#[test]
fn d8_options_and_outputs_are_checked_before_loading() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 40);
    let model = dir.path().join("m.npz");
    // A missing input would be reported by the loader; the option errors must come first.
    let missing = s(&dir.path().join("nothing.npy")).to_string();
    for (args, expect) in [
        (
            vec![
                "fit",
                &missing,
                "--out",
                s(&model),
                "--metrics",
                "/missing/m.json",
            ],
            "/missing",
        ),
        (vec!["fit", &missing, "--out", "/missing/m.npz"], "/missing"),
        (
            vec!["export", &missing, "--out", "/missing/a.gif"],
            "/missing",
        ),
        (
            vec!["export", &missing, "--size", "5x5", "--out", "a.gif"],
            "--size",
        ),
        (
            vec!["export", &missing, "--frames", "0", "--out", "a.gif"],
            "--frames",
        ),
    ] {
        let line = fails(&run(&args));
        assert!(
            line.contains(expect) && !line.contains("nothing.npy"),
            "{line}"
        );
    }
    // --metrics in a missing folder leaves no model behind.
    let line = fails(&run(&[
        "fit",
        &files[0],
        &files[1],
        "--out",
        s(&model),
        "--metrics",
        "/missing/m.json",
    ]));
    assert!(line.contains("/missing"), "{line}");
    assert!(!model.exists());
}

// 9. -------------------------------------------------------------------------------------------

#[test]
fn d9_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 40);
    let gif = s(&dir.path().join("a.gif")).to_string();
    for (flag, value) in [
        ("--elevation", "NaN"),
        ("--elevation", "400"),
        ("--zoom", "NaN"),
        ("--zoom", "0"),
        ("--tol", "NaN"),
        ("--tol", "=-1"),
        ("--test-fraction", "NaN"),
        ("--duration", "inf"),
    ] {
        let arg = match value.strip_prefix('=') {
            Some(v) => format!("{flag}={v}"),
            None => format!("{flag}={value}"),
        };
        let line = fails(&run(&["export", &files[0], &files[1], &arg, "--out", &gif]));
        assert!(line.contains(flag), "{flag} {value}: {line}");
    }
    let model = dir.path().join("m.npz");
    let o = run(&[
        "fit",
        &files[0],
        &files[1],
        "--algo",
        "procrustes",
        "--iters",
        "50",
        "--out",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--iters and --tol are ignored"),
        "{}",
        stderr(&o)
    );
    let line = fails(&run(&[
        "transform",
        s(&model),
        &files[0],
        &files[1],
        "--pca",
        "0",
        "--out",
        s(&dir.path().join("t.npz")),
    ]));
    assert!(line.contains("--pca"), "{line}");
}

// 10. ------------------------------------------------------------------------------------------

#[test]
fn d10_fifo_inputs_are_refused_or_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 40);
    let pipe = dir.path().join("pipe.npy");
    fifo(&pipe);
    // Opening a FIFO for reading blocks until a writer comes: the hang guard reports that.
    let line = fails(&run_guarded(&["info", &files[0], s(&pipe)]));
    assert!(line.contains("pipe.npy") && line.contains("FIFO"), "{line}");
    let line = fails(&run_guarded(&[
        "info",
        &files[0],
        &files[1],
        "--labels",
        s(&pipe),
    ]));
    assert!(line.contains("pipe.npy") && line.contains("FIFO"), "{line}");
    // In a folder it is skipped, and the user is told.
    let o = run_guarded(&["info", s(dir.path())]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("pipe.npy: skipped"), "{}", stderr(&o));
}

// 11. ------------------------------------------------------------------------------------------

/// An .npy file from a raw header dict and data bytes.
fn raw_npy(path: &Path, dict: &str, data: &[u8]) {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn d11_messages_are_single_exact_and_printable() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 40);

    // An I/O error names its cause once.
    let line = fails(&run(&["fit", &files[0], &files[1], "--out", "/proc/m.npz"]));
    assert_eq!(line.matches("(os error").count(), 1, "{line}");
    // A read error: /proc/self/mem cannot be read from offset 0.
    let mem = dir.path().join("mem.npz");
    std::os::unix::fs::symlink("/proc/self/mem", &mem).unwrap();
    let line = fails(&run(&["info", s(&mem)]));
    assert_eq!(line.matches("(os error").count(), 1, "{line}");

    // (0, 10¹³, 10¹³) is empty, not huge.
    let empty = dir.path().join("empty.npy");
    raw_npy(
        &empty,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 10000000000000, 10000000000000), }",
        b"",
    );
    let line = fails(&run(&["info", &files[0], s(&empty)]));
    assert!(line.contains("0 images") && !line.contains("GB"), "{line}");

    // Duplicate and unknown header keys.
    for (name, dict) in [
        (
            "dup.npy",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'shape': (1, 4), }",
        ),
        (
            "extra.npy",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'x': 1, }",
        ),
    ] {
        let p = dir.path().join(name);
        raw_npy(&p, dict, &[0u8; 32]);
        let line = fails(&run(&["info", &files[0], s(&p)]));
        assert!(
            line.contains(name) && line.contains("corrupt .npy header"),
            "{line}"
        );
    }

    // An LZMA member is named; member names with control characters are escaped.
    let zipped = dir.path().join("odd.npz");
    let npy = std::fs::read(&files[0]).unwrap();
    let script = "import zipfile,sys\n\
         z=zipfile.ZipFile(sys.argv[1],'w')\n\
         z.writestr(zipfile.ZipInfo('net\\x1b[31mred.npy'),open(sys.argv[2],'rb').read())\n\
         z.writestr('squeezed.npy',open(sys.argv[2],'rb').read(),compress_type=zipfile.ZIP_LZMA)\n\
         z.close()\n";
    let ok = common::python_with(&["zipfile"]).is_some_and(|py| {
        Command::new(py)
            .args(["-c", script, s(&zipped), &files[0]])
            .status()
            .map(|st| st.success())
            .unwrap_or(false)
    });
    let _ = npy;
    if ok {
        let o = run(&["info", s(&zipped)]);
        let err = stderr(&o);
        assert!(!o.status.success());
        assert!(!err.contains('\x1b'), "raw escape code printed: {err:?}");
        assert!(
            err.contains("squeezed.npy") && err.contains("LZMA"),
            "{err}"
        );
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 missing"
        );
    }

    // Labels given twice as the same array are not reported as "using X, ignoring X".
    let npz = dir.path().join("withlabels.npz");
    let ds = common::planted(3, &[6], 3, 40, 0.1, 1);
    let mut arrays: Vec<(String, NpyArray)> = ds
        .networks
        .iter()
        .map(|n| (n.name.clone(), NpyArray::from_f64(&n.data.to_f64())))
        .collect();
    let labels = ds.labels.clone().unwrap();
    arrays.push((
        "labels".into(),
        NpyArray::I64 {
            shape: vec![labels.len()],
            data: labels,
        },
    ));
    write_npz_atomic(&npz, &arrays).unwrap();
    let o = run(&["info", s(&npz), "--labels", s(&npz)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("ignoring"), "{}", stderr(&o));

    // A 4-network transform against a 3-network model names the networks, not the folder.
    let four = dir.path().join("four");
    std::fs::create_dir(&four).unwrap();
    let four_files = planted_files(&four, 40);
    let d = common::planted(1, &[5], 3, 40, 0.1, 2);
    write_npy_atomic(&four.join("d.npy"), &d.networks[0].data.to_f64()).unwrap();
    let model = dir.path().join("m.npz");
    let o = run(&[
        "fit",
        &four_files[0],
        &four_files[1],
        &four_files[2],
        "--iters",
        "1",
        "--out",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = fails(&run(&[
        "transform",
        s(&model),
        s(&four),
        "--out",
        s(&dir.path().join("t.npz")),
    ]));
    assert!(line.contains("a, b, c, d") && line.contains("3"), "{line}");
}

// 12. ------------------------------------------------------------------------------------------

#[test]
fn d12_max_memory_lowers_the_cap_before_inflating() {
    let dir = tempfile::tempdir().unwrap();
    // 2 × 2000 × 500 zeros: 16 MB as float64, a few kB deflated (as savez_compressed writes;
    // our own writer stores).
    let zeros = Array2::<f64>::zeros((2000, 500));
    let member = dir.path().join("zeros.npy");
    srmscope::data::write_npy_atomic(&member, &zeros).unwrap();
    let bytes = std::fs::read(&member).unwrap();
    let npz = dir.path().join("bomb.npz");
    {
        use std::io::Write;
        let mut zw = npyz::zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
        let opts = npyz::zip::write::FileOptions::default()
            .compression_method(npyz::zip::CompressionMethod::Deflated);
        for name in ["a.npy", "b.npy"] {
            zw.start_file(name, opts).unwrap();
            zw.write_all(&bytes).unwrap();
        }
        zw.finish().unwrap();
    }
    assert!(std::fs::metadata(&npz).unwrap().len() < 200_000);
    let line = fails(&run(&["info", s(&npz), "--max-memory", "10M"]));
    assert!(
        line.contains("bomb.npz:b") && line.contains("16.0 MB"),
        "{line}"
    );
    let line = fails(&run(&["--max-memory", "lots", "info", s(&npz)]));
    assert!(
        line.contains("lots") || line.contains("max-memory"),
        "{line}"
    );
    let o = run(&["info", s(&npz), "--max-memory", "1G"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

// Issue 8: one transform for CLI and viewer. ----------------------------------------------------

#[test]
fn transform_uses_training_unit_statistics_in_cli_and_viewer() {
    use srmscope::analysis::model_file;
    let dir = tempfile::tempdir().unwrap();
    // Train and new data from the same planted networks, the new data shifted and scaled so
    // their own statistics differ clearly from the training ones.
    let train = common::planted(3, &[7, 6, 5], 3, 80, 0.2, 11);
    let mut new = common::planted(3, &[7, 6, 5], 3, 30, 0.2, 12);
    for net in new.networks.iter_mut() {
        net.data
            .as_f64_mut()
            .unwrap()
            .mapv_inplace(|v| 3.0 * v + 5.0);
    }
    let write = |ds: &srmscope::data::Dataset, name: &str| -> PathBuf {
        let p = dir.path().join(name);
        let arrays: Vec<(String, NpyArray)> = ds
            .networks
            .iter()
            .map(|n| (n.name.clone(), NpyArray::from_f64(&n.data.to_f64())))
            .collect();
        write_npz_atomic(&p, &arrays).unwrap();
        p
    };
    let train_p = write(&train, "train.npz");
    let new_p = write(&new, "new.npz");
    let model = dir.path().join("model.npz");
    let o = run(&[
        "fit",
        s(&train_p),
        "--normalize",
        "unit",
        "--iters",
        "3",
        "--out",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("aligned.npz");
    let o = run(&["transform", s(&model), s(&new_p), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cli = read_npz(&out).unwrap();

    let mf = model_file::load(&model).unwrap();
    assert_eq!(mf.settings.normalize, Normalize::Unit);
    // Training split as the fit made it, then plain arithmetic.
    let (train_idx, _) = srmscope::analysis::preprocess::split(80, None, 0.2, 0);
    for (i, net) in new.networks.iter().enumerate() {
        let tr = train.networks[i]
            .data
            .view_f64()
            .select(ndarray::Axis(0), &train_idx);
        let n = tr.nrows() as f64;
        let mean = tr.mean_axis(ndarray::Axis(0)).unwrap();
        let std = tr.map_axis(ndarray::Axis(0), |c| {
            let m = c.mean().unwrap();
            (c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt()
        });
        let stored = mf.model.unit_norm[i].as_ref().unwrap();
        approx::assert_abs_diff_eq!(stored.mean, mean, epsilon = 1e-10);
        approx::assert_abs_diff_eq!(stored.std, std, epsilon = 1e-10);
        let z = (&net.data.view_f64() - &mean) / &std;
        let expect = (&z - &mf.model.mu[i]).dot(&mf.model.w[i]);
        let got = cli
            .iter()
            .find(|(name, _)| name == &net.name)
            .unwrap()
            .1
            .to_f64()
            .unwrap()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        assert!(got.abs_diff_eq(&expect, 1e-10), "CLI {}", net.name);

        // The viewer's path: apply_model on the new data, every image in the test part.
        let settings = Settings {
            test_fraction: 0.0,
            smooth: 1,
            ..mf.settings.clone()
        };
        let applied = model_file::model_input(
            &mf.model,
            settings.normalize,
            i,
            &net.data.view_f64().view(),
            &net.source,
        )
        .unwrap();
        let y = mf.model.transform(i, applied.view()).unwrap();
        assert!(y.abs_diff_eq(&expect, 1e-10), "model_input {}", net.name);
    }
    // apply_model itself runs on the same preprocessing (whole pipeline, no refit).
    let settings = Settings {
        test_fraction: 0.0,
        smooth: 1,
        ..mf.settings.clone()
    };
    let out =
        silent(|p| srmscope::analysis::pipeline::apply_model(&new, &settings, mf.model.clone(), p))
            .unwrap();
    assert_eq!(out.test_idx.len(), 30);
    assert!(
        out.notes.iter().all(|n| !n.contains("own")),
        "{:?}",
        out.notes
    );

    // An older model file without the statistics still loads, with a note, and falls back.
    let arrays: Vec<(String, NpyArray)> = read_npz(&model)
        .unwrap()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("norm_") && n != "settings")
        .collect();
    let old = dir.path().join("old.npz");
    write_npz_atomic(&old, &arrays).unwrap();
    let mf_old = model_file::load(&old).unwrap();
    assert_eq!(mf_old.settings.normalize, Normalize::Unit);
    assert!(
        mf_old.notes.iter().any(|n| n.contains("own statistics")),
        "{:?}",
        mf_old.notes
    );
    let o = run(&[
        "transform",
        s(&old),
        s(&new_p),
        "--out",
        s(&dir.path().join("o.npz")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("own"), "{}", stderr(&o));
}

#[test]
fn d11_disk_full_is_one_clean_line_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = planted_files(dir.path(), 60);
    let out = dir.path().join("m.npz");
    // A 1 kB file size limit makes the write fail part-way like a full disk (EFBIG instead of
    // ENOSPC); SIGXFSZ is ignored so the write returns the error instead of killing us.
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec '{}' fit '{}' '{}' '{}' --iters 2 --out '{}'",
        env!("CARGO_BIN_EXE_srmscope"),
        files[0],
        files[1],
        files[2],
        s(&out)
    );
    let o = Command::new("bash").args(["-c", &script]).output().unwrap();
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(!err.contains("ZipWriter"), "raw zip line: {err}");
    assert_eq!(
        err.lines().filter(|l| !l.starts_with("note:")).count(),
        1,
        "one line: {err}"
    );
    assert!(
        err.contains("m.npz") && err.contains("cannot write"),
        "{err}"
    );
    assert!(!out.exists());
    assert_eq!(temp_leftovers(dir.path()), Vec::<String>::new());
}

static ANNOUNCED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn remember(msg: &str) {
    ANNOUNCED.lock().unwrap().push(msg.to_string());
}

#[test]
fn d12_large_arrays_are_announced_before_inflating() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = Array2::<f64>::zeros((300, 100));
    let npz = dir.path().join("bomb.npz");
    write_npz_atomic(
        &npz,
        &[
            ("a".into(), NpyArray::from_f64(&zeros)),
            ("b".into(), NpyArray::from_f64(&zeros)),
        ],
    )
    .unwrap();
    let opts = srmscope::data::LoadOptions {
        announce: Some(remember),
        announce_bytes: 100_000,
        max_bytes: 300_000,
        keep_units: None,
    };
    // a fits and is announced; b would pass the cap and is refused before it is inflated.
    let e = srmscope::data::load_with(&[s(&npz).to_string()], None, &opts).unwrap_err();
    assert!(e.to_string().contains("bomb.npz:b"), "{e}");
    let told = ANNOUNCED.lock().unwrap().clone();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("bomb.npz:a") && told[0].contains("240.0 kB"),
        "{told:?}"
    );
}
