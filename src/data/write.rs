//! Writing `.npy`/`.npz` files atomically (temp file in the same folder, then rename) and reading
//! back the arrays this crate writes (float64, int64 and `<U` string arrays).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, Ix2, IxDyn};
use npyz::zip;

use super::error::DataError;
use super::load::{
    check_available, drain, member, memory_limit, open, open_sized, open_zip, read_values, reorder,
};
use super::npy::{self, Values, Want};

/// Characters per element of a numpy `<U{n}` array holding `data` (numpy's minimum is 1).
fn str_width(data: &[String]) -> usize {
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

    fn validate(&self, what: &str) -> Result<(), DataError> {
        let expected = self
            .shape()
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d));
        if expected != Some(self.len()) {
            return Err(DataError::Invalid {
                what: what.to_string(),
                reason: format!(
                    "shape {} does not match the {} values given",
                    npy::fmt_shape(self.shape()),
                    self.len()
                ),
            });
        }
        Ok(())
    }

    /// Bytes of the `.npy` data block.
    fn data_bytes(&self) -> u64 {
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

/// Write `buf` out once it is nearly full (or always, with `force`).
fn spill(buf: &mut Vec<u8>, w: &mut impl Write, force: bool) -> io::Result<()> {
    if force || buf.len() >= (1 << 16) - 64 {
        w.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

/// Write `a` as a complete `.npy` stream (header + C-ordered little-endian data).
fn write_npy_to(w: &mut impl Write, a: &NpyArray) -> io::Result<()> {
    w.write_all(&npy::header_bytes(&a.dtype(), a.shape()))?;
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

fn zip_to_io(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// Passes writes through until the first error, then swallows everything and keeps that error.
/// The zip writer tries to finish the archive when dropped after a failure and prints a raw
/// `ZipWriter drop failed` line if that fails too; with this it cannot fail, and the first
/// error is reported once, properly.
struct Latch<W> {
    inner: W,
    error: Option<io::Error>,
}

impl<W: Write> Write for Latch<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.error.is_some() {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                self.error = Some(e);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.error.is_none() {
            if let Err(e) = self.inner.flush() {
                self.error = Some(e);
            }
        }
        Ok(())
    }
}

impl<W: Seek> Seek for Latch<W> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), DataError> {
    super::output::write_atomic(path, fill).map(|_| ())
}

/// Write arrays to a compressed (deflate) `.npz` that `np.load` reads, atomically: a failure
/// (disk full, permissions, bad array) leaves no file and no half-written file behind.
/// Array names must be unique and non-empty.
pub fn write_npz_atomic(path: &Path, arrays: &[(String, NpyArray)]) -> Result<(), DataError> {
    let shown = path.display().to_string();
    for (i, (name, a)) in arrays.iter().enumerate() {
        let what = format!("{shown}:{name}");
        if name.is_empty() {
            return Err(DataError::Invalid {
                what,
                reason: format!("array #{i} has an empty name"),
            });
        }
        if arrays[..i].iter().any(|(n, _)| n == name) {
            return Err(DataError::Invalid {
                what,
                reason: "the name is used twice".into(),
            });
        }
        a.validate(&what)?;
    }
    atomic_write(path, |file| {
        // The latch sits under the buffer, so a seek (which flushes) never fails either.
        let latch = Latch {
            inner: file,
            error: None,
        };
        let mut zw = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, latch));
        let mut result = Ok(());
        for (name, a) in arrays {
            let opts = zip::write::FileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(a.data_bytes() + 4096 >= u64::from(u32::MAX));
            result = zw
                .start_file(format!("{name}.npy"), opts)
                .map_err(zip_to_io)
                .and_then(|_| write_npy_to(&mut zw, a));
            if result.is_err() {
                break;
            }
        }
        let finished = zw.finish().map_err(zip_to_io);
        let buffered = match finished {
            Ok(b) => b,
            Err(e) => return Err(result.err().unwrap_or(e)),
        };
        let mut latch = buffered.into_inner().map_err(|e| e.into_error())?;
        match latch.error.take() {
            Some(e) => Err(e),
            None => result,
        }
    })
}

/// Write one float64 matrix as `.npy` (C order), atomically.
pub fn write_npy_atomic<S: Data<Elem = f64>>(
    path: &Path,
    array: &ArrayBase<S, Ix2>,
) -> Result<(), DataError> {
    atomic_write(path, |file| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        w.write_all(&npy::header_bytes("<f8", array.shape()))?;
        for v in array.iter() {
            w.write_all(&v.to_le_bytes())?;
        }
        w.flush()
    })
}

/// Write any [`NpyArray`] as `.npy`, atomically.
pub fn write_npy_array_atomic(path: &Path, array: &NpyArray) -> Result<(), DataError> {
    array.validate(&path.display().to_string())?;
    atomic_write(path, |file| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write_npy_to(&mut w, array)?;
        w.flush()
    })
}

/// Read one `.npy` stream into an [`NpyArray`] (floats → F64, integers/bools → I64, `U` → Str).
fn read_npy_stream(
    r: &mut impl Read,
    what: &str,
    available: u64,
    used: &mut u64,
    limit: u64,
) -> Result<NpyArray, DataError> {
    let h = npy::read_header(r, what)?;
    let count = h.count().ok_or_else(|| DataError::TooLarge {
        what: what.to_string(),
        needed: u64::MAX,
        total: u64::MAX,
        limit,
    })?;
    let needed = h
        .data_bytes()
        .unwrap_or(u64::MAX)
        .max((count as u64).saturating_mul(8));
    let total = used.saturating_add(needed);
    if total > limit {
        return Err(DataError::TooLarge {
            what: what.to_string(),
            needed,
            total,
            limit,
        });
    }
    *used = total;
    check_available(&h, what, Some(available))?;
    let values = read_values(r, &h, count, Want::Native, what)?;
    let shape = h.shape.clone();
    Ok(match values {
        Values::F64(v) => NpyArray::F64 {
            data: if h.fortran { reorder(v, &h, what)? } else { v },
            shape,
        },
        Values::I64(v) => NpyArray::I64 {
            data: if h.fortran { reorder(v, &h, what)? } else { v },
            shape,
        },
        Values::Str(v) => NpyArray::Str {
            data: if h.fortran { reorder(v, &h, what)? } else { v },
            shape,
        },
    })
}

fn read_npz_from<R: Read + Seek>(
    reader: R,
    shown: &str,
) -> Result<Vec<(String, NpyArray)>, DataError> {
    let limit = memory_limit();
    let mut used = 0u64;
    let mut zip = open_zip(reader, shown)?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = member(&mut zip, i, shown)?;
        let fname = f.name().to_string();
        let Some(name) = fname.strip_suffix(".npy") else {
            continue;
        };
        let what = format!("{shown}:{}", super::printable(name));
        let size = f.size();
        let a = read_npy_stream(&mut f, &what, size, &mut used, limit)?;
        drain(&mut f, &what)?;
        out.push((name.to_string(), a));
    }
    Ok(out)
}

/// Every array of an `.npz` (as written by [`write_npz_atomic`] or numpy), in archive order.
/// Floats come back as [`NpyArray::F64`], integers and bools as [`NpyArray::I64`], unicode
/// strings as [`NpyArray::Str`]; complex, object, byte-string and structured arrays are refused.
pub fn read_npz(path: &Path) -> Result<Vec<(String, NpyArray)>, DataError> {
    let shown = path.display().to_string();
    let file = open(path, &shown)?;
    read_npz_from(BufReader::with_capacity(1 << 20, file), &shown)
}

/// [`read_npz`] from bytes in memory; `name` is used in messages.
pub fn read_npz_bytes(name: &str, bytes: &[u8]) -> Result<Vec<(String, NpyArray)>, DataError> {
    read_npz_from(io::Cursor::new(bytes), name)
}

/// The numeric arrays of an `.npz` as float64 (integers converted), in archive order; string
/// arrays are skipped (use [`read_npz`] for those).
pub fn read_npz_f64(path: &Path) -> Result<Vec<(String, ArrayD<f64>)>, DataError> {
    let shown = path.display().to_string();
    let mut out = Vec::new();
    for (name, a) in read_npz(path)? {
        if matches!(a, NpyArray::Str { .. }) {
            continue;
        }
        let arr = a.to_f64().ok_or_else(|| DataError::Corrupt {
            what: format!("{shown}:{name}"),
            reason: "internal error: shape and data disagree".into(),
        })?;
        out.push((name, arr));
    }
    Ok(out)
}

/// One `.npy` stream held in memory (header and data) as an [`NpyArray`]; `name` is used in
/// messages. The fuzz target `npy` drives this.
pub fn read_npy_bytes(name: &str, bytes: &[u8]) -> Result<NpyArray, DataError> {
    let mut used = 0;
    read_npy_stream(
        &mut io::Cursor::new(bytes),
        name,
        bytes.len() as u64,
        &mut used,
        memory_limit(),
    )
}

/// One `.npy` file as an [`NpyArray`].
pub fn read_npy(path: &Path) -> Result<NpyArray, DataError> {
    let shown = path.display().to_string();
    let (file, size) = open_sized(path, &shown)?;
    let mut used = 0;
    read_npy_stream(
        &mut BufReader::new(file),
        &shown,
        size,
        &mut used,
        memory_limit(),
    )
}
