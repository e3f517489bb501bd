//! Loading activations: `.npy` (one network), `.npz` (several), folders of `.npy`, the embedded
//! demo sets (`demo:<name>`), validation, and the model/array writers.

use ndarray::Array2;

/// One network's activations on the shared image sequence.
#[derive(Clone, Debug)]
pub struct Network {
    /// Display name: the file stem or the npz array name.
    pub name: String,
    /// Activations, images × units, as f64.
    pub data: Array2<f64>,
    /// Where it came from: `path` or `path:array`, for messages.
    pub source: String,
    /// The stored dtype (numpy descr, e.g. `<f4`).
    pub dtype: String,
    /// The stored shape before flattening to 2D.
    pub original_shape: Vec<usize>,
}

/// Several networks recorded on the same ordered images, plus optional class labels.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// A short name for titles: the file, folder or demo name.
    pub name: String,
    pub networks: Vec<Network>,
    pub labels: Option<Vec<i64>>,
    /// Things the user should know (flattened conv maps, converted dtypes...).
    pub notes: Vec<String>,
}

impl Dataset {
    pub fn n_images(&self) -> usize {
        self.networks.first().map_or(0, |n| n.data.nrows())
    }

    pub fn names(&self) -> Vec<String> {
        self.networks.iter().map(|n| n.name.clone()).collect()
    }
}
