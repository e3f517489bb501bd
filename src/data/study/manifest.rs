//! The manifest `study.json`: its layout, and its cells checked (names, repeats, layer order)
//! without looking at any file.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::data::error::DataError;
use crate::data::printable::printable;

/// Name of the manifest inside a study folder or archive.
pub const MANIFEST: &str = "study.json";

/// The most a manifest may take (about a million cells).
pub(super) const MAX_MANIFEST_BYTES: u64 = 256 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManifest {
    pub name: Option<String>,
    pub labels: Option<String>,
    pub images: Option<String>,
    pub class_names: Option<String>,
    pub cells: Vec<RawCell>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCell {
    pub arch: String,
    pub layer: String,
    pub checkpoint: u64,
    pub path: String,
    pub labels: Option<String>,
    pub layer_index: Option<u64>,
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

/// An error about the manifest (or a file) named `manifest`.
pub(super) fn bad(manifest: &str, reason: impl std::fmt::Display) -> DataError {
    DataError::Corrupt {
        what: manifest.to_string(),
        reason: reason.to_string(),
    }
}

/// A path as the manifest means it: no leading `./`, no trailing `/`.
pub(super) fn norm(rel: &str) -> &str {
    let mut r = rel;
    while let Some(t) = r.strip_prefix("./") {
        r = t;
    }
    r.trim_end_matches('/')
}

impl RawManifest {
    /// The manifest's text as JSON, refused without cells.
    pub(super) fn parse(shown: &str, text: &[u8]) -> Result<Self, DataError> {
        let raw: RawManifest = serde_json::from_slice(text)
            .map_err(|e| bad(shown, format!("not a valid study manifest ({e})")))?;
        if raw.cells.is_empty() {
            return Err(bad(shown, "the study has no cells"));
        }
        Ok(raw)
    }
}

/// The cells of a manifest, checked: no empty name or path, no cell twice, one depth per layer.
pub(super) fn check_cells(shown: &str, raw: Vec<RawCell>) -> Result<Vec<CellSpec>, DataError> {
    let cells = read_cells(shown, raw)?;
    check_layer_indices(shown, &cells)?;
    Ok(cells)
}

/// Each cell with printable names and its layer's depth, refusing empty fields and repeats.
fn read_cells(shown: &str, raw: Vec<RawCell>) -> Result<Vec<CellSpec>, DataError> {
    // Layer order: first appearance per arch unless `layer_index` says otherwise.
    let mut first_seen: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut per_arch: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen = BTreeMap::new();
    let mut cells = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
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
    Ok(cells)
}

/// One layer has one index: two layers of an arch may not claim the same depth.
fn check_layer_indices(shown: &str, cells: &[CellSpec]) -> Result<(), DataError> {
    let mut idx: BTreeMap<(String, String), u64> = BTreeMap::new();
    for c in cells {
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
    Ok(())
}
