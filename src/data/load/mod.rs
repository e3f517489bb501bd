//! Inputs → [`Dataset`]: `.npy` files, `.npz` archives, folders of `.npy` files and the
//! embedded demo sets, with every check done before the data is trusted, and the class labels
//! resolved (explicit file > `labels` array among the inputs > `labels.npy` beside).
//!
//! Order of checks for each array: header (magic, version, dict) → dtype → shape → image count
//! against the first network → memory needed as float64 → bytes actually present → data →
//! NaN/Inf. So a huge or truncated file is refused before anything large is allocated.
//!
//! Rooms: `options` (what a load may take and keep), `loader` (the state of one load),
//! `inputs` (each kind of input), `header` (checks before any data), `array` (the data),
//! `labels` (which labels, and their checks).

mod array;
mod header;
mod inputs;
mod labels;
mod loader;
mod options;

use std::io::Cursor;
use std::path::Path;

use crate::data::dataset::{dataset_name, Dataset};
use crate::data::error::DataError;
use crate::data::files::extension;
use crate::data::printable::printable;

use inputs::InputNames;
use loader::Loader;

pub(crate) use loader::FileBytes;
pub use options::{KeepUnits, LoadOptions};

/// Load several networks' activations.
///
/// `inputs` are `.npy` files (one network each, named by file stem), `.npz` archives (one
/// network per array, in archive order), folders of `.npy` files (sorted by file name) and
/// `demo:<name>`, in any mix. An array or file named `labels` holds class labels, not a network.
/// The `labels` argument (`.npy`, or `.npz` with an array `labels` or a single array) takes
/// precedence; without it or a `labels` array among the inputs, a `labels.npy` beside the `.npy`
/// inputs is used. Anything dropped or converted is reported in [`Dataset::notes`].
pub fn load(inputs: &[String], labels: Option<&Path>) -> Result<Dataset, DataError> {
    load_with(inputs, labels, &LoadOptions::default())
}

/// [`load`] with explicit options (memory limit).
pub fn load_with(
    inputs: &[String],
    labels: Option<&Path>,
    opts: &LoadOptions,
) -> Result<Dataset, DataError> {
    let mut l = Loader::new(opts);
    let mut names = InputNames::default();
    for input in inputs {
        l.input(input, &mut names)?;
    }
    l.check_enough(inputs)?;
    // Labels: explicit path > arrays/files named `labels` among the inputs > labels.npy beside.
    let chosen = labels.map(|p| l.labels_file(p)).transpose()?;
    if chosen.is_none() && l.labels.is_empty() {
        l.labels_beside(&names.beside)?;
    }
    let labels = l.settle_labels(chosen)?;
    let name = dataset_name(&names.stems, &names.parents);
    l.extras.look_beside(inputs);
    Ok(l.into_dataset(name, labels))
}

/// Load an `.npz` archive held in memory (the embedded demo sets use this); `name` is used for
/// messages and as the dataset name.
pub fn load_npz_bytes(name: &str, bytes: &[u8]) -> Result<Dataset, DataError> {
    let opts = LoadOptions::default();
    let mut l = Loader::new(&opts);
    l.npz(Cursor::new(bytes), name)?;
    l.check_enough(&[name.to_string()])?;
    let n_images = l.n_images();
    let labels = match l.labels.drain(..).next() {
        Some(c) => Some(c.into_labels(n_images)?),
        None => None,
    };
    let shown = name.strip_prefix("demo:").unwrap_or(name).to_string();
    Ok(l.into_dataset(shown, labels))
}

/// A dataset from files read into memory: `.npz` archives and `.npy` files (a folder's are
/// given one by one, sorted), and optionally an explicit labels file (`.npy`, or `.npz` with
/// an array `labels`). Nothing is looked for beside them: a study names its side files.
pub(crate) fn load_bytes(
    inputs: &[FileBytes],
    labels: Option<&FileBytes>,
    opts: &LoadOptions,
) -> Result<Dataset, DataError> {
    let mut l = Loader::new(opts);
    for f in inputs {
        let path = Path::new(&f.name);
        match extension(path).as_deref() {
            Some("npz") => l.npz(Cursor::new(&f.bytes[..]), &f.shown)?,
            Some("npy") => {
                let stem = path
                    .file_stem()
                    .map(|s| printable(&s.to_string_lossy()))
                    .unwrap_or_default();
                let size = f.bytes.len() as u64;
                l.npy_stream(stem, &mut Cursor::new(&f.bytes[..]), &f.shown, size)?
            }
            other => {
                return Err(DataError::Unsupported {
                    path: f.shown.clone(),
                    reason: match other {
                        Some(ext) => format!("the extension .{ext} is not .npy or .npz"),
                        None => "a file without extension".into(),
                    },
                })
            }
        }
    }
    let shown: Vec<String> = inputs.iter().map(|f| f.shown.clone()).collect();
    l.check_enough(&shown)?;
    let chosen = match labels {
        Some(f) => l.labels_bytes(f)?,
        None => None,
    };
    let labels = l.settle_labels(chosen)?;
    Ok(l.into_dataset(String::new(), labels))
}
