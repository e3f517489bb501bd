//! Class labels: an explicit file (`.npy`, or `.npz` with an array `labels` or a single array),
//! a `labels` array among the inputs, or `labels.npy` beside them, checked against the networks.

use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use crate::data::error::DataError;
use crate::data::files::{extension, open, open_sized};
use crate::data::npy::{self, Values};
use crate::data::npz::open_zip;

use super::loader::{FileBytes, LabelArray, Loader, Role};

const LABELS_KINDS: &str = "labels must be a .npy file or an .npz with an array named 'labels'";

impl LabelArray {
    pub fn into_labels(self, n_images: usize) -> Result<Vec<i64>, DataError> {
        let err = |reason: String| DataError::Labels {
            what: self.what.clone(),
            reason,
        };
        let v: Vec<i64> = match self.values {
            Values::I64(v) => v,
            Values::F64(v) => {
                let mut out = Vec::with_capacity(v.len());
                for (i, &x) in v.iter().enumerate() {
                    if !(x.is_finite() && x.fract() == 0.0 && x.abs() <= 9.007_199_254_740_992e15) {
                        return Err(err(format!(
                            "the label of image {i} is {x}, not an integer class label"
                        )));
                    }
                    out.push(x as i64);
                }
                out
            }
            Values::Str(_) => {
                return Err(err("holds strings; class labels must be integers".into()));
            }
        };
        if v.len() != n_images {
            return Err(err(format!(
                "{} labels (shape {}), but the networks have {} images; give one label per image",
                v.len(),
                npy::fmt_shape(&self.shape),
                n_images
            )));
        }
        Ok(v)
    }
}

impl Loader<'_> {
    /// The labels used: `chosen` (an explicit file) or else the first found among the inputs;
    /// any other is noted as ignored. Checked to give one integer per image.
    pub fn settle_labels(
        &mut self,
        mut chosen: Option<LabelArray>,
    ) -> Result<Option<Vec<i64>>, DataError> {
        let mut others = std::mem::take(&mut self.labels).into_iter();
        if chosen.is_none() {
            chosen = others.next();
        }
        if let Some(c) = &chosen {
            for o in others.filter(|o| o.what != c.what) {
                self.notes
                    .push(format!("labels: using {}, ignoring {}", c.what, o.what));
            }
        }
        let n_images = self.n_images();
        chosen.map(|c| c.into_labels(n_images)).transpose()
    }

    /// `labels.npy` in the first of `dirs` that holds one.
    pub fn labels_beside(&mut self, dirs: &[PathBuf]) -> Result<(), DataError> {
        for dir in dirs {
            let cand = dir.join("labels.npy");
            if cand.is_file() {
                let shown = cand.display().to_string();
                self.npy_file(&cand, &shown)?;
                self.notes.push(format!("labels: read from {shown}"));
                break;
            }
        }
        Ok(())
    }

    /// An explicit labels file: `.npy`, or `.npz` with an array `labels` (or a single array).
    pub fn labels_file(&mut self, path: &Path) -> Result<LabelArray, DataError> {
        let shown = path.display().to_string();
        let before = self.labels.len();
        match extension(path).as_deref() {
            Some("npy") => {
                let (file, size) = open_sized(path, &shown)?;
                self.array(
                    &mut BufReader::new(file),
                    &shown,
                    Some(size),
                    Role::Labels,
                    false,
                )?;
            }
            Some("npz") => {
                let file = open(path, &shown)?;
                self.labels_npz(BufReader::new(file), &shown)?;
            }
            _ => {
                if !path.exists() {
                    return Err(DataError::Missing { path: shown });
                }
                return Err(DataError::Labels {
                    what: shown,
                    reason: LABELS_KINDS.into(),
                });
            }
        }
        match self.labels.pop() {
            Some(l) if self.labels.len() == before => Ok(l),
            _ => Err(DataError::Labels {
                what: shown,
                reason: "no labels found".into(),
            }),
        }
    }

    /// An explicit labels file already in memory (a study's), or None when it held none.
    pub fn labels_bytes(&mut self, f: &FileBytes) -> Result<Option<LabelArray>, DataError> {
        let before = self.labels.len();
        match extension(Path::new(&f.name)).as_deref() {
            Some("npy") => self.array(
                &mut Cursor::new(&f.bytes[..]),
                &f.shown,
                Some(f.bytes.len() as u64),
                Role::Labels,
                false,
            )?,
            Some("npz") => self.labels_npz(Cursor::new(&f.bytes[..]), &f.shown)?,
            _ => {
                return Err(DataError::Labels {
                    what: f.shown.clone(),
                    reason: LABELS_KINDS.into(),
                })
            }
        }
        Ok(if self.labels.len() == before + 1 {
            self.labels.pop()
        } else {
            None
        })
    }

    /// The labels of an `.npz`: its array `labels`, or its only array.
    fn labels_npz<R: Read + Seek>(&mut self, reader: R, shown: &str) -> Result<(), DataError> {
        let shown = shown.to_string();
        let mut zip = open_zip(reader, &shown)?;
        let names: Vec<String> = zip
            .file_names()
            .filter_map(|n| n.strip_suffix(".npy"))
            .map(str::to_string)
            .collect();
        let pick = if names.iter().any(|n| n == "labels") {
            "labels".to_string()
        } else if let [only] = names.as_slice() {
            only.clone()
        } else {
            return Err(DataError::Labels {
                what: shown,
                reason: format!(
                    "no array named 'labels' (it holds: {})",
                    if names.is_empty() {
                        "nothing".into()
                    } else {
                        names.join(", ")
                    }
                ),
            });
        };
        let what = format!("{shown}:{pick}");
        let mut f = zip
            .by_name(&format!("{pick}.npy"))
            .map_err(|e| DataError::Corrupt {
                what: what.clone(),
                reason: format!("damaged archive member: {e}"),
            })?;
        let size = f.size();
        self.array(&mut f, &what, Some(size), Role::Labels, true)?;
        Ok(())
    }
}
