//! The study's measures beyond METRICS.json: consistency of the networks' within-network RSMs,
//! and the RSM trio (within, inter native, inter shared) at display size.

use super::RsmTrio;
use crate::analysis::metrics::zrows;
use crate::linalg::matmul;
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Mean over network pairs of the Pearson r between the strictly lower triangles of their
/// within-network RSMs (the paper's `viz_wRSM_consistency`). `None` for fewer than 2 networks
/// or fewer than 3 images.
///
/// Exact without any image × image matrix when images outnumber units: with Z_i the row-wise
/// z-scored patterns and G_i = Z_iZ_iᵀ, Σ_{a,b} G_i∘G_j = ‖Z_iᵀZ_j‖²_F and Σ_{a,b} G_i = ‖1ᵀZ_i‖²,
/// from which the lower-triangle sums follow by removing the diagonal.
pub fn within_rsm_consistency(xs: &[ArrayView2<f64>]) -> Option<f64> {
    let m = xs.len();
    let n = xs.first()?.nrows();
    if m < 2 || n < 3 {
        return None;
    }
    let z: Vec<Array2<f64>> = xs.iter().map(zrows).collect();
    // Diagonal of each G_i: the squared norm of each z-scored pattern (1, or 0 if constant).
    let d: Vec<Array1<f64>> = z
        .iter()
        .map(|zi| zi.map_axis(Axis(1), |r| r.dot(&r)))
        .collect();
    let npairs = (n * (n - 1) / 2) as f64;
    let sums: Vec<f64> = z
        .iter()
        .zip(&d)
        .map(|(zi, di)| {
            let c = zi.sum_axis(Axis(0));
            (c.dot(&c) - di.sum()) / 2.0
        })
        .collect();
    let explicit = n * n <= xs.iter().map(|x| x.ncols()).max().unwrap_or(0).pow(2);
    let grams: Vec<Array2<f64>> = if explicit {
        z.iter().map(|zi| matmul(zi.view(), zi.t())).collect()
    } else {
        Vec::new()
    };
    // Σ over the strictly lower triangle of G_i∘G_j.
    let cross = |i: usize, j: usize| -> f64 {
        let full = if explicit {
            (&grams[i] * &grams[j]).sum()
        } else {
            let c = matmul(z[i].t(), z[j].view());
            c.iter().map(|v| v * v).sum()
        };
        (full - (&d[i] * &d[j]).sum()) / 2.0
    };
    let var: Vec<f64> = (0..m)
        .map(|i| cross(i, i) - sums[i] * sums[i] / npairs)
        .collect();
    let mut total = 0.0;
    let mut count = 0usize;
    for i in 0..m {
        for j in 0..i {
            let den = (var[i] * var[j]).sqrt();
            if den > 0.0 {
                total += (cross(i, j) - sums[i] * sums[j] / npairs) / den;
                count += 1;
            }
        }
    }
    (count > 0).then(|| total / count as f64)
}

/// Boundaries of `d` contiguous blocks over `n` rows: `d + 1` increasing indices from 0 to n.
pub fn block_bounds(n: usize, max_blocks: usize) -> Vec<usize> {
    let d = n.min(max_blocks.max(1));
    (0..=d).map(|b| b * n / d.max(1)).collect()
}

/// Row means of `z` within each block.
fn block_means(z: &Array2<f64>, bounds: &[usize]) -> Array2<f64> {
    let d = bounds.len().saturating_sub(1);
    let mut out = Array2::<f64>::zeros((d, z.ncols()));
    for b in 0..d {
        let (lo, hi) = (bounds[b], bounds[b + 1]);
        if hi > lo {
            let m = z.slice(ndarray::s![lo..hi, ..]).sum_axis(Axis(0)) / (hi - lo) as f64;
            out.row_mut(b).assign(&m);
        }
    }
    out
}

/// Mean over networks of block-averaged RSM(x_i, y_i): correlations are bilinear in the
/// z-scored patterns, so averaging patterns within blocks averages the RSM over block pairs.
fn block_rsm(pairs: &[(Array2<f64>, Array2<f64>)], bounds: &[usize]) -> Vec<f32> {
    let d = bounds.len().saturating_sub(1);
    let mut acc = Array2::<f64>::zeros((d, d));
    for (a, b) in pairs {
        let (ba, bb) = (block_means(a, bounds), block_means(b, bounds));
        acc += &matmul(ba.view(), bb.t());
    }
    let k = pairs.len().max(1) as f64;
    acc.iter().map(|v| (v / k) as f32).collect()
}

/// z-scored patterns of each network and of the mean of the others (leave one out).
fn loo_pairs(xs: &[ArrayView2<f64>]) -> Vec<(Array2<f64>, Array2<f64>)> {
    let m = xs.len();
    let mut total = Array2::<f64>::zeros(xs[0].raw_dim());
    for x in xs {
        total += x;
    }
    xs.iter()
        .map(|x| {
            let others = (&total - x) / (m - 1) as f64;
            (zrows(x), zrows(&others.view()))
        })
        .collect()
}

/// The trio of the paper's "Fig 2B" at no more than `max_blocks` × `max_blocks`: the mean
/// within-network RSM (native), and the leave-one-out inter-network RSMs native and shared.
pub fn rsm_trio(
    native: &[ArrayView2<f64>],
    shared: &[ArrayView2<f64>],
    same_width: bool,
    labels: Option<Vec<i64>>,
    max_blocks: usize,
) -> RsmTrio {
    let n = native.first().map_or(0, |x| x.nrows());
    let bounds = block_bounds(n, max_blocks);
    let within_pairs: Vec<(Array2<f64>, Array2<f64>)> = native
        .iter()
        .map(|x| {
            let z = zrows(x);
            (z.clone(), z)
        })
        .collect();
    let within = block_rsm(&within_pairs, &bounds);
    drop(within_pairs);
    let loo = native.len() >= 2;
    let inter_native = (same_width && loo).then(|| block_rsm(&loo_pairs(native), &bounds));
    let inter_shared = if loo {
        block_rsm(&loo_pairs(shared), &bounds)
    } else {
        Vec::new()
    };
    RsmTrio {
        size: bounds.len().saturating_sub(1),
        bounds,
        labels,
        within,
        inter_native,
        inter_shared,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::analysis::metrics::{inter_rsm_loo, lower_tri_corr, mean_within_rsm, rsm};
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};

    fn random(n: usize, p: usize, seed: u64) -> Array2<f64> {
        let mut r = rand::rngs::StdRng::seed_from_u64(seed);
        Array2::from_shape_fn((n, p), |_| r.random::<f64>() - 0.5)
    }

    fn direct(xs: &[ArrayView2<f64>]) -> f64 {
        let g: Vec<Array2<f64>> = xs.iter().map(|x| rsm(x, x)).collect();
        let mut t = Vec::new();
        for i in 0..g.len() {
            for j in 0..i {
                t.push(lower_tri_corr(&g[i], &g[j]));
            }
        }
        t.iter().sum::<f64>() / t.len() as f64
    }

    #[test]
    fn consistency_equals_the_explicit_rsms_both_ways() {
        // More units than images (explicit RSMs) and more images than units (Gram identity).
        for (n, p) in [(20, 50), (60, 7)] {
            let base = random(n, p, 1);
            let xs: Vec<Array2<f64>> = (0..4)
                .map(|s| &base + &(random(n, p, 10 + s) * 0.8))
                .collect();
            let v: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
            let got = within_rsm_consistency(&v).unwrap();
            let want = direct(&v);
            assert!((got - want).abs() < 1e-12, "{n}x{p}: {got} vs {want}");
            assert!(got > 0.2 && got < 1.0, "{got}");
        }
    }

    #[test]
    fn consistency_of_identical_networks_is_one() {
        let x = random(30, 5, 3);
        let v = vec![x.view(), x.view(), x.view()];
        assert!((within_rsm_consistency(&v).unwrap() - 1.0).abs() < 1e-12);
        assert!(within_rsm_consistency(&v[..1]).is_none());
    }

    #[test]
    fn trio_at_full_size_is_the_papers_rsms() {
        let xs: Vec<Array2<f64>> = (0..3).map(|s| random(12, 4, s)).collect();
        let ys: Vec<Array2<f64>> = (0..3).map(|s| random(12, 4, 50 + s)).collect();
        let v: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
        let w: Vec<ArrayView2<f64>> = ys.iter().map(|x| x.view()).collect();
        let t = rsm_trio(&v, &w, true, None, 64);
        assert_eq!(t.size, 12);
        let close = |a: &[f32], b: &Array2<f64>| {
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| (f64::from(*x) - y).abs() < 1e-6)
        };
        assert!(close(&t.within, &mean_within_rsm(&v)));
        assert!(close(t.inter_native.as_ref().unwrap(), &inter_rsm_loo(&v)));
        assert!(close(&t.inter_shared, &inter_rsm_loo(&w)));
    }

    #[test]
    fn trio_blocks_average_the_full_rsm() {
        let xs: Vec<Array2<f64>> = (0..2).map(|s| random(10, 6, s)).collect();
        let v: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
        let t = rsm_trio(&v, &v, true, None, 3);
        assert_eq!(t.bounds, vec![0, 3, 6, 10]);
        let full = mean_within_rsm(&v);
        let (lo, hi) = (6, 10);
        let mean = full.slice(ndarray::s![lo..hi, 0..3]).mean().unwrap();
        assert!((f64::from(t.within[2 * 3]) - mean).abs() < 1e-6);
    }
}
