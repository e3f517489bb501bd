//! Text in exported frames, laid out and rasterised by epaint with the viewer's fonts
//! ([`font_definitions`]), so a GIF says what the viewer says: egui's defaults (Latin, Greek,
//! Cyrillic, symbols, emoji) plus, where the system has them, fallback fonts for other scripts
//! (CJK and more).
//!
//! Glyph coverage is rounded to [`LEVELS`] steps, so text on a flat background uses only a few
//! known colours ([`shades`]) that the GIF palette holds exactly.

use std::sync::{Arc, Mutex, OnceLock};

use eframe::egui::epaint::text::{FontData, FontDefinitions, Fonts, TextOptions};
use eframe::egui::epaint::{Color32, FontFamily, FontId};

/// Coverage steps between background (0) and full ink.
pub const LEVELS: u32 = 4;

/// Body text size in pixels at scale 1 (the viewer's body text is 12.5 points).
const BASE_PX: f32 = 12.5;

/// Line height in pixels at a scale: what layouts reserve per line of text.
pub fn line_height(scale: usize) -> usize {
    16 * scale.max(1)
}

/// System fonts tried, in order, for characters egui's own fonts lack. Debian/Ubuntu paths of
/// `fonts-dejavu-core`, `fonts-noto-cjk`, `fonts-droid-fallback` and `fonts-wqy-microhei`; the
/// missing ones are skipped.
const SYSTEM_FALLBACKS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
];

/// The fonts of the viewer and of exported frames: egui's defaults, Hack after Ubuntu-Light so
/// arrows and shapes (→ ↔ ≤ ▲ ▼ ■) render, then the system fallbacks that exist (read once).
pub fn font_definitions() -> FontDefinitions {
    static SYSTEM: OnceLock<Vec<(String, Arc<FontData>)>> = OnceLock::new();
    let system = SYSTEM.get_or_init(|| {
        SYSTEM_FALLBACKS
            .iter()
            .filter_map(|path| {
                let bytes = std::fs::read(path).ok()?;
                Some((
                    format!("system:{path}"),
                    Arc::new(FontData::from_owned(bytes)),
                ))
            })
            .collect()
    });
    let mut fonts = FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&FontFamily::Proportional) {
        if !family.iter().any(|f| f == "Hack") {
            let at = family
                .iter()
                .position(|f| f == "Ubuntu-Light")
                .map_or(0, |i| i + 1);
            family.insert(at, "Hack".to_owned());
        }
    }
    for (name, data) in system {
        fonts.font_data.insert(name.clone(), data.clone());
        for family in fonts.families.values_mut() {
            family.push(name.clone());
        }
    }
    fonts
}

fn fonts() -> &'static Mutex<Fonts> {
    static FONTS: OnceLock<Mutex<Fonts>> = OnceLock::new();
    FONTS.get_or_init(|| Mutex::new(Fonts::new(TextOptions::default(), font_definitions())))
}

/// One glyph quad: destination rectangle (pixels, relative to the text's top-left corner) and
/// its source rectangle in the font atlas (texels, same size).
struct Quad {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
    u: usize,
    v: usize,
}

/// The glyph quads of `s` and its width in pixels, with a copy of the atlas coverage
/// (alpha, row-major) they point into.
struct Laid {
    quads: Vec<Quad>,
    width: usize,
    atlas: Vec<u8>,
    atlas_w: usize,
}

fn lay_out(s: &str, scale: usize, with_atlas: bool) -> Laid {
    let px = BASE_PX * scale.max(1) as f32;
    // A poisoned lock only means another export panicked mid-layout; the fonts are still usable.
    let mut guard = fonts().lock().unwrap_or_else(|e| e.into_inner());
    let galley = guard.with_pixels_per_point(1.0).layout_no_wrap(
        s.to_string(),
        FontId::proportional(px),
        Color32::WHITE,
    );
    let mut quads = Vec::new();
    for row in &galley.rows {
        let mesh = &row.visuals.mesh;
        let range = row.visuals.glyph_vertex_range.clone();
        let glyphs = mesh.vertices.get(range).unwrap_or(&[]);
        for q in glyphs.chunks_exact(4) {
            let p0 = q[0].pos;
            let (t0, t1) = (q[0].uv, q[3].uv);
            let w = (t1.x - t0.x).round() as i32;
            let h = (t1.y - t0.y).round() as i32;
            if w <= 0 || h <= 0 || t0.x < 0.0 || t0.y < 0.0 {
                continue;
            }
            quads.push(Quad {
                x: (row.pos.x + p0.x).round() as i32,
                y: (row.pos.y + p0.y).round() as i32,
                w,
                h,
                u: t0.x.round() as usize,
                v: t0.y.round() as usize,
            });
        }
    }
    let width = galley.size().x.ceil().max(0.0) as usize;
    let (atlas, atlas_w) = if with_atlas {
        let image = guard.texture_atlas().image();
        (image.pixels.iter().map(|c| c.a()).collect(), image.size[0])
    } else {
        (Vec::new(), 0)
    };
    Laid {
        quads,
        width,
        atlas,
        atlas_w,
    }
}

/// Width in pixels of `s` drawn at `scale`.
pub fn width(s: &str, scale: usize) -> usize {
    lay_out(s, scale, false).width
}

fn quantise(coverage: u8) -> u32 {
    (coverage as u32 * LEVELS + 127) / 255
}

fn mix(ink: [u8; 3], under: [u8; 3], level: u32) -> [u8; 3] {
    let f = |a: u8, b: u8| ((a as u32 * level + b as u32 * (LEVELS - level)) / LEVELS) as u8;
    [
        f(ink[0], under[0]),
        f(ink[1], under[1]),
        f(ink[2], under[2]),
    ]
}

/// The colours text in `ink` makes on `background`: background, the partial steps, ink.
pub fn shades(ink: [u8; 3], background: [u8; 3]) -> Vec<[u8; 3]> {
    (0..=LEVELS).map(|l| mix(ink, background, l)).collect()
}

/// Draws `s` with its top-left corner at (x, y) into an RGBA8 image (top row first), clipped.
pub fn draw(
    rgba: &mut [u8],
    (width, height): (usize, usize),
    (x, y): (i32, i32),
    s: &str,
    ink: [u8; 3],
    scale: usize,
) {
    let laid = lay_out(s, scale, true);
    // Glyph boxes overlap by their padding: take the strongest coverage per pixel first and
    // blend once, so every pixel is one of `shades` over what was there.
    let x0 = laid.quads.iter().map(|q| q.x).min().unwrap_or(0);
    let y0 = laid.quads.iter().map(|q| q.y).min().unwrap_or(0);
    let x1 = laid.quads.iter().map(|q| q.x + q.w).max().unwrap_or(0);
    let y1 = laid.quads.iter().map(|q| q.y + q.h).max().unwrap_or(0);
    let (bw, bh) = ((x1 - x0).max(0) as usize, (y1 - y0).max(0) as usize);
    let mut cover = vec![0u8; bw * bh];
    for q in &laid.quads {
        for row in 0..q.h as usize {
            for col in 0..q.w as usize {
                let t = (q.v + row) * laid.atlas_w + q.u + col;
                let a = laid.atlas.get(t).copied().unwrap_or(0);
                let c = (q.y - y0) as usize + row;
                let i = c * bw + (q.x - x0) as usize + col;
                if let Some(v) = cover.get_mut(i) {
                    *v = (*v).max(a);
                }
            }
        }
    }
    for by in 0..bh {
        let py = y + y0 + by as i32;
        if py < 0 || py as usize >= height {
            continue;
        }
        for bx in 0..bw {
            let px = x + x0 + bx as i32;
            if px < 0 || px as usize >= width {
                continue;
            }
            let level = quantise(cover[by * bw + bx]);
            if level == 0 {
                continue;
            }
            let i = (py as usize * width + px as usize) * 4;
            if let Some(p) = rgba.get_mut(i..i + 4) {
                let c = mix(ink, [p[0], p[1], p[2]], level);
                p.copy_from_slice(&[c[0], c[1], c[2], 255]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ink_pixels(s: &str) -> (Vec<u8>, usize) {
        let (w, h) = (160usize, 24usize);
        let mut img = vec![255u8; w * h * 4];
        draw(&mut img, (w, h), (2, 2), s, [0, 0, 0], 1);
        let n = img.chunks(4).filter(|p| p[0] < 255).count();
        (img, n)
    }

    #[test]
    fn non_ascii_names_are_drawn_with_their_own_glyphs() {
        let (a, na) = ink_pixels("сеть β");
        let (b, nb) = ink_pixels("???? ?");
        assert!(na > 30 && nb > 30, "{na} {nb}");
        assert_ne!(a, b, "Cyrillic and Greek are not drawn as question marks");
        let (_, accented) = ink_pixels("réseau");
        assert!(accented > 30);
    }

    /// CJK needs a system fallback font (CI installs `fonts-droid-fallback`).
    #[test]
    fn cjk_names_are_legible_with_a_system_fallback() {
        let have = SYSTEM_FALLBACKS[1..]
            .iter()
            .any(|p| std::path::Path::new(p).exists());
        if !have {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI installs a CJK fallback font"
            );
            eprintln!("skipped: no CJK font on this machine");
            return;
        }
        // Without a font for them, different CJK characters all draw the same missing-glyph box.
        let (a, na) = ink_pixels("网络");
        let (b, _) = ink_pixels("卷积");
        assert!(na > 30);
        assert_ne!(a, b);
    }

    #[test]
    fn text_on_a_flat_background_uses_only_the_shades() {
        let (img, n) = ink_pixels("ResNet-18 · seed 3 — Ω");
        assert!(n > 50);
        let allowed = shades([0, 0, 0], [255, 255, 255]);
        assert!(img.chunks(4).all(|p| allowed.contains(&[p[0], p[1], p[2]])));
    }

    #[test]
    fn width_grows_with_text_and_scale_and_clipping_is_safe() {
        assert!(width("abcdef", 1) > width("abc", 1));
        assert!(width("abc", 2) > width("abc", 1));
        assert_eq!(width("", 1), 0);
        let mut img = vec![0u8; 8 * 8 * 4];
        draw(&mut img, (8, 8), (-20, -5), "clipped text", [255, 0, 0], 3);
        draw(&mut img, (8, 8), (6, 6), "W", [255, 0, 0], 1);
    }
}
