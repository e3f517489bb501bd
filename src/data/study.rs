//! A study on disk: a `study.json` manifest naming one dataset per (arch, layer, checkpoint)
//! cell, in a folder, in a `.zip` of that folder, or embedded (`demo:digits-study`).
//!
//! ```json
//! {"name": "digits", "labels": "labels.npy",
//!  "cells": [{"arch": "convnet", "layer": "conv1", "checkpoint": 0, "path": "convnet/e0/conv1.npz"}]}
//! ```
//! Paths are relative to the manifest. Every error names the manifest and, where it is about
//! one cell, the cell.

use super::error::DataError;
use super::extras::Extras;
use super::load::{load_npz_bytes, load_with, LoadOptions};
use super::{printable, Dataset};
use npyz::zip;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name of the manifest inside a study folder or archive.
pub const MANIFEST: &str = "study.json";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: Option<String>,
    labels: Option<String>,
    images: Option<String>,
    class_names: Option<String>,
    cells: Vec<RawCell>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCell {
    arch: String,
    layer: String,
    checkpoint: u64,
    path: String,
    labels: Option<String>,
    layer_index: Option<u64>,
}

/// One (arch, layer, checkpoint) of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct CellSpec {
    pub arch: String,
    pub layer: String,
    /// Depth order of the layer within its arch (first appearance, or the manifest's
    /// `layer_index`).
    pub layer_index: u64,
    pub checkpoint: u64,
    /// As written in the manifest (relative to it).
    pub path: String,
    pub labels: Option<String>,
}

impl CellSpec {
    /// `arch/layer/checkpoint`, how messages and the viewer name a cell.
    pub fn label(&self) -> String {
        format!("{}/{}/{}", self.arch, self.layer, self.checkpoint)
    }
}

/// Where the manifest and the cells' files are read from.
#[derive(Clone)]
enum Source {
    Dir(PathBuf),
    /// A zip archive (a file or embedded bytes) with the manifest at its root.
    Zip(Arc<ZipMembers>),
}

/// The members of a study archive, read once.
struct ZipMembers {
    files: BTreeMap<String, Vec<u8>>,
}

/// An opened, checked study manifest.
#[derive(Clone)]
pub struct Study {
    pub name: String,
    /// How the manifest is named in messages (`digits/study.json`, `demo:digits-study`).
    pub manifest: String,
    pub cells: Vec<CellSpec>,
    labels: Option<String>,
    images: Option<String>,
    class_names: Option<String>,
    source: Source,
}

/// True when `input` names a study: `demo:<study>`, a folder holding `study.json`, a
/// `study.json` file or a `.zip` archive.
pub fn is_study(input: &str) -> bool {
    if let Some(name) = input.strip_prefix("demo:") {
        return super::demo::study_bytes(name).is_some();
    }
    let p = Path::new(input);
    if p.is_dir() {
        return p.join(MANIFEST).is_file();
    }
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    ext.as_deref() == Some("zip") || (ext.as_deref() == Some("json") && p.is_file())
}

fn bad(manifest: &str, reason: impl std::fmt::Display) -> DataError {
    DataError::Corrupt {
        what: manifest.to_string(),
        reason: reason.to_string(),
    }
}

impl Study {
    /// Opens `demo:<name>`, a study folder, its `study.json` or a `.zip` of the folder.
    pub fn open(input: &str) -> Result<Study, DataError> {
        if let Some(name) = input.strip_prefix("demo:") {
            let bytes = super::demo::study_bytes(name).ok_or_else(|| DataError::UnknownDemo {
                name: name.to_string(),
                available: super::demo::all_names()
                    .iter()
                    .map(|n| format!("demo:{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            return Self::from_zip(input, Cursor::new(bytes), Some(name));
        }
        let p = Path::new(input);
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DataError::Missing {
                path: input.to_string(),
            },
            _ => DataError::Io {
                path: input.to_string(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            let m = p.join(MANIFEST);
            if !m.is_file() {
                return Err(DataError::Unsupported {
                    path: input.to_string(),
                    reason: format!("a folder without {MANIFEST}"),
                });
            }
            return Self::from_manifest_file(&m);
        }
        if !meta.is_file() {
            return Err(DataError::Unsupported {
                path: input.to_string(),
                reason: "not a regular file".into(),
            });
        }
        let is_zip = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if is_zip {
            let f = std::fs::File::open(p).map_err(|e| DataError::Io {
                path: input.to_string(),
                source: e,
            })?;
            return Self::from_zip(input, std::io::BufReader::new(f), None);
        }
        Self::from_manifest_file(p)
    }

    fn from_manifest_file(path: &Path) -> Result<Study, DataError> {
        let shown = printable(&path.display().to_string());
        let text = std::fs::read(path).map_err(|e| DataError::Io {
            path: shown.clone(),
            source: e,
        })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let fallback = std::fs::canonicalize(&dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "study".into());
        Self::parse(&shown, &text, Source::Dir(dir), &fallback)
    }

    fn from_zip<R: Read + std::io::Seek>(
        shown: &str,
        r: R,
        name: Option<&str>,
    ) -> Result<Study, DataError> {
        let mut z =
            zip::ZipArchive::new(r).map_err(|e| bad(shown, format!("not a zip archive ({e})")))?;
        let mut files = BTreeMap::new();
        for i in 0..z.len() {
            let mut f = z
                .by_index(i)
                .map_err(|e| bad(shown, format!("damaged zip archive ({e})")))?;
            if f.is_dir() {
                continue;
            }
            let member = f.name().trim_start_matches("./").to_string();
            let mut buf = Vec::with_capacity(f.size().min(1 << 30) as usize);
            f.read_to_end(&mut buf)
                .map_err(|e| bad(&format!("{shown}:{member}"), format!("cannot read ({e})")))?;
            files.insert(member, buf);
        }
        let text = files
            .get(MANIFEST)
            .cloned()
            .ok_or_else(|| bad(shown, format!("no {MANIFEST} at the archive's root")))?;
        let fallback = name.map(str::to_string).unwrap_or_else(|| {
            Path::new(shown)
                .file_stem()
                .map_or("study".into(), |s| s.to_string_lossy().into_owned())
        });
        let source = Source::Zip(Arc::new(ZipMembers { files }));
        Self::parse(shown, &text, source, &fallback)
    }

    fn parse(shown: &str, text: &[u8], source: Source, fallback: &str) -> Result<Study, DataError> {
        let raw: RawManifest = serde_json::from_slice(text).map_err(|e| bad(shown, e))?;
        if raw.cells.is_empty() {
            return Err(bad(shown, "the study has no cells"));
        }
        // Layer order: first appearance per arch unless `layer_index` says otherwise.
        let mut first_seen: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut per_arch: BTreeMap<String, u64> = BTreeMap::new();
        let mut seen = BTreeMap::new();
        let mut cells = Vec::with_capacity(raw.cells.len());
        for (i, c) in raw.cells.into_iter().enumerate() {
            let which = format!("cell {} ({}/{}/{})", i + 1, c.arch, c.layer, c.checkpoint);
            for (key, v) in [("arch", &c.arch), ("layer", &c.layer), ("path", &c.path)] {
                if v.trim().is_empty() {
                    return Err(bad(shown, format!("{which}: \"{key}\" is empty")));
                }
            }
            let key = (c.arch.clone(), c.layer.clone(), c.checkpoint);
            if let Some(j) = seen.insert(key, i) {
                return Err(bad(
                    shown,
                    format!(
                        "{which} repeats cell {} (same arch, layer and checkpoint)",
                        j + 1
                    ),
                ));
            }
            let next = per_arch.entry(c.arch.clone()).or_insert(0);
            let auto = *first_seen
                .entry((c.arch.clone(), c.layer.clone()))
                .or_insert_with(|| {
                    *next += 1;
                    *next - 1
                });
            cells.push(CellSpec {
                layer_index: c.layer_index.unwrap_or(auto),
                arch: c.arch,
                layer: c.layer,
                checkpoint: c.checkpoint,
                path: c.path,
                labels: c.labels,
            });
        }
        // One layer has one index: two layers of an arch may not claim the same depth.
        let mut idx: BTreeMap<(String, String), u64> = BTreeMap::new();
        for c in &cells {
            match idx.get(&(c.arch.clone(), c.layer.clone())) {
                Some(&v) if v != c.layer_index => {
                    return Err(bad(
                        shown,
                        format!(
                            "cell {}: layer {} of {} has layer_index {} here and {v} elsewhere",
                            c.label(),
                            c.layer,
                            c.arch,
                            c.layer_index
                        ),
                    ))
                }
                _ => {
                    idx.insert((c.arch.clone(), c.layer.clone()), c.layer_index);
                }
            }
        }
        let study = Study {
            name: raw.name.unwrap_or_else(|| fallback.to_string()),
            manifest: shown.to_string(),
            cells,
            labels: raw.labels,
            images: raw.images,
            class_names: raw.class_names,
            source,
        };
        for c in &study.cells {
            study.check_exists(&c.path, Some(c))?;
            if let Some(l) = &c.labels {
                study.check_exists(l, Some(c))?;
            }
        }
        for p in [&study.labels, &study.images, &study.class_names]
            .into_iter()
            .flatten()
        {
            study.check_exists(p, None)?;
        }
        Ok(study)
    }

    fn check_exists(&self, rel: &str, cell: Option<&CellSpec>) -> Result<(), DataError> {
        let ok = match &self.source {
            Source::Dir(d) => d.join(rel).exists(),
            Source::Zip(z) => {
                let r = rel.trim_start_matches("./").trim_end_matches('/');
                z.files.contains_key(r) || z.files.keys().any(|k| k.starts_with(&format!("{r}/")))
            }
        };
        if ok {
            return Ok(());
        }
        let at = cell.map_or(String::new(), |c| format!("cell {}: ", c.label()));
        Err(bad(
            &self.manifest,
            format!("{at}{} not found", printable(rel)),
        ))
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
        let c = self
            .cells
            .get(i)
            .ok_or_else(|| bad(&self.manifest, format!("no cell {i}")))?;
        let labels = c.labels.as_ref().or(self.labels.as_ref());
        let mut ds = match &self.source {
            Source::Dir(d) => {
                let p = d.join(&c.path).display().to_string();
                let lp = labels.map(|l| d.join(l));
                let mut ds = load_with(&[p], lp.as_deref(), opts)?;
                let mut x = Extras::default();
                if let Some(im) = &self.images {
                    x.images_file(&d.join(im));
                }
                if let Some(cn) = &self.class_names {
                    x.class_names_file(&d.join(cn));
                }
                if self.images.is_some() {
                    ds.images = None;
                }
                x.finish(&mut ds);
                ds
            }
            Source::Zip(z) => {
                let what = format!("{}:{}", self.manifest, c.path);
                let bytes = z
                    .files
                    .get(c.path.trim_start_matches("./"))
                    .ok_or_else(|| bad(&what, "not found"))?;
                let mut ds = load_npz_bytes(&what, bytes)?;
                if let Some(l) = labels {
                    ds.labels = Some(self.zip_labels(z, l, ds.n_images())?);
                }
                let mut x = Extras::default();
                if let Some(im) = &self.images {
                    if let Some(b) = z.files.get(im.as_str()) {
                        x.array(
                            "images",
                            &mut Cursor::new(b),
                            &format!("{}:{im}", self.manifest),
                            Some(b.len() as u64),
                        );
                    }
                }
                if let Some(cn) = &self.class_names {
                    if let Some(b) = z.files.get(cn.as_str()) {
                        let names: Vec<String> = String::from_utf8_lossy(b)
                            .lines()
                            .map(|l| l.trim_end_matches('\r').to_string())
                            .collect();
                        let names: Vec<String> = match names.iter().rposition(|n| !n.is_empty()) {
                            Some(last) => names[..=last].to_vec(),
                            None => Vec::new(),
                        };
                        if !names.is_empty() {
                            ds.class_names = Some(names);
                        }
                    }
                }
                x.finish(&mut ds);
                ds
            }
        };
        ds.name = format!("{} {}", self.name, c.label());
        Ok(ds)
    }

    /// The study's class names (its `class_names` file) when it names one that can be read,
    /// so the viewer can show them without loading a cell.
    pub fn class_names(&self) -> Option<Vec<String>> {
        let rel = self.class_names.as_deref()?;
        let names: Vec<String> = match &self.source {
            Source::Dir(d) => super::read_class_names_file(&d.join(rel)).ok()?,
            Source::Zip(z) => String::from_utf8_lossy(z.files.get(rel)?)
                .lines()
                .map(|l| l.trim().to_string())
                .collect(),
        };
        let last = names.iter().rposition(|n| !n.is_empty())?;
        Some(names[..=last].to_vec())
    }

    fn zip_labels(&self, z: &ZipMembers, rel: &str, n: usize) -> Result<Vec<i64>, DataError> {
        let what = format!("{}:{rel}", self.manifest);
        let b = z.files.get(rel).ok_or_else(|| bad(&what, "not found"))?;
        let a = super::read_npy_bytes(&what, b)?;
        let v: Vec<i64> = match a.to_i64() {
            Some(v) => v.iter().copied().collect(),
            None => {
                let f = a
                    .to_f64()
                    .ok_or_else(|| bad(&what, "labels must be integers"))?;
                if f.iter().any(|x| x.fract() != 0.0 || !x.is_finite()) {
                    return Err(bad(&what, "labels must be integers"));
                }
                f.iter().map(|&x| x as i64).collect()
            }
        };
        if v.len() != n {
            return Err(bad(&what, format!("{} labels for {n} images", v.len())));
        }
        Ok(v)
    }

    /// A SHA-256 of everything cell `i` reads (its data and labels), so that a cache keyed by
    /// it follows the files' content, not their names or times.
    pub fn cell_digest(&self, i: usize, memo: &mut dyn DigestMemo) -> Result<String, DataError> {
        let c = self
            .cells
            .get(i)
            .ok_or_else(|| bad(&self.manifest, format!("no cell {i}")))?;
        let labels = c.labels.as_ref().or(self.labels.as_ref());
        let mut h = Sha256::new();
        for rel in std::iter::once(&c.path).chain(labels) {
            h.update(rel.len().to_le_bytes());
            h.update(rel.as_bytes());
            match &self.source {
                Source::Zip(z) => {
                    for (k, v) in z.files.range(rel.clone()..) {
                        if k != rel && !k.starts_with(&format!("{rel}/")) {
                            break;
                        }
                        h.update(k.as_bytes());
                        h.update(Sha256::digest(v));
                    }
                }
                Source::Dir(d) => {
                    let p = d.join(rel);
                    let mut files = vec![p.clone()];
                    if p.is_dir() {
                        files = std::fs::read_dir(&p)
                            .map_err(|e| DataError::Io {
                                path: p.display().to_string(),
                                source: e,
                            })?
                            .flatten()
                            .map(|e| e.path())
                            .filter(|f| f.is_file())
                            .collect();
                        files.sort();
                    }
                    for f in files {
                        h.update(f.file_name().map_or(&[][..], |n| n.as_encoded_bytes()));
                        h.update(memo.file_digest(&f)?);
                    }
                }
            }
        }
        Ok(hex(&h.finalize()))
    }
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
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
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
