//! Opening a study: the [`Study`] type, from a folder, its manifest, a `.zip` or the embedded
//! demo, checked (the manifest, and that every file it names is there).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use crate::data::demo;
use crate::data::error::DataError;
use crate::data::files::{extension, file_kind, read_bounded};
use crate::data::images::ImageSet;
use crate::data::limits::memory_limit;
use crate::data::printable::printable;

use super::digest::hex;
use super::manifest::{bad, check_cells, CellSpec, RawManifest, MANIFEST, MAX_MANIFEST_BYTES};
use super::source::{Source, ZipOrigin, ZipSource};

/// A study's images and the note about them, or why there are none.
pub(super) type SideImages = Result<(Arc<ImageSet>, Option<String>), String>;

/// The side files a study names, read once for every cell.
#[derive(Default)]
pub(super) struct Side {
    pub images: OnceLock<SideImages>,
    pub class_names: OnceLock<Result<Vec<String>, String>>,
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
    pub(super) labels: Option<String>,
    pub(super) images: Option<String>,
    pub(super) class_names: Option<String>,
    pub(super) source: Source,
    /// The most any one file or archive member may take once read (`--max-memory`).
    pub(super) max_bytes: u64,
    pub(super) side: Arc<Side>,
}

/// True when `input` names a study: `demo:<study>`, a folder holding `study.json`, a
/// `study.json` file or a `.zip` archive.
pub fn is_study(input: &str) -> bool {
    if let Some(name) = input.strip_prefix("demo:") {
        return demo::study_bytes(name).is_some();
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

impl Study {
    /// Opens `demo:<name>`, a study folder, its `study.json` or a `.zip` of the folder, with
    /// this machine's memory limit.
    pub fn open(input: &str) -> Result<Study, DataError> {
        Self::open_with(input, memory_limit())
    }

    /// [`Study::open`] where no file or archive member may take more than `max_bytes` once read
    /// (`--max-memory`).
    pub fn open_with(input: &str, max_bytes: u64) -> Result<Study, DataError> {
        if let Some(name) = input.strip_prefix("demo:") {
            let bytes = demo::study_bytes(name).ok_or_else(|| DataError::UnknownDemo {
                name: name.to_string(),
                available: demo::all_names()
                    .iter()
                    .map(|n| format!("demo:{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            return Self::from_zip(input, ZipOrigin::Bytes(bytes), Some(name), max_bytes);
        }
        let shown = printable(input);
        let p = Path::new(input);
        let meta = crate::data::files::metadata(p, &shown)?;
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
        let zs = ZipSource::index(origin, shown)?;
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
        let raw = RawManifest::parse(shown, text)?;
        let cells = check_cells(shown, raw.cells)?;
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
        if check_files {
            study.check_files()?;
        }
        Ok(study)
    }

    /// Every file the manifest names is there (its content is read later, cell by cell).
    fn check_files(&self) -> Result<(), DataError> {
        for c in &self.cells {
            self.check_exists(&c.path, Some(c))?;
            if let Some(l) = &c.labels {
                self.check_exists(l, Some(c))?;
            }
        }
        for p in [&self.labels, &self.images, &self.class_names]
            .into_iter()
            .flatten()
        {
            self.check_exists(p, None)?;
        }
        Ok(())
    }

    fn check_exists(&self, rel: &str, cell: Option<&CellSpec>) -> Result<(), DataError> {
        if self.source.has(rel) {
            return Ok(());
        }
        let at = cell.map_or(String::new(), |c| format!("cell {}: ", c.label()));
        Err(bad(
            &self.manifest,
            format!("{at}{} not found", printable(rel)),
        ))
    }
}
