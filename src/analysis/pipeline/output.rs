//! What a run hands out: the final output, the previews on the way and the held-out data for
//! measures beyond METRICS.json.

use crate::align::Model;
use crate::analysis::{AnalysisError, Metrics, SceneData};
use ndarray::ArrayView2;

/// Everything one run of the pipeline produces.
#[derive(Clone, Debug)]
pub struct PipelineOutput {
    pub model: Model,
    pub metrics: Metrics,
    pub scene: SceneData,
    /// Original indices of the train and (class-sorted) test images.
    pub train_idx: Vec<usize>,
    pub test_idx: Vec<usize>,
    /// Units kept per network (None = all).
    pub units_kept: Vec<Option<Vec<usize>>>,
    /// The k actually used.
    pub k: usize,
    /// Human-readable remarks (zero padding, clipped smoothing window...).
    pub notes: Vec<String>,
}

impl PipelineOutput {
    /// A preview's output: the model is empty (see [`Partial`]).
    pub(super) fn preview(
        metrics: Metrics,
        scene: SceneData,
        train_idx: &[usize],
        test_idx: &[usize],
        units_kept: &[Option<Vec<usize>>],
        k: usize,
        notes: Vec<String>,
    ) -> PipelineOutput {
        PipelineOutput {
            model: Model::default(),
            metrics,
            scene,
            train_idx: train_idx.to_vec(),
            test_idx: test_idx.to_vec(),
            units_kept: units_kept.to_vec(),
            k,
            notes,
        }
    }
}

/// The held-out data of every network in both spaces, as the RSMs see them: native is centred
/// with its own held-out means (as given when the transform does not centre, `--center
/// brainiak`), shared is the model's projection. Rows are the held-out images in display
/// (class-sorted) order.
pub struct TestSpaces<'a> {
    pub native: &'a [ArrayView2<'a, f64>],
    pub shared: &'a [ArrayView2<'a, f64>],
    /// Whether native space compares unit with unit (equal widths).
    pub same_width: bool,
    pub test_idx: &'a [usize],
}

/// Called once per run with the held-out data, for measures beyond METRICS.json (studies).
pub type Inspect<'i> = &'i mut dyn FnMut(&TestSpaces<'_>);

/// What a preview hands over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partial {
    /// Before the fit: both views show the native trajectories (the aligned ones do not exist
    /// yet); `metrics` is empty.
    Native,
    /// After the fit, before the measures: the final scene; `metrics` holds only the
    /// objective, the fit time and the PCA variances.
    Aligned,
}

/// Called with [`Partial::Native`] and then [`Partial::Aligned`] outputs, whose `model` is
/// empty, before the final output.
pub type Preview<'p> = &'p mut dyn FnMut(Partial, PipelineOutput);

/// The name of the first result that is not a finite number, if any.
fn first_non_finite(m: &Metrics) -> Option<&'static str> {
    let bad = |v: &[f64]| v.iter().any(|x| !x.is_finite());
    if !m.isc.shared.is_finite() || m.isc.native.is_some_and(|v| !v.is_finite()) {
        return Some("ISC");
    }
    if !m.rsa.shared.is_finite() || m.rsa.native.is_some_and(|v| !v.is_finite()) {
        return Some("RSA");
    }
    if bad(&m.variance_explained.train) || bad(&m.variance_explained.test) {
        return Some("variance explained");
    }
    if m.procrustes_ve.iter().any(|r| bad(r)) {
        return Some("pairwise Procrustes variance explained");
    }
    if bad(&m.pca_explained_variance.before) || bad(&m.pca_explained_variance.after) {
        return Some("PCA explained variance");
    }
    if bad(&m.objective) {
        return Some("objective");
    }
    None
}

/// Refuses an output whose numbers are not all finite instead of reporting NaN.
pub(super) fn check_finite_results(
    out: PipelineOutput,
    name: &str,
) -> Result<PipelineOutput, AnalysisError> {
    match first_non_finite(&out.metrics) {
        None => Ok(out),
        Some(what) => Err(AnalysisError::Invalid(format!(
            "{name}: the {what} came out as NaN or infinite; the data are degenerate \
             (near-constant networks or images)"
        ))),
    }
}
