//! Studies (issue 13): manifest errors, per-cell equality with `fit`, the cache, shards and
//! merge, and the development measures on a planted case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render_support;

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use srmscope::analysis::metrics::{inter_rsm_loo, lower_tri_corr, mean_within_rsm, rsm};
use srmscope::analysis::study::agree::agree;
use srmscope::analysis::study::cache::Cache;
use srmscope::analysis::study::runner::{run_study, RunOptions, StudyProgress, StudySink};
use srmscope::analysis::study::{merge, CellResult, CellView, StudyResults};
use srmscope::analysis::{pipeline, Settings};
use srmscope::data::study::Study;
use srmscope::data::{write_npz_atomic, LoadOptions, NpyArray};
use srmscope::progress::silent;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

const N: usize = 200;
const UNITS: usize = 8;

fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

fn gauss(r: &mut rand::rngs::StdRng) -> f64 {
    // Box–Muller: enough for test data.
    let (u, v): (f64, f64) = (r.random::<f64>().max(1e-12), r.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn random(n: usize, p: usize, seed: u64) -> Array2<f64> {
    let mut r = rng(seed);
    Array2::from_shape_fn((n, p), |_| gauss(&mut r))
}

/// A random p × p rotation (QR of a Gaussian matrix by Gram–Schmidt).
fn rotation(p: usize, seed: u64) -> Array2<f64> {
    let a = random(p, p, seed);
    let mut q = Array2::<f64>::zeros((p, p));
    for j in 0..p {
        let mut v: Array1<f64> = a.column(j).to_owned();
        for k in 0..j {
            let qk = q.column(k).to_owned();
            v = &v - &(&qk * qk.dot(&v));
        }
        let n = v.dot(&v).sqrt();
        q.column_mut(j).assign(&(v / n));
    }
    q
}

fn labels() -> Vec<i64> {
    (0..N as i64).map(|i| i % 4).collect()
}

/// A structured signal: class means plus noise, so that RSMs have class blocks.
fn signal(seed: u64) -> Array2<f64> {
    let means = random(4, UNITS, seed);
    let noise = random(N, UNITS, seed + 1000) * 0.5;
    let l = labels();
    Array2::from_shape_fn((N, UNITS), |(i, j)| {
        means[[l[i] as usize, j]] + noise[[i, j]]
    })
}

fn write_cell(dir: &Path, rel: &str, nets: &[Array2<f64>]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let arrays: Vec<(String, NpyArray)> = nets
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("net{i}"), NpyArray::from_f64(x)))
        .collect();
    write_npz_atomic(&p, &arrays).unwrap();
}

/// Two layers × three checkpoints of one arch (3 networks). At the last checkpoint the
/// networks are rotations of one signal per layer; at checkpoint 0 rotations of another,
/// unrelated signal; checkpoint 1 mixes the two.
fn planted_study(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let lab = NpyArray::from_i64(&Array1::from(labels()));
    srmscope::data::write_npy_array_atomic(&dir.join("labels.npy"), &lab).unwrap();
    let mut cells = Vec::new();
    for (li, layer) in ["low", "high"].iter().enumerate() {
        let early = signal(10 + li as u64);
        let late = signal(20 + li as u64);
        for (ck, mix) in [(0u64, 0.0), (1, 0.5), (4, 1.0)] {
            let base = &early * (1.0 - mix) + &late * mix;
            let nets: Vec<Array2<f64>> = (0..3)
                .map(|n| {
                    base.dot(&rotation(UNITS, 100 * ck + 10 * li as u64 + n))
                        + random(N, UNITS, 7 + n + ck) * 0.05
                })
                .collect();
            let rel = format!("e{ck}/{layer}.npz");
            write_cell(dir, &rel, &nets);
            cells.push(
                serde_json::json!({"arch": "net", "layer": layer, "checkpoint": ck, "path": rel}),
            );
        }
    }
    let manifest = serde_json::json!({"name": "planted", "labels": "labels.npy", "cells": cells});
    let m = dir.join("study.json");
    std::fs::write(&m, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    m
}

fn settings() -> Settings {
    Settings {
        bootstrap: 0,
        max_units: None,
        smooth: 3,
        ..Default::default()
    }
}

#[derive(Default)]
struct Collect {
    cells: Mutex<Vec<(usize, bool)>>,
    last: Mutex<StudyProgress>,
    views: Mutex<Vec<(usize, Arc<CellView>)>>,
}

impl StudySink for Collect {
    fn progress(&self, p: &StudyProgress) {
        *self.last.lock().unwrap() = p.clone();
    }
    fn cell(&self, r: &CellResult, view: Option<Arc<CellView>>, _key: Option<&str>) {
        self.cells.lock().unwrap().push((r.index, view.is_none()));
        if let Some(v) = view {
            self.views.lock().unwrap().push((r.index, v));
        }
    }
}

fn run(
    study: &Study,
    s: &Settings,
    shard: Option<(usize, usize)>,
    cache: Option<&Cache>,
) -> (StudyResults, Collect) {
    let sink = Collect::default();
    let opts = RunOptions {
        shard,
        cache,
        workers: 2,
        load: LoadOptions::default(),
    };
    let r = run_study(study, s, &opts, &sink, &AtomicBool::new(false)).unwrap();
    (r, sink)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn every_cell_equals_fit_on_the_same_cell() {
    let d = tmp();
    let m = planted_study(d.path());
    let study = Study::open(m.to_str().unwrap()).unwrap();
    let (r, _) = run(&study, &settings(), None, None);
    assert_eq!(r.cells.len(), 6);
    for c in &r.cells {
        let ds = study.load_cell(c.index, &LoadOptions::default()).unwrap();
        let out = silent(|p| pipeline::run_owned(ds, &settings(), p)).unwrap();
        let mut a = serde_json::to_value(&c.metrics).unwrap();
        let mut b = serde_json::to_value(&out.metrics).unwrap();
        a["fit_seconds"] = 0.into();
        b["fit_seconds"] = 0.into();
        assert_eq!(a, b, "cell {}", c.index);
        assert_eq!(c.dev_vs_same, Some(out.metrics.rsa.shared));
        assert_eq!(c.k, out.k);
    }
}

#[test]
fn development_measures_on_a_planted_case() {
    let d = tmp();
    let m = planted_study(d.path());
    let study = Study::open(m.to_str().unwrap()).unwrap();
    let s = settings();
    let (r, _) = run(&study, &s, None, None);
    for layer in ["low", "high"] {
        let cell = |ck: u64| {
            r.cells
                .iter()
                .find(|c| c.layer == layer && c.checkpoint == ck)
                .unwrap()
        };
        // Rotated copies: alignment recovers the geometry at every checkpoint.
        for ck in [0, 1, 4] {
            let c = cell(ck);
            assert!(
                c.dev_vs_same.unwrap() > 0.9,
                "{layer} {ck}: {:?}",
                c.dev_vs_same
            );
            assert!(
                c.within_rsm_consistency.unwrap() > 0.8,
                "{layer} {ck}: {:?}",
                c.within_rsm_consistency
            );
        }
        // The last checkpoint compares with itself.
        assert_eq!(cell(4).dev_vs_final, cell(4).dev_vs_same);
        // Development: the geometry at checkpoint 0 is unrelated to the final one, so
        // dev_vs_final rises over checkpoints.
        let (d0, d1, d4) = (
            cell(0).dev_vs_final.unwrap(),
            cell(1).dev_vs_final.unwrap(),
            cell(4).dev_vs_final.unwrap(),
        );
        assert!(d0 < d1 && d1 < d4, "{layer}: {d0} {d1} {d4}");

        // Against an independent computation with full image × image RSMs.
        let test_of = |p: usize| {
            let ds = study.load_cell(p, &LoadOptions::default()).unwrap();
            pipeline::native_test(&ds, &s).unwrap()
        };
        let c0 = cell(0);
        let fin = test_of(cell(4).index);
        let fv: Vec<_> = fin.iter().map(|x| x.view()).collect();
        let ds0 = study.load_cell(c0.index, &LoadOptions::default()).unwrap();
        let out0 = silent(|p| pipeline::run(&ds0, &s, p)).unwrap();
        let prep = pipeline::prepare(&ds0, &s).unwrap();
        let shared: Vec<Array2<f64>> = prep
            .test
            .iter()
            .enumerate()
            .map(|(i, x)| out0.model.transform(i, x.view()).unwrap())
            .collect();
        let sv: Vec<_> = shared.iter().map(|x| x.view()).collect();
        let want = lower_tri_corr(&inter_rsm_loo(&sv), &mean_within_rsm(&fv));
        assert!((want - d0).abs() < 1e-9, "{want} vs {d0}");
        let nat = test_of(c0.index);
        let nv: Vec<_> = nat.iter().map(|x| x.view()).collect();
        let g: Vec<Array2<f64>> = nv.iter().map(|x| rsm(x, x)).collect();
        let pairs = [(1, 0), (2, 0), (2, 1)];
        let want_c = pairs
            .iter()
            .map(|&(i, j)| lower_tri_corr(&g[i], &g[j]))
            .sum::<f64>()
            / 3.0;
        assert!((want_c - c0.within_rsm_consistency.unwrap()).abs() < 1e-9);
    }
}

#[test]
fn the_trio_shows_class_blocks_in_shared_space_only() {
    let d = tmp();
    let m = planted_study(d.path());
    let study = Study::open(m.to_str().unwrap()).unwrap();
    let (_, sink) = run(&study, &settings(), None, None);
    let views = sink.views.lock().unwrap();
    let (_, v) = views.iter().find(|(i, _)| *i == 2).unwrap();
    let t = &v.trio;
    assert_eq!(t.size, t.bounds.len() - 1);
    assert_eq!(t.within.len(), t.size * t.size);
    let l = t.labels.as_ref().unwrap();
    assert!(l.windows(2).all(|w| w[0] <= w[1]), "class-sorted");
    // Mean same-class minus different-class correlation.
    let contrast = |m: &[f32]| {
        let (mut same, mut ns, mut diff, mut nd) = (0.0, 0, 0.0, 0);
        for a in 0..t.size {
            for b in 0..a {
                let v = f64::from(m[a * t.size + b]);
                if l[t.bounds[a]] == l[t.bounds[b]] {
                    same += v;
                    ns += 1;
                } else {
                    diff += v;
                    nd += 1;
                }
            }
        }
        same / ns as f64 - diff / nd as f64
    };
    let native = contrast(t.inter_native.as_ref().unwrap());
    let shared = contrast(&t.inter_shared);
    let within = contrast(&t.within);
    assert!(within > 0.5 && shared > 0.5, "{within} {shared}");
    assert!(native < 0.5 * shared, "native {native} vs shared {shared}");
    assert!(!v.scene.trajectories.is_empty());
}

#[test]
fn the_cache_answers_unchanged_cells_and_refits_after_a_change() {
    let d = tmp();
    let m = planted_study(d.path());
    let cache_dir = d.path().join("cache");
    let cache = Cache::open(&cache_dir).unwrap();
    let study = Study::open(m.to_str().unwrap()).unwrap();
    let (first, s1) = run(&study, &settings(), None, Some(&cache));
    assert_eq!(s1.last.lock().unwrap().cached, 0);
    let (again, s2) = run(&study, &settings(), None, Some(&cache));
    assert_eq!(s2.last.lock().unwrap().cached, 6);
    assert_eq!(first, again);
    assert!(s2.cells.lock().unwrap().iter().all(|(_, cached)| *cached));
    // A setting the fit does not depend on measures again from the cached fits.
    let smoother = Settings {
        smooth: 5,
        ..settings()
    };
    let (resmoothed, s_sm) = run(&study, &smoother, None, Some(&cache));
    assert_eq!(s_sm.last.lock().unwrap().cached, 0);
    let (direct, _) = run(&study, &smoother, None, None);
    for (a, b) in resmoothed.cells.iter().zip(&direct.cells) {
        assert_eq!(a.metrics.objective, b.metrics.objective);
        assert_eq!(
            a.metrics.fit_seconds, first.cells[a.index].metrics.fit_seconds,
            "reused fit"
        );
        assert!((a.metrics.isc.shared - b.metrics.isc.shared).abs() < 1e-12);
        assert!((a.dev_vs_final.unwrap() - b.dev_vs_final.unwrap()).abs() < 1e-12);
    }
    // A setting change misses everywhere.
    let changed = Settings {
        seed: 3,
        ..settings()
    };
    let (_, s3) = run(&study, &changed, None, Some(&cache));
    assert_eq!(s3.last.lock().unwrap().cached, 0);
    // Changing one file refits its cell, and the cells whose dev_vs_final read it.
    let nets: Vec<Array2<f64>> = (0..3).map(|n| random(N, UNITS, 500 + n)).collect();
    write_cell(d.path(), "e1/low.npz", &nets);
    let (_, s4) = run(&study, &settings(), None, Some(&cache));
    assert_eq!(s4.last.lock().unwrap().cached, 5);
    write_cell(d.path(), "e4/high.npz", &nets);
    let (_, s5) = run(&study, &settings(), None, Some(&cache));
    assert_eq!(
        s5.last.lock().unwrap().cached,
        3,
        "the high layer reads e4/high"
    );
}

#[test]
fn shards_merge_to_the_one_shot_run() {
    let d = tmp();
    let m = planted_study(d.path());
    let study = Study::open(m.to_str().unwrap()).unwrap();
    let (whole, _) = run(&study, &settings(), None, None);
    let shards: Vec<(String, StudyResults)> = (1..=4)
        .map(|i| {
            (
                format!("shard{i}"),
                run(&study, &settings(), Some((i, 4)), None).0,
            )
        })
        .collect();
    assert_eq!(shards[0].1.cells.len(), 2);
    assert_eq!(shards[3].1.cells.len(), 1);
    let merged = merge::merge(shards.clone()).unwrap();
    assert_eq!(merged, whole);
    let e = merge::merge(shards[..3].to_vec()).unwrap_err();
    assert!(e.contains("missing shard 4/4"), "{e}");
    let mut twice = shards.clone();
    twice[1] = twice[0].clone();
    assert!(merge::merge(twice).unwrap_err().contains("also in"));
}

/// The promise across thread counts (docs: next to the Slurm instructions): the same study on
/// 1 and on 2 threads agrees to `THREAD_TOLERANCE`, and every cell and key is there.
#[test]
fn one_and_two_threads_agree_to_the_promised_tolerance() {
    let d = tmp();
    let m = planted_study(d.path());
    let out = |threads: &str| -> serde_json::Value {
        let path = d.path().join(format!("t{threads}.json"));
        let o = bin()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "study",
                m.to_str().unwrap(),
                "--no-cache",
                "--algo",
                "det",
                "--iters",
                "50",
            ])
            .args([
                "--test-fraction",
                "0.5",
                "--normalize",
                "none",
                "--bootstrap",
                "100",
            ])
            .arg("--out")
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    let (one, two) = (out("1"), out("2"));
    let agreement = agree(&one, &two);
    assert!(agreement.holds(), "{}", agreement.summary());
    // And a real change is caught: the promise is not vacuous.
    let mut moved = two.clone();
    let isc = moved["cells"][0]["isc"]["shared"].as_f64().unwrap();
    moved["cells"][0]["isc"]["shared"] = serde_json::json!(isc + 1e-6);
    let broken = agree(&one, &moved);
    assert!(!broken.holds());
    assert!(
        broken.summary().contains("/cells[0]/isc/shared"),
        "{}",
        broken.summary()
    );
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_srmscope"))
}

fn err_of(args: &[&str]) -> String {
    let o = bin().args(args).output().unwrap();
    assert!(!o.status.success(), "{args:?} succeeded");
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    e
}

#[test]
fn manifest_errors_are_one_line_naming_the_manifest_and_cell() {
    let d = tmp();
    let m = planted_study(d.path());
    let out = d.path().join("r.json");
    let o = out.to_str().unwrap();
    let write = |v: serde_json::Value| {
        std::fs::write(&m, v.to_string()).unwrap();
    };
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    let ms = m.to_str().unwrap();

    std::fs::write(&m, "{ not json").unwrap();
    let e = err_of(&["study", ms, "--out", o, "--no-cache"]);
    assert!(e.contains("study.json") && e.contains("line 1"), "{e}");

    let mut v = base.clone();
    v["colour"] = "red".into();
    write(v);
    let e = err_of(&["study", ms, "--out", o, "--no-cache"]);
    assert!(e.contains("unknown field `colour`"), "{e}");

    let mut v = base.clone();
    v["cells"][0]["typo"] = 1.into();
    write(v);
    assert!(err_of(&["study", ms, "--out", o, "--no-cache"]).contains("unknown field `typo`"));

    let mut v = base.clone();
    let first = v["cells"][0].clone();
    v["cells"].as_array_mut().unwrap().push(first);
    write(v);
    let e = err_of(&["study", ms, "--out", o, "--no-cache"]);
    assert!(e.contains("cell 7 (net/low/0) repeats cell 1"), "{e}");

    let mut v = base.clone();
    v["cells"][2]["path"] = "nowhere.npz".into();
    write(v);
    let e = err_of(&["study", ms, "--out", o, "--no-cache"]);
    assert!(
        e.contains("study.json") && e.contains("net/low/4") && e.contains("nowhere.npz not found"),
        "{e}"
    );

    // A cell with other networks than the rest of its arch.
    write(base.clone());
    let nets: Vec<Array2<f64>> = (0..2).map(|n| random(N, UNITS, 900 + n)).collect();
    write_cell(d.path(), "e1/high.npz", &nets);
    let e = err_of(&["study", ms, "--out", o, "--no-cache"]);
    assert!(
        e.contains("net/high/1") && e.contains("same networks"),
        "{e}"
    );
    // A cell with other images.
    let nets: Vec<Array2<f64>> = (0..3).map(|n| random(N - 5, UNITS, 900 + n)).collect();
    write_cell(d.path(), "e1/high.npz", &nets);
    let e = err_of(&["study", ms, "--out", o, "--no-cache"]);
    assert!(e.contains("net/high/1"), "{e}");
    assert!(!out.exists(), "nothing written on error");
}

#[test]
fn cli_writes_results_csv_and_merges_shards() {
    let d = tmp();
    let m = planted_study(d.path());
    let ms = m.to_str().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    let common = [
        "--bootstrap",
        "0",
        "--max-units",
        "0",
        "--smooth",
        "3",
        "--no-cache",
    ];
    let run_ok = |args: Vec<String>| {
        let o = bin().args(&args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let mut a = vec![
        "study".to_string(),
        ms.to_string(),
        "--out".into(),
        p("all.json"),
        "--csv".into(),
        p("all.csv"),
    ];
    a.extend(common.iter().map(|s| s.to_string()));
    run_ok(a);
    for i in 1..=3 {
        let mut a = vec![
            "study".to_string(),
            ms.to_string(),
            "--out".into(),
            p(&format!("s{i}.json")),
            "--shard".into(),
            format!("{i}/3"),
        ];
        a.extend(common.iter().map(|s| s.to_string()));
        run_ok(a);
    }
    run_ok(vec![
        "study".into(),
        "--merge".into(),
        p("s1.json"),
        p("s2.json"),
        p("s3.json"),
        "--out".into(),
        p("merged.json"),
    ]);
    let read = |n: &str| -> StudyResults {
        serde_json::from_str(&std::fs::read_to_string(p(n)).unwrap()).unwrap()
    };
    // The shards ran on this machine's pool like the one-shot run; the promise across
    // thread counts is agreement to THREAD_TOLERANCE, so that is what merge is held to.
    let value = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p(n)).unwrap()).unwrap()
    };
    let agreement = agree(&value("merged.json"), &value("all.json"));
    assert!(agreement.holds(), "{}", agreement.summary());
    assert_eq!(
        read("merged.json").cells.len(),
        read("all.json").cells.len()
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("all.json")).unwrap()).unwrap();
    let cell = &json["cells"][0];
    for key in [
        "arch",
        "layer",
        "checkpoint",
        "isc",
        "rsa",
        "variance_explained",
        "within_rsm_consistency",
        "dev_vs_final",
        "dev_vs_same",
    ] {
        assert!(!cell[key].is_null(), "{key} in {cell}");
    }
    let csv = std::fs::read_to_string(p("all.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("arch,layer,layer_index,checkpoint"));
    let e = err_of(&[
        "study",
        "--merge",
        &p("s1.json"),
        &p("s2.json"),
        "--out",
        &p("bad.json"),
    ]);
    assert!(e.contains("missing shard 3/3"), "{e}");
}

#[test]
fn figures_are_written_as_decodable_pngs() {
    if !render_support::gl_available("figures_are_written_as_decodable_pngs") {
        return;
    }
    let d = tmp();
    let m = planted_study(d.path());
    let figs = d.path().join("figs");
    let o = bin()
        .args(["study", m.to_str().unwrap(), "--out"])
        .arg(d.path().join("r.json"))
        .args([
            "--bootstrap",
            "0",
            "--max-units",
            "0",
            "--smooth",
            "3",
            "--no-cache",
            "--figures",
        ])
        .arg(&figs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&figs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // 9 metrics × (grid + development) + by-layer + trio at the first and last checkpoint.
    assert_eq!(names.len(), 9 * 2 + 1 + 2, "{names:?}");
    for want in [
        "grid_isc_shared.png",
        "development_dev_vs_final.png",
        "by_layer.png",
        "trio_net_high_0.png",
        "trio_net_high_4.png",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    for n in &names {
        let dec = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(figs.join(n)).unwrap(),
        ));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        assert!(
            info.width >= 1000 && info.height >= 400,
            "{n}: {}x{}",
            info.width,
            info.height
        );
        // Not a blank canvas: many distinct colours (text, cells, lines).
        let px: std::collections::HashSet<&[u8]> = buf.chunks(4).collect();
        assert!(px.len() > 50, "{n}: {} colours", px.len());
    }
}
