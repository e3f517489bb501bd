//! normalise → unit subsample → split → fit → transform → smooth → joint PCA, plus metrics.
//!
//! `prepare` makes the data a fit starts from, `fit` runs the whole pipeline, `apply` runs a
//! saved model instead of a fit, `finish` is everything after the fit (`measures` and `scene`
//! its two halves), `output` what a run hands out. Every entry point takes settings through
//! [`SettingsGuard`](crate::analysis::SettingsGuard): checked once, where they come in.

mod apply;
mod finish;
mod fit;
mod measures;
mod output;
mod prepare;
mod scene;
mod step;

pub use apply::{apply_model, apply_model_inspect};
pub use finish::finish;
pub use fit::{run, run_owned, run_owned_inspect, run_preview};
pub use measures::UNCERTAINTY_MAX_IMAGES;
pub use output::{Inspect, Partial, PipelineOutput, Preview, TestSpaces};
pub use prepare::{
    has_units_for, keep_units_for, native_test, native_test_split, prepare, prepare_releasing,
    prepare_with_units, Prepared,
};
