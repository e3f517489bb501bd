//! LAPACK backend: ndarray-linalg over the system OpenBLAS (`libopenblas-dev`).

use super::{LinalgError, Svd};
use ndarray::{Array1, Array2, ArrayView2};
use ndarray_linalg::{Cholesky, Eigh, JobSvd, SVDDCInto, UPLO};

pub fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    a.dot(&b)
}

pub fn matmul_serial(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    a.dot(&b)
}

pub fn gram_lower_serial(a: ArrayView2<f64>) -> Array2<f64> {
    a.dot(&a.t())
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
