//! Reading `.npy` streams with every check before the data are trusted: the header's size
//! against the memory limit and against the bytes present, then the data, then C order.

use std::io::{self, BufReader, Read};
use std::path::Path;

use super::array::NpyArray;
use super::decode::{fortran_to_c, read_data, DataReadError, Values, Want};
use super::header::{fmt_shape, read_header, Header};
use crate::data::error::{fmt_bytes, DataError};
use crate::data::files::open_sized;
use crate::data::limits::memory_limit;

/// The header's data size against the bytes present (file or archive member size).
pub(crate) fn check_available(
    h: &Header,
    what: &str,
    available: Option<u64>,
) -> Result<(), DataError> {
    let Some(avail) = available else {
        return Ok(());
    };
    let data = h.data_bytes().unwrap_or(u64::MAX);
    let present = avail.saturating_sub(h.data_offset);
    if present < data {
        return Err(DataError::Corrupt {
            what: what.to_string(),
            reason: format!(
                "truncated: the header promises {} {} values ({}), but only {} of data are present",
                fmt_shape(&h.shape),
                h.descr_text,
                fmt_bytes(data),
                fmt_bytes(present)
            ),
        });
    }
    Ok(())
}

pub(crate) fn read_values(
    r: &mut impl Read,
    h: &Header,
    count: usize,
    want: Want,
    what: &str,
) -> Result<Values, DataError> {
    read_data(r, &h.descr, count, want).map_err(|e| match e {
        DataReadError::Truncated => DataError::Corrupt {
            what: what.to_string(),
            reason: "truncated: the data ends before the end the header promises".into(),
        },
        DataReadError::Io(e) => DataError::Corrupt {
            what: what.to_string(),
            reason: format!("cannot read the data ({e})"),
        },
        DataReadError::Alloc => DataError::Io {
            path: what.to_string(),
            source: io::Error::new(io::ErrorKind::OutOfMemory, "out of memory for the data"),
        },
        DataReadError::Value(v) => DataError::Corrupt {
            what: what.to_string(),
            reason: format!("bad value in the data: {v}"),
        },
    })
}

pub(crate) fn reorder<T: Clone>(data: Vec<T>, h: &Header, what: &str) -> Result<Vec<T>, DataError> {
    fortran_to_c(data, &h.shape).ok_or_else(|| DataError::Corrupt {
        what: what.to_string(),
        reason: "internal error: data length does not match the shape".into(),
    })
}

/// Read one `.npy` stream into an [`NpyArray`] (floats → F64, integers/bools → I64, `U` → Str).
pub(crate) fn read_npy_stream(
    r: &mut impl Read,
    what: &str,
    available: u64,
    used: &mut u64,
    limit: u64,
) -> Result<NpyArray, DataError> {
    let h = read_header(r, what)?;
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
