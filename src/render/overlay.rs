//! Title, legend and captions drawn straight into RGBA frames after rendering.
//!
//! Text goes through [`super::text`] (egui's fonts, any script they cover) with a few coverage
//! steps, so on the legend box every text pixel is one of the palette colours of [`Overlay::colors`].

use super::text;

/// What to draw over an exported frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    pub title: Option<String>,
    /// Network names and colours, drawn top-right like matplotlib's default legend spot.
    pub legend: Vec<(String, [u8; 3])>,
    /// A line at the bottom centre (e.g. "before alignment" in side-by-side GIFs).
    pub caption: Option<String>,
    pub text_color: [u8; 3],
    pub background: [u8; 3],
}

/// Longest legend name in characters before it is cut with "..".
pub const MAX_NAME_CHARS: usize = 28;

/// An RGBA8 image, top row first, being drawn on.
pub struct Canvas<'a> {
    pub data: &'a mut [u8],
    pub width: usize,
    pub height: usize,
}

impl Canvas<'_> {
    pub fn new(data: &mut [u8], width: usize, height: usize) -> Canvas<'_> {
        debug_assert!(data.len() >= width * height * 4);
        Canvas {
            data,
            width,
            height,
        }
    }

    /// Filled rectangle, clipped to the image.
    pub fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, c: [u8; 3]) {
        let x0 = x.max(0) as usize;
        let y0 = y.max(0) as usize;
        let x1 = (x + w).clamp(0, self.width as i32) as usize;
        let y1 = (y + h).clamp(0, self.height as i32) as usize;
        for yy in y0..y1 {
            for xx in x0..x1 {
                self.put(xx, yy, c);
            }
        }
    }

    fn put(&mut self, x: usize, y: usize, c: [u8; 3]) {
        let i = (y * self.width + x) * 4;
        if let Some(px) = self.data.get_mut(i..i + 4) {
            px.copy_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }

    /// Text with its top-left corner at (x, y), at a size `scale` times the base size.
    pub fn text(&mut self, x: i32, y: i32, s: &str, c: [u8; 3], scale: usize) {
        text::draw(self.data, (self.width, self.height), (x, y), s, c, scale);
    }
}

pub fn text_width(s: &str, scale: usize) -> usize {
    text::width(s, scale)
}

/// Height reserved for one line of text at a scale.
pub fn line_height(scale: usize) -> usize {
    text::line_height(scale)
}

/// Font scale for an image height: 1 up to ~900 px, then 2, so text stays readable in big GIFs.
pub fn scale_for(height: usize) -> usize {
    (height / 900 + 1).min(4)
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        name.to_string()
    } else {
        let mut s: String = name.chars().take(MAX_NAME_CHARS - 2).collect();
        s.push_str("..");
        s
    }
}

impl Overlay {
    /// Draws into the region `(x, y, w, h)` (top-left origin) of the image.
    pub fn draw_in(&self, canvas: &mut Canvas, region: (usize, usize, usize, usize)) {
        let (rx, ry, rw, rh) = (
            region.0 as i32,
            region.1 as i32,
            region.2 as i32,
            region.3 as i32,
        );
        let s = scale_for(canvas.height);
        let line = line_height(s) as i32;
        let pad = (6 * s) as i32;
        if let Some(t) = &self.title {
            let tw = text_width(t, s) as i32;
            canvas.text(rx + (rw - tw).max(0) / 2, ry + pad, t, self.text_color, s);
        }
        if !self.legend.is_empty() {
            let names: Vec<String> = self.legend.iter().map(|(n, _)| shorten(n)).collect();
            let swatch = (16 * s) as i32;
            let text_w = names.iter().map(|n| text_width(n, s)).max().unwrap_or(0) as i32;
            let box_w = pad + swatch + pad + text_w + pad;
            let row_h = line + (2 * s) as i32;
            let box_h = pad + row_h * names.len() as i32 + pad / 2;
            let bx = (rx + rw - box_w - pad).max(rx);
            let by = ry + pad + if self.title.is_some() { line + pad } else { 0 };
            canvas.rect(bx, by, box_w, box_h, self.background);
            for (i, (name, (_, c))) in names.iter().zip(&self.legend).enumerate() {
                let y = by + pad + row_h * i as i32;
                // A short thick line, like matplotlib's legend handles for line plots.
                canvas.rect(
                    bx + pad,
                    y + line / 2 - (s as i32 * 3) / 2,
                    swatch,
                    (3 * s) as i32,
                    *c,
                );
                canvas.text(bx + pad + swatch + pad, y, name, self.text_color, s);
            }
        }
        if let Some(c) = &self.caption {
            let cw = text_width(c, s) as i32;
            canvas.text(
                rx + (rw - cw).max(0) / 2,
                ry + rh - pad - line,
                c,
                self.text_color,
                s,
            );
        }
    }

    /// Draws over a whole image.
    pub fn draw(&self, rgba: &mut [u8], width: usize, height: usize) {
        let mut canvas = Canvas::new(rgba, width, height);
        self.draw_in(&mut canvas, (0, 0, width, height));
    }

    /// Every colour the overlay can put on an image (for GIF palettes).
    pub fn colors(&self) -> Vec<[u8; 3]> {
        let mut v = text::shades(self.text_color, self.background);
        v.extend(self.legend.iter().map(|(_, c)| *c));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_legend_land_inside_the_image() {
        let (w, h) = (200usize, 120usize);
        let mut img = vec![255u8; w * h * 4];
        let o = Overlay {
            title: Some("Title".into()),
            legend: vec![
                ("net one".into(), [200, 0, 0]),
                ("a very very long network name indeed".into(), [0, 0, 200]),
            ],
            caption: Some("after".into()),
            text_color: [0, 0, 0],
            background: [255, 255, 255],
        };
        o.draw(&mut img, w, h);
        let count = |c: [u8; 3]| img.chunks(4).filter(|p| p[..3] == c).count();
        let inked = img.chunks(4).filter(|p| p[..3] != [255, 255, 255]).count();
        assert!(count([0, 0, 0]) > 10 && inked > 150, "text drawn");
        assert!(count([200, 0, 0]) >= 16 * 3, "swatch drawn");
        assert!(count([0, 0, 200]) >= 16 * 3);
        // Nothing but the colours the GIF palette is told about.
        let known = o.colors();
        assert!(img.chunks(4).all(|p| known.contains(&[p[0], p[1], p[2]])));
    }

    #[test]
    fn drawing_clips_at_edges() {
        let mut img = vec![0u8; 10 * 10 * 4];
        let mut c = Canvas::new(&mut img, 10, 10);
        c.rect(-5, -5, 100, 100, [1, 2, 3]);
        c.text(8, 8, "WWW", [9, 9, 9], 3);
        assert!(img.chunks(4).all(|p| p[3] == 255));
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten(&"x".repeat(40)).chars().count(), MAX_NAME_CHARS);
        assert_eq!(scale_for(480), 1);
        assert_eq!(scale_for(1080), 2);
    }
}
