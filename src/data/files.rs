//! Opening input files safely: regular files only (a FIFO would block), with messages that say
//! what a path is when it is not a regular file.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use super::error::DataError;

/// The lowercased extension of `path`, if any.
pub(crate) fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// What a non-regular file is, for messages.
pub(crate) fn file_kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// Opens a regular file for reading. Anything else is refused before opening, because opening
/// a FIFO blocks until a writer appears.
pub(crate) fn open(path: &Path, shown: &str) -> Result<File, DataError> {
    if let Ok(meta) = fs::metadata(path) {
        if !meta.is_file() {
            return Err(DataError::NotRegular {
                path: shown.to_string(),
                kind: file_kind(&meta).to_string(),
            });
        }
    }
    File::open(path).map_err(|e| io_error(shown, e))
}

/// An I/O failure on the input shown as `shown`: "not found" gets its own message.
pub(crate) fn io_error(shown: &str, e: io::Error) -> DataError {
    match e.kind() {
        io::ErrorKind::NotFound => DataError::Missing {
            path: shown.to_string(),
        },
        _ => DataError::Io {
            path: shown.to_string(),
            source: e,
        },
    }
}

/// The metadata of `path` (followed through links), or why not.
pub(crate) fn metadata(path: &Path, shown: &str) -> Result<fs::Metadata, DataError> {
    fs::metadata(path).map_err(|e| io_error(shown, e))
}

/// Opens a file and reads its size (to check headers against it before reading data).
pub(crate) fn open_sized(path: &Path, shown: &str) -> Result<(File, u64), DataError> {
    let file = open(path, shown)?;
    let size = file
        .metadata()
        .map_err(|e| DataError::Io {
            path: shown.to_string(),
            source: e,
        })?
        .len();
    Ok((file, size))
}

/// Reads a whole regular file of at most `limit` bytes (through [`open`], so a FIFO or a device
/// is refused before it is opened). A file that grows past `limit` while it is read is refused
/// too: at most `limit + 1` bytes are ever held.
pub fn read_bounded(path: &Path, shown: &str, limit: u64) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let (file, size) = open_sized(path, shown)?;
    let too_big = |n: u64| DataError::Corrupt {
        what: shown.to_string(),
        reason: format!(
            "{}, more than the {} limit",
            super::error::fmt_bytes(n),
            super::error::fmt_bytes(limit)
        ),
    };
    if size > limit {
        return Err(too_big(size));
    }
    let mut buf = Vec::new();
    buf.try_reserve_exact(size as usize)
        .map_err(|_| too_big(size))?;
    // In chunks, so that Ctrl-C stops a long read at once.
    let mut r = file.take(limit.saturating_add(1));
    loop {
        if crate::interrupt::interrupted() {
            return Err(DataError::Io {
                path: shown.to_string(),
                source: io::Error::new(io::ErrorKind::Interrupted, "interrupted"),
            });
        }
        let n = (&mut r)
            .take(8 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| DataError::Io {
                path: shown.to_string(),
                source: e,
            })?;
        if n == 0 {
            break;
        }
    }
    if buf.len() as u64 > limit {
        return Err(too_big(buf.len() as u64));
    }
    Ok(buf)
}
