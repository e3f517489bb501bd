//! Pixel check for the real-window smoke test (`tests/smoke_xvfb.sh`).
//!
//! The script screenshots the X screen with the viewer open on a demo set and runs
//! `cargo test --test app_smoke_png -- --ignored` with `SRMSCOPE_SMOKE_PNG=<file>` (and
//! optionally `SRMSCOPE_SMOKE_NETWORKS=<n>`, default 5). The check finds the 3D view by its
//! background colour, leaves out the legend corner, and requires pixels of every network's
//! palette colour inside it: proof that the three-d paint callback drew every trajectory.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use srmscope::render::{palette, ViewStyle};

/// An RGB image, row-major, top row first.
struct Rgb {
    w: usize,
    h: usize,
    px: Vec<[u8; 3]>,
}

impl Rgb {
    fn get(&self, x: usize, y: usize) -> [u8; 3] {
        self.px.get(y * self.w + x).copied().unwrap_or([0, 0, 0])
    }
}

fn read_png(path: &str) -> Result<Rgb, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut dec = png::Decoder::new(file);
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(|e| format!("{path}: {e}"))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("{path}: {e}"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        other => return Err(format!("{path}: unsupported colour type {other:?}")),
    };
    let px = buf
        .chunks_exact(channels)
        .take(w * h)
        .map(|c| match channels {
            1 | 2 => [c[0], c[0], c[0]],
            _ => [c[0], c[1], c[2]],
        })
        .collect();
    Ok(Rgb { w, h, px })
}

fn close(a: [u8; 3], b: [u8; 3], tol: i32) -> bool {
    (0..3).all(|k| (a[k] as i32 - b[k] as i32).abs() <= tol)
}

#[derive(Debug)]
struct Report {
    view: (usize, usize, usize, usize),
    counts: Vec<usize>,
}

/// Bounding box of the 3D view (pixels of exactly the background colour), then per-network
/// colour counts inside it, outside the legend corner.
fn analyse(img: &Rgb, colors: &[[u8; 3]], bg: [u8; 3]) -> Result<Report, String> {
    // Rows and columns that are mostly background span the view; stray pixels of the same
    // colour elsewhere do not.
    let mut cols = vec![0usize; img.w];
    let mut rows = vec![0usize; img.h];
    for (i, p) in img.px.iter().enumerate() {
        if *p == bg {
            if let (Some(c), Some(r)) = (cols.get_mut(i % img.w), rows.get_mut(i / img.w)) {
                *c += 1;
                *r += 1;
            }
        }
    }
    let n_bg: usize = rows.iter().sum();
    if n_bg < 10_000 {
        return Err(format!(
            "no 3D view found: only {n_bg} pixels of the view background {bg:?}"
        ));
    }
    let span = |counts: &[usize]| {
        let max = counts.iter().copied().max().unwrap_or(0);
        let keep = |c: &usize| *c * 2 >= max;
        let first = counts.iter().position(keep).unwrap_or(0);
        let last = counts.iter().rposition(keep).unwrap_or(0);
        (first, last)
    };
    let (x0, x1) = span(&cols);
    let (y0, y1) = span(&rows);
    // The legend sits in the top-left corner of the view (below the title when narrow).
    let legend = (x0 + 260, y0 + 90 + 26 * colors.len());
    let mut counts = vec![0; colors.len()];
    for y in y0..=y1 {
        for x in x0..=x1 {
            if x < legend.0 && y < legend.1 {
                continue;
            }
            let p = img.get(x, y);
            if let Some(k) = colors.iter().position(|&c| close(p, c, 12)) {
                counts[k] += 1;
            }
        }
    }
    Ok(Report {
        view: (x0, y0, x1, y1),
        counts,
    })
}

/// Minimum pixels of each network colour for the check to pass.
const MIN_PIXELS: usize = 60;

fn check(report: &Report) -> Result<(), String> {
    let missing: Vec<String> = report
        .counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c < MIN_PIXELS)
        .map(|(k, c)| format!("network {k}: {c} px"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "too few pixels (< {MIN_PIXELS}) of: {}; {report:?}",
            missing.join(", ")
        ))
    }
}

fn dark_background() -> [u8; 3] {
    ViewStyle {
        dark_background: true,
        ..ViewStyle::default()
    }
    .background()
}

#[test]
#[ignore = "run by tests/smoke_xvfb.sh with SRMSCOPE_SMOKE_PNG set"]
fn smoke_screenshot_shows_every_network() {
    let Ok(path) = std::env::var("SRMSCOPE_SMOKE_PNG") else {
        panic!("set SRMSCOPE_SMOKE_PNG to the screenshot to check");
    };
    let n: usize = std::env::var("SRMSCOPE_SMOKE_NETWORKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let img = read_png(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = analyse(&img, &palette(n), dark_background()).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "smoke: view {:?}, pixels per network {:?}",
        report.view, report.counts
    );
    if let Err(e) = check(&report) {
        panic!("{e}");
    }
}

/// The checker itself, on a synthetic screenshot.
#[test]
fn checker_finds_lines_and_ignores_the_legend() {
    let (w, h) = (400, 300);
    let bg = dark_background();
    let colors = palette(3);
    let mut img = Rgb {
        w,
        h,
        px: vec![[30, 31, 35]; w * h],
    };
    let mut set = |x: usize, y: usize, c: [u8; 3]| {
        if let Some(p) = img.px.get_mut(y * w + x) {
            *p = c;
        }
    };
    for y in 20..280 {
        for x in 50..390 {
            set(x, y, bg);
        }
    }
    // Legend swatches only for network 2; real lines for networks 0 and 1.
    for x in 60..80 {
        set(x, 40, colors[2]);
    }
    for x in 100..300 {
        set(x, 200, colors[0]);
        set(x, 250, colors[1]);
    }
    let r = analyse(&img, &colors, bg).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.view, (50, 20, 389, 279));
    assert_eq!(r.counts, vec![200, 200, 0]);
    let err = check(&r).err().unwrap_or_default();
    assert!(err.contains("network 2"), "{err}");

    let blank = Rgb {
        w,
        h,
        px: vec![[30, 31, 35]; w * h],
    };
    assert!(analyse(&blank, &colors, bg).is_err());
}
