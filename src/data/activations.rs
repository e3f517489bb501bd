//! A network's activations in the precision they were stored in: float32 files stay float32 in
//! memory (half the bytes of a float64 copy), float64 files stay float64 so nothing is rounded.
//! Computation reads them as f64, converting only the rows and units it takes.

use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix2};

#[derive(Clone, Debug)]
pub enum Activations {
    F64(Array2<f64>),
    F32(Array2<f32>),
}

impl Default for Activations {
    fn default() -> Self {
        Activations::F64(Array2::zeros((0, 0)))
    }
}

impl From<Array2<f64>> for Activations {
    fn from(a: Array2<f64>) -> Self {
        Activations::F64(a)
    }
}

impl From<Array2<f32>> for Activations {
    fn from(a: Array2<f32>) -> Self {
        Activations::F32(a)
    }
}

impl Activations {
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Activations::F64(a) => a.dim(),
            Activations::F32(a) => a.dim(),
        }
    }

    pub fn nrows(&self) -> usize {
        self.dim().0
    }

    pub fn ncols(&self) -> usize {
        self.dim().1
    }

    pub fn len(&self) -> usize {
        self.nrows() * self.ncols()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        match self {
            Activations::F64(a) => a.len() * 8,
            Activations::F32(a) => a.len() * 4,
        }
    }

    /// The whole matrix as f64: borrowed when stored as f64, converted otherwise.
    pub fn view_f64(&self) -> CowArray<'_, f64, Ix2> {
        match self {
            Activations::F64(a) => CowArray::from(a.view()),
            Activations::F32(a) => CowArray::from(a.mapv(f64::from)),
        }
    }

    /// An owned f64 copy.
    pub fn to_f64(&self) -> Array2<f64> {
        self.view_f64().into_owned()
    }

    /// The values as an owned f64 matrix (no copy when stored as f64).
    pub fn into_f64(self) -> Array2<f64> {
        match self {
            Activations::F64(a) => a,
            Activations::F32(a) => a.mapv(f64::from),
        }
    }

    /// The f64 matrix, to change in place; None when stored as f32.
    pub fn as_f64_mut(&mut self) -> Option<&mut Array2<f64>> {
        match self {
            Activations::F64(a) => Some(a),
            Activations::F32(_) => None,
        }
    }

    /// Rows `rows` and units `cols` (all when None), as f64, converting only what is taken.
    pub fn select_f64(&self, rows: Option<&[usize]>, cols: Option<&[usize]>) -> Array2<f64> {
        fn pick<T: Copy>(
            a: ArrayView2<T>,
            rows: Option<&[usize]>,
            cols: Option<&[usize]>,
        ) -> Array2<T> {
            match (rows, cols) {
                (Some(r), Some(c)) => a.select(Axis(0), r).select(Axis(1), c),
                (Some(r), None) => a.select(Axis(0), r),
                (None, Some(c)) => a.select(Axis(1), c),
                (None, None) => a.to_owned(),
            }
        }
        match self {
            Activations::F64(a) => pick(a.view(), rows, cols),
            Activations::F32(a) => pick(a.view(), rows, cols).mapv(f64::from),
        }
    }

    /// Every value in row-major order, as f64.
    pub fn values(&self) -> Box<dyn Iterator<Item = f64> + '_> {
        match self {
            Activations::F64(a) => Box::new(a.iter().copied()),
            Activations::F32(a) => Box::new(a.iter().map(|&v| f64::from(v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float32_reads_back_exactly_as_f64() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32 * 0.1);
        let x = Activations::from(a.clone());
        assert_eq!(x.bytes(), 48);
        let want = a.mapv(f64::from);
        assert_eq!(x.view_f64().to_owned(), want);
        assert_eq!(
            x.select_f64(Some(&[2, 0]), Some(&[1, 3])),
            ndarray::array![[want[[2, 1]], want[[2, 3]]], [want[[0, 1]], want[[0, 3]]]]
        );
        assert_eq!(
            x.values().collect::<Vec<_>>(),
            want.iter().copied().collect::<Vec<_>>()
        );
    }
}
