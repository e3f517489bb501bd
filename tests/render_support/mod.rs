//! Shared helpers for the render tests: GL availability policy and image measurements.

#![allow(dead_code)]

use srmscope::render::HeadlessGl;

/// The one GL policy of the test suite: without a headless OpenGL context (no Mesa/EGL) a GL
/// test is skipped with a message on a developer's machine, and fails under `CI=true`, where
/// nothing may be skipped. Returns `None` when skipping.
pub fn gl_or_skip(test: &str) -> Option<HeadlessGl> {
    match HeadlessGl::new() {
        Ok(gl) => Some(gl),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: CI=true but no headless OpenGL context: {e}")
        }
        Err(e) => {
            eprintln!("{test}: skipped: no headless OpenGL context ({e})");
            None
        }
    }
}

/// Same policy for tests that only need to know GL works (export makes its own context).
pub fn gl_available(test: &str) -> bool {
    gl_or_skip(test).is_some()
}

/// Pixels of exactly this colour.
pub fn count_color(rgba: &[u8], c: [u8; 3]) -> usize {
    rgba.chunks_exact(4)
        .filter(|p| p[0] == c[0] && p[1] == c[1] && p[2] == c[2])
        .count()
}

/// Pixels that differ from the background.
pub fn mask_not(rgba: &[u8], bg: [u8; 3]) -> Vec<bool> {
    rgba.chunks_exact(4)
        .map(|p| p[0] != bg[0] || p[1] != bg[1] || p[2] != bg[2])
        .collect()
}

pub fn iou(a: &[bool], b: &[bool]) -> f64 {
    let inter = a.iter().zip(b).filter(|(x, y)| **x && **y).count();
    let union = a.iter().zip(b).filter(|(x, y)| **x || **y).count();
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Grows a mask by `r` pixels (so two lines a pixel apart count as overlapping).
pub fn dilate(m: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let mut out = vec![false; m.len()];
    for y in 0..h {
        for x in 0..w {
            if m[y * w + x] {
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        out[yy * w + xx] = true;
                    }
                }
            }
        }
    }
    out
}

pub fn save_png(path: &std::path::Path, rgba: &[u8], w: u32, h: u32) {
    let f = std::fs::File::create(path).expect("create png");
    let mut e = png::Encoder::new(f, w, h);
    e.set_color(png::ColorType::Rgba);
    e.write_header()
        .and_then(|mut wr| wr.write_image_data(rgba))
        .expect("write png");
}

/// Decoded GIF: frames as RGBA, their delays, and the logical size.
pub struct DecodedGif {
    pub width: u16,
    pub height: u16,
    pub frames: Vec<Vec<u8>>,
    pub delays: Vec<u16>,
    pub repeat_infinite: bool,
}

pub fn decode_gif(path: &std::path::Path) -> DecodedGif {
    let file = std::fs::File::open(path).expect("open gif");
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut dec = opts.read_info(file).expect("gif header");
    let (width, height) = (dec.width(), dec.height());
    let mut frames = Vec::new();
    let mut delays = Vec::new();
    while let Some(f) = dec.read_next_frame().expect("gif frame") {
        assert_eq!((f.width, f.height), (width, height), "frames are full-size");
        frames.push(f.buffer.to_vec());
        delays.push(f.delay);
    }
    let repeat_infinite = dec.repeat() == gif::Repeat::Infinite;
    DecodedGif {
        width,
        height,
        frames,
        delays,
        repeat_infinite,
    }
}
