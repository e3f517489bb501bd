//! The 3D scene drawn offscreen through headless EGL: colours present, alignment visible in
//! pixels, ghosts, morph and viewports. Fails without Mesa unless SRMSCOPE_SKIP_GL=1.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render_support;

use render_support::*;
use srmscope::render::{demo, palette, FrameState, Ghost, SceneRenderer, ViewStyle};

const W: u32 = 480;
const H: u32 = 360;

fn whole_path(morph: f32, n_frames: usize) -> FrameState {
    FrameState {
        head: (n_frames - 1) as f32,
        morph,
        style: ViewStyle {
            tail: n_frames,
            show_cube: false,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn every_network_colour_is_drawn_before_and_after() {
    let Some(mut gl) = gl_or_skip("every_network_colour_is_drawn_before_and_after") else {
        return;
    };
    let scene = demo::planted_rotation(5, 400, false);
    let mut r = SceneRenderer::new(gl.context(), &scene).expect("renderer");
    let colors = palette(5);
    assert_eq!(r.colors(), &colors[..]);
    for morph in [0.0, 1.0] {
        let rgba = gl
            .render_rgba(&mut r, W, H, &whole_path(morph, 400))
            .expect("render");
        assert_eq!(rgba.len(), (W * H * 4) as usize);
        for (k, c) in colors.iter().enumerate() {
            let n = count_color(&rgba, *c);
            // Aligned paths overlap, so in "after" the earlier networks show only at edges.
            let need = if morph == 0.0 { 300 } else { 20 };
            assert!(
                n >= need,
                "morph {morph}: network {k} colour {c:?} has {n} pixels"
            );
        }
    }
}

/// The planted rotation: per-network coverage masks overlap far more after alignment.
#[test]
fn networks_overlap_after_alignment_not_before() {
    let Some(mut gl) = gl_or_skip("networks_overlap_after_alignment_not_before") else {
        return;
    };
    let scene = demo::planted_rotation(4, 500, false);
    let mut r = SceneRenderer::new(gl.context(), &scene).expect("renderer");
    let bg = ViewStyle::default().background();
    let mut mean_iou = |morph: f32| {
        let masks: Vec<Vec<bool>> = (0..4)
            .map(|k| {
                let mut st = whole_path(morph, 500);
                st.visible = (0..4).map(|j| j == k).collect();
                let rgba = gl.render_rgba(&mut r, W, H, &st).expect("render");
                dilate(&mask_not(&rgba, bg), W as usize, H as usize, 1)
            })
            .collect();
        let mut sum = 0.0;
        let mut n = 0;
        for i in 0..4 {
            for j in 0..i {
                sum += iou(&masks[i], &masks[j]);
                n += 1;
            }
        }
        sum / n as f64
    };
    let before = mean_iou(0.0);
    let after = mean_iou(1.0);
    eprintln!("mean pairwise IoU: before {before:.3}, after {after:.3}");
    assert!(
        after > 0.6,
        "after alignment the paths should coincide (IoU {after:.3})"
    );
    assert!(
        before < 0.2,
        "before alignment they should not (IoU {before:.3})"
    );
    assert!(after > 3.0 * before);
}

/// The same check from projected coordinates (what hover picking uses), independent of pixels.
#[test]
fn projected_paths_coincide_after() {
    let scene = demo::planted_rotation(3, 300, false);
    let cam = srmscope::render::OrbitCamera::default();
    let spread = |after: bool| {
        let mut total = 0.0f32;
        for i in 0..300 {
            let pts: Vec<[f32; 2]> = scene
                .trajectories
                .iter()
                .map(|t| {
                    cam.project(if after { t.after[i] } else { t.before[i] }, 640.0, 480.0)
                        .expect("in front")
                })
                .collect();
            total += ((pts[0][0] - pts[1][0]).powi(2) + (pts[0][1] - pts[1][1]).powi(2)).sqrt();
        }
        total / 300.0
    };
    let (b, a) = (spread(false), spread(true));
    assert!(
        a < 5.0 && b > 8.0 * a,
        "mean pixel distance before {b}, after {a}"
    );
}

#[test]
fn head_tail_ghost_and_cube_change_the_picture() {
    let Some(mut gl) = gl_or_skip("head_tail_ghost_and_cube_change_the_picture") else {
        return;
    };
    let scene = demo::planted_rotation(3, 300, true);
    let mut r = SceneRenderer::new(gl.context(), &scene).expect("renderer");
    let bg = ViewStyle::default().background();
    let base = FrameState {
        head: 150.0,
        style: ViewStyle {
            tail: 30,
            show_cube: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let ink = |gl: &mut srmscope::render::HeadlessGl, r: &mut SceneRenderer, st: &FrameState| {
        let rgba = gl.render_rgba(r, W, H, st).expect("render");
        (mask_not(&rgba, bg).iter().filter(|b| **b).count(), rgba)
    };
    let (short, _) = ink(&mut gl, &mut r, &base);
    let (long, _) = ink(
        &mut gl,
        &mut r,
        &FrameState {
            style: ViewStyle {
                tail: 150,
                ..base.style.clone()
            },
            ..base.clone()
        },
    );
    let (ghost, ghost_img) = ink(
        &mut gl,
        &mut r,
        &FrameState {
            style: ViewStyle {
                ghost: Ghost::Bullettime,
                ..base.style.clone()
            },
            ..base.clone()
        },
    );
    let (cube, _) = ink(
        &mut gl,
        &mut r,
        &FrameState {
            style: ViewStyle {
                show_cube: true,
                ..base.style.clone()
            },
            ..base.clone()
        },
    );
    assert!(short > 200, "a 30-frame head is visible ({short} px)");
    assert!(long > short * 2, "longer tail, more ink: {short} -> {long}");
    assert!(ghost > long, "the whole faded path adds ink: {ghost}");
    assert!(cube > short + 500, "the cube adds ink: {short} -> {cube}");
    // Ghost pixels are the faded colour, not the full one.
    let faded = ViewStyle::default().ghost_color(palette(3)[0]);
    assert!(count_color(&ghost_img, faded) > 100);
    // Hidden networks vanish.
    let (none, _) = ink(
        &mut gl,
        &mut r,
        &FrameState {
            visible: vec![false; 3],
            ..base.clone()
        },
    );
    assert_eq!(none, 0);
    // Colour by label uses label colours (the head passes through several classes).
    let (_, labelled) = ink(
        &mut gl,
        &mut r,
        &FrameState {
            style: ViewStyle {
                color_by_label: true,
                tail: 150,
                ..base.style.clone()
            },
            ..base.clone()
        },
    );
    let label_cols = srmscope::render::label_palette(10);
    let present = label_cols
        .iter()
        .filter(|c| count_color(&labelled, **c) > 20)
        .count();
    assert!(present >= 3, "label colours drawn: {present}");
    if let Ok(dir) = std::env::var("SRMSCOPE_SHOTS") {
        save_png(
            &std::path::Path::new(&dir).join("labels.png"),
            &labelled,
            W,
            H,
        );
    }
}

#[test]
fn fractional_head_and_morph_are_smooth() {
    let Some(mut gl) = gl_or_skip("fractional_head_and_morph_are_smooth") else {
        return;
    };
    let scene = demo::planted_rotation(2, 200, false);
    let mut r = SceneRenderer::new(gl.context(), &scene).expect("renderer");
    let st = |head: f32, morph: f32| FrameState {
        head,
        morph,
        style: ViewStyle {
            tail: 20,
            show_cube: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let a = gl
        .render_rgba(&mut r, W, H, &st(100.0, 0.0))
        .expect("render");
    let b = gl
        .render_rgba(&mut r, W, H, &st(100.5, 0.0))
        .expect("render");
    let c = gl
        .render_rgba(&mut r, W, H, &st(100.0, 0.5))
        .expect("render");
    let d = gl
        .render_rgba(&mut r, W, H, &st(100.0, 0.0))
        .expect("render");
    assert_ne!(a, b, "half a frame moves the head");
    assert_ne!(a, c, "half a morph moves the paths");
    assert_eq!(a, d, "rendering is deterministic");
}

#[test]
fn draw_respects_viewport_and_keeps_outside_pixels() {
    let Some(mut gl) = gl_or_skip("draw_respects_viewport_and_keeps_outside_pixels") else {
        return;
    };
    let scene = demo::planted_rotation(3, 300, false);
    let mut r = SceneRenderer::new(gl.context(), &scene).expect("renderer");
    let st = FrameState {
        head: 299.0,
        style: ViewStyle {
            tail: 300,
            ..Default::default()
        },
        ..Default::default()
    };
    // Clear to red, then draw only into the right half with a white clear of that half.
    let rgba = gl
        .render_views(W, H, [1.0, 0.0, 0.0, 1.0], |ctx| {
            let vp = three_d::Viewport {
                x: (W / 2) as i32,
                y: 0,
                width: W / 2,
                height: H,
            };
            r.draw(
                ctx,
                vp,
                &FrameState {
                    clear_color: Some([1.0, 1.0, 1.0, 1.0]),
                    ..st.clone()
                },
            );
        })
        .expect("render");
    let px = |x: u32, y: u32| {
        let i = ((y * W + x) * 4) as usize;
        [rgba[i], rgba[i + 1], rgba[i + 2]]
    };
    for y in (0..H).step_by(17) {
        for x in (0..W / 2).step_by(13) {
            assert_eq!(px(x, y), [255, 0, 0], "left half untouched at {x},{y}");
        }
    }
    let right: Vec<u8> = (0..H)
        .flat_map(|y| (W / 2..W).flat_map(move |x| [x, y]))
        .collect::<Vec<u32>>()
        .chunks(2)
        .flat_map(|p| px(p[0], p[1]).into_iter().chain([255]))
        .collect();
    assert!(
        count_color(&right, [255, 255, 255]) > (W * H / 4) as usize,
        "right half cleared to white"
    );
    assert!(count_color(&right, palette(3)[0]) > 50, "and drawn into");

    // A caller's clip (egui's clip rect) limits both the clear and the drawing.
    let clipped = gl
        .render_views(W, H, [1.0, 0.0, 0.0, 1.0], |ctx| {
            ctx.set_scissor(three_d::ScissorBox {
                x: 0,
                y: 0,
                width: W,
                height: H / 2,
            });
            let vp = three_d::Viewport::new_at_origo(W, H);
            r.draw(
                ctx,
                vp,
                &FrameState {
                    clear_color: Some([1.0, 1.0, 1.0, 1.0]),
                    ..st.clone()
                },
            );
        })
        .expect("render");
    let top_half = &clipped[..(W * H / 2 * 4) as usize]; // rows are top first: GL's upper half
    let bottom_half = &clipped[(W * H / 2 * 4) as usize..];
    assert_eq!(
        count_color(top_half, [255, 0, 0]),
        (W * H / 2) as usize,
        "outside the clip untouched"
    );
    assert_eq!(
        count_color(bottom_half, [255, 0, 0]),
        0,
        "inside the clip cleared"
    );
}

#[test]
fn bad_scenes_are_errors_not_panics() {
    let Some(gl) = gl_or_skip("bad_scenes_are_errors_not_panics") else {
        return;
    };
    let empty = srmscope::analysis::SceneData::default();
    let err = SceneRenderer::new(gl.context(), &empty)
        .err()
        .expect("empty scene rejected");
    assert!(err.to_string().contains("no networks"), "{err}");
    let mut s = demo::planted_rotation(2, 10, false);
    s.trajectories[1].before[4] = [f32::NAN, 0.0, 0.0];
    assert!(SceneRenderer::new(gl.context(), &s).is_err());
    // A single frame draws just the markers.
    let one = demo::planted_rotation(2, 1, false);
    let mut gl = gl;
    let mut r = SceneRenderer::new(gl.context(), &one).expect("one frame");
    let rgba = gl
        .render_rgba(&mut r, 64, 64, &FrameState::default())
        .expect("render");
    assert_eq!(rgba.len(), 64 * 64 * 4);
}
