//! Joint PCA to 3D of several networks stacked (one basis for all, as HyperTools' `reduce`),
//! moving-average smoothing, and scene scaling.

use crate::linalg::{matmul, mirror_lower, sym_eigh, syrk_lower_add, LinalgError};
use ndarray::{s, Array1, Array2, ArrayView2, Axis};

/// 'valid' moving average over rows with window w (T → T − w + 1). w ≤ 1 returns a copy.
pub fn moving_average(x: &ArrayView2<f64>, w: usize) -> Array2<f64> {
    if w <= 1 || x.nrows() < w {
        return x.to_owned();
    }
    let n = x.nrows() - w + 1;
    let mut out = Array2::<f64>::zeros((n, x.ncols()));
    let mut acc = x.slice(s![..w, ..]).sum_axis(Axis(0));
    let inv = 1.0 / w as f64;
    for t in 0..n {
        if t > 0 {
            ndarray::Zip::from(&mut acc)
                .and(&x.row(t + w - 1))
                .and(&x.row(t - 1))
                .for_each(|a, &add, &sub| *a += add - sub);
        }
        out.row_mut(t).zip_mut_with(&acc, |o, &a| *o = a * inv);
    }
    out
}

/// A joint PCA: the mean, the components (dims × n_comp) and each component's share of variance.
#[derive(Clone, Debug)]
pub struct JointPca {
    pub mean: Array1<f64>,
    pub components: Array2<f64>,
    pub explained_variance_ratio: Vec<f64>,
}

/// Fits one PCA on the networks stacked row-wise. Networks narrower than the widest are
/// zero-padded (the caller reports this). Uses the smaller of the covariance and Gram matrices.
pub fn fit_joint(xs: &[ArrayView2<f64>], n_comp: usize) -> Result<JointPca, LinalgError> {
    let d = xs.iter().map(|x| x.ncols()).max().unwrap_or(0);
    let n: usize = xs.iter().map(|x| x.nrows()).sum();
    let mut mean = Array1::<f64>::zeros(d);
    for x in xs {
        let mut m = mean.slice_mut(s![..x.ncols()]);
        m += &x.sum_axis(Axis(0));
    }
    if n > 0 {
        mean /= n as f64;
    }
    // One network's rows, zero-padded to d and centred with the joint mean.
    let centred = |x: &ArrayView2<f64>| {
        let mut z = Array2::<f64>::zeros((x.nrows(), d));
        z.slice_mut(s![.., ..x.ncols()]).assign(x);
        z -= &mean;
        z
    };
    let n_comp = n_comp.min(d).min(n);
    let (components, top, total) = if d <= n {
        // The covariance summed network by network: no stacked copy of all the rows.
        let mut cov = Array2::<f64>::zeros((d, d));
        for x in xs {
            syrk_lower_add(&mut cov.view_mut(), centred(x).view());
        }
        mirror_lower(&mut cov);
        let total = cov.diag().sum();
        let (vals, vecs) = sym_eigh(cov.view())?;
        let comps = top_columns(&vecs, n_comp);
        let top: Vec<f64> = (0..n_comp).map(|i| vals[vals.len() - 1 - i]).collect();
        (comps, top, total)
    } else {
        // Gram trick (fewer rows than dims, so the stacked copy is small): eigenvectors of
        // Z Zᵀ give scores; components = Zᵀu / σ.
        let mut z = Array2::<f64>::zeros((n, d));
        let mut r = 0;
        for x in xs {
            z.slice_mut(s![r..r + x.nrows(), ..]).assign(&centred(x));
            r += x.nrows();
        }
        let gram = matmul(z.view(), z.t());
        let total = gram.diag().sum();
        let (vals, vecs) = sym_eigh(gram.view())?;
        let u = top_columns(&vecs, n_comp);
        let mut comps = matmul(z.t(), u.view());
        let top: Vec<f64> = (0..n_comp).map(|i| vals[vals.len() - 1 - i]).collect();
        for (mut c, &l) in comps.columns_mut().into_iter().zip(&top) {
            let norm = l.max(0.0).sqrt();
            if norm > 0.0 {
                c /= norm;
            }
        }
        (comps, top, total)
    };
    let mut components = components;
    // A deterministic sign: the largest-magnitude loading of each component is positive.
    for mut c in components.columns_mut() {
        let big = c
            .iter()
            .copied()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
        if big < 0.0 {
            c.mapv_inplace(|v| -v);
        }
    }
    let explained_variance_ratio = top
        .iter()
        .map(|l| if total > 0.0 { l.max(0.0) / total } else { 0.0 })
        .collect();
    Ok(JointPca {
        mean,
        components,
        explained_variance_ratio,
    })
}

fn top_columns(vecs: &Array2<f64>, n: usize) -> Array2<f64> {
    let c = vecs.ncols();
    let mut out = Array2::<f64>::zeros((vecs.nrows(), n));
    for i in 0..n {
        out.column_mut(i).assign(&vecs.column(c - 1 - i));
    }
    out
}

impl JointPca {
    /// Scores of one network (zero-padded to the PCA's width).
    pub fn transform(&self, x: &ArrayView2<f64>) -> Array2<f64> {
        let d = self.mean.len();
        let mut out = Array2::<f64>::zeros((x.nrows(), self.components.ncols()));
        let comps = self.components.slice(s![..x.ncols().min(d), ..]);
        let xs = x.slice(s![.., ..x.ncols().min(d)]);
        out += &matmul(xs, comps);
        let shift = self.mean.slice(s![..x.ncols().min(d)]).dot(&comps);
        out -= &shift;
        out
    }
}

/// Pads to 3 columns (when fewer components exist) and converts to f32 points.
pub fn to_points(scores: &Array2<f64>, scale: f64) -> Vec<[f32; 3]> {
    scores
        .rows()
        .into_iter()
        .map(|r| {
            let g = |i: usize| r.get(i).copied().unwrap_or(0.0) * scale;
            [g(0) as f32, g(1) as f32, g(2) as f32]
        })
        .collect()
}

/// One global factor that brings every coordinate into [−1, 1] (HyperTools' look).
pub fn global_scale(all: &[Array2<f64>]) -> f64 {
    let m = all
        .iter()
        .flat_map(|a| a.iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if m > 0.0 {
        1.0 / m
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_valid_mode() {
        let x = Array2::from_shape_fn((5, 1), |(i, _)| i as f64);
        let y = moving_average(&x.view(), 2);
        assert_eq!(y.column(0).to_vec(), vec![0.5, 1.5, 2.5, 3.5]);
    }

    #[test]
    fn joint_pca_finds_the_dominant_axis_both_ways() {
        // Points along (1, 1, 0)/√2 with small noise: the first component is that axis.
        let x = Array2::from_shape_fn((50, 3), |(i, j)| {
            let t = i as f64 - 25.0;
            match j {
                0 | 1 => t + 0.01 * ((i * 7 % 5) as f64),
                _ => 0.1 * ((i * 3 % 7) as f64),
            }
        });
        let p = fit_joint(&[x.view()], 3).unwrap();
        let c0 = p.components.column(0);
        assert!((c0[0].abs() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-3);
        assert!(p.explained_variance_ratio[0] > 0.99);
        // Wide data (d > n) takes the Gram route: same spectrum, orthonormal components.
        let wide = Array2::from_shape_fn((4, 10), |(i, j)| ((i * 7 + j * 3) % 5) as f64 + i as f64);
        let g = fit_joint(&[wide.view()], 3).unwrap();
        let gram_ctc = g.components.t().dot(&g.components);
        assert!((&gram_ctc - &Array2::<f64>::eye(3))
            .iter()
            .all(|v| v.abs() < 1e-9));
        let tall = fit_joint(&[wide.t()], 3).unwrap();
        assert_eq!(tall.components.nrows(), 4);
        let total: f64 = g.explained_variance_ratio.iter().sum();
        assert!(total <= 1.0 + 1e-12 && total > 0.5);
        let sc = p.transform(&x.view());
        assert!(sc.column(0).mean().unwrap().abs() < 1e-9);
    }
}
