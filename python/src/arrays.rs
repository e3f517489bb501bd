//! numpy arrays in: float64 arrays are borrowed as they are (C or Fortran order, any strides);
//! float32 and other numeric arrays are converted to a float64 copy, which the docs state.

use ndarray::{Array2, ArrayView2};
use numpy::{PyArrayDescrMethods, PyReadonlyArray2, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors;

/// A 2-D float64 matrix, borrowed from numpy where possible.
pub enum F64Matrix<'py> {
    Borrowed(PyReadonlyArray2<'py, f64>),
    Owned(Array2<f64>),
}

impl F64Matrix<'_> {
    pub fn view(&self) -> ArrayView2<'_, f64> {
        match self {
            F64Matrix::Borrowed(a) => a.as_array(),
            F64Matrix::Owned(a) => a.view(),
        }
    }

    /// True when the data were not copied (tests check the promise).
    pub fn borrowed(&self) -> bool {
        matches!(self, F64Matrix::Borrowed(_))
    }
}

/// `obj` as a finite 2-D float64 matrix; `what` names it in errors.
pub fn f64_matrix<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<F64Matrix<'py>> {
    let m = if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, f64>>() {
        F64Matrix::Borrowed(a)
    } else if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, f32>>() {
        F64Matrix::Owned(a.as_array().mapv(f64::from))
    } else {
        F64Matrix::Owned(converted(obj, what)?)
    };
    check_finite(&m.view(), what)?;
    Ok(m)
}

/// Anything numpy can turn into a float64 matrix (ints, float16, lists), or a clear error.
fn converted(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Array2<f64>> {
    let np = obj.py().import("numpy")?;
    if let Ok(u) = obj.cast::<PyUntypedArray>() {
        if u.ndim() != 2 {
            return Err(errors::value(format!(
                "{what}: expected a 2-D array, got shape {:?}",
                u.shape()
            )));
        }
        let kind = u.dtype().kind();
        if !matches!(kind, b'f' | b'i' | b'u' | b'b') {
            return Err(errors::value(format!(
                "{what}: expected numbers, got dtype {}",
                u.dtype()
            )));
        }
    }
    let arr = np
        .call_method1("asarray", (obj, "float64"))
        .map_err(|e| errors::value(format!("{what}: not a numeric array ({e})")))?;
    let a: PyReadonlyArray2<'_, f64> = arr.extract().map_err(|_| {
        let shape = arr
            .getattr("shape")
            .map(|s| s.to_string())
            .unwrap_or_default();
        errors::value(format!("{what}: expected a 2-D array, got shape {shape}"))
    })?;
    Ok(a.as_array().to_owned())
}

fn check_finite(x: &ArrayView2<'_, f64>, what: &str) -> PyResult<()> {
    if let Some(((i, j), _)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        let count = x.iter().filter(|v| !v.is_finite()).count();
        return Err(errors::value(format!(
            "{what}: contains {count} NaN/Inf values; the first is at row {i}, column {j}"
        )));
    }
    Ok(())
}
