//! The viewer's images and class names, driven headlessly through egui_kittest: class names from
//! `--class-names` replace numbers, and hovering a trajectory shows that image's thumbnail.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use srmscope::analysis::Settings;
use srmscope::app::{PlaybackCommand, SlotId, ViewerApp, ViewerOptions};

const SIZE: [f32; 2] = [1400.0, 860.0];
const NAMES: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

fn loaded(opts: ViewerOptions) -> Harness<'static, ViewerApp> {
    let mut opts = opts;
    opts.settings = Some(Settings {
        n_iter: 3,
        max_units: Some(40),
        ..Settings::default()
    });
    let app = ViewerApp::headless(&opts);
    let mut h = Harness::builder()
        .with_size(SIZE)
        .with_max_steps(8)
        .build_ui_state(|ui, app: &mut ViewerApp| app.show(ui), app);
    let start = Instant::now();
    while h.state().state.primary.loaded.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "timed out loading"
        );
        h.state_mut().settle(Duration::from_secs(60));
        h.step();
    }
    h.state_mut().apply(PlaybackCommand::Pause.into());
    h.state_mut().apply(PlaybackCommand::FinishMorph.into());
    h.step();
    h.step();
    h
}

/// A node's text: the label, or the value for plain labels.
fn text(n: &egui_kittest::Node<'_>) -> Option<String> {
    n.accesskit_node().label().or_else(|| n.value())
}

fn with_names() -> (tempfile::TempDir, Harness<'static, ViewerApp>) {
    let tmp = tempfile::tempdir().unwrap();
    let names = tmp.path().join("names.txt");
    std::fs::write(&names, NAMES.join("\n")).unwrap();
    let h = loaded(ViewerOptions {
        inputs: vec!["demo:convnet".into()],
        class_names: Some(names),
        ..Default::default()
    });
    (tmp, h)
}

#[test]
fn class_names_replace_numbers_and_the_images_show() {
    let (_tmp, mut h) = with_names();
    h.state_mut().apply(PlaybackCommand::Seek(200.0).into());
    h.step();
    h.step();
    let (img, class) = {
        let l = h.state().state.primary.loaded.as_ref().unwrap();
        let f = h.state().state.playback.frame();
        (l.image(f).unwrap(), l.label(f).unwrap())
    };
    let name = NAMES[class as usize];
    // Status line, the 3D caption and the current image in the time panel.
    h.get_by_label(&format!("image #{img} · class {name}"));
    assert!(
        h.query_all_by_label(&format!("image #{img}")).count() >= 1,
        "the current image is shown"
    );
    // The most-disagreeing list names classes too, and a click seeks.
    h.get_by_label_contains("Most disagreeing images");
    let first = h
        .query_all_by_label_contains(" · ")
        .filter(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with("image #") && NAMES.iter().any(|c| l.ends_with(c)))
        })
        .count();
    assert!(first >= 6, "both lists show image and class name");
}

#[test]
fn hovering_a_trajectory_shows_the_thumbnail() {
    let (_tmp, mut h) = with_names();
    h.state_mut().apply(PlaybackCommand::Seek(100.0).into());
    h.step();
    h.step();
    let (at, img) = {
        let app = h.state();
        let rect = app.view_rect(SlotId::Primary).unwrap();
        let frame = app.state.frame_state(SlotId::Primary);
        let l = app.state.primary.loaded.as_ref().unwrap();
        let f = app.state.playback.frame();
        let t = &l.scene.trajectories[0];
        let m = frame.morph;
        let p = [0, 1, 2].map(|k| t.before[f][k] + (t.after[f][k] - t.before[f][k]) * m);
        let s = frame
            .camera
            .project(p, rect.width(), rect.height())
            .unwrap();
        (rect.min + egui::vec2(s[0], s[1]), l.image(f).unwrap())
    };
    h.hover_at(at);
    h.step();
    h.step();
    // The nearest point may be a neighbour's: any thumbnail, then the exact one when it is ours.
    let thumbs: Vec<String> = h
        .query_all_by_label_contains("hovered image #")
        .filter_map(|n| text(&n))
        .collect();
    assert_eq!(thumbs.len(), 1, "one thumbnail in the tooltip: {thumbs:?}");
    assert!(thumbs[0].starts_with("hovered image #"));
    let shown: usize = thumbs[0]["hovered image #".len()..].parse().unwrap();
    // Within the head's tail of the seeked frame (the picked point may be a neighbour).
    let l = h.state().state.primary.loaded.as_ref().unwrap();
    let near = (0..l.scene.n_frames())
        .filter_map(|f| l.image(f))
        .any(|i| i == shown);
    assert!(near && shown < 1797, "{shown} vs {img}");
    let all: Vec<String> = h
        .query_all_by_label_contains("class")
        .filter_map(|n| text(&n))
        .collect();
    assert!(
        all.iter()
            .any(|l| NAMES.iter().any(|c| *l == format!("class {c}"))),
        "the tooltip names the class: {all:?}"
    );
}

#[test]
fn the_export_window_offers_the_image_corner() {
    let (_tmp, mut h) = with_names();
    h.get_by_label("Export…").click();
    h.run_steps(3);
    h.get_by_label("colour by class");
    h.get_by_label("current image in the corner");
}
