//! `--show-image`: the input image of the current frame in the bottom-left corner of each
//! exported frame, enlarged with nearest-neighbour pixels, with its index and class name above.

use std::sync::Arc;

use super::overlay::{line_height, scale_for, text_width, Canvas};
use crate::data::ImageSet;

/// The images an export can show, one per scene frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameImages {
    pub set: Arc<ImageSet>,
    /// Original image index of each scene frame.
    pub image_of_frame: Vec<usize>,
    /// Class name of each frame, when labels exist.
    pub class_of_frame: Option<Vec<String>>,
}

pub use super::geometry::centre_image;

impl FrameImages {
    /// From the fitted pipeline's class-sorted held-out indices; `None` without images.
    pub fn new(
        set: Option<Arc<ImageSet>>,
        test_idx: &[usize],
        smooth: usize,
        n_frames: usize,
        labels: Option<&[i64]>,
        class_names: Option<&[String]>,
    ) -> Option<Self> {
        let set = set?;
        let image_of_frame: Vec<usize> = (0..n_frames)
            .filter_map(|f| centre_image(test_idx, smooth, f))
            .collect();
        let class_of_frame = labels.map(|l| {
            image_of_frame
                .iter()
                .map(|&i| {
                    l.get(i)
                        .map_or_else(String::new, |&c| crate::data::class_name(class_names, c))
                })
                .collect()
        });
        Some(Self {
            set,
            image_of_frame,
            class_of_frame,
        })
    }

    /// Colours to reserve in a GIF palette: a grey ramp, and a coarse colour cube for colour
    /// images (the quantizer maps each pixel to the nearest).
    pub fn palette(&self) -> Vec<[u8; 3]> {
        let mut v: Vec<[u8; 3]> = (0..=16u32).map(|k| [(k * 255 / 16) as u8; 3]).collect();
        let colour = self
            .set
            .rgba
            .chunks_exact(4)
            .take(1 << 16)
            .any(|p| p[0] != p[1] || p[1] != p[2]);
        if colour {
            for r in 0..4u8 {
                for g in 0..4u8 {
                    for b in 0..4u8 {
                        v.push([r * 85, g * 85, b * 85]);
                    }
                }
            }
        }
        v
    }

    /// Draw the image of the frame under `head` into the bottom-left corner.
    pub fn draw(&self, canvas: &mut Canvas, head: f32, text: [u8; 3], background: [u8; 3]) {
        let f = (head.max(0.0).floor() as usize).min(self.image_of_frame.len().saturating_sub(1));
        let Some(&img) = self.image_of_frame.get(f) else {
            return;
        };
        let Some(px) = self.set.image(img) else {
            return;
        };
        let (iw, ih) = (self.set.width, self.set.height);
        let (w, h) = (canvas.width, canvas.height);
        // About a fifth of the frame height, in whole pixels per image pixel.
        let k = ((h / 5) / iw.max(ih).max(1)).max(1);
        let s = scale_for(h);
        let pad = 6 * s;
        let line = line_height(s);
        let (dw, dh) = (iw * k, ih * k);
        let x0 = pad + 1;
        let y0 = h.saturating_sub(pad + dh + 1);
        let mut caption = format!("#{img}");
        if let Some(c) = self.class_of_frame.as_ref().and_then(|c| c.get(f)) {
            if !c.is_empty() {
                caption.push_str(&format!(": {c}"));
            }
        }
        let cw = text_width(&caption, s).max(dw + 2);
        let top = y0.saturating_sub(line + 3 + 1) as i32;
        canvas.rect(
            x0 as i32 - 1 - s as i32,
            top - s as i32,
            cw as i32 + 2 * s as i32,
            (y0 + dh + 1) as i32 - top + 2 * s as i32,
            background,
        );
        canvas.text(x0 as i32 - 1, top, &caption, text, s);
        canvas.rect(
            x0 as i32 - 1,
            y0 as i32 - 1,
            dw as i32 + 2,
            dh as i32 + 2,
            text,
        );
        for y in 0..dh.min(h.saturating_sub(y0)) {
            for x in 0..dw.min(w.saturating_sub(x0)) {
                let p = &px[((y / k) * iw + x / k) * 4..][..4];
                // Alpha over the background: GIF frames are opaque.
                let a = u32::from(p[3]);
                let c = [0, 1, 2].map(|i| {
                    ((u32::from(p[i]) * a + u32::from(background[i]) * (255 - a)) / 255) as u8
                });
                canvas.rect((x0 + x) as i32, (y0 + y) as i32, 1, 1, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_of_the_window() {
        let t = [5, 6, 7, 8, 9];
        assert_eq!(centre_image(&t, 1, 0), Some(5));
        assert_eq!(centre_image(&t, 3, 0), Some(6));
        assert_eq!(centre_image(&t, 3, 2), Some(8));
        assert_eq!(centre_image(&t, 100, 0), Some(7));
        assert_eq!(centre_image(&[], 3, 0), None);
    }

    #[test]
    fn the_corner_names_the_image_and_its_class() {
        let set = ImageSet {
            n: 2,
            width: 2,
            height: 2,
            rgba: [200, 200, 200, 255].repeat(2 * 2 * 2),
            source: "t".into(),
        };
        let names = vec!["zero".to_string(), "cat".to_string()];
        let fi = FrameImages::new(
            Some(Arc::new(set)),
            &[0, 1],
            1,
            2,
            Some(&[0, 1]),
            Some(&names),
        )
        .unwrap_or_else(|| panic!("images"));
        assert_eq!(
            fi.class_of_frame.as_deref(),
            Some(&["zero".to_string(), "cat".to_string()][..])
        );
        let (w, h) = (200usize, 100usize);
        let white = [255, 255, 255];
        let mut got = vec![0u8; w * h * 4];
        fi.draw(&mut Canvas::new(&mut got, w, h), 1.0, white, [0, 0, 0]);
        // The same caption drawn by hand where the inset puts it: 20 px image (k = 10),
        // 6 px padding, the text one line plus 4 px above the image's border.
        let mut want = vec![0u8; w * h * 4];
        let y0 = h - (6 + 20 + 1);
        let top = (y0 - (line_height(1) + 4)) as i32;
        Canvas::new(&mut want, w, h).text(6, top, "#1: cat", white, 1);
        let lit = |b: &[u8]| -> Vec<usize> {
            let rows = &b[top as usize * w * 4..(top as usize + line_height(1)) * w * 4];
            (0..rows.len() / 4)
                .filter(|&p| rows[p * 4..p * 4 + 3] == white)
                .collect()
        };
        let (g, e) = (lit(&got), lit(&want));
        assert!(
            !e.is_empty() && g == e,
            "caption pixels differ ({} vs {})",
            g.len(),
            e.len()
        );
        // And the image's own pixels below.
        let i = ((y0 + 5) * w + 7 + 5) * 4;
        assert_eq!(&got[i..i + 3], &[200, 200, 200]);
    }
}
