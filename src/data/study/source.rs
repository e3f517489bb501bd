//! Where a study's files are read from, a folder or a zip archive, alike: which files a path
//! of the manifest stands for, and their bytes (never beyond the memory limit).

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use npyz::zip;

use crate::data::error::{fmt_bytes, DataError};
use crate::data::files::{extension, file_kind, read_bounded};
use crate::data::npz::method_name;
use crate::data::printable::printable;

use super::manifest::{bad, norm};

/// Where the manifest and the cells' files are read from.
#[derive(Clone)]
pub(super) enum Source {
    Dir(PathBuf),
    /// A zip archive (a file or embedded bytes) with the manifest at its root.
    Zip(Arc<ZipSource>),
}

pub(super) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

pub(super) enum ZipOrigin {
    File(PathBuf),
    Bytes(&'static [u8]),
    Owned(Arc<[u8]>),
}

/// A study archive: its members' names, read once; a member's bytes are inflated only when a
/// cell reads them, and never beyond the memory limit (an unused member is never inflated).
pub(super) struct ZipSource {
    pub origin: ZipOrigin,
    pub shown: String,
    /// Member name (without a leading `./`) → index in the archive.
    pub members: BTreeMap<String, usize>,
}

/// A file a cell reads: its name inside the study, how messages name it, where it is.
pub(super) struct CellFile {
    pub name: String,
    pub shown: String,
    pub path: Option<PathBuf>,
}

impl ZipSource {
    /// The archive's member names, read once (a member is inflated only when read).
    pub(super) fn index(origin: ZipOrigin, shown: &str) -> Result<Self, DataError> {
        let mut zs = ZipSource {
            origin,
            shown: shown.to_string(),
            members: BTreeMap::new(),
        };
        let mut z = zs.archive()?;
        for i in 0..z.len() {
            let f = z
                .by_index_raw(i)
                .map_err(|e| bad(shown, format!("damaged zip archive ({e})")))?;
            if f.is_dir() {
                continue;
            }
            zs.members.insert(norm(f.name()).to_string(), i);
        }
        drop(z);
        Ok(zs)
    }

    fn archive(&self) -> Result<zip::ZipArchive<Box<dyn ReadSeek>>, DataError> {
        let r: Box<dyn ReadSeek> = match &self.origin {
            ZipOrigin::Bytes(b) => Box::new(Cursor::new(*b)),
            ZipOrigin::Owned(b) => Box::new(Cursor::new(b.clone())),
            ZipOrigin::File(p) => {
                let f = crate::data::files::open(p, &self.shown)?;
                Box::new(std::io::BufReader::new(f))
            }
        };
        zip::ZipArchive::new(r).map_err(|e| match e {
            zip::result::ZipError::Io(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                DataError::Io {
                    path: self.shown.clone(),
                    source: e,
                }
            }
            e => bad(&self.shown, format!("not a zip archive ({e})")),
        })
    }

    /// The bytes of member `name`, refused before inflating when it claims more than `cap`
    /// bytes, and while inflating when it holds more than it claims.
    pub(super) fn read(&self, name: &str, cap: u64) -> Result<Vec<u8>, DataError> {
        let what = format!("{}:{}", self.shown, printable(name));
        let idx = *self
            .members
            .get(name)
            .ok_or_else(|| bad(&what, "not found"))?;
        let mut z = self.archive()?;
        let method = z.by_index_raw(idx).map(|f| f.compression()).ok();
        let mut f = z.by_index(idx).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(m)
                if m == zip::result::ZipError::PASSWORD_REQUIRED =>
            {
                bad(
                    &what,
                    "the member is encrypted; srmscope reads only unencrypted zips",
                )
            }
            zip::result::ZipError::UnsupportedArchive(_) => bad(
                &what,
                format!(
                    "the member is compressed with {}, which srmscope cannot read; \
                     zip the study again with deflate (e.g. `zip -r`)",
                    method.map_or_else(|| "an unknown method".into(), method_name)
                ),
            ),
            e => bad(&what, format!("damaged zip archive ({e})")),
        })?;
        let too_big = |n: u64| {
            bad(
                &what,
                format!(
                    "inflates to {}, more than the {} memory limit (--max-memory)",
                    fmt_bytes(n),
                    fmt_bytes(cap)
                ),
            )
        };
        if f.size() > cap {
            return Err(too_big(f.size()));
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(f.size() as usize)
            .map_err(|_| too_big(f.size()))?;
        (&mut f)
            .take(cap.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| bad(&what, format!("damaged zip archive ({e})")))?;
        if buf.len() as u64 > cap {
            return Err(too_big(buf.len() as u64));
        }
        Ok(buf)
    }
}

impl Source {
    /// Whether `rel` names a file or a folder of the study.
    pub(super) fn has(&self, rel: &str) -> bool {
        match self {
            Source::Dir(d) => d.join(rel).exists(),
            Source::Zip(z) => {
                let r = norm(rel);
                z.members.contains_key(r)
                    || z.members
                        .range(format!("{r}/")..)
                        .next()
                        .is_some_and(|(k, _)| k.starts_with(&format!("{r}/")))
            }
        }
    }

    /// The files `rel` stands for: a file, or the `.npy` files of a folder (sorted), alike in
    /// a folder and in a zip. Non-regular entries of a folder are skipped with a note.
    /// `manifest` names the study in messages about an archive's members.
    pub(super) fn files_of(
        &self,
        rel: &str,
        manifest: &str,
        notes: &mut Vec<String>,
    ) -> Result<Vec<CellFile>, DataError> {
        let r = norm(rel);
        match self {
            Source::Dir(d) => dir_files(d, r, notes),
            Source::Zip(z) => zip_files(z, r, manifest),
        }
    }

    /// The bytes of `f`, refused beyond `cap`.
    pub(super) fn read_file(&self, f: &CellFile, cap: u64) -> Result<Vec<u8>, DataError> {
        match (self, &f.path) {
            (_, Some(p)) => read_bounded(p, &f.shown, cap),
            (Source::Zip(z), None) => z.read(&f.name, cap),
            (Source::Dir(_), None) => Err(bad(&f.shown, "not found")),
        }
    }
}

fn is_npy(name: &str) -> bool {
    extension(Path::new(name)).as_deref() == Some("npy")
}

/// [`Source::files_of`] in a folder: `r` (normalised) below `d`.
fn dir_files(d: &Path, r: &str, notes: &mut Vec<String>) -> Result<Vec<CellFile>, DataError> {
    let p = d.join(r);
    let shown = printable(&p.display().to_string());
    let meta = crate::data::files::metadata(&p, &shown)?;
    if meta.is_file() {
        return Ok(vec![CellFile {
            name: r.to_string(),
            shown,
            path: Some(p),
        }]);
    }
    if !meta.is_dir() {
        return Err(DataError::NotRegular {
            path: shown,
            kind: file_kind(&meta).to_string(),
        });
    }
    let io_err = |e| DataError::Io {
        path: shown.clone(),
        source: e,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&p).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let fname = entry.file_name().to_string_lossy().into_owned();
        if !is_npy(&fname) {
            continue;
        }
        let fp = entry.path();
        let fshown = printable(&fp.display().to_string());
        match std::fs::metadata(&fp) {
            Ok(m) if m.is_file() => out.push(CellFile {
                name: format!("{r}/{fname}"),
                shown: fshown,
                path: Some(fp),
            }),
            Ok(m) => notes.push(format!(
                "{fshown}: skipped, {} and not a regular file",
                file_kind(&m)
            )),
            Err(e) => notes.push(format!("{fshown}: skipped ({e})")),
        }
    }
    if out.is_empty() {
        return Err(DataError::Unsupported {
            path: shown,
            reason: "the folder holds no .npy files".into(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// [`Source::files_of`] in an archive: the member `r` (normalised), or the `.npy` members
/// directly inside the folder `r`.
fn zip_files(z: &ZipSource, r: &str, manifest: &str) -> Result<Vec<CellFile>, DataError> {
    let shown = |n: &str| format!("{}:{}", manifest, printable(n));
    if z.members.contains_key(r) {
        return Ok(vec![CellFile {
            name: r.to_string(),
            shown: shown(r),
            path: None,
        }]);
    }
    let prefix = format!("{r}/");
    let out: Vec<CellFile> = z
        .members
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| !k[prefix.len()..].contains('/') && is_npy(k))
        .map(|(k, _)| CellFile {
            name: k.clone(),
            shown: shown(k),
            path: None,
        })
        .collect();
    if out.is_empty() {
        let any = z.members.range(prefix.clone()..).next();
        return Err(match any {
            Some((k, _)) if k.starts_with(&prefix) => DataError::Unsupported {
                path: shown(r),
                reason: "the folder holds no .npy files".into(),
            },
            _ => bad(&shown(r), "not found"),
        });
    }
    Ok(out)
}
