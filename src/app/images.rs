//! The input images on the GPU: every image of a dataset packed into a few atlas textures,
//! uploaded once when a dataset first appears; widgets show sub-rectangles by UV.

use std::sync::Arc;

use eframe::egui::{self, Color32, ColorImage, Rect, TextureHandle, TextureOptions, Vec2};

use crate::data::{Dataset, ImageSet};

/// Largest atlas page side; GPUs and egui guarantee at least 2048, most allow far more.
const PAGE_SIDE: usize = 4096;
/// Atlases kept for recently shown datasets (primary, comparison, a refit in flight).
const KEEP: usize = 4;

pub struct Atlas {
    pages: Vec<TextureHandle>,
    tile: [usize; 2],
    cols: usize,
    per_page: usize,
    n: usize,
}

impl Atlas {
    fn build(ctx: &egui::Context, set: &ImageSet, key: usize) -> Self {
        let side = ctx.input(|i| i.max_texture_side).clamp(256, PAGE_SIDE);
        let (w, h) = (set.width.min(side), set.height.min(side));
        let cols = (side / w).max(1);
        let rows_max = (side / h).max(1);
        let per_page = cols * rows_max;
        let mut pages = Vec::new();
        let mut start = 0;
        while start < set.n {
            let count = per_page.min(set.n - start);
            let rows = count.div_ceil(cols);
            let (pw, ph) = (if rows > 1 { cols * w } else { count * w }, rows * h);
            let mut px = vec![Color32::TRANSPARENT; pw * ph];
            for k in 0..count {
                let Some(img) = set.image(start + k) else {
                    break;
                };
                let (x0, y0) = ((k % cols) * w, (k / cols) * h);
                for y in 0..h {
                    for x in 0..w {
                        let p = &img[(y * set.width + x) * 4..][..4];
                        px[(y0 + y) * pw + x0 + x] =
                            Color32::from_rgba_unmultiplied(p[0], p[1], p[2], p[3]);
                    }
                }
            }
            let image = ColorImage::new([pw, ph], px);
            let name = format!("images-{key}-{}", pages.len());
            // Nearest: small images (8x8 digits, 32x32 CIFAR) stay crisp when enlarged.
            pages.push(ctx.load_texture(name, image, TextureOptions::NEAREST));
            start += count;
        }
        Self {
            pages,
            tile: [w, h],
            cols,
            per_page,
            n: set.n,
        }
    }

    /// Texture and UV rectangle of image `i`.
    pub fn uv(&self, i: usize) -> Option<(egui::TextureId, Rect)> {
        if i >= self.n {
            return None;
        }
        let page = self.pages.get(i / self.per_page)?;
        let k = i % self.per_page;
        let [pw, ph] = page.size();
        let (x0, y0) = (
            (k % self.cols) * self.tile[0],
            (k / self.cols) * self.tile[1],
        );
        let uv = Rect::from_min_max(
            egui::pos2(x0 as f32 / pw as f32, y0 as f32 / ph as f32),
            egui::pos2(
                (x0 + self.tile[0]) as f32 / pw as f32,
                (y0 + self.tile[1]) as f32 / ph as f32,
            ),
        );
        Some((page.id(), uv))
    }

    /// Image `i` as a widget whose longer side is `side` points, labelled for screen readers.
    pub fn image(&self, i: usize, side: f32) -> Option<egui::Image<'static>> {
        let (id, uv) = self.uv(i)?;
        Some(
            egui::Image::from_texture(egui::load::SizedTexture::new(id, self.size(side)))
                .uv(uv)
                .alt_text(format!("image #{i}")),
        )
    }

    /// Display size with the longer side `side`, keeping the aspect ratio.
    pub fn size(&self, side: f32) -> Vec2 {
        let [w, h] = self.tile;
        let s = side / w.max(h).max(1) as f32;
        Vec2::new(w as f32 * s, h as f32 * s)
    }
}

/// Keyed by a weak pointer: it keeps the allocation (so the address is never reused by another
/// dataset) but not the data.
type Cache = Vec<(std::sync::Weak<Dataset>, Arc<Atlas>)>;

/// The atlas of `d`'s images, built and uploaded on first use; `None` without images.
pub fn atlas(ctx: &egui::Context, d: &Arc<Dataset>) -> Option<Arc<Atlas>> {
    let set = d.images.as_ref()?;
    let key = Arc::as_ptr(d) as usize;
    let weak = Arc::downgrade(d);
    let id = egui::Id::unique("srmscope_image_atlases");
    if let Some(a) = ctx.data(|m| {
        m.get_temp::<Arc<std::sync::Mutex<Cache>>>(id)
            .and_then(|c| {
                c.lock()
                    .ok()?
                    .iter()
                    .find(|e| e.0.ptr_eq(&weak))
                    .map(|e| e.1.clone())
            })
    }) {
        return Some(a);
    }
    let a = Arc::new(Atlas::build(ctx, set, key));
    let cache = ctx.data_mut(|m| {
        m.get_temp_mut_or_insert_with(id, || Arc::new(std::sync::Mutex::new(Cache::new())))
            .clone()
    });
    if let Ok(mut c) = cache.lock() {
        c.retain(|e| !e.0.ptr_eq(&weak) && e.0.strong_count() > 0);
        c.push((weak, a.clone()));
        // Old datasets' textures are freed when their handles drop here.
        let extra = c.len().saturating_sub(KEEP);
        c.drain(..extra);
    }
    Some(a)
}
