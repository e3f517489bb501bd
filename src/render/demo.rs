//! Synthetic scenes with a known answer, for tests, benchmarks and a `--demo` view: every
//! network follows the same 3D curve in "after", and a rotated, shifted copy of it in
//! "before" (a planted rotation, which SRM should undo).

use crate::analysis::{SceneData, Trajectory};

/// `n_networks` trajectories of `n_frames` points on a trefoil-like knotted helix. `after`
/// copies nearly coincide (tiny per-network jitter so they are not pixel-identical); `before`
/// copies are rotated by different angles and shifted, then both views are centred and scaled
/// into [-1, 1] with one global factor, as the pipeline does.
pub fn planted_rotation(n_networks: usize, n_frames: usize, with_labels: bool) -> SceneData {
    planted_rotation_with_noise(n_networks, n_frames, with_labels, 0.06)
}

/// As `planted_rotation`, with the amplitude of the per-network wobble of the aligned paths in
/// curve units (the curve spans about ±3): real alignments are close, not exact.
pub fn planted_rotation_with_noise(
    n_networks: usize,
    n_frames: usize,
    with_labels: bool,
    noise: f32,
) -> SceneData {
    let curve = |i: usize| {
        let t = i as f32 / n_frames.max(2).saturating_sub(1) as f32 * std::f32::consts::TAU;
        [
            (t).sin() + 2.0 * (2.0 * t).sin(),
            (t).cos() - 2.0 * (2.0 * t).cos(),
            -(3.0 * t).sin() * 1.5,
        ]
    };
    let mut trajectories = Vec::with_capacity(n_networks);
    for k in 0..n_networks {
        let kf = k as f32;
        let r = rotation(1.3 * kf + 0.4, 0.9 * kf + 0.2, 2.1 * kf);
        let shift = [
            0.4 * (kf * 1.7).sin(),
            0.4 * (kf * 2.3).cos(),
            0.3 * (kf * 0.9).sin(),
        ];
        let mut before = Vec::with_capacity(n_frames);
        let mut after = Vec::with_capacity(n_frames);
        for i in 0..n_frames {
            let p = curve(i);
            let jitter = noise * ((i as f32 * 0.05 + kf * 1.9).sin());
            after.push([p[0] + jitter, p[1] - jitter, p[2] + jitter]);
            let q = mat_vec(&r, p);
            before.push([
                q[0] + shift[0] * 3.0,
                q[1] + shift[1] * 3.0,
                q[2] + shift[2] * 3.0,
            ]);
        }
        trajectories.push(Trajectory {
            name: format!("network {}", k + 1),
            before,
            after,
        });
    }
    normalise(&mut trajectories, |t| &mut t.before);
    normalise(&mut trajectories, |t| &mut t.after);
    let labels = with_labels.then(|| {
        (0..n_frames)
            .map(|i| (i * 10 / n_frames.max(1)) as i64)
            .collect()
    });
    SceneData {
        trajectories,
        image_index: (0..n_frames).collect(),
        labels,
        disagreement_before: vec![0.0; n_frames],
        disagreement_after: vec![0.0; n_frames],
        evr_before: [0.0; 3],
        evr_after: [0.0; 3],
        before_padded: false,
    }
}

fn rotation(a: f32, b: f32, c: f32) -> [[f32; 3]; 3] {
    let (sa, ca) = a.sin_cos();
    let (sb, cb) = b.sin_cos();
    let (sc, cc) = c.sin_cos();
    let rz = [[ca, -sa, 0.0], [sa, ca, 0.0], [0.0, 0.0, 1.0]];
    let ry = [[cb, 0.0, sb], [0.0, 1.0, 0.0], [-sb, 0.0, cb]];
    let rx = [[1.0, 0.0, 0.0], [0.0, cc, -sc], [0.0, sc, cc]];
    mat_mul(&mat_mul(&rz, &ry), &rx)
}

fn mat_mul(a: &[[f32; 3]; 3], b: &[[f32; 3]; 3]) -> [[f32; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

fn mat_vec(m: &[[f32; 3]; 3], p: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|i| m[i][0] * p[0] + m[i][1] * p[1] + m[i][2] * p[2])
}

/// Centre on the mean of all points and scale by one factor into [-1, 1] (HyperTools).
fn normalise(ts: &mut [Trajectory], view: impl Fn(&mut Trajectory) -> &mut Vec<[f32; 3]>) {
    let mut mean = [0.0f64; 3];
    let mut n = 0usize;
    for t in ts.iter_mut() {
        for p in view(t).iter() {
            for k in 0..3 {
                mean[k] += p[k] as f64;
            }
            n += 1;
        }
    }
    if n == 0 {
        return;
    }
    let mean = mean.map(|m| (m / n as f64) as f32);
    let mut max = 0.0f32;
    for t in ts.iter_mut() {
        for p in view(t).iter_mut() {
            for k in 0..3 {
                p[k] -= mean[k];
                max = max.max(p[k].abs());
            }
        }
    }
    if max > 0.0 {
        for t in ts.iter_mut() {
            for p in view(t).iter_mut() {
                for v in p.iter_mut() {
                    *v /= max;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_scene_is_normalised_and_aligned_after() {
        let s = planted_rotation(4, 300, true);
        assert_eq!(s.n_networks(), 4);
        assert_eq!(s.n_frames(), 300);
        for t in &s.trajectories {
            for p in t.before.iter().chain(&t.after) {
                assert!(p.iter().all(|v| v.abs() <= 1.0 + 1e-5));
            }
        }
        let spread = |get: fn(&Trajectory) -> &Vec<[f32; 3]>| {
            let a = get(&s.trajectories[0]);
            let b = get(&s.trajectories[2]);
            a.iter()
                .zip(b)
                .map(|(p, q)| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f32>().sqrt())
                .sum::<f32>()
                / 300.0
        };
        assert!(spread(|t| &t.after) < 0.05);
        assert!(spread(|t| &t.before) > 0.4);
        assert_eq!(s.labels.as_ref().map(|l| l.len()), Some(300));
    }
}
