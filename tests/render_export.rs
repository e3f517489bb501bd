//! GIF / PNG export end to end: decodable output with the requested frames, size and delay;
//! network colours present; alignment visible; atomic writes; cancel; clear errors.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render_support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use render_support::*;
use srmscope::progress::{silent, Progress, ProgressEvent};
use srmscope::render::{
    demo, export, palette, render_single_png, BothLayout, ExportFormat, ExportOptions, ExportView,
    FrameState, Ghost, RenderError, ViewStyle,
};

fn small(view: ExportView) -> ExportOptions {
    ExportOptions {
        frames: Some(12),
        frame_rate: 20.0,
        tail_duration: 0.3,
        rotations: 0.25,
        width: 200,
        height: 150,
        view,
        ..Default::default()
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".srmscope"))
        .collect()
}

#[test]
fn gif_has_requested_frames_size_delay_and_loops() {
    if !gl_available("gif_has_requested_frames_size_delay_and_loops") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("anim.gif");
    let scene = demo::planted_rotation(3, 240, false);
    let summary = silent(|p| export(&scene, &small(ExportView::After), &out, p)).expect("export");
    assert_eq!(summary.frames, 12);
    assert_eq!(summary.delay_cs, Some(5));
    assert!(summary.bytes > 0);
    let g = decode_gif(&out);
    assert_eq!((g.width, g.height), (200, 150));
    assert_eq!(g.frames.len(), 12);
    assert!(g.delays.iter().all(|&d| d == 5), "{:?}", g.delays);
    assert!(g.repeat_infinite, "loops forever");
    assert_ne!(g.frames[0], g.frames[11], "the animation moves");
    assert!(leftovers(dir.path()).is_empty());
    if let Ok(shots) = std::env::var("SRMSCOPE_SHOTS") {
        std::fs::copy(&out, Path::new(&shots).join("after.gif")).ok();
    }
}

#[test]
fn gif_frames_show_every_network_colour_before_and_after() {
    if !gl_available("gif_frames_show_every_network_colour_before_and_after") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let scene = demo::planted_rotation(4, 300, false);
    for view in [ExportView::Before, ExportView::After] {
        let out = dir.path().join(format!("{view:?}.gif"));
        // A long tail so the last frame holds most of each path.
        let opts = ExportOptions {
            tail_duration: 0.5,
            style: ViewStyle {
                show_legend: false,
                ..Default::default()
            },
            width: 320,
            height: 240,
            ..small(view)
        };
        silent(|p| export(&scene, &opts, &out, p)).expect("export");
        let g = decode_gif(&out);
        let last = g.frames.last().expect("frames");
        for (k, c) in palette(4).iter().enumerate() {
            let n = count_color(last, *c);
            assert!(
                n >= 10,
                "{view:?}: network {k} colour {c:?} has {n} pixels in the last frame"
            );
        }
    }
}

#[test]
fn gif_before_and_after_differ_in_overlap() {
    if !gl_available("gif_before_and_after_differ_in_overlap") {
        return;
    }
    // Side by side: left half is before, right half after; the same camera. In the right half
    // the networks coincide, so fewer pixels are inked in total than on the left.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("both.gif");
    let scene = demo::planted_rotation(4, 300, false);
    let opts = ExportOptions {
        tail_duration: 10.0,
        captions: false,
        style: ViewStyle {
            show_legend: false,
            show_cube: false,
            ..Default::default()
        },
        width: 400,
        height: 200,
        ..small(ExportView::Both)
    };
    silent(|p| export(&scene, &opts, &out, p)).expect("export");
    let g = decode_gif(&out);
    let last = g.frames.last().expect("frames");
    let bg = ViewStyle::default().background();
    let ink = mask_not(last, bg);
    let (mut left, mut right) = (0, 0);
    for (i, on) in ink.iter().enumerate() {
        if *on {
            if i % 400 < 200 {
                left += 1
            } else {
                right += 1
            }
        }
    }
    assert!(
        left as f64 > 1.3 * right as f64,
        "before inks {left} px, after {right} px"
    );
}

#[test]
fn sequence_layout_and_png_frames() {
    if !gl_available("sequence_layout_and_png_frames") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("frames");
    let scene = demo::planted_rotation(2, 100, false);
    let opts = ExportOptions {
        format: ExportFormat::PngFrames,
        both_layout: BothLayout::Sequence,
        morph_duration: 0.2,
        frames: Some(3),
        style: ViewStyle {
            ghost: Ghost::Chemtrails,
            ..Default::default()
        },
        title: Some("Planted rotation".into()),
        ..small(ExportView::Both)
    };
    let s = silent(|p| export(&scene, &opts, &out, p)).expect("export");
    assert_eq!(s.frames, 3 + 4 + 3);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "frame_00000.png");
    assert_eq!(names[9], "frame_00009.png");
    let dec = png::Decoder::new(std::fs::File::open(out.join("frame_00005.png")).expect("png"));
    let info = dec.read_info().expect("png header").info().clone();
    assert_eq!((info.width, info.height), (200, 150));
    assert!(leftovers(dir.path()).is_empty());
    // A second export into the same, now non-empty folder is refused and changes nothing.
    let err = silent(|p| export(&scene, &opts, &out, p)).expect_err("non-empty folder");
    assert!(err.to_string().contains("frames"), "{err}");
    assert_eq!(std::fs::read_dir(&out).expect("dir").count(), 10);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn cancel_leaves_nothing_behind() {
    if !gl_available("cancel_leaves_nothing_behind") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let scene = demo::planted_rotation(2, 100, false);
    let cancel = AtomicBool::new(false);
    let events = AtomicUsize::new(0);
    let report = |_e: ProgressEvent| {
        if events.fetch_add(1, Ordering::SeqCst) >= 3 {
            cancel.store(true, Ordering::SeqCst);
        }
    };
    let progress = Progress::new(&report, &cancel);
    for (name, format) in [
        ("a.gif", ExportFormat::Gif),
        ("frames", ExportFormat::PngFrames),
    ] {
        cancel.store(false, Ordering::SeqCst);
        events.store(0, Ordering::SeqCst);
        let out = dir.path().join(name);
        let opts = ExportOptions {
            format,
            ..small(ExportView::After)
        };
        let err = export(&scene, &opts, &out, &progress).expect_err("cancelled");
        assert!(matches!(err, RenderError::Cancelled), "{err}");
        assert!(!out.exists(), "{name} must not exist after cancel");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "no temp files left"
    );
}

#[test]
fn bad_destinations_are_clear_errors() {
    let scene = demo::planted_rotation(2, 50, false);
    let dir = tempfile::tempdir().expect("tempdir");
    // Missing folder: named in the message, checked before any GL work.
    let missing = dir.path().join("no/such/dir/a.gif");
    let err = silent(|p| export(&scene, &small(ExportView::After), &missing, p))
        .expect_err("missing dir");
    let msg = err.to_string();
    assert!(
        msg.contains("no/such/dir") && msg.contains("does not exist"),
        "{msg}"
    );
    // Nonsense options.
    let err = silent(|p| {
        export(
            &scene,
            &ExportOptions {
                width: 0,
                ..small(ExportView::After)
            },
            &dir.path().join("x.gif"),
            p,
        )
    })
    .expect_err("zero width");
    assert!(matches!(err, RenderError::Options(_)), "{err}");
    if !gl_available("bad_destinations_are_clear_errors") {
        return;
    }
    // A GIF path that is a folder.
    let err =
        silent(|p| export(&scene, &small(ExportView::After), dir.path(), p)).expect_err("folder");
    assert!(err.to_string().contains("folder"), "{err}");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn single_png_screenshot() {
    if !gl_available("single_png_screenshot") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("shot.png");
    let scene = demo::planted_rotation(3, 200, false);
    let state = FrameState {
        head: 150.0,
        morph: 1.0,
        style: ViewStyle {
            tail: 80,
            ..Default::default()
        },
        ..Default::default()
    };
    let overlay = srmscope::render::Overlay {
        title: Some("shot".into()),
        legend: vec![("network 1".into(), palette(3)[0])],
        caption: None,
        text_color: [0, 0, 0],
        background: [255, 255, 255],
    };
    render_single_png(&scene, &state, 300, 200, Some(&overlay), &out).expect("png");
    let dec = png::Decoder::new(std::fs::File::open(&out).expect("png"));
    let mut reader = dec.read_info().expect("header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("frame");
    assert_eq!((info.width, info.height), (300, 200));
    assert!(leftovers(dir.path()).is_empty());
    // Still image export of both views side by side.
    let still = dir.path().join("still.png");
    let opts = ExportOptions {
        format: ExportFormat::Png,
        ..small(ExportView::Both)
    };
    let s = silent(|p| export(&scene, &opts, &still, p)).expect("still");
    assert_eq!(s.frames, 1);
    assert!(still.exists());
}
