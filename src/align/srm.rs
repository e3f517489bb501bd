//! Probabilistic SRM (EM) and deterministic SRM, following BrainIAK 0.12's update order and
//! quirks exactly (../shared/docs/srm.md §5–§7): this file checks the data once and sends a fit
//! down one of two routes that give the same results to rounding: `direct.rs` (products with
//! the data every iteration) or `gram.rs` (cross-Gram blocks once, then O(V²k) per iteration).
//! What both share is in `em.rs`.
//!
//! Inputs are per-network activation matrices in the dump orientation, samples × units (T × v_i);
//! BrainIAK's X_i (v_i × T) is their transpose, taken as a view.

use super::em::cross;
pub use super::em::{
    column_means, validate, DetFit, FitOptions, ProbFit, Route, TraceMode, GRAM_MAX_BYTES,
    PERTURBATION,
};
use super::error::{AlignError, Precision};
use super::{direct, gram};
use crate::linalg::procrustes;
use crate::progress::Progress;
use ndarray::{Array2, ArrayView2};

/// Probabilistic SRM from given initial W (BrainIAK's EM, §5), on the route `opts` chooses.
pub fn fit_prob(
    xs: &[ArrayView2<f64>],
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    trace: TraceMode,
    progress: &Progress,
) -> Result<ProbFit, AlignError> {
    let t = validate(xs, opts.k)?;
    fit_prob_checked(xs, t, w_init, opts, trace, progress)
}

/// [`fit_prob`] on data [`validate`] has passed (`t` images).
pub(crate) fn fit_prob_checked(
    xs: &[ArrayView2<f64>],
    t: usize,
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    trace: TraceMode,
    progress: &Progress,
) -> Result<ProbFit, AlignError> {
    if opts.uses_gram(xs) {
        gram::fit_prob(xs, t, w_init, opts, trace, progress)
    } else {
        direct::fit_prob(xs, t, w_init, opts, trace, progress)
    }
}

/// Deterministic SRM from given initial W (§7), on the route `opts` chooses. `center` subtracts
/// each unit's mean first; BrainIAK's DetSRM does not.
pub fn fit_det(
    xs: &[ArrayView2<f64>],
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    center: bool,
    progress: &Progress,
) -> Result<DetFit, AlignError> {
    let t = validate(xs, opts.k)?;
    fit_det_checked(xs, t, w_init, opts, center, progress)
}

/// [`fit_det`] on data [`validate`] has passed.
pub(crate) fn fit_det_checked(
    xs: &[ArrayView2<f64>],
    t: usize,
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    center: bool,
    progress: &Progress,
) -> Result<DetFit, AlignError> {
    if opts.uses_gram(xs) {
        gram::fit_det(xs, t, w_init, opts, center, progress)
    } else {
        direct::fit_det(xs, t, w_init, opts, center, progress)
    }
}

/// BrainIAK's `transform_subject`: W for a new network recorded on the same samples as `s`,
/// one Procrustes step without perturbation. `center` subtracts the network's unit means first
/// (BrainIAK does not).
pub fn transform_subject(
    x: ArrayView2<f64>,
    s: &Array2<f64>,
    center: bool,
) -> Result<Array2<f64>, AlignError> {
    if x.nrows() != s.ncols() {
        return Err(AlignError::Invalid(format!(
            "the new network has {} samples but the shared response has {}",
            x.nrows(),
            s.ncols()
        )));
    }
    if x.ncols() < s.nrows() {
        return Err(AlignError::Invalid(format!(
            "the new network has {} units, fewer than k = {}",
            x.ncols(),
            s.nrows()
        )));
    }
    let mu = center.then(|| column_means(&x));
    let c = cross(&x, s, mu.as_ref(), Precision::F64);
    procrustes(c.view()).map_err(|e| AlignError::Linalg(e.to_string()))
}
