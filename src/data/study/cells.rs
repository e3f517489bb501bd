//! A study's cells: the files each reads, its dataset with the study's side files (images,
//! class names, read once for every cell), and the digest of what it reads.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::data::class_names::{
    parse_class_names, read_class_names, read_class_names_file, MAX_CLASS_NAMES_BYTES,
};
use crate::data::dataset::Dataset;
use crate::data::error::{fmt_bytes, DataError};
use crate::data::files::extension;
use crate::data::images::{read_images, read_images_file, ImageSet};
use crate::data::load::{load_bytes, FileBytes, LoadOptions};
use crate::data::printable::printable;

use super::digest::{digest_parts, DigestMemo};
use super::manifest::{bad, norm};
use super::open::{SideImages, Study};
use super::source::CellFile;

impl Study {
    /// The files cell `i` reads: its data, and its labels file if any.
    fn cell_files(
        &self,
        i: usize,
        notes: &mut Vec<String>,
    ) -> Result<(Vec<CellFile>, Option<CellFile>), DataError> {
        let c = self
            .cells
            .get(i)
            .ok_or_else(|| bad(&self.manifest, format!("no cell {i}")))?;
        let data = self.source.files_of(&c.path, &self.manifest, notes)?;
        let labels = match c.labels.as_ref().or(self.labels.as_ref()) {
            None => None,
            Some(l) => {
                let mut v = self.source.files_of(l, &self.manifest, notes)?;
                let one = match (v.pop(), v.is_empty()) {
                    (Some(f), true) if f.name == norm(l) => f,
                    _ => {
                        return Err(bad(
                            &self.manifest,
                            format!("labels {}: a folder, not a file", printable(l)),
                        ))
                    }
                };
                Some(one)
            }
        };
        Ok((data, labels))
    }

    /// `manifest: cell arch/layer/checkpoint`, the prefix of every message about one cell.
    pub fn cell_what(&self, i: usize) -> String {
        match self.cells.get(i) {
            Some(c) => format!("{}: cell {}", self.manifest, c.label()),
            None => self.manifest.clone(),
        }
    }

    /// The dataset of cell `i`, named `arch/layer/checkpoint`, with the study's (or the cell's)
    /// labels, images and class names.
    pub fn load_cell(&self, i: usize, opts: &LoadOptions) -> Result<Dataset, DataError> {
        Ok(self.load_cell_digest(i, opts)?.0)
    }

    /// [`Study::load_cell`] and the digest of the very bytes it loaded (the same digest
    /// [`Study::cell_digest`] gives while the files stay unchanged), so that a cache keyed by it
    /// can never hold a result under another file's digest.
    pub fn load_cell_digest(
        &self,
        i: usize,
        opts: &LoadOptions,
    ) -> Result<(Dataset, String), DataError> {
        let c = self
            .cells
            .get(i)
            .ok_or_else(|| bad(&self.manifest, format!("no cell {i}")))?;
        let mut notes = Vec::new();
        let (data, labels) = self.cell_files(i, &mut notes)?;
        let cap = opts.max_bytes.min(self.max_bytes);
        let mut used = 0u64;
        let mut read = |f: CellFile| -> Result<FileBytes, DataError> {
            let bytes = self.source.read_file(&f, cap.saturating_sub(used))?;
            used += bytes.len() as u64;
            Ok(FileBytes {
                shown: f.shown,
                name: f.name,
                bytes,
            })
        };
        let data: Vec<FileBytes> = data.into_iter().map(&mut read).collect::<Result<_, _>>()?;
        let labels = labels.map(&mut read).transpose()?;
        let digest = digest_parts(
            c,
            self.labels.as_ref(),
            data.iter()
                .map(|f| (f.name.as_str(), Sha256::digest(&f.bytes).into())),
            labels
                .iter()
                .map(|f| (f.name.as_str(), Sha256::digest(&f.bytes).into())),
        );
        let mut ds = load_bytes(&data, labels.as_ref(), opts)?;
        drop((data, labels));
        notes.append(&mut ds.notes);
        ds.notes = notes;
        if self.images.is_some() {
            ds.images = None;
            match self.study_images() {
                Ok((set, note)) => {
                    ds.notes.extend(note.iter().cloned());
                    match set.check_count(ds.n_images()) {
                        Ok(()) => ds.images = Some(set.clone()),
                        Err(e) => ds.notes.push(e.to_string()),
                    }
                }
                Err(e) => ds.notes.push(e.clone()),
            }
        }
        if self.class_names.is_some() {
            match self.study_class_names() {
                Ok(names) => ds.class_names = Some(names.clone()),
                Err(e) => ds.notes.push(e.clone()),
            }
        }
        ds.name = format!("{} {}", self.name, c.label());
        Ok((ds, digest))
    }

    /// The study's images, read and decoded once for every cell.
    fn study_images(&self) -> &SideImages {
        self.side.images.get_or_init(|| {
            let rel = self.images.as_deref().unwrap_or_default();
            let mut notes = Vec::new();
            let mut read = || -> Result<(ImageSet, Option<String>), DataError> {
                let f = self
                    .source
                    .files_of(rel, &self.manifest, &mut notes)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| bad(&self.manifest, "no images"))?;
                match &f.path {
                    Some(p) => {
                        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                        if size > self.max_bytes {
                            return Err(bad(
                                &f.shown,
                                format!(
                                    "{}, more than the {} memory limit",
                                    fmt_bytes(size),
                                    fmt_bytes(self.max_bytes)
                                ),
                            ));
                        }
                        read_images_file(p)
                    }
                    None => {
                        let b = self.source.read_file(&f, self.max_bytes)?;
                        read_images(&mut Cursor::new(&b), &f.shown, Some(b.len() as u64), false)
                    }
                }
            };
            read()
                .map(|(set, note)| (Arc::new(set), note))
                .map_err(|e| format!("{e}; the study runs without images"))
        })
    }

    fn study_class_names(&self) -> &Result<Vec<String>, String> {
        self.side.class_names.get_or_init(|| {
            let rel = self.class_names.as_deref().unwrap_or_default();
            let mut notes = Vec::new();
            let mut read = || -> Result<Vec<String>, DataError> {
                let f = self
                    .source
                    .files_of(rel, &self.manifest, &mut notes)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| bad(&self.manifest, "no class names"))?;
                match &f.path {
                    Some(p) => read_class_names_file(p),
                    None => {
                        let b = self
                            .source
                            .read_file(&f, MAX_CLASS_NAMES_BYTES.min(self.max_bytes))?;
                        if extension(Path::new(&f.name)).as_deref() == Some("npy") {
                            read_class_names(
                                &mut Cursor::new(&b),
                                &f.shown,
                                Some(b.len() as u64),
                                false,
                            )
                        } else {
                            parse_class_names(&b, &f.shown)
                        }
                    }
                }
            };
            read().map_err(|e| format!("{e}; class numbers shown instead"))
        })
    }

    /// The study's class names (its `class_names` file) when it names one that can be read,
    /// so the viewer can show them without loading a cell.
    pub fn class_names(&self) -> Option<Vec<String>> {
        self.class_names.as_ref()?;
        self.study_class_names().as_ref().ok().cloned()
    }

    /// A SHA-256 of everything cell `i` reads (its data and labels), so that a cache keyed by
    /// it follows the files' content, not their names or times. Equal to the digest
    /// [`Study::load_cell_digest`] gives for the same bytes.
    pub fn cell_digest(&self, i: usize, memo: &mut dyn DigestMemo) -> Result<String, DataError> {
        let c = self
            .cells
            .get(i)
            .ok_or_else(|| bad(&self.manifest, format!("no cell {i}")))?;
        let (data, labels) = self.cell_files(i, &mut Vec::new())?;
        let mut one = |f: &CellFile| -> Result<(String, [u8; 32]), DataError> {
            let d = match &f.path {
                Some(p) => memo.file_digest(p)?,
                None => Sha256::digest(self.source.read_file(f, self.max_bytes)?).into(),
            };
            Ok((f.name.clone(), d))
        };
        let data = data.iter().map(&mut one).collect::<Result<Vec<_>, _>>()?;
        let labels = labels.iter().map(&mut one).collect::<Result<Vec<_>, _>>()?;
        Ok(digest_parts(
            c,
            self.labels.as_ref(),
            data.iter().map(|(n, d)| (n.as_str(), *d)),
            labels.iter().map(|(n, d)| (n.as_str(), *d)),
        ))
    }
}
