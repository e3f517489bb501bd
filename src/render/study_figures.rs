//! `srmscope study --figures DIR/`: the Study view's plots as PNG files (placeholder until the
//! offscreen painter lands).

use crate::analysis::study::{CellView, StudyResults};
use crate::data::study::Study;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Writes the study figures into `dir`; returns how many files were written.
pub fn write_figures(
    _study: &Study,
    _results: &StudyResults,
    _views: &BTreeMap<usize, Arc<CellView>>,
    _dir: &Path,
) -> Result<usize, super::RenderError> {
    Err(super::RenderError::NoContext(
        "figures are not available yet".into(),
    ))
}
