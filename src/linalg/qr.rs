//! Householder QR with LAPACK's conventions (`dgeqrf` + `dorgqr`), so that BrainIAK's initial
//! W (numpy `linalg.qr`) is reproduced to rounding on every backend.

use ndarray::{Array2, ArrayView2};

/// `Σ aᵢbᵢ` with four partial sums so the loop vectorises.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `y −= f·x`.
fn axpy_neg(f: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi -= f * xi;
    }
}

/// Reduced QR of an m × n matrix (m ≥ n): Q is m × n with orthonormal columns, R is n × n upper
/// triangular. Sign rule of `dlarfg`: R_jj = −sign(α_j)·‖x_j‖, α_j the pivot.
pub fn householder_qr(a: ArrayView2<f64>) -> (Array2<f64>, Array2<f64>) {
    let (m, n) = a.dim();
    let r_cols = n.min(m);
    // Column-major working copy: every reflector reads and updates contiguous column slices.
    let mut work = vec![0.0; m * n];
    for (j, col) in work.chunks_exact_mut(m.max(1)).enumerate().take(n) {
        for (i, x) in col.iter_mut().enumerate() {
            *x = a[[i, j]];
        }
    }
    // Reflector j is v_j (v_j[j] = 1, zero above, stored below the diagonal) with scalar tau_j.
    let mut taus = vec![0.0; r_cols];
    for j in 0..r_cols {
        let (left, right) = work.split_at_mut((j + 1) * m);
        let col = &mut left[j * m..];
        let alpha = col[j];
        let xnorm = dot(&col[j + 1..], &col[j + 1..]).sqrt();
        if xnorm == 0.0 {
            continue;
        }
        let h = alpha.hypot(xnorm);
        let beta = if alpha >= 0.0 { -h } else { h };
        let tau = (beta - alpha) / beta;
        let scale = 1.0 / (alpha - beta);
        for x in &mut col[j + 1..] {
            *x *= scale;
        }
        col[j] = beta;
        taus[j] = tau;
        let v = &col[j + 1..];
        // H = I − tau v vᵀ on the trailing columns.
        for c in right.chunks_exact_mut(m) {
            let f = tau * (c[j] + dot(v, &c[j + 1..]));
            c[j] -= f;
            axpy_neg(f, v, &mut c[j + 1..]);
        }
    }
    let mut r = Array2::<f64>::zeros((r_cols, n));
    for i in 0..r_cols {
        for c in i..n {
            r[[i, c]] = work[c * m + i];
        }
    }
    // Q = H_0 H_1 … H_{r−1} applied to the first r columns of I, accumulated backwards.
    let mut q = vec![0.0; m * r_cols];
    for i in 0..r_cols {
        q[i * m + i] = 1.0;
    }
    for j in (0..r_cols).rev() {
        let tau = taus[j];
        if tau == 0.0 {
            continue;
        }
        let v = &work[j * m + j + 1..(j + 1) * m];
        for c in q.chunks_exact_mut(m).skip(j) {
            let f = tau * (c[j] + dot(v, &c[j + 1..]));
            c[j] -= f;
            axpy_neg(f, v, &mut c[j + 1..]);
        }
    }
    let q = Array2::from_shape_fn((m, r_cols), |(i, c)| q[c * m + i]);
    (q, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_reconstructs_with_lapack_signs() {
        let a = Array2::from_shape_fn((8, 3), |(i, j)| 0.1 + ((i * 5 + j * 3) % 7) as f64 / 7.0);
        let (q, r) = householder_qr(a.view());
        let rec = q.dot(&r);
        assert!((&rec - &a).iter().all(|x| x.abs() < 1e-12));
        let qtq = q.t().dot(&q);
        assert!((&qtq - &Array2::<f64>::eye(3))
            .iter()
            .all(|x| x.abs() < 1e-12));
        // Positive input: the first pivot is positive, so R_00 < 0 and Q's first column < 0.
        assert!(r[[0, 0]] < 0.0);
        assert!(q.column(0).iter().all(|&x| x < 0.0));
    }
}
