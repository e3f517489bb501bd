//! The GIF palette: every colour an export can draw, known in advance from the scene, and the
//! nearest-colour mapping of rendered pixels onto it.

use super::options::ExportOptions;
use crate::analysis::SceneData;
use crate::render::geometry::label_indices;
use crate::render::style::{label_palette, mix, palette, GHOST_FADE};

/// Every colour an export can draw, most important first, at most 255 entries: background,
/// text and cube; the network colours, their ghosts and marker rims; label colours; then
/// antialiasing blends toward the background while there is room.
pub fn gif_palette(
    scene: &SceneData,
    opts: &ExportOptions,
    legend: &[(String, [u8; 3])],
) -> Vec<[u8; 3]> {
    let style = opts.style_with_tail(0);
    let bg = style.background();
    let nets = palette(scene.n_networks());
    let labels: Vec<[u8; 3]> = match (&scene.labels, opts.style.color_by_label) {
        (Some(l), true) => label_palette(label_indices(l).1),
        _ => Vec::new(),
    };
    let rim = |c: [u8; 3]| c.map(|v| (v as f32 * 0.45).round() as u8);
    let ghost = |c: [u8; 3]| mix(c, bg, GHOST_FADE);
    let mut tiers: Vec<Vec<[u8; 3]>> = vec![
        vec![bg, style.text_color(), style.cube_color()],
        nets.clone(),
        legend.iter().map(|(_, c)| *c).collect(),
        nets.iter().map(|&c| ghost(c)).collect(),
        labels.clone(),
        labels.iter().map(|&c| ghost(c)).collect(),
        nets.iter().map(|&c| rim(c)).collect(),
        match (opts.show_image, &opts.images) {
            (true, Some(im)) => im.palette(),
            _ => Vec::new(),
        },
    ];
    for t in [0.5, 0.25, 0.75] {
        tiers.push(nets.iter().chain(&labels).map(|&c| mix(c, bg, t)).collect());
        tiers.push(vec![mix(style.cube_color(), bg, t)]);
        tiers.push(nets.iter().map(|&c| mix(rim(c), bg, t)).collect());
        tiers.push(
            nets.iter()
                .chain(&labels)
                .map(|&c| mix(ghost(c), bg, t))
                .collect(),
        );
    }
    let mut out: Vec<[u8; 3]> = Vec::new();
    for tier in tiers {
        let new: Vec<[u8; 3]> = {
            let mut v = Vec::new();
            for c in tier {
                if !out.contains(&c) && !v.contains(&c) {
                    v.push(c);
                }
            }
            v
        };
        if out.len() + new.len() <= 255 {
            out.extend(new);
        } else {
            // Fill what is left of a tier that does not fit whole (many labels).
            let room = 255 - out.len();
            out.extend(new.into_iter().take(room));
            break;
        }
    }
    out
}

/// Nearest-palette-colour mapping with a lazily filled 2^24 lookup table (index + 1, 0 = not
/// yet known). The table is allocated zeroed, so only pages of colours that occur are touched.
pub struct Quantizer {
    palette: Vec<[u8; 3]>,
    lut: Vec<u8>,
}

impl Quantizer {
    /// At most 255 colours (one LUT value is reserved for "unknown").
    pub fn new(mut palette: Vec<[u8; 3]>) -> Self {
        palette.truncate(255);
        if palette.is_empty() {
            palette.push([0, 0, 0]);
        }
        Self {
            palette,
            lut: vec![0u8; 1 << 24],
        }
    }

    pub fn palette(&self) -> &[[u8; 3]] {
        &self.palette
    }

    pub fn index_of(&mut self, c: [u8; 3]) -> u8 {
        let key = ((c[0] as usize) << 16) | ((c[1] as usize) << 8) | c[2] as usize;
        let v = self.lut[key];
        if v != 0 {
            return v - 1;
        }
        let mut best = (u32::MAX, 0usize);
        for (i, p) in self.palette.iter().enumerate() {
            // Weighted like human luminance sensitivity, so greys do not go green.
            let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2) as u32;
            let dist = 3 * d(c[0], p[0]) + 4 * d(c[1], p[1]) + 2 * d(c[2], p[2]);
            if dist < best.0 {
                best = (dist, i);
            }
        }
        self.lut[key] = best.1 as u8 + 1;
        best.1 as u8
    }

    /// RGBA8 to palette indices.
    pub fn map(&mut self, rgba: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(rgba.len() / 4);
        let mut last = ([0u8; 3], None::<u8>);
        for p in rgba.chunks_exact(4) {
            let c = [p[0], p[1], p[2]];
            // Runs of the background are the common case: skip the table for them.
            let i = match last {
                (lc, Some(li)) if lc == c => li,
                _ => self.index_of(c),
            };
            last = (c, Some(i));
            out.push(i);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantizer_maps_exact_and_nearest() {
        let mut q = Quantizer::new(vec![[255, 255, 255], [200, 0, 0], [0, 0, 200]]);
        let img = [
            255, 255, 255, 255, 200, 0, 0, 255, 10, 10, 190, 255, 250, 250, 250, 255,
        ];
        assert_eq!(q.map(&img), vec![0, 1, 2, 0]);
        assert_eq!(q.index_of([201, 1, 0]), 1);
    }

    #[test]
    fn palette_holds_scene_colours() {
        let scene = SceneData {
            trajectories: (0..5)
                .map(|k| crate::analysis::Trajectory {
                    name: format!("n{k}"),
                    before: vec![[0.0; 3]; 2],
                    after: vec![[0.0; 3]; 2],
                })
                .collect(),
            ..Default::default()
        };
        let opts = ExportOptions::default();
        let p = gif_palette(&scene, &opts, &[]);
        assert!(p.len() <= 255);
        for c in palette(5) {
            assert!(p.contains(&c));
            assert!(p.contains(&mix(c, [255, 255, 255], GHOST_FADE)));
        }
        let mut labelled = scene.clone();
        labelled.labels = Some((0..2).collect());
        let many = SceneData {
            labels: Some(vec![0, 1]),
            ..labelled
        };
        let p = gif_palette(
            &many,
            &ExportOptions {
                style: crate::render::ViewStyle {
                    color_by_label: true,
                    ..opts.style.clone()
                },
                ..opts
            },
            &[],
        );
        assert!(p.len() <= 255 && p.contains(&label_palette(2)[1]));
    }
}
