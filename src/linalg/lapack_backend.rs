//! LAPACK backend: ndarray-linalg over the system OpenBLAS (`libopenblas-dev`).

use super::{LinalgError, Svd};
use ndarray::{Array1, Array2, ArrayView2};
use ndarray_linalg::{Cholesky, Eigh, JobSvd, SVDDCInto, UPLO};

pub fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    a.dot(&b)
}

pub fn matmul_f32(a: ArrayView2<f32>, b: ArrayView2<f32>, _parallel: bool) -> Array2<f32> {
    a.dot(&b)
}

pub fn matmul_add(c: &mut Array2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>, alpha: f64) {
    ndarray::linalg::general_mat_mul(alpha, &a, &b, 1.0, c);
}

pub fn matmul_serial(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    a.dot(&b)
}

pub fn matmul_serial_f<T: ndarray::LinalgScalar>(a: ArrayView2<T>, b: ArrayView2<T>) -> Array2<T> {
    use ndarray::ShapeBuilder;
    let mut out = Array2::<T>::zeros((a.nrows(), b.ncols()).f());
    ndarray::linalg::general_mat_mul(T::one(), &a, &b, T::zero(), &mut out);
    out
}

pub fn project_sum_f32(
    c: &mut ndarray::ArrayViewMut2<f64>,
    terms: &[(ArrayView2<f32>, ArrayView2<f32>, f64)],
) {
    for (w, x, alpha) in terms {
        let p = w.t().dot(&x.t());
        c.zip_mut_with(&p, |c, &p| *c += alpha * f64::from(p));
    }
}

/// OpenBLAS threads each product itself.
pub fn project_sum(
    c: &mut ndarray::ArrayViewMut2<f64>,
    terms: &[(ArrayView2<f64>, ArrayView2<f64>, f64)],
) {
    for (w, x, alpha) in terms {
        ndarray::linalg::general_mat_mul(*alpha, &w.t(), &x.t(), 1.0, c);
    }
}

pub fn singular_values(a: ArrayView2<f64>) -> Result<Array1<f64>, LinalgError> {
    Ok(thin_svd(a)?.1)
}

pub fn thin_svd(a: ArrayView2<f64>) -> Result<Svd, LinalgError> {
    let (u, s, vt) = a
        .to_owned()
        .svddc_into(JobSvd::Some)
        .map_err(|_| LinalgError::NoConvergence("SVD"))?;
    match (u, vt) {
        (Some(u), Some(vt)) => Ok((u, s, vt)),
        _ => Err(LinalgError::NoConvergence("SVD")),
    }
}

pub fn sym_eigh(a: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>), LinalgError> {
    a.to_owned()
        .eigh(UPLO::Lower)
        .map_err(|_| LinalgError::NoConvergence("symmetric eigendecomposition"))
}

pub fn cholesky(a: ArrayView2<f64>) -> Result<Array2<f64>, LinalgError> {
    a.to_owned()
        .cholesky(UPLO::Lower)
        .map_err(|_| LinalgError::NotPositiveDefinite)
}

/// Lower triangle (diagonal included) of `c += aᵀb`; the upper triangle is left untouched.
pub fn tn_lower_add(c: &mut ndarray::ArrayViewMut2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>) {
    let p = a.t().dot(&b);
    for i in 0..c.nrows() {
        for j in 0..=i {
            c[[i, j]] += p[[i, j]];
        }
    }
}

/// Inverse and log-determinant through one Cholesky factorisation.
pub fn spd_inverse(a: ArrayView2<f64>) -> Result<(Array2<f64>, f64), LinalgError> {
    use ndarray_linalg::InverseC;
    let l = cholesky(a)?;
    let mut logdet = 0.0;
    for i in 0..l.nrows() {
        let d = l[[i, i]];
        // Also catches NaN.
        if d.is_nan() || d <= 0.0 {
            return Err(LinalgError::NotPositiveDefinite);
        }
        logdet += 2.0 * d.ln();
    }
    let inv = a
        .to_owned()
        .invc()
        .map_err(|_| LinalgError::NotPositiveDefinite)?;
    Ok((inv, logdet))
}

/// Q of the Householder QR with LAPACK's sign rule.
pub fn thin_q(a: ArrayView2<f64>) -> Array2<f64> {
    super::qr::householder_qr(a).0
}
