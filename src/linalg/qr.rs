//! Householder QR with LAPACK's conventions (`dgeqrf` + `dorgqr`), so that BrainIAK's initial
//! W (numpy `linalg.qr`) is reproduced to rounding on every backend.

use ndarray::{Array2, ArrayView2};

/// Reduced QR of an m × n matrix (m ≥ n): Q is m × n with orthonormal columns, R is n × n upper
/// triangular. Sign rule of `dlarfg`: R_jj = −sign(α_j)·‖x_j‖, α_j the pivot.
pub fn householder_qr(a: ArrayView2<f64>) -> (Array2<f64>, Array2<f64>) {
    let (m, n) = a.dim();
    let r_cols = n.min(m);
    let mut work = a.to_owned();
    // Reflector j is v_j (v_j[j] = 1, zero above) with scalar tau_j.
    let mut taus = vec![0.0; r_cols];
    for j in 0..r_cols {
        let alpha = work[[j, j]];
        let xnorm = (j + 1..m)
            .map(|i| work[[i, j]] * work[[i, j]])
            .sum::<f64>()
            .sqrt();
        if xnorm == 0.0 {
            taus[j] = 0.0;
            continue;
        }
        let h = alpha.hypot(xnorm);
        let beta = if alpha >= 0.0 { -h } else { h };
        let tau = (beta - alpha) / beta;
        let scale = 1.0 / (alpha - beta);
        for i in j + 1..m {
            work[[i, j]] *= scale;
        }
        work[[j, j]] = beta;
        taus[j] = tau;
        // Apply H = I − tau v vᵀ to the trailing columns.
        for c in j + 1..n {
            let mut dot = work[[j, c]];
            for i in j + 1..m {
                dot += work[[i, j]] * work[[i, c]];
            }
            let f = tau * dot;
            work[[j, c]] -= f;
            for i in j + 1..m {
                let vi = work[[i, j]];
                work[[i, c]] -= f * vi;
            }
        }
    }
    let mut r = Array2::<f64>::zeros((r_cols, n));
    for i in 0..r_cols {
        for c in i..n {
            r[[i, c]] = work[[i, c]];
        }
    }
    // Q = H_0 H_1 … H_{r−1} applied to the first r columns of I, accumulated backwards.
    let mut q = Array2::<f64>::zeros((m, r_cols));
    for i in 0..r_cols {
        q[[i, i]] = 1.0;
    }
    for j in (0..r_cols).rev() {
        let tau = taus[j];
        if tau == 0.0 {
            continue;
        }
        for c in j..r_cols {
            let mut dot = q[[j, c]];
            for i in j + 1..m {
                dot += work[[i, j]] * q[[i, c]];
            }
            let f = tau * dot;
            q[[j, c]] -= f;
            for i in j + 1..m {
                q[[i, c]] -= f * work[[i, j]];
            }
        }
    }
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
