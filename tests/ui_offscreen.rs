//! egui painted offscreen: size, text, filled shapes, user textures and egui_plot lines reach
//! the pixels, and the PNG written decodes to the same pixels.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render_support;

use std::path::Path;
use std::time::Instant;

use eframe::egui::{self, Color32, Rect, Vec2};
use egui_plot::{Line, Plot, PlotPoints};
use render_support::gl_or_skip;
use srmscope::render::ui_offscreen::{write_png, RgbaImage, UiPainter};
use srmscope::render::RenderError;

const RECT_COLOR: Color32 = Color32::from_rgb(200, 30, 40);
const TEX_A: Color32 = Color32::from_rgb(10, 200, 90);
const TEX_B: Color32 = Color32::from_rgb(250, 220, 0);
const LINE_COLOR: Color32 = Color32::from_rgb(0, 90, 255);

fn painter(test: &str) -> Option<UiPainter> {
    gl_or_skip(test).map(|gl| UiPainter::with_gl(gl).expect("egui painter on headless GL"))
}

/// Where the test UI put its parts, in points.
#[derive(Default, Debug)]
struct Layout {
    heading: Option<Rect>,
    rect: Option<Rect>,
    image: Option<Rect>,
    plot: Option<Rect>,
}

/// A heading, a filled rectangle, a 4×4 checkerboard texture shown 64 points wide, and a line
/// plot: the parts of the Study view's figures.
fn test_ui(ui: &mut egui::Ui, layout: &mut Layout) {
    layout.heading = Some(ui.heading("Offscreen figure").rect);
    ui.horizontal(|ui| {
        let (rect, _) = ui.allocate_exact_size(Vec2::new(80.0, 40.0), egui::Sense::hover());
        ui.painter().rect_filled(rect, 0.0, RECT_COLOR);
        layout.rect = Some(rect);

        let pixels: Vec<Color32> = (0..16)
            .map(|i| {
                if (i % 4 + i / 4) % 2 == 0 {
                    TEX_A
                } else {
                    TEX_B
                }
            })
            .collect();
        let image = egui::ColorImage::new([4, 4], pixels);
        let tex = ui
            .ctx()
            .load_texture("checker", image, egui::TextureOptions::NEAREST);
        let resp = ui.add(egui::Image::new((tex.id(), Vec2::splat(64.0))));
        layout.image = Some(resp.rect);
    });
    let plot = Plot::new("test_plot")
        .height(200.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .x_axis_label("iteration")
        .show(ui, |p| {
            let pts: Vec<[f64; 2]> = (0..50)
                .map(|i| [i as f64, (i as f64 / 8.0).sin()])
                .collect();
            p.line(
                Line::new("wave", PlotPoints::new(pts))
                    .color(LINE_COLOR)
                    .width(2.0),
            );
        });
    layout.plot = Some(plot.response.rect);
}

fn render(p: &mut UiPainter, ppp: f32, visuals: egui::Visuals) -> (RgbaImage, Layout) {
    let mut layout = Layout::default();
    let img = p
        .render([600.0, 400.0], ppp, visuals, |ui| test_ui(ui, &mut layout))
        .expect("render");
    (img, layout)
}

/// Pixels inside `r` (points) for which `f` holds.
fn count_in(img: &RgbaImage, r: Rect, ppp: f32, f: impl Fn([u8; 4]) -> bool) -> usize {
    let x0 = (r.min.x * ppp).ceil().max(0.0) as u32;
    let y0 = (r.min.y * ppp).ceil().max(0.0) as u32;
    let x1 = ((r.max.x * ppp).floor() as u32).min(img.width);
    let y1 = ((r.max.y * ppp).floor() as u32).min(img.height);
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            if f(img.pixel(x, y).unwrap()) {
                n += 1;
            }
        }
    }
    n
}

fn exact(c: Color32) -> impl Fn([u8; 4]) -> bool {
    move |p| p[0] == c.r() && p[1] == c.g() && p[2] == c.b()
}

fn luma(p: [u8; 4]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

fn decode_png(path: &Path) -> RgbaImage {
    let dec = png::Decoder::new(std::fs::File::open(path).expect("open png"));
    let mut reader = dec.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Rgba);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    RgbaImage {
        width: info.width,
        height: info.height,
        pixels: buf,
    }
}

fn check_figure(img: &RgbaImage, layout: &Layout, ppp: f32, visuals: &egui::Visuals) {
    let (w, h) = ((600.0 * ppp) as u32, (400.0 * ppp) as u32);
    assert_eq!((img.width, img.height), (w, h));
    assert_eq!(img.pixels.len(), (w * h * 4) as usize);
    assert!(img.pixels.chunks_exact(4).all(|p| p[3] == 255), "opaque");

    // Background: the panel fill, in a corner and below the plot.
    let fill = visuals.panel_fill;
    for (x, y) in [(1, 1), (w - 2, h - 2)] {
        let p = img.pixel(x, y).unwrap();
        assert_eq!(&p[..3], &fill.to_array()[..3], "background at {x},{y}");
    }

    // Heading: text pixels contrasting with the fill (dark on light or light on dark).
    let heading = layout.heading.expect("heading laid out");
    assert!(
        heading.min.y < 40.0 && heading.height() > 10.0,
        "{heading:?}"
    );
    let bg_luma = luma(fill.to_array());
    let strong = count_in(img, heading, ppp, |p| (luma(p) - bg_luma).abs() > 80.0);
    let area = heading.area() * ppp * ppp;
    assert!(
        strong as f32 > 0.02 * area && (strong as f32) < 0.6 * area,
        "heading text pixels: {strong} of {area}"
    );

    // The filled rectangle: its interior is exactly its colour.
    let rect = layout.rect.expect("rect laid out");
    let inner = rect.shrink(1.0);
    let n = count_in(img, inner, ppp, exact(RECT_COLOR));
    let expect = inner.area() * ppp * ppp;
    assert!(n as f32 >= 0.95 * expect, "rect pixels {n} of {expect}");

    // The texture: both checker colours, about half the image each.
    let image = layout.image.expect("image laid out").shrink(1.0);
    let half = image.area() * ppp * ppp / 2.0;
    for c in [TEX_A, TEX_B] {
        let n = count_in(img, image, ppp, exact(c));
        assert!(
            (n as f32) > 0.8 * half && (n as f32) < 1.2 * half,
            "texture colour {c:?}: {n} pixels, expected about {half}"
        );
    }

    // The plot: the line's colour (antialiased edges aside) inside the plot frame, and axis
    // tick labels / grid lines making it more than a blank box.
    let plot = layout.plot.expect("plot laid out");
    assert!(plot.width() > 400.0 && plot.height() > 150.0, "{plot:?}");
    let near_line = |p: [u8; 4]| {
        (i32::from(p[0]) - i32::from(LINE_COLOR.r())).abs() < 25
            && (i32::from(p[1]) - i32::from(LINE_COLOR.g())).abs() < 25
            && (i32::from(p[2]) - i32::from(LINE_COLOR.b())).abs() < 25
    };
    let line_px = count_in(img, plot, ppp, near_line);
    assert!(
        line_px as f32 > 300.0 * ppp,
        "plot line pixels: {line_px} (ppp {ppp})"
    );
    let other = count_in(img, plot, ppp, |p| {
        !near_line(p) && (luma(p) - bg_luma).abs() > 60.0
    });
    assert!(other as f32 > 200.0 * ppp, "axis labels and grid: {other}");
}

fn render_check_write(p: &mut UiPainter, ppp: f32, visuals: egui::Visuals, name: &str) {
    let t = Instant::now();
    let (img, layout) = render(p, ppp, visuals.clone());
    let render_s = t.elapsed().as_secs_f64();
    // Saved before the checks, so a failing image can be looked at.
    if let Ok(shots) = std::env::var("SRMSCOPE_SHOTS") {
        write_png(&Path::new(&shots).join(name), &img).ok();
    }
    check_figure(&img, &layout, ppp, &visuals);

    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join(name);
    let t = Instant::now();
    write_png(&out, &img).expect("write png");
    let write_s = t.elapsed().as_secs_f64();
    eprintln!(
        "{name}: {}x{} rendered in {render_s:.3} s, PNG written in {write_s:.3} s",
        img.width, img.height
    );
    let back = decode_png(&out);
    assert_eq!(back, img, "PNG decodes to the rendered pixels");
    let stray: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".srmscope"))
        .collect();
    assert!(stray.is_empty(), "temp files left: {stray:?}");
}

#[test]
fn ui_renders_text_rect_texture_and_plot_at_ppp_1_and_2() {
    let Some(mut p) = painter("ui_renders_text_rect_texture_and_plot_at_ppp_1_and_2") else {
        return;
    };
    render_check_write(&mut p, 1.0, egui::Visuals::light(), "ui_light_1x.png");
    render_check_write(&mut p, 2.0, egui::Visuals::light(), "ui_light_2x.png");
    // Back to another size on the same painter, in the dark theme (light text on dark).
    render_check_write(&mut p, 1.0, egui::Visuals::dark(), "ui_dark_1x.png");
    render_check_write(&mut p, 2.0, egui::Visuals::dark(), "ui_dark_2x.png");
}

#[test]
fn renders_are_repeatable() {
    let Some(mut p) = painter("renders_are_repeatable") else {
        return;
    };
    let (a, _) = render(&mut p, 1.0, egui::Visuals::light());
    let (b, _) = render(&mut p, 1.0, egui::Visuals::light());
    assert_eq!(a, b, "same UI, same pixels");
}

#[test]
fn timing_1200x800_points() {
    let Some(mut p) = painter("timing_1200x800_points") else {
        return;
    };
    // The first render builds the font atlas and compiles shaders.
    let t = Instant::now();
    let mut layout = Layout::default();
    let img = p
        .render([1200.0, 800.0], 1.0, egui::Visuals::light(), |ui| {
            test_ui(ui, &mut layout)
        })
        .expect("render");
    let first = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let img2 = p
        .render([1200.0, 800.0], 1.0, egui::Visuals::light(), |ui| {
            test_ui(ui, &mut layout)
        })
        .expect("render");
    let second = t.elapsed().as_secs_f64();
    assert_eq!((img.width, img.height), (1200, 800));
    assert_eq!(img, img2);
    eprintln!("1200x800 points at ppp 1: first render {first:.3} s, next {second:.3} s");
}

#[test]
fn nonsense_sizes_are_refused() {
    let Some(mut p) = painter("nonsense_sizes_are_refused") else {
        return;
    };
    for (size, ppp) in [
        ([0.0, 100.0], 1.0),
        ([100.0, 100.0], 0.0),
        ([100.0, 100.0], f32::NAN),
        ([20000.0, 10.0], 1.0),
    ] {
        let r = p.render(size, ppp, egui::Visuals::light(), |ui| {
            ui.label("x");
        });
        assert!(
            matches!(r, Err(RenderError::Options(_))),
            "{size:?} at {ppp}: {r:?}"
        );
    }
    // Still usable afterwards.
    let img = p
        .render([50.0, 20.0], 1.0, egui::Visuals::light(), |ui| {
            ui.label("x");
        })
        .expect("render");
    assert_eq!((img.width, img.height), (50, 20));
}

#[test]
fn write_png_refuses_mismatched_buffers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("bad.png");
    let img = RgbaImage {
        width: 2,
        height: 2,
        pixels: vec![0; 15],
    };
    assert!(matches!(
        write_png(&out, &img),
        Err(RenderError::Encode { .. })
    ));
    assert!(!out.exists());
}
