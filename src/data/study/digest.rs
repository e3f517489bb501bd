//! Digests: of a cell (the names and SHA-256 of every file it reads), of files, remembered or
//! not, and their hex form.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::data::error::DataError;
use crate::data::printable::printable;

use super::manifest::{norm, CellSpec};

/// A file's name in the study and its SHA-256.
pub(super) type Named<'a> = (&'a str, [u8; 32]);

/// The digest of a cell from its files' names and digests: the data, then the labels.
pub(super) fn digest_parts<'a>(
    c: &CellSpec,
    study_labels: Option<&String>,
    data: impl Iterator<Item = Named<'a>>,
    labels: impl Iterator<Item = Named<'a>>,
) -> String {
    let mut h = Sha256::new();
    let label_rel = c.labels.as_ref().or(study_labels);
    let parts: [(Option<&String>, Vec<Named>); 2] = [
        (Some(&c.path), data.collect()),
        (label_rel, labels.collect()),
    ];
    for (rel, files) in parts {
        let Some(rel) = rel else { continue };
        let rel = norm(rel);
        h.update(rel.len().to_le_bytes());
        h.update(rel.as_bytes());
        for (name, d) in files {
            h.update(name.len().to_le_bytes());
            h.update(name.as_bytes());
            h.update(d);
        }
    }
    hex(&h.finalize())
}

/// Digests of files, possibly remembered by (path, size, modification time, inode) so that an
/// unchanged study is not read again.
pub trait DigestMemo {
    fn file_digest(&mut self, path: &Path) -> Result<[u8; 32], DataError>;
}

/// Reads and hashes every time.
pub struct NoMemo;

impl DigestMemo for NoMemo {
    fn file_digest(&mut self, path: &Path) -> Result<[u8; 32], DataError> {
        sha256_file(path)
    }
}

/// The SHA-256 of a file's bytes, streamed.
pub fn sha256_file(path: &Path) -> Result<[u8; 32], DataError> {
    let io = |e| DataError::Io {
        path: printable(&path.display().to_string()),
        source: e,
    };
    // Regular files only: a FIFO or a device would block or never end.
    let mut f = crate::data::files::open(path, &printable(&path.display().to_string()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if crate::interrupt::interrupted() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "interrupted",
            )));
        }
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
