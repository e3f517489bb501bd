//! Reading each kind of input into the [`Loader`]: `demo:<name>`, `.npy` files, `.npz`
//! archives (on disk or in memory) and folders of `.npy` files.

use std::fs;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use crate::data::dataset::display_stem;
use crate::data::embedded;
use crate::data::error::DataError;
use crate::data::extras::is_extra;
use crate::data::files::{extension, file_kind, open, open_sized};
use crate::data::npz::{member, open_zip};
use crate::data::printable::printable;
use crate::data::study::manifest::MANIFEST;

use super::loader::{Loader, Role};

/// What the inputs say about the dataset beyond their arrays: the names that name it, and the
/// folders of `.npy` inputs, where `labels.npy` may wait.
#[derive(Default)]
pub(super) struct InputNames {
    pub stems: Vec<String>,
    pub parents: Vec<Option<String>>,
    pub beside: Vec<PathBuf>,
}

impl Loader<'_> {
    /// One input as given on the command line.
    pub fn input(&mut self, input: &str, names: &mut InputNames) -> Result<(), DataError> {
        if let Some(name) = input.strip_prefix("demo:") {
            let bytes = embedded::demo_bytes(name)?;
            self.npz(Cursor::new(bytes), input)?;
            names.stems.push(name.to_string());
            names.parents.push(None);
            return Ok(());
        }
        let path = Path::new(input);
        let meta = input_metadata(path, input)?;
        names.stems.push(display_stem(path));
        names.parents.push(parent_name(path));
        refuse_study(path, &meta, input)?;
        if meta.is_dir() {
            return self.folder(path, input);
        }
        self.file_input(path, input, &mut names.beside)
    }

    /// A file input, by its extension; a `.npy`'s folder joins `beside`.
    fn file_input(
        &mut self,
        path: &Path,
        input: &str,
        beside: &mut Vec<PathBuf>,
    ) -> Result<(), DataError> {
        match extension(path).as_deref() {
            Some("npy") => {
                self.npy_file(path, input)?;
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                if !beside.contains(&dir) {
                    beside.push(dir);
                }
                Ok(())
            }
            Some("npz") => {
                let file = open(path, input)?;
                self.npz(BufReader::with_capacity(1 << 20, file), input)
            }
            Some(ext) => Err(DataError::Unsupported {
                path: input.to_string(),
                reason: format!("the extension .{ext} is not .npy or .npz"),
            }),
            None => Err(DataError::Unsupported {
                path: input.to_string(),
                reason: "a file without extension".into(),
            }),
        }
    }

    pub fn npy_file(&mut self, path: &Path, shown: &str) -> Result<(), DataError> {
        let (file, size) = open_sized(path, shown)?;
        let stem = path
            .file_stem()
            .map(|s| printable(&s.to_string_lossy()))
            .unwrap_or_default();
        let mut r = BufReader::with_capacity(1 << 20, file);
        self.npy_stream(stem, &mut r, shown, size)
    }

    /// One `.npy` stream named `stem`: a network, the labels or an extra.
    pub fn npy_stream(
        &mut self,
        stem: String,
        r: &mut impl Read,
        shown: &str,
        size: u64,
    ) -> Result<(), DataError> {
        let mut r = r;
        if is_extra(&stem) {
            self.extras.array(&stem, &mut r, shown, Some(size));
            return Ok(());
        }
        let role = if stem == "labels" {
            Role::Labels
        } else {
            Role::Network(stem)
        };
        self.array(&mut r, shown, Some(size), role, false)
    }

    fn folder(&mut self, path: &Path, shown: &str) -> Result<(), DataError> {
        let io_err = |e| DataError::Io {
            path: shown.to_string(),
            source: e,
        };
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for entry in fs::read_dir(path).map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let p = entry.path();
            if extension(&p).as_deref() != Some("npy") {
                continue;
            }
            match fs::metadata(&p) {
                Ok(m) if m.is_file() => {
                    files.push((entry.file_name().to_string_lossy().into_owned(), p))
                }
                Ok(m) => self.notes.push(format!(
                    "{}: skipped, {} and not a regular file",
                    printable(&p.display().to_string()),
                    file_kind(&m)
                )),
                Err(e) => self.notes.push(format!(
                    "{}: skipped ({e})",
                    printable(&p.display().to_string())
                )),
            }
        }
        if files.is_empty() {
            return Err(DataError::Unsupported {
                path: shown.to_string(),
                reason: "the folder holds no .npy files".into(),
            });
        }
        files.sort();
        for (_, p) in files {
            let s = p.display().to_string();
            self.npy_file(&p, &s)?;
        }
        Ok(())
    }

    /// Every `.npy` member of an archive, in archive order.
    pub fn npz<R: Read + Seek>(&mut self, reader: R, shown: &str) -> Result<(), DataError> {
        let mut zip = open_zip(reader, shown)?;
        for i in 0..zip.len() {
            let mut f = member(&mut zip, i, shown)?;
            if f.is_dir() {
                continue;
            }
            let fname = printable(f.name());
            let Some(array) = fname.strip_suffix(".npy") else {
                self.notes
                    .push(format!("{shown}: ignored '{fname}' (not a .npy member)"));
                continue;
            };
            let what = format!("{shown}:{array}");
            let size = f.size();
            if is_extra(array) {
                self.extras.array(array, &mut f, &what, Some(size));
                continue;
            }
            let role = if array == "labels" {
                Role::Labels
            } else {
                Role::Network(array.to_string())
            };
            self.array(&mut f, &what, Some(size), role, true)?;
        }
        Ok(())
    }
}

/// The metadata of a path input: a file or a folder, or why not.
fn input_metadata(path: &Path, input: &str) -> Result<fs::Metadata, DataError> {
    let meta = crate::data::files::metadata(path, input)?;
    if !meta.is_dir() && !meta.is_file() {
        return Err(DataError::NotRegular {
            path: input.to_string(),
            kind: file_kind(&meta).to_string(),
        });
    }
    Ok(meta)
}

/// The name of the folder holding `path` (a dataset of `.npy` files is named after it).
fn parent_name(path: &Path) -> Option<String> {
    fs::canonicalize(path).ok().and_then(|p| {
        p.parent()
            .and_then(|q| q.file_name())
            .map(|s| s.to_string_lossy().into_owned())
    })
}

/// A study (its folder, manifest or `.zip`) is not a dataset: `srmscope study` reads it.
fn refuse_study(path: &Path, meta: &fs::Metadata, input: &str) -> Result<(), DataError> {
    if meta.is_dir() && path.join(MANIFEST).is_file()
        || meta.is_file() && path.file_name().is_some_and(|n| n == MANIFEST)
        || meta.is_file() && extension(path).as_deref() == Some("zip")
    {
        return Err(DataError::IsStudy {
            path: printable(input),
        });
    }
    Ok(())
}
