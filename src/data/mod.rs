//! Loading activations: `.npy` (one network), `.npz` (several), folders of `.npy`, the embedded
//! demo sets (`demo:<name>`), validation, and the model/array writers.

use ndarray::Array2;

mod class_names;
pub mod demo;
mod error;
mod extras;
mod images;
mod load;
mod npy;
pub mod output;
pub mod study;
mod write;

pub use class_names::{class_name, read_class_names_file};
pub use demo::{load_demo, DEMOS};
pub use error::{fmt_bytes, DataError};
pub use extras::attach;
pub use images::{read_images_file, ImageSet, MAX_SIDE};
pub use load::{
    load, load_npz_bytes, load_with, memory_limit, LoadOptions, ANNOUNCE_BYTES,
    FALLBACK_MEMORY_LIMIT,
};
pub use output::{check_output, output_target, write_atomic, AtomicFile};
pub use write::{
    read_npy, read_npy_bytes, read_npz, read_npz_bytes, read_npz_f64, write_npy_array_atomic,
    write_npy_atomic, write_npz_atomic, NpyArray,
};

/// `s` safe to print on a terminal: control characters (escape codes, newlines) are shown as
/// `\u{..}` escapes instead of being interpreted.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

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
