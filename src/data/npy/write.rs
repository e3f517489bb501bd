//! Writing `.npy`: the header (version 1.0, or 2.0 when huge) and C-ordered little-endian data,
//! to any stream or atomically to a file.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use ndarray::{ArrayBase, Data, Ix2};

use super::array::{str_width, NpyArray};
use super::header::{fmt_shape, MAGIC};
use crate::data::error::DataError;
use crate::data::output::write_atomic;

/// A complete version 1.0 (or 2.0 when huge) header for C-ordered data, padded to 64 bytes.
pub(crate) fn header_bytes(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}",
        fmt_shape(shape)
    );
    // +1 for the final newline.
    let unpadded_v1 = 10 + dict.len() + 1;
    let (prefix, v2) = if unpadded_v1.div_ceil(64) * 64 - 10 <= u16::MAX as usize {
        (10usize, false)
    } else {
        (12usize, true)
    };
    let total = (prefix + dict.len() + 1).div_ceil(64) * 64;
    let hlen = total - prefix;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    if v2 {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(hlen as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(hlen as u16).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

/// Write `buf` out once it is nearly full (or always, with `force`).
fn spill(buf: &mut Vec<u8>, w: &mut impl Write, force: bool) -> io::Result<()> {
    if force || buf.len() >= (1 << 16) - 64 {
        w.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

/// Write `a` as a complete `.npy` stream (header + C-ordered little-endian data).
pub(crate) fn write_npy_to(w: &mut impl Write, a: &NpyArray) -> io::Result<()> {
    w.write_all(&header_bytes(&a.dtype(), a.shape()))?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    match a {
        NpyArray::F64 { data, .. } => {
            for v in data {
                buf.extend_from_slice(&v.to_le_bytes());
                spill(&mut buf, w, false)?;
            }
        }
        NpyArray::I64 { data, .. } => {
            for v in data {
                buf.extend_from_slice(&v.to_le_bytes());
                spill(&mut buf, w, false)?;
            }
        }
        NpyArray::Str { data, .. } => {
            let n = str_width(data);
            for s in data {
                let mut k = 0;
                for c in s.chars() {
                    buf.extend_from_slice(&(c as u32).to_le_bytes());
                    k += 1;
                    spill(&mut buf, w, false)?;
                }
                for _ in k..n {
                    buf.extend_from_slice(&[0; 4]);
                    spill(&mut buf, w, false)?;
                }
            }
        }
    }
    spill(&mut buf, w, true)
}

/// Write one float64 matrix as `.npy` (C order), atomically.
pub fn write_npy_atomic<S: Data<Elem = f64>>(
    path: &Path,
    array: &ArrayBase<S, Ix2>,
) -> Result<(), DataError> {
    write_atomic(path, |file| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        w.write_all(&header_bytes("<f8", array.shape()))?;
        for v in array.iter() {
            w.write_all(&v.to_le_bytes())?;
        }
        w.flush()
    })
    .map(|_| ())
}

/// Write any [`NpyArray`] as `.npy`, atomically.
pub fn write_npy_array_atomic(path: &Path, array: &NpyArray) -> Result<(), DataError> {
    array.validate(&path.display().to_string())?;
    write_atomic(path, |file| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write_npy_to(&mut w, array)?;
        w.flush()
    })
    .map(|_| ())
}
