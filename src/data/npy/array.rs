//! [`NpyArray`]: an array as written to, or read back from, an `.npy`/`.npz`.

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

use super::header::fmt_shape;
use crate::data::error::DataError;

/// Characters per element of a numpy `<U{n}` array holding `data` (numpy's minimum is 1).
pub(crate) fn str_width(data: &[String]) -> usize {
    data.iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1)
}

/// An array to write to (or as read from) an `.npy`/`.npz`: data in C order plus its shape.
/// `shape == []` is a 0-d scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyArray {
    /// numpy `<f8`.
    F64 { shape: Vec<usize>, data: Vec<f64> },
    /// numpy `<i8` (on reading: every integer and bool dtype).
    I64 { shape: Vec<usize>, data: Vec<i64> },
    /// numpy `<U{n}`: fixed-width unicode strings, `n` the longest string's character count.
    Str {
        shape: Vec<usize>,
        data: Vec<String>,
    },
}

impl NpyArray {
    /// Any float64 ndarray, any dimension, any memory layout (stored in C order).
    pub fn from_f64<S: Data<Elem = f64>, D: Dimension>(a: &ArrayBase<S, D>) -> Self {
        NpyArray::F64 {
            shape: a.shape().to_vec(),
            data: a.iter().copied().collect(),
        }
    }

    /// Any int64 ndarray.
    pub fn from_i64<S: Data<Elem = i64>, D: Dimension>(a: &ArrayBase<S, D>) -> Self {
        NpyArray::I64 {
            shape: a.shape().to_vec(),
            data: a.iter().copied().collect(),
        }
    }

    /// A 0-d string scalar (what `np.array("...")` gives), e.g. a JSON `params` string.
    pub fn string(s: impl Into<String>) -> Self {
        NpyArray::Str {
            shape: Vec::new(),
            data: vec![s.into()],
        }
    }

    /// A 1-d string array, e.g. the network names.
    pub fn strings<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Self {
        let data: Vec<String> = items.into_iter().map(Into::into).collect();
        NpyArray::Str {
            shape: vec![data.len()],
            data,
        }
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            NpyArray::F64 { shape, .. }
            | NpyArray::I64 { shape, .. }
            | NpyArray::Str { shape, .. } => shape,
        }
    }

    /// Number of elements actually held.
    pub fn len(&self) -> usize {
        match self {
            NpyArray::F64 { data, .. } => data.len(),
            NpyArray::I64 { data, .. } => data.len(),
            NpyArray::Str { data, .. } => data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numpy dtype this array is written as: `<f8`, `<i8` or `<U{n}`.
    pub fn dtype(&self) -> String {
        match self {
            NpyArray::F64 { .. } => "<f8".into(),
            NpyArray::I64 { .. } => "<i8".into(),
            NpyArray::Str { data, .. } => {
                format!("<U{}", str_width(data))
            }
        }
    }

    /// Numbers as a float64 ndarray (int64 converted); `None` for strings or a bad shape.
    pub fn to_f64(&self) -> Option<ArrayD<f64>> {
        match self {
            NpyArray::F64 { shape, data } => {
                ArrayD::from_shape_vec(IxDyn(shape), data.clone()).ok()
            }
            NpyArray::I64 { shape, data } => {
                ArrayD::from_shape_vec(IxDyn(shape), data.iter().map(|&v| v as f64).collect()).ok()
            }
            NpyArray::Str { .. } => None,
        }
    }

    /// An int64 ndarray; `None` unless this is an integer array.
    pub fn to_i64(&self) -> Option<ArrayD<i64>> {
        match self {
            NpyArray::I64 { shape, data } => {
                ArrayD::from_shape_vec(IxDyn(shape), data.clone()).ok()
            }
            _ => None,
        }
    }

    /// The string of a string array holding exactly one element (0-d scalar or 1-element).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            NpyArray::Str { data, .. } if data.len() == 1 => Some(&data[0]),
            _ => None,
        }
    }

    /// All strings of a string array, in C order.
    pub fn as_strings(&self) -> Option<&[String]> {
        match self {
            NpyArray::Str { data, .. } => Some(data),
            _ => None,
        }
    }

    pub(crate) fn validate(&self, what: &str) -> Result<(), DataError> {
        let expected = self
            .shape()
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d));
        if expected != Some(self.len()) {
            return Err(DataError::Invalid {
                what: what.to_string(),
                reason: format!(
                    "shape {} does not match the {} values given",
                    fmt_shape(self.shape()),
                    self.len()
                ),
            });
        }
        Ok(())
    }

    /// Bytes of the `.npy` data block.
    pub(crate) fn data_bytes(&self) -> u64 {
        match self {
            NpyArray::F64 { data, .. } => data.len() as u64 * 8,
            NpyArray::I64 { data, .. } => data.len() as u64 * 8,
            NpyArray::Str { data, .. } => data.len() as u64 * str_width(data) as u64 * 4,
        }
    }
}

impl<D: Dimension> From<ndarray::Array<f64, D>> for NpyArray {
    fn from(a: ndarray::Array<f64, D>) -> Self {
        NpyArray::from_f64(&a)
    }
}

impl<D: Dimension> From<ndarray::Array<i64, D>> for NpyArray {
    fn from(a: ndarray::Array<i64, D>) -> Self {
        NpyArray::from_i64(&a)
    }
}

impl From<&str> for NpyArray {
    fn from(s: &str) -> Self {
        NpyArray::string(s)
    }
}

impl From<String> for NpyArray {
    fn from(s: String) -> Self {
        NpyArray::string(s)
    }
}

impl From<Vec<String>> for NpyArray {
    fn from(v: Vec<String>) -> Self {
        NpyArray::strings(v)
    }
}
