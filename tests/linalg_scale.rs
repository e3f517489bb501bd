//! Symmetric eigendecompositions stay accurate whatever the matrix's magnitude (faer's divide
//! and conquer did not: tests/data/linalg/README.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::Array2;
use srmscope::linalg::{matmul, sym_eigh};

fn recorded_tridiagonal() -> Array2<f64> {
    let text = include_str!("data/linalg/dc_tridiagonal.txt");
    let values: Vec<f64> = text
        .lines()
        .map(|l| l.trim().parse().expect("a number per line"))
        .collect();
    let n = values.len().div_ceil(2);
    assert_eq!(values.len(), 2 * n - 1);
    let mut t = Array2::zeros((n, n));
    for i in 0..n {
        t[[i, i]] = values[i];
        if i + 1 < n {
            t[[i + 1, i]] = values[n + i];
            t[[i, i + 1]] = values[n + i];
        }
    }
    t
}

#[test]
fn eigh_residual_is_at_rounding_level_at_every_scale() {
    let t = recorded_tridiagonal();
    let n = t.nrows();
    for scale in [1e-12, 1e-6, 1.0, 4.4e9, 1e12] {
        let a = &t * scale;
        let (lam, v) = sym_eigh(a.view()).expect("eigh");
        let lam_max = lam.iter().fold(0.0f64, |m, l| m.max(l.abs()));
        let av = matmul(a.view(), v.view());
        let resid = (0..n)
            .flat_map(|j| (0..n).map(move |i| (i, j)))
            .map(|(i, j)| (av[[i, j]] - v[[i, j]] * lam[j]).abs())
            .fold(0.0f64, f64::max);
        assert!(
            resid / lam_max < 1e-12,
            "scale {scale:e}: ‖AV − VΛ‖/λmax = {:e}",
            resid / lam_max
        );
        let orth = matmul(v.t(), v.view()) - Array2::<f64>::eye(n);
        let orth = orth.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(orth < 1e-12, "scale {scale:e}: ‖VᵀV − I‖ = {orth:e}");
        assert!(
            lam.windows(2).into_iter().all(|w| w[0] <= w[1]),
            "ascending"
        );
    }
}
