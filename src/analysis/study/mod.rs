//! Studies: every (arch, layer, checkpoint) cell of a `data::study::Study` fitted with the same
//! settings, with METRICS.json's keys per cell plus the paper's across-layer and development
//! measures (../shared/docs/paper.md §3).
//!
//! `runner` fits the cells in parallel with bounded memory, `cache` keeps finished cells on
//! disk by content, `measures` holds the new measures, `merge` joins shards, `table` gives the
//! CSV and the per-metric grid the viewer and the figures show.

pub mod agree;
pub mod cache;
pub mod measures;
pub mod merge;
pub mod runner;
pub mod table;

use super::{Metrics, SceneData, Settings};
use serde::{Deserialize, Serialize};

/// RESULTS.json: the settings and one entry per fitted cell, in manifest order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StudyResults {
    pub name: String,
    pub srmscope: String,
    pub linalg: String,
    pub settings: Settings,
    /// Cells in the manifest.
    pub n_cells: usize,
    /// `[I, N]` for one shard of a sharded run; absent for a whole (or merged) study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<[usize; 2]>,
    /// SHA-256 of the study's manifest (`study.json`), so that `--merge` joins only shards of
    /// one study (absent in files of srmscope before 0.x: those merge only with each other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
    pub cells: Vec<CellResult>,
}

/// One cell's numbers: its coordinates, METRICS.json's keys, and the study measures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CellResult {
    /// Position in the manifest (0-based).
    pub index: usize,
    pub arch: String,
    pub layer: String,
    pub layer_index: u64,
    pub checkpoint: u64,
    pub path: String,
    pub networks: Vec<String>,
    pub n_images: usize,
    pub n_train: usize,
    pub n_test: usize,
    pub k: usize,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Mean pairwise r of the networks' within-network RSMs (native, held out).
    pub within_rsm_consistency: Option<f64>,
    /// r(inter-network RSM shared at this checkpoint, mean within-network RSM at the last
    /// checkpoint of the same arch and layer).
    pub dev_vs_final: Option<f64>,
    /// r(inter-network RSM shared, mean within-network RSM of this cell) — the held-out RSA.
    pub dev_vs_same: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

// Results are compared exactly (a merge must equal the one-shot run) except for timings.
impl PartialEq for CellResult {
    fn eq(&self, other: &Self) -> bool {
        let strip = |c: &CellResult| {
            let mut c = c.clone();
            c.metrics.fit_seconds = 0.0;
            serde_json::to_string(&c).unwrap_or_default()
        };
        strip(self) == strip(other)
    }
}

/// What the viewer draws for one cell besides numbers: the RSM trio and the trajectories.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CellView {
    pub trio: RsmTrio,
    pub scene: SceneData,
}

/// Image × image RSMs at display size, row-major `size × size`, held-out images in class order
/// averaged over `size` contiguous blocks (exact when `size` is the number of images).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RsmTrio {
    pub size: usize,
    /// Block b covers held-out positions `bounds[b]..bounds[b + 1]` (class-sorted order).
    pub bounds: Vec<usize>,
    /// Class label of each held-out position, when labels exist.
    pub labels: Option<Vec<i64>>,
    pub within: Vec<f32>,
    /// `None` when networks differ in width (no unit-to-unit native space).
    pub inter_native: Option<Vec<f32>>,
    pub inter_shared: Vec<f32>,
}

/// Largest RSM side kept per cell: 256² × 3 floats, small enough for every cell of a study.
pub const RSM_BLOCKS: usize = 256;

/// Errors of a study run. Messages name the manifest and the cell.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("{0}")]
    Invalid(String),
    #[error("{what}: {source}")]
    Cell {
        what: String,
        #[source]
        source: super::AnalysisError,
    },
    #[error("{what}: {source}")]
    Load {
        what: String,
        #[source]
        source: crate::data::DataError,
    },
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("cancelled")]
    Cancelled,
}

/// Finite or nothing: JSON has no NaN.
pub(crate) fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}
