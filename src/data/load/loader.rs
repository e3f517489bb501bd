//! The state of one load: what has been read so far and the memory it takes. Its steps live
//! beside it: `inputs` (files, folders, archives), `header` (checks before any data),
//! `array` (the data) and `labels`.

use crate::data::dataset::{Dataset, Network};
use crate::data::error::DataError;
use crate::data::extras::Extras;
use crate::data::npy::Values;

use super::options::LoadOptions;

/// One file already read into memory (a study cell's): how messages name it, its name inside
/// the study (the extension says `.npy` or `.npz`; a `.npy` is named by its stem) and its bytes.
pub(crate) struct FileBytes {
    pub shown: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Labels as read, before they are checked against the networks.
pub(super) struct LabelArray {
    pub what: String,
    pub shape: Vec<usize>,
    pub values: Values,
}

/// What an array holds, by its name.
pub(super) enum Role {
    Network(String),
    Labels,
}

pub(super) struct Loader<'o> {
    pub opts: &'o LoadOptions,
    /// float64 bytes taken so far.
    pub used: u64,
    pub networks: Vec<Network>,
    pub labels: Vec<LabelArray>,
    pub notes: Vec<String>,
    pub extras: Extras,
}

impl<'o> Loader<'o> {
    pub fn new(opts: &'o LoadOptions) -> Self {
        Self {
            opts,
            used: 0,
            networks: Vec::new(),
            labels: Vec::new(),
            notes: Vec::new(),
            extras: Extras::default(),
        }
    }

    /// Refused unless at least two networks were read; `inputs` name them in the message.
    pub fn check_enough(&self, inputs: &[String]) -> Result<(), DataError> {
        if self.networks.len() < 2 {
            return Err(too_few(&self.networks, inputs));
        }
        Ok(())
    }

    /// Images per network (the first one's; every other was checked against it).
    pub fn n_images(&self) -> usize {
        self.networks.first().map_or(0, |n| n.data.nrows())
    }

    /// The dataset read, with the extras found along the way.
    pub fn into_dataset(self, name: String, labels: Option<Vec<i64>>) -> Dataset {
        let mut d = Dataset {
            name,
            networks: self.networks,
            labels,
            notes: self.notes,
            ..Default::default()
        };
        self.extras.finish(&mut d);
        d
    }
}

fn too_few(networks: &[Network], inputs: &[String]) -> DataError {
    let detail = match networks {
        [] if inputs.is_empty() => "no inputs were given".to_string(),
        [] => format!(
            "{} {} no network arrays",
            inputs.join(", "),
            if inputs.len() == 1 { "holds" } else { "hold" }
        ),
        _ => format!(
            "{} (give several .npy files, an .npz with several arrays, or a folder)",
            networks
                .iter()
                .map(|n| n.source.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    DataError::TooFew {
        found: networks.len(),
        detail,
    }
}
