//! The Study view driven headlessly through egui_kittest: a small planted study opens, its cells
//! fill the grid as they finish, a clicked (or arrow-keyed) cell plays in the 3D view keeping
//! the camera, time and before/after state, the RSM trio follows, and Cancel stops the job.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use srmscope::analysis::Settings;
use srmscope::app::study::StudyStatus;
use srmscope::app::{AppCommand, CameraCommand, PlaybackCommand, ViewerApp, ViewerOptions};
use srmscope::data::{write_npz_atomic, NpyArray};

const SIZE: [f32; 2] = [1400.0, 900.0];
const N: usize = 80;
const UNITS: usize = 6;
const CLASSES: i64 = 4;

/// Every test process keeps its study cache in a temporary folder, never in ~/.cache.
fn private_cache() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join(format!("srmscope-app-study-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Set once, before any job thread reads it.
        std::env::set_var("XDG_CACHE_HOME", &dir);
    });
}

fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

fn random(n: usize, p: usize, seed: u64) -> Array2<f64> {
    let mut r = rng(seed);
    Array2::from_shape_fn((n, p), |_| r.random::<f64>() * 2.0 - 1.0)
}

fn labels() -> Vec<i64> {
    (0..N as i64).map(|i| i % CLASSES).collect()
}

/// Class means plus noise, so that RSMs have class blocks.
fn signal(seed: u64) -> Array2<f64> {
    let means = random(CLASSES as usize, UNITS, seed);
    let noise = random(N, UNITS, seed + 1000) * 0.4;
    let l = labels();
    Array2::from_shape_fn((N, UNITS), |(i, j)| {
        means[[l[i] as usize, j]] + noise[[i, j]]
    })
}

/// Two layers × three checkpoints of one arch, three networks each: noisy mixtures of an early
/// and a late signal (a small version of tests/study.rs's planted study). `salt` changes the
/// data, so tests running side by side never share cache entries.
pub fn planted_study(dir: &Path, salt: u64) -> PathBuf {
    planted_study_of(dir, salt, &["net"], &["low", "high"])
}

/// [`planted_study`] with these arches and layers; a second arch's files go in its own folder.
fn planted_study_of(dir: &Path, salt: u64, arches: &[&str], layers: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let lab = NpyArray::from_i64(&Array1::from(labels()));
    srmscope::data::write_npy_array_atomic(&dir.join("labels.npy"), &lab).unwrap();
    std::fs::write(dir.join("class_names.txt"), "zero\none\ntwo\nthree\n").unwrap();
    let mut cells = Vec::new();
    for (ai, arch) in arches.iter().enumerate() {
        for (li, layer) in layers.iter().enumerate() {
            let salt = salt + 50 * ai as u64;
            let early = signal(salt * 100 + 10 + li as u64);
            let late = signal(salt * 100 + 20 + li as u64);
            for (ck, mix) in [(0u64, 0.0), (1, 0.5), (4, 1.0)] {
                let base = &early * (1.0 - mix) + &late * mix;
                let arrays: Vec<(String, NpyArray)> = (0..3u64)
                    .map(|n| {
                        let x = &base + &(random(N, UNITS, salt * 1000 + 7 + n + 10 * ck) * 0.3);
                        (format!("net{n}"), NpyArray::from_f64(&x))
                    })
                    .collect();
                let rel = if ai == 0 {
                    format!("e{ck}/{layer}.npz")
                } else {
                    format!("{arch}/e{ck}/{layer}.npz")
                };
                let p = dir.join(&rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                write_npz_atomic(&p, &arrays).unwrap();
                cells.push(
                serde_json::json!({"arch": arch, "layer": layer, "checkpoint": ck, "path": rel}),
            );
            }
        }
    }
    let manifest = serde_json::json!({
        "name": "planted", "labels": "labels.npy", "class_names": "class_names.txt", "cells": cells
    });
    let m = dir.join("study.json");
    std::fs::write(&m, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    m
}

fn quick_settings() -> Settings {
    Settings {
        n_iter: 4,
        bootstrap: 0,
        max_units: None,
        smooth: 3,
        ..Settings::default()
    }
}

fn harness(inputs: Vec<String>, settings: Settings) -> Harness<'static, ViewerApp> {
    private_cache();
    let opts = ViewerOptions {
        inputs,
        settings: Some(settings),
        ..Default::default()
    };
    let app = ViewerApp::headless(&opts);
    Harness::builder()
        .with_size(SIZE)
        .with_max_steps(8)
        .build_ui_state(|ui, app: &mut ViewerApp| app.show(ui), app)
}

fn step_until(h: &mut Harness<'_, ViewerApp>, what: &str, done: impl Fn(&ViewerApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "timed out waiting for {what}"
        );
        h.state_mut().settle(Duration::from_secs(60));
        h.step();
    }
    h.step();
}

fn study_done(app: &ViewerApp) -> bool {
    app.state
        .study
        .as_ref()
        .is_some_and(|s| matches!(s.status, StudyStatus::Done { .. }))
}

fn click(h: &mut Harness<'_, ViewerApp>, pos: egui::Pos2) {
    h.hover_at(pos);
    h.step();
    h.drag_at(pos);
    h.step();
    h.drop_at(pos);
    h.step();
    h.step();
}

/// The scene on screen equals cell `i`'s scene.
fn plays_cell(app: &ViewerApp, i: usize) -> bool {
    let (Some(l), Some(st)) = (&app.state.primary.loaded, &app.state.study) else {
        return false;
    };
    let Some(Some(v)) = st.views.get(i) else {
        return false;
    };
    let (a, b) = (&l.scene, &v.scene);
    a.n_frames() == b.n_frames()
        && a.n_networks() == b.n_networks()
        && a.trajectories[0].before[0] == b.trajectories[0].before[0]
        && a.trajectories[0].after[0] == b.trajectories[0].after[0]
}

fn opened(dir: &Path, salt: u64) -> Harness<'static, ViewerApp> {
    let root = dir.join("study");
    planted_study(&root, salt);
    let mut h = harness(vec![root.display().to_string()], quick_settings());
    step_until(&mut h, "the study to finish", study_done);
    h
}

#[test]
fn a_study_folder_fills_the_grid_and_a_clicked_cell_plays_in_the_3d_view() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = opened(tmp.path(), 1);
    let app = h.state();
    let st = app.state.study.as_ref().unwrap();
    assert_eq!(st.name, "planted");
    assert_eq!(st.cells.len(), 6);
    assert_eq!(st.n_done(), 6, "every cell is filled");
    assert!(st.views.iter().all(Option::is_some));
    assert_eq!(st.class_names.as_deref().map(<[String]>::len), Some(4));
    // The first finished cell plays, and the panels show it.
    let first = st.selected.expect("a cell is selected");
    assert!(plays_cell(app, first));
    h.get_by_label("Layer × checkpoint");
    h.get_by_label("Development");
    h.get_by_label("By layer (last checkpoint)");
    h.get_by_label("RSMs of the selected cell");
    h.get_by_label_contains("playing net/");
    assert_eq!(app.study_panel.trio_cell(), Some(first));
    assert_eq!(app.study_panel.cell_rects.len(), 6);

    // A known view state: before alignment, paused at frame 7, camera turned.
    h.state_mut().apply(PlaybackCommand::Pause.into());
    h.state_mut()
        .apply(PlaybackCommand::SetAligned(false).into());
    h.state_mut().apply(PlaybackCommand::FinishMorph.into());
    h.state_mut().apply(PlaybackCommand::Seek(7.0).into());
    h.state_mut()
        .apply(CameraCommand::Orbit { dx: 40.0, dy: 10.0 }.into());
    h.step();
    let camera = h.state().state.camera;
    let uploads = h.state().study_panel.texture_uploads;

    // Click another cell of the grid.
    let st = h.state().state.study.as_ref().unwrap();
    let target = st
        .position("net", "high", 1)
        .filter(|&i| i != first)
        .or_else(|| st.position("net", "low", 0))
        .unwrap();
    let rect = h.state().study_panel.cell_rect(target).expect("drawn");
    click(&mut h, rect.center());
    let app = h.state();
    let st = app.state.study.as_ref().unwrap();
    assert_eq!(st.selected, Some(target));
    assert!(
        plays_cell(app, target),
        "the 3D view plays the clicked cell"
    );
    assert!(!app.state.playback.aligned(), "before/after is kept");
    assert_eq!(app.state.playback.head(), 7.0, "time position is kept");
    assert_eq!(app.state.camera, camera, "the camera is kept");
    assert_eq!(
        app.study_panel.trio_cell(),
        Some(target),
        "the trio follows"
    );
    let l = app.state.primary.loaded.as_ref().unwrap();
    assert!(l.dataset.name.ends_with(&st.cells[target].label()));
    let high1 = st.position("net", "high", 1).unwrap();
    // Textures are made once per selected cell, not per frame.
    for _ in 0..5 {
        h.step();
    }
    assert_eq!(h.state().study_panel.texture_uploads, uploads + 1);

    // Arrow keys over the grid move the selection: high/1 → high/4 → low/4.
    h.state_mut()
        .apply(AppCommand::SelectStudyCell { index: high1 });
    h.step();
    let rect = h.state().study_panel.cell_rect(high1).unwrap();
    h.hover_at(rect.center());
    h.step();
    h.step();
    let head = h.state().state.playback.head();
    h.key_press(egui::Key::ArrowRight);
    h.step();
    let st = h.state().state.study.as_ref().unwrap();
    assert_eq!(st.selected, st.position("net", "high", 4));
    assert_eq!(
        h.state().state.playback.head(),
        head,
        "arrows over the grid do not step time"
    );
    h.key_press(egui::Key::ArrowUp);
    h.step();
    let st = h.state().state.study.as_ref().unwrap();
    let low4 = st.position("net", "low", 4);
    assert_eq!(st.selected, low4);
    assert!(plays_cell(h.state(), low4.unwrap()));

    // A shorter scene clamps the time position.
    h.state_mut().apply(PlaybackCommand::JumpEnd.into());
    h.step();
    assert!(h.state().state.playback.head() <= (h.state().state.playback.n_frames() - 1) as f32);

    // Close: the view goes, the last cell stays on screen.
    h.get_by_label("Close study").click();
    h.step();
    assert!(h.state().state.study.is_none());
    assert!(h.state().state.primary.loaded.is_some());
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropping_an_unchanged_study_json_reopens_it_from_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = opened(tmp.path(), 2);
    let manifest = tmp.path().join("study").join("study.json");
    // The same study by its manifest, dropped on the window.
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(manifest)));
    h.step();
    let job = h
        .state()
        .worker
        .job(&srmscope::app::worker::JobKind::Study)
        .map(|j| j.id);
    assert!(job.is_some(), "the study job started");
    step_until(&mut h, "the cached study", study_done);
    let st = h.state().state.study.as_ref().unwrap();
    assert_eq!(st.n_done(), 6);
    assert!(
        st.views.iter().all(Option::is_some),
        "views come back from the cache"
    );
    let sel = st.selected.unwrap();
    assert!(plays_cell(h.state(), sel));
}

#[test]
fn cancelling_a_study_stops_it_and_keeps_what_was_done() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("study");
    planted_study(&root, 3);
    // Long fits: every cell is still running when Cancel is clicked.
    let slow = Settings {
        n_iter: 100_000,
        tol: None,
        ..quick_settings()
    };
    let mut h = harness(vec![root.display().to_string()], slow);
    let start = Instant::now();
    while h
        .state()
        .worker
        .job(&srmscope::app::worker::JobKind::Study)
        .and_then(|j| j.study.as_ref())
        .is_none_or(|p| p.running.is_empty())
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the study never started"
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
    // The status names the running cells and their stage.
    let status = h
        .state()
        .worker
        .job(&srmscope::app::worker::JobKind::Study)
        .unwrap()
        .status();
    assert!(
        status.contains("net/") && status.contains("cells"),
        "{status}"
    );
    let done_before = h.state().state.study.as_ref().unwrap().n_done();
    h.get_by_label("Cancel study").click();
    h.step();
    let app = h.state();
    assert!(
        app.worker
            .job(&srmscope::app::worker::JobKind::Study)
            .is_none(),
        "cancel takes effect in the same frame"
    );
    let st = app.state.study.as_ref().unwrap();
    assert_eq!(st.status, StudyStatus::Cancelled);
    assert_eq!(st.n_done(), done_before);
    h.run_steps(3);
    let texts: Vec<String> = h
        .state()
        .state
        .banners
        .iter()
        .map(|b| b.text.clone())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("Study cancelled")),
        "{texts:?}"
    );
    h.get_by_label_contains("Study cancelled");
    h.get_by_label_contains("cancelled:");
    // Once the cancelled thread has really returned, its result must not be applied.
    step_until(&mut h, "the cancelled study's thread to end", |a| {
        a.worker.threads_alive() == 0
    });
    h.step();
    assert_eq!(
        h.state().state.study.as_ref().unwrap().n_done(),
        done_before
    );
}

#[test]
fn a_broken_study_is_reported_in_a_banner() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("study");
    planted_study(&root, 4);
    std::fs::remove_file(root.join("e1").join("low.npz")).unwrap();
    let mut h = harness(vec![root.display().to_string()], quick_settings());
    step_until(&mut h, "the study to fail", |a| {
        a.state
            .study
            .as_ref()
            .is_some_and(|s| matches!(s.status, StudyStatus::Failed(_)))
    });
    h.get_by_label_contains("Could not run the study");
    h.get_by_label_contains("low.npz not found");
}

/// Two arches of five layers at 1440 × 880 (the window's default) and 1900 × 1150: every grid square of both
/// arches lies inside what the grid section shows, so none is cut or below the fold.
#[test]
fn every_arch_of_a_two_arch_study_fits_the_grid_section() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("study");
    let layers = ["l1", "l2", "l3", "l4", "l5"];
    planted_study_of(&root, 6, &["cnn", "resnet"], &layers);
    private_cache();
    let opts = ViewerOptions {
        inputs: vec![root.display().to_string()],
        settings: Some(quick_settings()),
        ..Default::default()
    };
    // The second size reads the cells back from the cache.
    for size in [[1440.0, 880.0], [1900.0, 1150.0]] {
        let mut h = Harness::builder()
            .with_size(size)
            .with_max_steps(8)
            .build_ui_state(
                |ui, app: &mut ViewerApp| app.show(ui),
                ViewerApp::headless(&opts),
            );
        step_until(&mut h, "the study to finish", study_done);
        let panel = &h.state().study_panel;
        assert_eq!(panel.cell_rects.len(), 30, "every cell has a square");
        let view = panel.grid_view.expect("the grid section was drawn");
        for (i, r) in &panel.cell_rects {
            assert!(
                view.contains_rect(*r),
                "{size:?}: cell {i} at {r:?} is outside {view:?}"
            );
        }
    }
}

/// `SRMSCOPE_WRITE_STUDY=/tmp/x cargo test --test app_study -- --ignored` writes the planted
/// study for looking at it by hand (`srmscope /tmp/x`).
#[test]
#[ignore]
fn write_a_planted_study_for_screenshots() {
    if let Some(dir) = std::env::var_os("SRMSCOPE_WRITE_STUDY") {
        planted_study(Path::new(&dir), 5);
    }
}
