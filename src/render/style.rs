//! How the scene looks: ghost mode, line width, colours. Shared by the viewer, the renderer and
//! the GIF palette builder, so every colour that can appear on screen is known in one place.

use serde::{Deserialize, Serialize};

/// HyperTools' faded copies of the path: `Chemtrails` = the past before the head, `Precog` =
/// the future after it, `Bullettime` = both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ghost {
    #[default]
    None,
    Chemtrails,
    Precog,
    Bullettime,
}

impl Ghost {
    pub const ALL: [Ghost; 4] = [
        Ghost::None,
        Ghost::Chemtrails,
        Ghost::Precog,
        Ghost::Bullettime,
    ];

    pub fn past(self) -> bool {
        matches!(self, Ghost::Chemtrails | Ghost::Bullettime)
    }

    pub fn future(self) -> bool {
        matches!(self, Ghost::Precog | Ghost::Bullettime)
    }

    pub fn label(self) -> &'static str {
        match self {
            Ghost::None => "none",
            Ghost::Chemtrails => "chemtrails (past)",
            Ghost::Precog => "precog (future)",
            Ghost::Bullettime => "bullettime (whole path)",
        }
    }
}

/// Per-view drawing options. The viewer edits these live; an export carries one in
/// `ExportOptions::style` (its `tail` set per frame from `tail_duration`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewStyle {
    /// Number of frames (images) in the bright head that ends at the current frame.
    pub tail: usize,
    pub ghost: Ghost,
    /// HyperTools' wireframe cube around [-1,1]³.
    pub show_cube: bool,
    /// Line width in pixels for a 720-pixel-tall viewport; it scales with the viewport height
    /// so that a GIF, a screenshot and the window show the same picture.
    pub line_width: f32,
    /// Colour each frame by its class label (one colour sweep along the path, since test
    /// images are sorted by class) instead of one colour per network.
    pub color_by_label: bool,
    pub dark_background: bool,
    /// Legend in exported images (the viewer draws its own with egui).
    pub show_legend: bool,
}

impl Default for ViewStyle {
    fn default() -> Self {
        Self {
            tail: 60,
            ghost: Ghost::None,
            show_cube: true,
            line_width: 3.5,
            color_by_label: false,
            dark_background: false,
            show_legend: true,
        }
    }
}

/// Reference viewport height for `ViewStyle::line_width`.
pub const LINE_WIDTH_REF_HEIGHT: f32 = 720.0;

/// How far ghost paths fade toward the background: the look of HyperTools' alpha 0.3 without
/// real transparency, so overlapping ghost segments do not darken where they cross and GIF
/// palettes stay exact.
pub const GHOST_FADE: f32 = 0.7;

impl ViewStyle {
    pub fn background(&self) -> [u8; 3] {
        if self.dark_background {
            [24, 24, 28]
        } else {
            [255, 255, 255]
        }
    }

    /// The cube: matplotlib's black frame on white, softened so the data stays in front.
    pub fn cube_color(&self) -> [u8; 3] {
        if self.dark_background {
            [120, 120, 128]
        } else {
            [90, 90, 90]
        }
    }

    /// Title and legend text.
    pub fn text_color(&self) -> [u8; 3] {
        if self.dark_background {
            [230, 230, 230]
        } else {
            [20, 20, 20]
        }
    }

    pub fn ghost_color(&self, c: [u8; 3]) -> [u8; 3] {
        mix(c, self.background(), GHOST_FADE)
    }

    /// Line width in pixels for a viewport of this height (never thinner than one pixel).
    pub fn line_px(&self, viewport_height: f32) -> f32 {
        (self.line_width * viewport_height / LINE_WIDTH_REF_HEIGHT).max(1.0)
    }
}

/// `a` moved a fraction `t` of the way to `b`.
pub fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let f = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])]
}

/// seaborn's `hls_palette(n, h=.01, l=.6, s=.65)`, the palette HyperTools uses for datasets.
pub fn palette(n: usize) -> Vec<[u8; 3]> {
    hls_palette(n, 0.01, 0.6, 0.65)
}

/// Colours for class labels: evenly spaced hues, a little darker and more saturated than the
/// network palette so thin lines stay visible on white.
pub fn label_palette(n_classes: usize) -> Vec<[u8; 3]> {
    hls_palette(n_classes, 0.01, 0.5, 0.75)
}

/// seaborn's algorithm: hues `linspace(0, 1, n+1)[:-1] + h` modulo 1, then colorsys HLS→RGB.
pub fn hls_palette(n: usize, h: f32, l: f32, s: f32) -> Vec<[u8; 3]> {
    (0..n)
        .map(|i| {
            let hue = (i as f32 / n as f32 + h).rem_euclid(1.0);
            let (r, g, b) = hls_to_rgb(hue, l, s);
            [to_u8(r), to_u8(g), to_u8(b)]
        })
        .collect()
}

fn to_u8(x: f32) -> u8 {
    (x.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Python's `colorsys.hls_to_rgb`.
fn hls_to_rgb(h: f32, l: f32, s: f32) -> (f32, f32, f32) {
    if s == 0.0 {
        return (l, l, l);
    }
    let m2 = if l <= 0.5 {
        l * (1.0 + s)
    } else {
        l + s - l * s
    };
    let m1 = 2.0 * l - m2;
    let v = |hue: f32| {
        let hue = hue.rem_euclid(1.0);
        if hue < 1.0 / 6.0 {
            m1 + (m2 - m1) * hue * 6.0
        } else if hue < 0.5 {
            m2
        } else if hue < 2.0 / 3.0 {
            m1 + (m2 - m1) * (2.0 / 3.0 - hue) * 6.0
        } else {
            m1
        }
    };
    (v(h + 1.0 / 3.0), v(h), v(h - 1.0 / 3.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_matches_seaborn() {
        // seaborn's algorithm run in Python (colorsys), rounded to two decimals.
        let p = palette(5);
        let want = [
            [0.86, 0.37, 0.34],
            [0.72, 0.86, 0.34],
            [0.34, 0.86, 0.58],
            [0.34, 0.52, 0.86],
            [0.79, 0.34, 0.86],
        ];
        for (c, w) in p.iter().zip(want) {
            for k in 0..3 {
                assert!((c[k] as f32 / 255.0 - w[k]).abs() < 0.007, "{p:?}");
            }
        }
        assert!(palette(0).is_empty());
        assert_eq!(palette(12).len(), 12);
    }

    #[test]
    fn palette_colours_are_distinct() {
        let p = palette(10);
        for i in 0..p.len() {
            for j in 0..i {
                let d: i32 = (0..3)
                    .map(|k| (p[i][k] as i32 - p[j][k] as i32).abs())
                    .sum();
                assert!(d > 30, "{i} {j} {p:?}");
            }
        }
        assert_eq!(label_palette(100).len(), 100);
    }

    #[test]
    fn ghost_fades_toward_background() {
        let s = ViewStyle::default();
        let c = [200, 50, 50];
        let g = s.ghost_color(c);
        assert!(g[1] > c[1] && g[0] >= c[0]);
        assert_eq!(mix(c, s.background(), 0.0), c);
        assert_eq!(mix(c, s.background(), 1.0), s.background());
        assert!(Ghost::Bullettime.past() && Ghost::Bullettime.future());
        assert!(!Ghost::None.past() && !Ghost::Chemtrails.future());
    }
}
