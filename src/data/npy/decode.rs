//! Decoding `.npy` data blocks: every numeric dtype (incl. float16, both byte orders) to f64 or
//! exact i64, `<U` strings, streamed in chunks with bounded up-front allocation; and the
//! Fortran → C reordering.
//!
//! float16 is decoded by hand (a dozen lines) rather than through `npyz`'s optional `half`
//! feature: it keeps the dependency set as it is and the decoder streams into our own buffers.

use std::io::{self, Read};

use super::header::{Descr, Kind};

pub(super) fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let man = f64::from(h & 0x3ff);
    match exp {
        0 => sign * man * 2f64.powi(-24),
        31 if man == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + man / 1024.0) * 2f64.powi(e - 15),
    }
}

macro_rules! decode_as {
    ($bytes:expr, $big:expr, $t:ty, $n:expr, $out:expr, $conv:expr) => {
        for c in $bytes.chunks_exact($n) {
            let mut a = [0u8; $n];
            a.copy_from_slice(c);
            let v = if $big {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            };
            $out.push($conv(v));
        }
    };
}

/// Append the numeric elements in `bytes` (a whole number of items) to `out` as f64.
fn decode_f64(bytes: &[u8], d: &Descr, out: &mut Vec<f64>) {
    let be = d.big_endian;
    match (d.kind, d.size) {
        (Kind::Bool, _) => out.extend(bytes.iter().map(|&b| f64::from(u8::from(b != 0)))),
        (Kind::Int, 1) => out.extend(bytes.iter().map(|&b| f64::from(b as i8))),
        (Kind::UInt, 1) => out.extend(bytes.iter().map(|&b| f64::from(b))),
        (Kind::Int, 2) => decode_as!(bytes, be, i16, 2, out, f64::from),
        (Kind::Int, 4) => decode_as!(bytes, be, i32, 4, out, f64::from),
        (Kind::Int, _) => decode_as!(bytes, be, i64, 8, out, |v: i64| v as f64),
        (Kind::UInt, 2) => decode_as!(bytes, be, u16, 2, out, f64::from),
        (Kind::UInt, 4) => decode_as!(bytes, be, u32, 4, out, f64::from),
        (Kind::UInt, _) => decode_as!(bytes, be, u64, 8, out, |v: u64| v as f64),
        (Kind::Float, 2) => decode_as!(bytes, be, u16, 2, out, f16_to_f64),
        (Kind::Float, 4) => decode_as!(bytes, be, f32, 4, out, f64::from),
        (Kind::Float, _) => decode_as!(bytes, be, f64, 8, out, |v: f64| v),
        (Kind::Unicode, _) => {}
    }
}

/// Append integer/bool elements to `out` exactly; fails on a uint64 above `i64::MAX`.
fn decode_i64(bytes: &[u8], d: &Descr, out: &mut Vec<i64>) -> Result<(), String> {
    let be = d.big_endian;
    match (d.kind, d.size) {
        (Kind::Bool, _) => out.extend(bytes.iter().map(|&b| i64::from(b != 0))),
        (Kind::Int, 1) => out.extend(bytes.iter().map(|&b| i64::from(b as i8))),
        (Kind::UInt, 1) => out.extend(bytes.iter().map(|&b| i64::from(b))),
        (Kind::Int, 2) => decode_as!(bytes, be, i16, 2, out, i64::from),
        (Kind::Int, 4) => decode_as!(bytes, be, i32, 4, out, i64::from),
        (Kind::Int, _) => decode_as!(bytes, be, i64, 8, out, |v: i64| v),
        (Kind::UInt, 2) => decode_as!(bytes, be, u16, 2, out, i64::from),
        (Kind::UInt, 4) => decode_as!(bytes, be, u32, 4, out, i64::from),
        (Kind::UInt, _) => {
            for c in bytes.chunks_exact(8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                let v = if be {
                    u64::from_be_bytes(a)
                } else {
                    u64::from_le_bytes(a)
                };
                out.push(
                    i64::try_from(v).map_err(|_| format!("the value {v} does not fit in int64"))?,
                );
            }
        }
        (Kind::Float | Kind::Unicode, _) => return Err("not an integer dtype".into()),
    }
    Ok(())
}

/// Decode fixed-width UTF-32 strings, dropping numpy's trailing NUL padding.
fn decode_strings(bytes: &[u8], d: &Descr, out: &mut Vec<String>) -> Result<(), String> {
    let item = d.itemsize();
    if item == 0 {
        return Ok(());
    }
    for c in bytes.chunks_exact(item) {
        let mut s = String::with_capacity(d.size);
        for u in c.chunks_exact(4) {
            let mut a = [0u8; 4];
            a.copy_from_slice(u);
            let cp = if d.big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            };
            s.push(char::from_u32(cp).ok_or_else(|| format!("invalid character code {cp:#x}"))?);
        }
        let trimmed = s.trim_end_matches('\0').len();
        s.truncate(trimmed);
        out.push(s);
    }
    Ok(())
}

/// What `read_data` produced.
#[derive(Debug)]
pub(crate) enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Str(Vec<String>),
}

/// How to decode a stream of `n` elements.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Everything numeric as f64.
    F64,
    /// Floats as f64, integers and bools exactly as i64, strings as strings.
    Native,
}

/// Error while reading the data block.
#[derive(Debug)]
pub(crate) enum DataReadError {
    Io(io::Error),
    /// The data block is shorter than the header claims.
    Truncated,
    /// No memory for the destination.
    Alloc,
    /// A value that cannot be represented (uint64 overflow, invalid character).
    Value(String),
}

/// Elements reserved before any data has been read (128 MB of float64).
const PREALLOC_ITEMS: usize = 1 << 24;

/// Read and decode `n` elements, streaming in chunks so the peak memory is the destination only.
pub(crate) fn read_data(
    r: &mut impl Read,
    d: &Descr,
    n: usize,
    want: Want,
) -> Result<Values, DataReadError> {
    let item = d.itemsize().max(1);
    let chunk_items = ((1usize << 16) / item).max(1);
    let mut buf = vec![0u8; chunk_items * item];
    let native_kind = match (want, d.kind) {
        (_, Kind::Unicode) => 2,
        (Want::Native, Kind::Bool | Kind::Int | Kind::UInt) => 1,
        _ => 0,
    };
    // A header (or zip entry) can promise more than the stream holds; reserve a bounded amount
    // first and the rest only once the data have shown up, so a lie costs no huge allocation.
    let first = n.min(PREALLOC_ITEMS);
    let mut out = match native_kind {
        0 => {
            let mut v = Vec::new();
            v.try_reserve_exact(first)
                .map_err(|_| DataReadError::Alloc)?;
            Values::F64(v)
        }
        1 => {
            let mut v = Vec::new();
            v.try_reserve_exact(first)
                .map_err(|_| DataReadError::Alloc)?;
            Values::I64(v)
        }
        _ => {
            let mut v = Vec::new();
            v.try_reserve_exact(first)
                .map_err(|_| DataReadError::Alloc)?;
            Values::Str(v)
        }
    };
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk_items);
        let b = &mut buf[..k * d.itemsize()];
        r.read_exact(b).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => DataReadError::Truncated,
            _ => DataReadError::Io(e),
        })?;
        let done = n - left;
        let rest = n - done;
        let grown = match &mut out {
            Values::F64(v) if v.capacity() < done + k => v.try_reserve_exact(rest),
            Values::I64(v) if v.capacity() < done + k => v.try_reserve_exact(rest),
            Values::Str(v) if v.capacity() < done + k => v.try_reserve_exact(rest),
            _ => Ok(()),
        };
        grown.map_err(|_| DataReadError::Alloc)?;
        match &mut out {
            Values::F64(v) => decode_f64(b, d, v),
            Values::I64(v) => decode_i64(b, d, v).map_err(DataReadError::Value)?,
            Values::Str(v) => decode_strings(b, d, v).map_err(DataReadError::Value)?,
        }
        left -= k;
    }
    Ok(out)
}

/// Permute `data` (stored in Fortran order for `shape`) into C order; `None` if the length does
/// not match the shape.
///
/// Fortran order of `(d0, rest...)` is a C-ordered `(M, d0)` matrix whose row index runs over
/// `rest` in Fortran order; a cache-blocked transpose gives `(d0, M)`, and each row of length `M`
/// is then the same problem for `rest`.
pub(crate) fn fortran_to_c<T: Clone>(data: Vec<T>, shape: &[usize]) -> Option<Vec<T>> {
    if shape.len() < 2 {
        return (shape.first().copied().unwrap_or(1) == data.len()).then_some(data);
    }
    let n = shape[0];
    let m = shape[1..]
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))?;
    if n.checked_mul(m)? != data.len() {
        return None;
    }
    let Some(first) = data.first() else {
        return Some(data);
    };
    const B: usize = 64;
    let mut out = vec![first.clone(); data.len()];
    for jb in (0..m).step_by(B) {
        for ib in (0..n).step_by(B) {
            for j in jb..(jb + B).min(m) {
                for i in ib..(ib + B).min(n) {
                    out[i * m + j] = data[j * n + i].clone();
                }
            }
        }
    }
    drop(data);
    if shape.len() > 2 {
        let rest = &shape[1..];
        let mut done = Vec::with_capacity(out.len());
        for row in out.chunks(m) {
            done.extend(fortran_to_c(row.to_vec(), rest)?);
        }
        out = done;
    }
    Some(out)
}
