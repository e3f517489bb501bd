//! Saving and loading fitted models from the viewer, in the CLI's `.npz` format
//! (`crate::align::model_io`).
//!
//! Loading a model applies its maps to the data on screen without refitting, with the split,
//! units and normalisation recorded in the file's `params`. The viewer checks the file's networks
//! against the loaded data first.

use std::path::{Path, PathBuf};

use crate::align::Model;
use crate::analysis::Settings;

/// Writes the model with the settings it was fitted with, as `srmscope fit` does.
pub fn save(model: &Model, settings: &Settings, path: &Path) -> Result<(), String> {
    crate::analysis::model_file::save(path, model, settings).map_err(|e| e.to_string())
}

/// What the viewer needs from a model file.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSummary {
    pub path: PathBuf,
    pub networks: Vec<String>,
    pub k: usize,
    pub units: Vec<usize>,
    pub settings: Option<Settings>,
    pub dataset: Option<String>,
    /// The maps themselves, applied to the data on screen without refitting.
    pub model: std::sync::Arc<Model>,
}

impl ModelSummary {
    pub fn describe(&self) -> String {
        let name = self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!(
            "{name}: {} networks, k = {}{}",
            self.networks.len(),
            self.k,
            self.dataset
                .as_ref()
                .map(|d| format!(", fitted on {d}"))
                .unwrap_or_default()
        )
    }

    /// Why this model does not fit the given networks (names and unit counts), if it does not.
    pub fn mismatch(&self, names: &[String], units: &[usize]) -> Option<String> {
        if self.networks != names {
            return Some(format!(
                "the model's networks ({}) differ from the loaded data's ({})",
                self.networks.join(", "),
                names.join(", ")
            ));
        }
        let capped: Vec<usize> = units
            .iter()
            .zip(&self.units)
            .map(|(&have, &want)| if want < have { want } else { have })
            .collect();
        if capped != self.units {
            return Some(format!(
                "the model maps {:?} units per network but the data has {:?}",
                self.units, units
            ));
        }
        None
    }
}

pub fn load(path: &Path) -> Result<ModelSummary, String> {
    // The same reader as the CLI's `transform`: typed settings, checked arrays.
    let mf = crate::analysis::model_file::load(path).map_err(|e| e.to_string())?;
    Ok(ModelSummary {
        path: path.to_path_buf(),
        networks: mf.model.networks.clone(),
        k: mf.model.s.nrows(),
        units: mf.model.w.iter().map(|w| w.nrows()).collect(),
        settings: Some(mf.settings),
        dataset: mf.dataset,
        model: std::sync::Arc::new(mf.model),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_reports_names_and_units() {
        let m = ModelSummary {
            path: PathBuf::from("/tmp/m.npz"),
            networks: vec!["a".into(), "b".into()],
            k: 3,
            units: vec![10, 10],
            settings: None,
            dataset: Some("demo".into()),
            model: Default::default(),
        };
        assert!(m.describe().contains("2 networks, k = 3, fitted on demo"));
        assert!(m.mismatch(&["a".into(), "b".into()], &[10, 10]).is_none());
        // Subsampled units: the data may have more than the model kept.
        assert!(m.mismatch(&["a".into(), "b".into()], &[20, 10]).is_none());
        assert!(m.mismatch(&["a".into(), "c".into()], &[10, 10]).is_some());
        assert!(m.mismatch(&["a".into(), "b".into()], &[5, 10]).is_some());
    }

    #[test]
    fn loading_garbage_is_an_error() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let p = dir.path().join("bad.npz");
        let _ = std::fs::write(&p, b"not a zip");
        let e = load(&p).err().unwrap_or_default();
        assert!(e.contains("bad.npz"), "{e}");
    }
}
