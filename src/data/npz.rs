//! `.npz` archives: zip plumbing (opening, members, checksum draining, messages for
//! compression methods numpy never writes), reading every array back and writing atomically.

use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use ndarray::ArrayD;
use npyz::zip;

use super::error::DataError;
use super::files::open;
use super::limits::memory_limit;
use super::npy::{read_npy_stream, write_npy_to, NpyArray};
use super::printable::printable;

/// Archive member `i`, or an error naming it (e.g. LZMA members, which numpy never writes).
pub(crate) fn member<'a, R: Read + Seek>(
    zip: &'a mut zip::ZipArchive<R>,
    i: usize,
    shown: &str,
) -> Result<zip::read::ZipFile<'a>, DataError> {
    let raw = zip
        .by_index_raw(i)
        .map(|f| (printable(f.name()), f.compression()));
    let (name, method) = match raw {
        Ok(x) => x,
        Err(e) => {
            return Err(DataError::Corrupt {
                what: shown.to_string(),
                reason: format!("damaged archive member #{i}: {e}"),
            })
        }
    };
    zip.by_index(i).map_err(|e| DataError::Corrupt {
        what: format!("{shown}:{name}"),
        reason: match e {
            zip::result::ZipError::UnsupportedArchive(_) => format!(
                "the member is compressed with {}, which srmscope cannot read; \
                 save it with numpy's savez or savez_compressed (deflate)",
                method_name(method)
            ),
            e => format!("damaged archive member: {e}"),
        },
    })
}

/// A zip compression method as users know it.
pub(crate) fn method_name(m: zip::CompressionMethod) -> String {
    use zip::CompressionMethod as C;
    let known = [
        (C::LZMA, "LZMA"),
        (C::BZIP2, "bzip2"),
        (C::ZSTD, "zstd"),
        (C::XZ, "xz"),
        (C::DEFLATE64, "Deflate64"),
    ];
    known
        .iter()
        .find(|(c, _)| *c == m)
        .map_or_else(|| format!("{m}"), |(_, n)| n.to_string())
}

pub(crate) fn open_zip<R: Read + Seek>(
    reader: R,
    shown: &str,
) -> Result<zip::ZipArchive<R>, DataError> {
    zip::ZipArchive::new(reader).map_err(|e| match e {
        zip::result::ZipError::Io(e) if e.kind() != io::ErrorKind::UnexpectedEof => DataError::Io {
            path: shown.to_string(),
            source: e,
        },
        e => DataError::Corrupt {
            what: shown.to_string(),
            reason: format!("not a readable .npz archive (truncated, or not a zip file): {e}"),
        },
    })
}

/// Read an archive member to its end so the zip CRC is verified.
pub(crate) fn drain(r: &mut impl Read, what: &str) -> Result<(), DataError> {
    io::copy(r, &mut io::sink())
        .map(|_| ())
        .map_err(|e| DataError::Corrupt {
            what: what.to_string(),
            reason: format!("damaged archive member ({e})"),
        })
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
    super::output::write_atomic(path, |file| {
        // The latch sits under the buffer, so a seek (which flushes) never fails either.
        let latch = Latch {
            inner: file,
            error: None,
        };
        let mut zw = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, latch));
        let mut result = Ok(());
        for (name, a) in arrays {
            // Stored, as numpy's savez: deflate saved 4 % on a paper-size model (float64
            // mantissas barely compress) and took 4.6 of a 90 s `fit`.
            let opts = zip::write::FileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
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
    .map(|_| ())
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
        let what = format!("{shown}:{}", printable(name));
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
