//! Pure-Rust backend (faer): no system library needed.

use super::{LinalgError, Svd};
use faer::{linalg::matmul::matmul as faer_matmul, Accum, Mat, MatRef, Par, Side};
use ndarray::{Array1, Array2, ArrayView2};

fn view<'a>(a: &ArrayView2<'a, f64>) -> MatRef<'a, f64> {
    let s = a.strides();
    // SAFETY: the pointer, shape and element strides come from a live ndarray view that
    // outlives the returned reference.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), a.nrows(), a.ncols(), s[0], s[1]) }
}

fn to_ndarray(m: MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

fn matmul_with(a: ArrayView2<f64>, b: ArrayView2<f64>, par: Par) -> Array2<f64> {
    let mut out = Mat::<f64>::zeros(a.nrows(), b.ncols());
    if a.ncols() > 0 {
        faer_matmul(out.as_mut(), Accum::Replace, view(&a), view(&b), 1.0, par);
    }
    // Row-major copy out so callers get a standard-layout array.
    to_ndarray(out.as_ref())
}

pub fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    matmul_with(a, b, Par::rayon(0))
}

pub fn gram_lower_serial(a: ArrayView2<f64>) -> Array2<f64> {
    use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
    let n = a.nrows();
    let mut out = Mat::<f64>::zeros(n, n);
    if a.ncols() > 0 {
        let v = view(&a);
        tri_matmul(
            out.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            v,
            BlockStructure::Rectangular,
            v.transpose(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
    }
    to_ndarray(out.as_ref())
}

pub fn matmul_serial(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    matmul_with(a, b, Par::Seq)
}

pub fn thin_svd(a: ArrayView2<f64>) -> Result<Svd, LinalgError> {
    let svd = view(&a)
        .thin_svd()
        .map_err(|_| LinalgError::NoConvergence("SVD"))?;
    let s = svd.S().column_vector();
    let s = Array1::from_iter((0..s.nrows()).map(|i| s[i]));
    Ok((to_ndarray(svd.U()), s, to_ndarray(svd.V().transpose())))
}

pub fn singular_values(a: ArrayView2<f64>) -> Result<Array1<f64>, LinalgError> {
    if a.is_empty() {
        return Ok(Array1::zeros(0));
    }
    let s = view(&a)
        .singular_values()
        .map_err(|_| LinalgError::NoConvergence("SVD"))?;
    Ok(Array1::from(s))
}

pub fn sym_eigh(a: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>), LinalgError> {
    let evd = view(&a)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| LinalgError::NoConvergence("symmetric eigendecomposition"))?;
    let s = evd.S().column_vector();
    let vals = Array1::from_iter((0..s.nrows()).map(|i| s[i]));
    Ok((vals, to_ndarray(evd.U())))
}

pub fn cholesky(a: ArrayView2<f64>) -> Result<Array2<f64>, LinalgError> {
    let llt = view(&a)
        .llt(Side::Lower)
        .map_err(|_| LinalgError::NotPositiveDefinite)?;
    Ok(to_ndarray(llt.L()))
}
