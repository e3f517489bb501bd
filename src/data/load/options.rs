//! What a load may take and keep: the memory limit, announcements of large arrays, and which
//! units of each network stay.

use crate::data::limits::{memory_limit, ANNOUNCE_BYTES};

/// Knobs for [`super::load_with`].
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Refuse inputs whose float64 copy (all networks together) would exceed this many bytes.
    pub max_bytes: u64,
    /// Told, before the data are read or inflated, about every array whose float64 copy takes
    /// at least `announce_bytes`, so a small compressed file that inflates hugely is no surprise.
    pub announce: Option<fn(&str)>,
    pub announce_bytes: u64,
    /// Keeps only some units of each network: given (network index, stored units), the sorted
    /// units to keep, or None for all. The rest are dropped as each array is read, so a viewer
    /// that analyses 1000 of 4096 units never holds the other 3096.
    pub keep_units: Option<KeepUnits>,
}

/// See [`LoadOptions::keep_units`].
#[derive(Clone)]
pub struct KeepUnits(pub std::sync::Arc<dyn Fn(usize, usize) -> Option<Vec<usize>> + Send + Sync>);

impl std::fmt::Debug for KeepUnits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeepUnits(..)")
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            max_bytes: memory_limit(),
            announce: None,
            announce_bytes: ANNOUNCE_BYTES,
            keep_units: None,
        }
    }
}
