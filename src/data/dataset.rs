//! The [`Dataset`] type (several networks' activations on the same images, plus labels,
//! images and class names) and how a dataset is named from its inputs.

use std::fs;
use std::path::Path;

use super::activations::Activations;

use super::class_names::class_name;
use super::images::ImageSet;

/// One network's activations on the shared image sequence.
#[derive(Clone, Debug)]
pub struct Network {
    /// Display name: the file stem or the npz array name.
    pub name: String,
    /// Activations, images × units, in the stored precision (float32 files stay float32).
    pub data: Activations,
    /// Where it came from: `path` or `path:array`, for messages.
    pub source: String,
    /// The stored dtype (numpy descr, e.g. `<f4`).
    pub dtype: String,
    /// The stored shape before flattening to 2D.
    pub original_shape: Vec<usize>,
    /// The stored units `data` holds, in order, when only some were loaded
    /// ([`super::LoadOptions::keep_units`]); None: all of them.
    pub units: Option<Vec<usize>>,
}

impl Network {
    /// Units per image in the file (`data` may hold fewer, see `units`).
    pub fn stored_units(&self) -> usize {
        match &self.units {
            None => self.data.ncols(),
            Some(_) => self.original_shape.iter().skip(1).product(),
        }
    }
}

/// Several networks recorded on the same ordered images, plus optional class labels.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// A short name for titles: the file, folder or demo name.
    pub name: String,
    pub networks: Vec<Network>,
    pub labels: Option<Vec<i64>>,
    /// The input images, one per activation row, when given.
    pub images: Option<std::sync::Arc<ImageSet>>,
    /// Names of the classes: label `k` is `class_names[k]`.
    pub class_names: Option<Vec<String>>,
    /// Things the user should know (flattened conv maps, converted dtypes...).
    pub notes: Vec<String>,
}

impl Dataset {
    pub fn n_images(&self) -> usize {
        self.networks.first().map_or(0, |n| n.data.nrows())
    }

    /// The name of class `label` (its number when unnamed).
    pub fn class_name(&self, label: i64) -> String {
        class_name(self.class_names.as_deref(), label)
    }

    pub fn names(&self) -> Vec<String> {
        self.networks.iter().map(|n| n.name.clone()).collect()
    }
}

/// The name an input contributes to the dataset name: a folder's own name, else the file stem.
pub(crate) fn display_stem(path: &Path) -> String {
    if path.is_dir() {
        if let Some(n) = fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|s| s.to_string_lossy().into_owned()))
        {
            return n;
        }
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A short dataset name from the inputs' stems: one stem, up to three joined by `+`, else the
/// common parent folder, else "first+N more".
pub(crate) fn dataset_name(stems: &[String], parents: &[Option<String>]) -> String {
    match stems {
        [] => String::new(),
        [one] => one.clone(),
        _ if stems.len() <= 3 => stems.join("+"),
        _ => match parents.first() {
            Some(Some(p)) if parents.iter().all(|q| q.as_ref() == Some(p)) => p.clone(),
            _ => format!("{}+{} more", stems[0], stems.len() - 1),
        },
    }
}
