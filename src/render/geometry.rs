//! Pure builders for thick trajectory lines.
//!
//! Design (measured against the 10 networks × 10,000 points target under llvmpipe): every point
//! of every network is uploaded once per scene into two float textures (`before`, `after`), and
//! the vertex shader pulls the two endpoints of each segment by `gl_VertexID`, blends
//! before/after with a uniform, and extrudes a camera-facing capsule of constant pixel width in
//! screen space. Animation then only changes uniforms and the `first`/`count` of a
//! `glDrawArrays` call: no buffer is rebuilt per frame, a 200-frame head costs 200 quads per
//! network, and a whole-path ghost costs one draw call per network. A fractional head is drawn
//! by clamping segment parameters, so playback can move by sub-frames smoothly.
//!
//! This module holds the parts that do not need GL: the texture layout, which segment ranges a
//! frame draws, the cube, label indices, and a CPU mirror of the shader's extrusion.

use crate::analysis::SceneData;

use super::style::Ghost;

/// Texels per row of the point textures. A power of two well under every driver's
/// `GL_MAX_TEXTURE_SIZE` (llvmpipe: 16384); rows grow with the point count.
pub const TEX_WIDTH: usize = 4096;
/// Vertices per segment: a quad as two triangles.
pub const VERTS_PER_SEGMENT: u32 = 6;

/// A range of frame parameters, possibly fractional, `start <= end`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub start: f32,
    pub end: f32,
}

impl Span {
    /// Segments `[i, i+1]` that intersect the span: the first index and how many. The shader
    /// clamps each segment's parameters to the span, so the ends may be partial segments.
    pub fn segments(&self) -> (u32, u32) {
        if self.end <= self.start {
            return (self.start.max(0.0).floor() as u32, 0);
        }
        let first = self.start.max(0.0).floor();
        let last = self.end.ceil();
        (first as u32, (last - first).max(0.0) as u32)
    }

    /// Like `segments` for a path sampled every `stride` frames: segment `j` joins frames
    /// `j*stride` and `(j+1)*stride`. Anchoring at multiples of the stride keeps the sampled
    /// points fixed while the head moves, so decimated paths do not shimmer.
    pub fn segments_strided(&self, stride: u32) -> (u32, u32) {
        let s = stride.max(1) as f32;
        if self.end <= self.start {
            return ((self.start.max(0.0) / s).floor() as u32, 0);
        }
        let first = (self.start.max(0.0) / s).floor();
        let last = (self.end / s).ceil();
        (first as u32, (last - first).max(0.0) as u32)
    }

    pub fn len(&self) -> f32 {
        (self.end - self.start).max(0.0)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Level of detail: the smallest stride that draws a path of `n_points` in at most `budget`
/// segments. llvmpipe transforms vertices on one thread, so long faded ghost paths (10 × 10,000
/// points) are decimated to a fixed segment budget; short heads keep every point.
pub fn lod_stride(n_points: usize, budget: usize) -> u32 {
    let budget = budget.max(1);
    n_points.saturating_sub(1).div_ceil(budget).max(1) as u32
}

/// The bright head: `tail` frames ending at `head` (HyperTools draws points
/// `[frame - tail, frame]`). `head` is clamped to the path; `None` for an empty path.
pub fn head_span(head: f32, tail: usize, n_frames: usize) -> Option<Span> {
    if n_frames == 0 {
        return None;
    }
    let last = (n_frames - 1) as f32;
    let end = if head.is_finite() {
        head.clamp(0.0, last)
    } else {
        0.0
    };
    let start = (end - tail as f32).max(0.0);
    Some(Span { start, end })
}

/// Faded paths for a ghost mode: the past before the head, the future after it, or the whole
/// path for bullettime (one span, so the overlap with the head is not drawn twice in one mode).
pub fn ghost_spans(ghost: Ghost, head: Span, n_frames: usize) -> Vec<Span> {
    if n_frames < 2 {
        return Vec::new();
    }
    let last = (n_frames - 1) as f32;
    let spans = match ghost {
        Ghost::None => vec![],
        Ghost::Chemtrails => vec![Span {
            start: 0.0,
            end: head.start,
        }],
        Ghost::Precog => vec![Span {
            start: head.end,
            end: last,
        }],
        Ghost::Bullettime => vec![Span {
            start: 0.0,
            end: last,
        }],
    };
    spans.into_iter().filter(|s| !s.is_empty()).collect()
}

/// All networks' points in texture layout: network `k`'s frame `i` is texel
/// `offsets[k] + i`, at `(idx % width, idx / width)`. The fourth channel carries the frame's
/// label-colour index (0 when unlabelled), so colour-by-label needs no extra lookup table.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedPoints {
    pub width: usize,
    pub height: usize,
    pub n_frames: usize,
    pub offsets: Vec<usize>,
    pub before: Vec<[f32; 4]>,
    pub after: Vec<[f32; 4]>,
    /// Number of distinct labels (0 without labels).
    pub n_classes: usize,
}

/// Validates the scene and lays it out for upload. Errors are user-facing sentences.
pub fn pack(scene: &SceneData) -> Result<PackedPoints, String> {
    let n = scene.n_frames();
    if scene.trajectories.is_empty() {
        return Err("the scene has no networks".into());
    }
    if n == 0 {
        return Err("the scene has no frames".into());
    }
    for t in &scene.trajectories {
        if t.before.len() != n || t.after.len() != n {
            return Err(format!(
                "network '{}' has {} before / {} after frames, expected {n}",
                t.name,
                t.before.len(),
                t.after.len()
            ));
        }
        let bad = t
            .before
            .iter()
            .chain(&t.after)
            .position(|p| p.iter().any(|v| !v.is_finite()));
        if let Some(i) = bad {
            return Err(format!(
                "network '{}' has a non-finite coordinate at frame {}",
                t.name,
                i % n
            ));
        }
    }
    let (label_idx, n_classes) = match &scene.labels {
        Some(l) if l.len() == n => label_indices(l),
        Some(l) => {
            return Err(format!("the scene has {} labels for {n} frames", l.len()));
        }
        None => (vec![0; n], 0),
    };
    let total = n * scene.trajectories.len();
    let width = total.min(TEX_WIDTH);
    let height = total.div_ceil(width);
    let mut before = Vec::with_capacity(width * height);
    let mut after = Vec::with_capacity(width * height);
    let mut offsets = Vec::with_capacity(scene.trajectories.len());
    for t in &scene.trajectories {
        offsets.push(before.len());
        for ((b, a), &l) in t.before.iter().zip(&t.after).zip(&label_idx) {
            let l = l as f32;
            before.push([b[0], b[1], b[2], l]);
            after.push([a[0], a[1], a[2], l]);
        }
    }
    before.resize(width * height, [0.0; 4]);
    after.resize(width * height, [0.0; 4]);
    Ok(PackedPoints {
        width,
        height,
        n_frames: n,
        offsets,
        before,
        after,
        n_classes,
    })
}

/// Maps label values to dense indices in ascending value order (so colours follow class order).
pub fn label_indices(labels: &[i64]) -> (Vec<u32>, usize) {
    let mut distinct: Vec<i64> = labels.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let idx = labels
        .iter()
        .map(|l| distinct.binary_search(l).map_or(0, |i| i as u32))
        .collect();
    (idx, distinct.len())
}

/// The 12 edges of the cube [-1,1]³ as 24 endpoints (pairs).
pub fn cube_edges() -> Vec<[f32; 3]> {
    let corner = |i: usize| {
        [
            if i & 1 == 0 { -1.0 } else { 1.0 },
            if i & 2 == 0 { -1.0 } else { 1.0 },
            if i & 4 == 0 { -1.0 } else { 1.0 },
        ]
    };
    let mut out = Vec::with_capacity(24);
    for a in 0..8usize {
        for bit in [1usize, 2, 4] {
            if a & bit == 0 {
                out.push(corner(a));
                out.push(corner(a | bit));
            }
        }
    }
    out
}

/// CPU mirror of the vertex shader's extrusion, in pixels: the quad covering a capsule of
/// half-width `hw` around segment `a`–`b`, extended by `hw` beyond both ends so round caps
/// (cut out in the fragment shader) join consecutive segments without gaps. Order: the six
/// vertices of two triangles, matching `gl_VertexID % 6`.
pub fn capsule_quad(a: [f32; 2], b: [f32; 2], hw: f32) -> [[f32; 2]; 6] {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = (dx * dx + dy * dy).sqrt();
    // A zero-length segment (the head at an integer frame, or a marker) becomes a square.
    let (ux, uy) = if len > 1e-6 {
        (dx / len, dy / len)
    } else {
        (1.0, 0.0)
    };
    let (nx, ny) = (-uy, ux);
    let corner = |along: f32, side: f32| {
        let base = if along < 0.5 { a } else { b };
        let ext = if along < 0.5 { -hw } else { hw };
        [
            base[0] + ux * ext + nx * side * hw,
            base[1] + uy * ext + ny * side * hw,
        ]
    };
    CORNERS.map(|(along, side)| corner(along, side))
}

/// (along, side) of the six vertices; the shader has the same table.
pub const CORNERS: [(f32, f32); 6] = [
    (0.0, -1.0),
    (1.0, -1.0),
    (1.0, 1.0),
    (0.0, -1.0),
    (1.0, 1.0),
    (0.0, 1.0),
];

/// Distance from `p` to the segment `a`–`b` (the fragment shader's capsule test).
pub fn distance_to_segment(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    (qx * qx + qy * qy).sqrt()
}

/// The image a scene frame stands for: the centre of its smoothing window over the class-sorted
/// held-out images (the image whose label the frame carries).
pub fn centre_image(test_idx: &[usize], smooth: usize, frame: usize) -> Option<usize> {
    let n = test_idx.len();
    if n == 0 {
        return None;
    }
    let w = smooth.max(1).min(n);
    test_idx.get((frame + w / 2).min(n - 1)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Trajectory;

    fn scene(n_net: usize, n: usize) -> SceneData {
        SceneData {
            trajectories: (0..n_net)
                .map(|k| Trajectory {
                    name: format!("net{k}"),
                    before: (0..n).map(|i| [i as f32, k as f32, 0.0]).collect(),
                    after: (0..n).map(|i| [i as f32, 0.0, k as f32]).collect(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn head_span_clamps_and_counts() {
        let s = head_span(10.0, 4, 100).unwrap();
        assert_eq!(
            s,
            Span {
                start: 6.0,
                end: 10.0
            }
        );
        assert_eq!(s.segments(), (6, 4));
        let s = head_span(10.5, 4, 100).unwrap();
        assert_eq!(s.segments(), (6, 5)); // partial first and last segments
        let s = head_span(2.0, 60, 100).unwrap();
        assert_eq!(
            s,
            Span {
                start: 0.0,
                end: 2.0
            }
        );
        let s = head_span(1e9, 3, 10).unwrap();
        assert_eq!(
            s,
            Span {
                start: 6.0,
                end: 9.0
            }
        );
        let s = head_span(5.0, 0, 10).unwrap();
        assert!(s.is_empty());
        assert_eq!(s.segments().1, 0);
        assert!(head_span(0.0, 3, 0).is_none());
        assert_eq!(head_span(f32::NAN, 3, 10).unwrap().end, 0.0);
    }

    #[test]
    fn strided_segments_and_lod() {
        let s = Span {
            start: 6.0,
            end: 10.0,
        };
        assert_eq!(s.segments_strided(1), s.segments());
        assert_eq!(s.segments_strided(4), (1, 2)); // [4,8] and [8,12], clamped to [6,10]
        assert_eq!(
            Span {
                start: 0.0,
                end: 9999.0
            }
            .segments_strided(5),
            (0, 2000)
        );
        assert_eq!(lod_stride(10_000, 2000), 5);
        assert_eq!(lod_stride(201, 1000), 1);
        assert_eq!(lod_stride(0, 0), 1);
        assert_eq!(lod_stride(2001, 2000), 1);
        assert_eq!(lod_stride(2002, 2000), 2);
    }

    #[test]
    fn ghosts_cover_past_future_whole() {
        let h = head_span(50.0, 10, 100).unwrap();
        assert_eq!(ghost_spans(Ghost::None, h, 100), vec![]);
        assert_eq!(
            ghost_spans(Ghost::Chemtrails, h, 100),
            vec![Span {
                start: 0.0,
                end: 40.0
            }]
        );
        assert_eq!(
            ghost_spans(Ghost::Precog, h, 100),
            vec![Span {
                start: 50.0,
                end: 99.0
            }]
        );
        assert_eq!(
            ghost_spans(Ghost::Bullettime, h, 100),
            vec![Span {
                start: 0.0,
                end: 99.0
            }]
        );
        // At the very start there is no past, at the end no future.
        let h0 = head_span(0.0, 10, 100).unwrap();
        assert!(ghost_spans(Ghost::Chemtrails, h0, 100).is_empty());
        let h1 = head_span(99.0, 10, 100).unwrap();
        assert!(ghost_spans(Ghost::Precog, h1, 100).is_empty());
    }

    #[test]
    fn pack_layout() {
        let p = pack(&scene(3, 5)).unwrap();
        assert_eq!((p.width, p.height, p.n_frames), (15, 1, 5));
        assert_eq!(p.offsets, vec![0, 5, 10]);
        assert_eq!(p.before[7], [2.0, 1.0, 0.0, 0.0]);
        assert_eq!(p.after[7], [2.0, 0.0, 1.0, 0.0]);
        let big = pack(&scene(2, 3000)).unwrap();
        assert_eq!((big.width, big.height), (TEX_WIDTH, 2));
        assert_eq!(big.before.len(), TEX_WIDTH * 2);
    }

    #[test]
    fn pack_rejects_bad_scenes() {
        assert!(pack(&SceneData::default()).is_err());
        let mut s = scene(2, 5);
        s.trajectories[1].after.pop();
        assert!(pack(&s).unwrap_err().contains("net1"));
        let mut s = scene(2, 5);
        s.trajectories[0].before[3][1] = f32::NAN;
        assert!(pack(&s).unwrap_err().contains("frame 3"));
        let mut s = scene(2, 5);
        s.labels = Some(vec![1, 2]);
        assert!(pack(&s).is_err());
    }

    #[test]
    fn labels_become_dense_sorted_indices() {
        let (idx, k) = label_indices(&[7, -1, 7, 3]);
        assert_eq!((idx, k), (vec![2, 0, 2, 1], 3));
        let mut s = scene(1, 4);
        s.labels = Some(vec![5, 5, 9, 9]);
        let p = pack(&s).unwrap();
        assert_eq!(p.n_classes, 2);
        assert_eq!(p.before[2][3], 1.0);
    }

    #[test]
    fn cube_has_twelve_unit_edges() {
        let e = cube_edges();
        assert_eq!(e.len(), 24);
        for pair in e.chunks(2) {
            let d: f32 = (0..3).map(|k| (pair[0][k] - pair[1][k]).abs()).sum();
            assert_eq!(d, 2.0); // axis-aligned, length 2
        }
    }

    #[test]
    fn capsule_covers_segment_with_round_ends() {
        let (a, b, hw) = ([10.0, 10.0], [30.0, 10.0], 2.0);
        let q = capsule_quad(a, b, hw);
        let xs: Vec<f32> = q.iter().map(|v| v[0]).collect();
        let ys: Vec<f32> = q.iter().map(|v| v[1]).collect();
        assert_eq!(xs.iter().cloned().fold(f32::MAX, f32::min), 8.0);
        assert_eq!(xs.iter().cloned().fold(f32::MIN, f32::max), 32.0);
        assert_eq!(ys.iter().cloned().fold(f32::MAX, f32::min), 8.0);
        assert_eq!(ys.iter().cloned().fold(f32::MIN, f32::max), 12.0);
        // Pixels inside the capsule are within hw of the segment; corners of the quad are not.
        assert!(distance_to_segment([31.5, 10.0], a, b) <= hw);
        assert!(distance_to_segment([32.0, 12.0], a, b) > hw);
        // Degenerate segment: a square around the point.
        let d = capsule_quad(a, a, 3.0);
        assert!(d
            .iter()
            .all(|v| (v[0] - 10.0).abs() == 3.0 && (v[1] - 10.0).abs() == 3.0));
        // The two triangles have the same winding and non-zero area.
        let area = |t: &[[f32; 2]]| {
            (t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) - (t[2][0] - t[0][0]) * (t[1][1] - t[0][1])
        };
        assert!(area(&q[0..3]) * area(&q[3..6]) > 0.0);
    }
}
