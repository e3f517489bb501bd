//! The error and the precision option every SRM file shares, apart from `mod.rs` so the route
//! files need nothing from the module that dispatches to them.

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum AlignError {
    #[error("{0}")]
    Invalid(String),
    #[error("linear algebra failed: {0}")]
    Linalg(String),
    #[error("cancelled")]
    Cancelled,
}

/// Precision of the products with the data in the direct SRM routes (`--precision`). The
/// k × k algebra, the sums over networks and the centring stay float64 either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// BrainIAK parity.
    #[default]
    F64,
    /// Single-precision products on a float32 copy of the data (made once per fit), summed in
    /// float64: 0.71× the f64 time on `srmscope bench` with AVX2, 1.3× faster on paper
    /// workload B with AVX-512 (docs/performance.md).
    F32,
}
