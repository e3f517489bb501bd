//! A study on disk: a `study.json` manifest naming one dataset per (arch, layer, checkpoint)
//! cell, in a folder, in a `.zip` of that folder, or embedded (`demo:digits-study`).
//!
//! ```json
//! {"name": "digits", "labels": "labels.npy",
//!  "cells": [{"arch": "convnet", "layer": "conv1", "checkpoint": 0, "path": "convnet/e0/conv1.npz"}]}
//! ```
//! Paths are relative to the manifest. Every error names the manifest and, where it is about
//! one cell, the cell.

use super::class_names::{parse_class_names, read_class_names, MAX_CLASS_NAMES_BYTES};
use super::error::{fmt_bytes, DataError};
use super::files::{extension, file_kind, read_bounded};
use super::images::{read_images, read_images_file, ImageSet};
use super::load::{load_bytes, FileBytes, LoadOptions};
use super::{printable, Dataset};
use npyz::zip;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Name of the manifest inside a study folder or archive.
pub const MANIFEST: &str = "study.json";

/// The most a manifest may take (about a million cells).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

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
    /// Control characters are shown as `\u{..}` escapes (names reach terminals).
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
    Zip(Arc<ZipSource>),
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

enum ZipOrigin {
    File(PathBuf),
    Bytes(&'static [u8]),
    Owned(Arc<[u8]>),
}

/// A study archive: its members' names, read once; a member's bytes are inflated only when a
/// cell reads them, and never beyond the memory limit (an unused member is never inflated).
struct ZipSource {
    origin: ZipOrigin,
    shown: String,
    /// Member name (without a leading `./`) → index in the archive.
    members: BTreeMap<String, usize>,
}

/// A study's images and the note about them, or why there are none.
type SideImages = Result<(Arc<ImageSet>, Option<String>), String>;

/// A file's name in the study and its SHA-256.
type Named<'a> = (&'a str, [u8; 32]);

/// The side files a study names, read once for every cell.
#[derive(Default)]
struct Side {
    images: OnceLock<SideImages>,
    class_names: OnceLock<Result<Vec<String>, String>>,
}

/// An opened, checked study manifest.
#[derive(Clone)]
pub struct Study {
    pub name: String,
    /// How the manifest is named in messages (`digits/study.json`, `demo:digits-study`).
    pub manifest: String,
    /// SHA-256 of the manifest's bytes: shards of one study carry the same one.
    pub digest: String,
    pub cells: Vec<CellSpec>,
    labels: Option<String>,
    images: Option<String>,
    class_names: Option<String>,
    source: Source,
    /// The most any one file or archive member may take once read (`--max-memory`).
    max_bytes: u64,
    side: Arc<Side>,
}

/// A file a cell reads: its name inside the study, how messages name it, where it is.
struct CellFile {
    name: String,
    shown: String,
    path: Option<PathBuf>,
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

/// A path as the manifest means it: no leading `./`, no trailing `/`.
fn norm(rel: &str) -> &str {
    let mut r = rel;
    while let Some(t) = r.strip_prefix("./") {
        r = t;
    }
    r.trim_end_matches('/')
}

impl ZipSource {
    fn archive(&self) -> Result<zip::ZipArchive<Box<dyn ReadSeek>>, DataError> {
        let r: Box<dyn ReadSeek> = match &self.origin {
            ZipOrigin::Bytes(b) => Box::new(Cursor::new(*b)),
            ZipOrigin::Owned(b) => Box::new(Cursor::new(b.clone())),
            ZipOrigin::File(p) => {
                let f = super::files::open(p, &self.shown)?;
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
    fn read(&self, name: &str, cap: u64) -> Result<Vec<u8>, DataError> {
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
                    method.map_or_else(|| "an unknown method".into(), super::npz::method_name)
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

impl Study {
    /// Opens `demo:<name>`, a study folder, its `study.json` or a `.zip` of the folder, with
    /// this machine's memory limit.
    pub fn open(input: &str) -> Result<Study, DataError> {
        Self::open_with(input, super::memory_limit())
    }

    /// [`Study::open`] where no file or archive member may take more than `max_bytes` once read
    /// (`--max-memory`).
    pub fn open_with(input: &str, max_bytes: u64) -> Result<Study, DataError> {
        if let Some(name) = input.strip_prefix("demo:") {
            let bytes = super::demo::study_bytes(name).ok_or_else(|| DataError::UnknownDemo {
                name: name.to_string(),
                available: super::demo::all_names()
                    .iter()
                    .map(|n| format!("demo:{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            return Self::from_zip(input, ZipOrigin::Bytes(bytes), Some(name), max_bytes);
        }
        let shown = printable(input);
        let p = Path::new(input);
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DataError::Missing {
                path: shown.clone(),
            },
            _ => DataError::Io {
                path: shown.clone(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            let m = p.join(MANIFEST);
            if !m.is_file() {
                return Err(DataError::Unsupported {
                    path: shown,
                    reason: format!("a folder without {MANIFEST}"),
                });
            }
            return Self::from_manifest_file(&m, max_bytes);
        }
        if !meta.is_file() {
            return Err(DataError::NotRegular {
                path: shown,
                kind: file_kind(&meta).to_string(),
            });
        }
        match extension(p).as_deref() {
            Some("zip") => {
                Self::from_zip(&shown, ZipOrigin::File(p.to_path_buf()), None, max_bytes)
            }
            Some("json") => Self::from_manifest_file(p, max_bytes),
            _ => Err(bad(
                &shown,
                format!(
                    "not a study: give a folder holding {MANIFEST}, its {MANIFEST} or a .zip \
                     of the folder (to fit the networks of one file, use `srmscope fit`)"
                ),
            )),
        }
    }

    /// A zipped study held in memory (`shown` names it in messages); fuzzing's entry point.
    pub fn from_zip_bytes(shown: &str, bytes: Vec<u8>, max_bytes: u64) -> Result<Study, DataError> {
        Self::from_zip(shown, ZipOrigin::Owned(bytes.into()), None, max_bytes)
    }

    /// The cells of a manifest's text, checked as [`Study::open`] checks them except that no
    /// file is looked for; fuzzing's entry point.
    pub fn parse_manifest(shown: &str, text: &[u8]) -> Result<Vec<CellSpec>, DataError> {
        let source = Source::Zip(Arc::new(ZipSource {
            origin: ZipOrigin::Bytes(&[]),
            shown: shown.to_string(),
            members: BTreeMap::new(),
        }));
        Ok(Self::parse(shown, text, source, "study", 0, false)?.cells)
    }

    fn from_manifest_file(path: &Path, max_bytes: u64) -> Result<Study, DataError> {
        let shown = printable(&path.display().to_string());
        let text = read_bounded(path, &shown, MAX_MANIFEST_BYTES.min(max_bytes))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let fallback = std::fs::canonicalize(&dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "study".into());
        Self::parse(&shown, &text, Source::Dir(dir), &fallback, max_bytes, true)
    }

    fn from_zip(
        shown: &str,
        origin: ZipOrigin,
        name: Option<&str>,
        max_bytes: u64,
    ) -> Result<Study, DataError> {
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
        if !zs.members.contains_key(MANIFEST) {
            return Err(bad(shown, format!("no {MANIFEST} at the archive's root")));
        }
        let text = zs.read(MANIFEST, MAX_MANIFEST_BYTES.min(max_bytes))?;
        let fallback = name.map(str::to_string).unwrap_or_else(|| {
            Path::new(shown)
                .file_stem()
                .map_or("study".into(), |s| s.to_string_lossy().into_owned())
        });
        Self::parse(
            shown,
            &text,
            Source::Zip(Arc::new(zs)),
            &fallback,
            max_bytes,
            true,
        )
    }

    fn parse(
        shown: &str,
        text: &[u8],
        source: Source,
        fallback: &str,
        max_bytes: u64,
        check_files: bool,
    ) -> Result<Study, DataError> {
        let raw: RawManifest = serde_json::from_slice(text)
            .map_err(|e| bad(shown, format!("not a valid study manifest ({e})")))?;
        if raw.cells.is_empty() {
            return Err(bad(shown, "the study has no cells"));
        }
        // Layer order: first appearance per arch unless `layer_index` says otherwise.
        let mut first_seen: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut per_arch: BTreeMap<String, u64> = BTreeMap::new();
        let mut seen = BTreeMap::new();
        let mut cells = Vec::with_capacity(raw.cells.len());
        for (i, c) in raw.cells.into_iter().enumerate() {
            // Names reach terminals: control characters become visible escapes.
            let (arch, layer) = (printable(&c.arch), printable(&c.layer));
            let which = format!("cell {} ({arch}/{layer}/{})", i + 1, c.checkpoint);
            for (key, v) in [("arch", &c.arch), ("layer", &c.layer), ("path", &c.path)] {
                if v.trim().is_empty() {
                    return Err(bad(shown, format!("{which}: \"{key}\" is empty")));
                }
            }
            let key = (arch.clone(), layer.clone(), c.checkpoint);
            if let Some(j) = seen.insert(key, i) {
                return Err(bad(
                    shown,
                    format!(
                        "{which} repeats cell {} (same arch, layer and checkpoint)",
                        j + 1
                    ),
                ));
            }
            let next = per_arch.entry(arch.clone()).or_insert(0);
            let auto = *first_seen
                .entry((arch.clone(), layer.clone()))
                .or_insert_with(|| {
                    *next += 1;
                    *next - 1
                });
            cells.push(CellSpec {
                layer_index: c.layer_index.unwrap_or(auto),
                arch,
                layer,
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
            name: printable(&raw.name.unwrap_or_else(|| fallback.to_string())),
            manifest: shown.to_string(),
            digest: hex(&Sha256::digest(text)),
            cells,
            labels: raw.labels,
            images: raw.images,
            class_names: raw.class_names,
            source,
            max_bytes,
            side: Arc::new(Side::default()),
        };
        if !check_files {
            return Ok(study);
        }
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
                let r = norm(rel);
                z.members.contains_key(r)
                    || z.members
                        .range(format!("{r}/")..)
                        .next()
                        .is_some_and(|(k, _)| k.starts_with(&format!("{r}/")))
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

    /// The files `rel` stands for: a file, or the `.npy` files of a folder (sorted), alike in
    /// a folder and in a zip. Non-regular entries of a folder are skipped with a note.
    fn files_of(&self, rel: &str, notes: &mut Vec<String>) -> Result<Vec<CellFile>, DataError> {
        let r = norm(rel);
        let is_npy = |n: &str| extension(Path::new(n)).as_deref() == Some("npy");
        match &self.source {
            Source::Dir(d) => {
                let p = d.join(r);
                let shown = printable(&p.display().to_string());
                let meta = std::fs::metadata(&p).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => DataError::Missing {
                        path: shown.clone(),
                    },
                    _ => DataError::Io {
                        path: shown.clone(),
                        source: e,
                    },
                })?;
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
            Source::Zip(z) => {
                let shown = |n: &str| format!("{}:{}", self.manifest, printable(n));
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
        }
    }

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
        let data = self.files_of(&c.path, notes)?;
        let labels = match c.labels.as_ref().or(self.labels.as_ref()) {
            None => None,
            Some(l) => {
                let mut v = self.files_of(l, notes)?;
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

    fn read_file(&self, f: &CellFile, cap: u64) -> Result<Vec<u8>, DataError> {
        match (&self.source, &f.path) {
            (_, Some(p)) => read_bounded(p, &f.shown, cap),
            (Source::Zip(z), None) => z.read(&f.name, cap),
            (Source::Dir(_), None) => Err(bad(&f.shown, "not found")),
        }
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
            let bytes = self.read_file(&f, cap.saturating_sub(used))?;
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
                    .files_of(rel, &mut notes)?
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
                        let b = self.read_file(&f, self.max_bytes)?;
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
                    .files_of(rel, &mut notes)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| bad(&self.manifest, "no class names"))?;
                match &f.path {
                    Some(p) => super::read_class_names_file(p),
                    None => {
                        let b = self.read_file(&f, MAX_CLASS_NAMES_BYTES.min(self.max_bytes))?;
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
                None => Sha256::digest(self.read_file(f, self.max_bytes)?).into(),
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

/// The digest of a cell from its files' names and digests: the data, then the labels.
fn digest_parts<'a>(
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
    let mut f = super::files::open(path, &printable(&path.display().to_string()))?;
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
