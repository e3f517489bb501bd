//! The viewer driven headlessly through egui_kittest (AccessKit): no window and no GPU. The 3D
//! paint callbacks do not run here, but everything around them does, with the real loader and
//! pipeline on the embedded demo data.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use srmscope::analysis::Settings;
use srmscope::app::state::{BannerKind, Loaded};
use srmscope::app::worker::Phase;
use srmscope::app::ViewerOptions;
use srmscope::app::{AppCommand, PlaybackCommand, SlotId, ViewerApp};

const SIZE: [f32; 2] = [1400.0, 860.0];

/// The paper's pipeline, made small enough for debug-build tests (fewer units and iterations).
fn quick_settings() -> Settings {
    Settings {
        n_iter: 3,
        max_units: Some(40),
        ..Settings::default()
    }
}

fn harness(mut opts: ViewerOptions) -> Harness<'static, ViewerApp> {
    opts.settings.get_or_insert_with(quick_settings);
    let app = ViewerApp::headless(&opts);
    Harness::builder()
        .with_size(SIZE)
        .with_max_steps(8)
        .build_ui_state(|ui, app: &mut ViewerApp| app.show(ui), app)
}

/// Let the background jobs finish, then step frames until `done` holds.
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

/// A slot's fit is on screen with its measures (not a preview while it runs).
fn fitted(l: Option<&Loaded>) -> bool {
    l.is_some_and(|l| l.phase == Phase::Done)
}

fn loaded_demo() -> Harness<'static, ViewerApp> {
    let mut h = harness(ViewerOptions::default());
    step_until(&mut h, "the demo to load", |a| {
        fitted(a.state.primary.loaded.as_ref())
    });
    // Tests start from a known, paused state.
    h.state_mut().apply(PlaybackCommand::Pause.into());
    h.state_mut().apply(PlaybackCommand::FinishMorph.into());
    h.step();
    h
}

fn generation(app: &ViewerApp) -> u64 {
    app.state
        .primary
        .loaded
        .as_ref()
        .map_or(0, |l| l.generation)
}

#[test]
fn no_arguments_opens_the_convnet_demo() {
    let h = loaded_demo();
    let app = h.state();
    let l = app.state.primary.loaded.as_ref().expect("loaded");
    assert_eq!(l.inputs, vec!["demo:convnet".to_string()]);
    assert_eq!(l.scene.n_networks(), 5);
    assert!(l.scene.n_frames() > 10);
    assert_eq!(app.state.playback.n_frames(), l.scene.n_frames());
    // The legend lists every network; the metrics panel has its numbers.
    for name in l.names() {
        h.get_by_label(&name);
    }
    h.get_by_label_contains("Alignment quality");
    h.get_by_label("Before alignment");
    h.get_by_label("After alignment");
}

#[test]
fn toggling_aligned_morphs_and_keeps_the_current_image() {
    let mut h = loaded_demo();
    h.state_mut().apply(PlaybackCommand::Seek(12.0).into());
    h.state_mut()
        .apply(PlaybackCommand::SetAligned(false).into());
    h.state_mut().apply(PlaybackCommand::FinishMorph.into());
    h.step();
    assert_eq!(h.state().state.playback.morph().value(), 0.0);

    h.get_by_label("After alignment").click();
    h.step();
    h.step();
    let pb = &h.state().state.playback;
    assert!(pb.aligned());
    let m = pb.morph().value();
    assert!(m > 0.0 && m < 1.0, "morph animates, got {m}");
    for _ in 0..10 {
        h.step();
    }
    let pb = &h.state().state.playback;
    assert_eq!(pb.morph().value(), 1.0);
    assert_eq!(pb.head(), 12.0, "the current image is kept");

    // And back, with the A key.
    h.key_press(egui::Key::A);
    for _ in 0..10 {
        h.step();
    }
    assert_eq!(h.state().state.playback.morph().value(), 0.0);
}

#[test]
fn play_pause_and_keys_drive_the_time_axis() {
    let mut h = loaded_demo();
    h.state_mut().apply(PlaybackCommand::JumpStart.into());
    h.step();
    h.get_by_label("Play").click();
    h.step();
    assert!(h.state().state.playback.playing());
    for _ in 0..4 {
        h.step();
    }
    let head = h.state().state.playback.head();
    assert!(head > 0.0, "playing advances the head, got {head}");
    h.get_by_label("Pause").click();
    h.step();
    assert!(!h.state().state.playback.playing());
    let paused_at = h.state().state.playback.head();
    h.step();
    assert_eq!(h.state().state.playback.head(), paused_at);

    h.key_press(egui::Key::Space);
    h.step();
    assert!(h.state().state.playback.playing());
    h.key_press(egui::Key::Space);
    h.step();
    assert!(!h.state().state.playback.playing());

    h.key_press(egui::Key::Home);
    h.step();
    assert_eq!(h.state().state.playback.head(), 0.0);
    h.key_press(egui::Key::ArrowRight);
    h.step();
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(h.state().state.playback.head(), 2.0);
    h.key_press(egui::Key::ArrowLeft);
    h.step();
    assert_eq!(h.state().state.playback.head(), 1.0);
    h.key_press(egui::Key::End);
    h.step();
    let pb = &h.state().state.playback;
    assert_eq!(pb.head(), pb.last_frame() as f32);

    h.get_by_label("Jump to start").click();
    h.step();
    assert_eq!(h.state().state.playback.head(), 0.0);
    h.get_by_label("Step forward").click();
    h.step();
    assert_eq!(h.state().state.playback.head(), 1.0);
}

/// Press at a fraction of a track's width, drag to another, release.
fn drag_track(h: &mut Harness<'_, ViewerApp>, label: &str, from: f32, to: f32) {
    let rect = h.get_by_label(label).rect();
    let at = |f: f32| egui::pos2(rect.left() + f * rect.width(), rect.center().y);
    h.hover_at(at(from));
    h.step();
    h.drag_at(at(from));
    h.step();
    h.hover_at(at(to));
    h.step();
    h.drop_at(at(to));
    h.step();
}

#[test]
fn scrubbing_seeks_and_the_disagreement_strip_seeks_too() {
    let mut h = loaded_demo();
    let last = h.state().state.playback.last_frame() as f32;
    drag_track(&mut h, "Scrubber", 0.1, 0.5);
    let head = h.state().state.playback.head();
    assert!(
        (head - 0.5 * last).abs() <= 0.02 * last + 1.0,
        "head {head} of {last}"
    );

    drag_track(&mut h, "Disagreement strip", 0.8, 0.8);
    let head = h.state().state.playback.head();
    assert!(
        (head - 0.8 * last).abs() <= 0.02 * last + 1.0,
        "head {head} of {last}"
    );
}

#[test]
fn legend_click_hides_and_shows_a_network() {
    let mut h = loaded_demo();
    let name = h
        .state()
        .state
        .primary
        .loaded
        .as_ref()
        .map(|l| l.names()[1].clone())
        .unwrap_or_default();
    h.get_by_label(&name).click();
    h.step();
    assert!(!h.state().state.primary.is_visible(1));
    assert!(h.state().state.frame_state(SlotId::Primary).visible.get(1) == Some(&false));
    h.get_by_label(&name).click();
    h.step();
    assert!(h.state().state.primary.is_visible(1));
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
fn a_bad_file_shows_a_banner_and_keeps_the_old_data() {
    let mut h = loaded_demo();
    let before = generation(h.state());
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("broken.npy");
    std::fs::write(&bad, b"\x93NUMPY this is not a real header").expect("write");

    // Dropped onto the window, like a user would.
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(bad.clone())));
    h.step();
    step_until(&mut h, "the load to fail", |a| {
        a.fit_job(SlotId::Primary).is_none()
    });
    let app = h.state();
    let banner = app
        .state
        .banners
        .iter()
        .find(|b| b.kind == BannerKind::Error)
        .expect("an error banner");
    assert!(banner.text.contains("broken.npy"), "{}", banner.text);
    assert!(
        banner.text.contains("previous data stays"),
        "{}",
        banner.text
    );
    assert_eq!(
        generation(app),
        before,
        "the previous dataset stays on screen"
    );
    h.get_by_label_contains("Could not open");

    // Dismiss it (the newest banner is the last one).
    if let Some(b) = h.get_all_by_label("Dismiss").last() {
        b.click();
    }
    h.step();
    assert!(h
        .state()
        .state
        .banners
        .iter()
        .all(|b| b.kind != BannerKind::Error));
}

#[test]
fn a_missing_path_on_the_command_line_is_reported() {
    let mut h = harness(ViewerOptions {
        inputs: vec!["/no/such/dir/acts.npz".into()],
        ..Default::default()
    });
    step_until(&mut h, "the load to fail", |a| {
        a.fit_job(SlotId::Primary).is_none() && !a.state.banners.is_empty()
    });
    assert!(h.state().state.primary.loaded.is_none());
    h.get_by_label_contains("acts.npz");
}

#[test]
fn cancelling_a_fit_keeps_the_previous_result() {
    let mut h = loaded_demo();
    let before = generation(h.state());
    // A fit long enough to still be running when Cancel is clicked.
    h.state_mut().settings_panel.draft.n_iter = 100_000;
    h.state_mut().settings_panel.draft.tol = None;
    h.step();
    h.get_by_label("Apply").click();
    h.run_steps(2);
    let job = h
        .state()
        .fit_job(SlotId::Primary)
        .map(|j| j.id)
        .expect("a fit is running");
    assert!(job > 0);
    h.get_by_label("Cancel fit").click();
    h.step();
    assert!(
        h.state().fit_job(SlotId::Primary).is_none(),
        "cancel takes effect in the same frame"
    );
    assert_eq!(generation(h.state()), before);
    h.step();
    h.get_by_label_contains("Fit cancelled");
    // Nothing arrives later either.
    // Once the cancelled thread has really returned, its result must not be applied.
    step_until(&mut h, "the cancelled fit's thread to end", |a| {
        a.worker.threads_alive() == 0
    });
    h.step();
    assert_eq!(generation(h.state()), before);
}

#[test]
fn apply_refits_in_the_background_with_new_settings() {
    let mut h = loaded_demo();
    let before = generation(h.state());
    let n_before = h.state().state.playback.n_frames();
    h.state_mut().settings_panel.draft.smooth = 3;
    h.step();
    h.get_by_label_contains("press Apply");
    h.get_by_label("Apply").click();
    h.step();
    // While fitting, the old result is still there.
    assert_eq!(generation(h.state()), before);
    step_until(&mut h, "the refit", |a| generation(a) != before);
    let app = h.state();
    let l = app.state.primary.loaded.as_ref().expect("loaded");
    assert_eq!(l.settings.smooth, 3);
    assert_eq!(app.state.settings.smooth, 3);
    // A smaller window keeps more frames ('valid' smoothing).
    assert_eq!(app.state.playback.n_frames(), n_before + 7);
}

#[test]
fn open_files_without_a_portal_explains_the_alternatives() {
    let mut h = loaded_demo();
    h.get_by_label("Open").click();
    h.run_steps(2);
    h.get_by_label("Open files…").click();
    h.run_steps(3);
    h.get_by_label_contains("Drag and drop");
}

#[test]
fn comparison_opens_beside_with_shared_time_and_camera() {
    let mut h = harness(ViewerOptions {
        compare: vec!["demo:resnet".into()],
        ..Default::default()
    });
    step_until(&mut h, "both datasets", |a| {
        fitted(a.state.primary.loaded.as_ref())
            && a.state
                .compare
                .as_ref()
                .is_some_and(|c| fitted(c.loaded.as_ref()))
    });
    let app = h.state();
    let c = app
        .state
        .compare
        .as_ref()
        .and_then(|c| c.loaded.as_ref())
        .expect("compare");
    assert_eq!(c.inputs, vec!["demo:resnet".to_string()]);
    h.state_mut()
        .apply(AppCommand::Camera(srmscope::app::CameraCommand::Orbit {
            dx: 40.0,
            dy: 0.0,
        }));
    h.state_mut().apply(PlaybackCommand::Seek(20.0).into());
    let s = &h.state().state;
    assert_eq!(
        s.frame_state(SlotId::Primary).camera,
        s.frame_state(SlotId::Compare).camera
    );
    assert_eq!(
        s.frame_state(SlotId::Primary).head,
        s.frame_state(SlotId::Compare).head
    );
    h.state_mut().apply(AppCommand::CloseCompare);
    h.step();
    assert!(h.state().state.compare.is_none());
}

#[test]
fn dragging_the_view_orbits_the_camera_and_double_click_resets() {
    let mut h = loaded_demo();
    let cam0 = h.state().state.camera;
    // The middle of the window is the 3D view.
    let c = egui::pos2(SIZE[0] / 2.0, SIZE[1] / 2.0 - 60.0);
    h.hover_at(c);
    h.step();
    h.drag_at(c);
    h.step();
    h.hover_at(c + egui::vec2(80.0, 20.0));
    h.step();
    h.drop_at(c + egui::vec2(80.0, 20.0));
    h.step();
    let cam1 = h.state().state.camera;
    assert_ne!(cam1.yaw, cam0.yaw, "dragging orbits");
    h.state_mut()
        .apply(AppCommand::Camera(srmscope::app::CameraCommand::Reset));
    h.step();
    assert_eq!(h.state().state.camera.yaw, cam0.yaw);
}

#[test]
fn export_window_lists_the_options() {
    let mut h = loaded_demo();
    h.get_by_label("Export…").click();
    h.run_steps(3);
    h.get_by_label("Export animation");
    h.get_by_label("GIF");
    h.get_by_label("Export");
    assert!(
        h.state().export_panel.options.camera.is_some(),
        "starts from the current view"
    );
}

#[test]
fn saving_and_loading_a_model_restores_its_fit() {
    let mut h = loaded_demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.npz");
    let original = h
        .state()
        .state
        .primary
        .loaded
        .as_ref()
        .map(|l| l.settings.clone())
        .expect("loaded");

    h.state_mut().apply(AppCommand::SaveModel(path.clone()));
    step_until(&mut h, "the model to be saved", |a| {
        a.worker.jobs().is_empty()
    });
    assert!(path.is_file(), "model written");
    assert!(h
        .state()
        .state
        .banners
        .iter()
        .any(|b| b.text.contains("Saved model")));

    // Refit with other settings, then load the model back: its settings return.
    let mut other = original.clone();
    other.smooth = 4;
    h.state_mut().apply(AppCommand::Refit(other));
    step_until(&mut h, "the refit", |a| {
        a.state
            .primary
            .loaded
            .as_ref()
            .is_some_and(|l| l.settings.smooth == 4)
    });
    let saved = srmscope::align::model_io::load_model(&path).expect("model reads back");
    h.state_mut().apply(AppCommand::LoadModel(path));
    step_until(&mut h, "the model to be applied", |a| {
        a.worker.jobs().is_empty()
            && a.state
                .primary
                .loaded
                .as_ref()
                .is_some_and(|l| l.settings.smooth == original.smooth)
    });
    assert_eq!(
        h.state()
            .state
            .primary
            .loaded
            .as_ref()
            .map(|l| l.settings.clone()),
        Some(original)
    );
    // The maps on screen are the file's maps.
    let shown = h
        .state()
        .state
        .primary
        .loaded
        .as_ref()
        .map(|l| l.output.model.w.clone());
    assert_eq!(shown, Some(saved.w));

    // A file that is not a model is refused with a message naming it.
    let bad = dir.path().join("bad.npz");
    std::fs::write(&bad, b"not a zip").expect("write");
    h.state_mut().apply(AppCommand::LoadModel(bad));
    step_until(&mut h, "the bad model", |a| a.worker.jobs().is_empty());
    assert!(h
        .state()
        .state
        .banners
        .iter()
        .any(|b| b.kind == BannerKind::Error && b.text.contains("bad.npz")));
}

/// Offscreen rendering needs EGL (Mesa); skip the file checks where there is none, except
/// under `CI=true`, where a missing GL is a failure.
fn have_gl() -> bool {
    render_support::gl_available("app_ui")
}

#[test]
fn screenshot_and_export_write_files_on_the_worker() {
    if !have_gl() {
        return;
    }
    let mut h = loaded_demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let shot = dir.path().join("shot.png");
    h.state_mut().apply(AppCommand::Screenshot(shot.clone()));
    step_until(&mut h, "the screenshot", |a| a.worker.jobs().is_empty());
    assert!(shot.is_file(), "{:?}", h.state().state.banners);

    let gif = dir.path().join("anim.gif");
    let options = srmscope::render::ExportOptions {
        width: 96,
        height: 72,
        frames: Some(4),
        ..Default::default()
    };
    h.state_mut().apply(AppCommand::Export {
        options: Box::new(options),
        path: gif.clone(),
    });
    step_until(&mut h, "the export", |a| a.worker.jobs().is_empty());
    assert!(gif.is_file(), "{:?}", h.state().state.banners);
    assert!(h
        .state()
        .state
        .banners
        .iter()
        .any(|b| b.text.contains("Exported")));
}

/// Export… → HTML writes the interactive page from what is on screen (no GL needed): the
/// trajectories, the measures and the current camera.
#[test]
fn export_dialog_writes_an_html_page() {
    let mut h = loaded_demo();
    h.get_by_label("Export…").click();
    h.run_steps(3);
    h.get_by_label("HTML").click();
    h.run_steps(2);
    assert_eq!(
        h.state().export_panel.options.format,
        srmscope::render::ExportFormat::Html
    );
    assert!(h.state().export_panel.path.ends_with(".html"));
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("fig.html");
    let options = h.state().export_panel.options.clone();
    h.state_mut().apply(AppCommand::Export {
        options: Box::new(options),
        path: page.clone(),
    });
    step_until(&mut h, "the page", |a| a.worker.jobs().is_empty());
    let text = std::fs::read_to_string(&page).expect("the page was written");
    let (before, after) =
        srmscope::render::html::decode_trajectories(&text).expect("the page's trajectories");
    let l = h.state().state.primary.loaded.as_ref().expect("loaded");
    let want: Vec<f32> = l
        .scene
        .trajectories
        .iter()
        .flat_map(|t| t.after.clone())
        .flatten()
        .collect();
    assert_eq!(after, want);
    assert_eq!(before.len(), want.len());
    assert!(text.contains("\"isc\":{"), "the measures are on the page");
}

#[test]
fn metrics_panel_has_intervals_and_a_pairwise_heatmap_with_a_measure_chooser() {
    let mut h = loaded_demo();
    {
        let l = h.state().state.primary.loaded.as_ref().expect("loaded");
        let m = &l.output.metrics;
        let pairs = m.pairs.as_ref().expect("pairs");
        assert_eq!(pairs.len(), srmscope::analysis::similarity::MEASURES.len());
        let ci = m
            .isc
            .ci95
            .as_ref()
            .and_then(|c| c.shared)
            .expect("isc interval");
        assert!(ci[0] <= m.isc.shared && m.isc.shared <= ci[1]);
        assert!(m.rsa.chance.is_some());
    }
    h.get_by_label_contains("Network × network");
    h.get_by_value("linear CKA").click();
    h.run_steps(3);
    h.get_by_label("Procrustes angular distance").click();
    h.run_steps(3);
    // The chooser now shows the distance, and the hint says which way it points.
    h.get_by_value("Procrustes angular distance");
    h.get_by_label_contains("· self 0 · invariant to");
}
