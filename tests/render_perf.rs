//! Measurements, not checks (ignored by default; run in release):
//!   cargo test --release --test render_perf -- --ignored --nocapture
//! For peak memory run the built binary under `/usr/bin/time -v ... --ignored export_300`.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render_support;

use render_support::*;
use srmscope::progress::silent;
use srmscope::render::{demo, export, ExportOptions, FrameState, Ghost, SceneRenderer, ViewStyle};

/// The HyperTools anchor: 300 frames at 640×480 of 5 networks × 600 images
/// (HyperTools 1.1.0: 17.2 s, 756 MB peak RSS).
#[test]
#[ignore]
fn export_300_frames_640x480() {
    if !gl_available("export_300_frames_640x480") {
        return;
    }
    let scene = demo::planted_rotation(5, 600, false);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("anchor.gif");
    let opts = ExportOptions {
        frames: Some(300),
        frame_rate: 30.0,
        tail_duration: 1.0,
        rotations: 0.15,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let s = silent(|p| export(&scene, &opts, &out, p)).expect("export");
    eprintln!(
        "export: {} frames {}x{} in {:.2} s ({:.1} ms/frame), {} KiB, tail {} images",
        s.frames,
        s.width,
        s.height,
        t.elapsed().as_secs_f64(),
        t.elapsed().as_secs_f64() * 1000.0 / s.frames as f64,
        s.bytes / 1024,
        s.tail_images
    );
    if let Ok(shots) = std::env::var("SRMSCOPE_SHOTS") {
        std::fs::copy(&out, std::path::Path::new(&shots).join("anchor.gif")).ok();
    }
}

/// The viewer's target: 10 networks × 10,000 points, 200-frame tail, 1280×800, ≥ 30 fps.
#[test]
#[ignore]
fn frame_time_1280x800_10x10000() {
    use three_d::context::HasContext;
    let Some(mut gl) = gl_or_skip("frame_time_1280x800_10x10000") else {
        return;
    };
    let scene = demo::planted_rotation(10, 10_000, false);
    let t = std::time::Instant::now();
    let mut r = SceneRenderer::new(gl.context(), &scene).expect("renderer");
    eprintln!(
        "device {}; scene upload {:.1} ms",
        gl.device_name(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let cases = [
        (0, Ghost::None, "clear + cube only"),
        (200, Ghost::None, "tail 200"),
        (200, Ghost::Chemtrails, "tail 200 + chemtrails"),
        (200, Ghost::Bullettime, "tail 200 + bullettime"),
        (10_000, Ghost::None, "whole paths bright"),
    ];
    for (tail, ghost, label) in cases {
        let mut st = FrameState {
            head: 0.0,
            style: ViewStyle {
                tail,
                ghost,
                ..Default::default()
            },
            ..Default::default()
        };
        let bg = st.opaque_background();
        gl.render_rgba(&mut r, 1280, 800, &st).expect("warm-up");
        let n = 60;
        let mut draw = std::time::Duration::ZERO;
        let mut with_readback = std::time::Duration::ZERO;
        for i in 0..n {
            st.head = 3000.0 + i as f32 * 37.3;
            st.camera.spin(0.5, 1.0 / n as f32);
            let t0 = std::time::Instant::now();
            gl.render_views(1280, 800, bg, |ctx| {
                r.draw(ctx, three_d::Viewport::new_at_origo(1280, 800), &st);
                // Wait for the GPU so the draw time is real, as a swap would.
                // SAFETY: glFinish on the context current in this callback.
                unsafe { ctx.finish() };
                draw += t0.elapsed();
            })
            .expect("render");
            with_readback += t0.elapsed();
        }
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0 / n as f64;
        eprintln!(
            "{label:>24}: draw {:.1} ms ({:.0} fps), with readback {:.1} ms",
            ms(draw),
            1000.0 / ms(draw),
            ms(with_readback)
        );
    }
}
