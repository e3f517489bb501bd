//! The scene: smoothing and the joint 3D PCA of the held-out data before (native) and after
//! (shared space) alignment, turned to face alike.

use super::step::views;
use crate::analysis::metrics;
use crate::analysis::pca::{self, fit_joint, moving_average};
use crate::analysis::{AnalysisError, SceneData, Trajectory};
use crate::data::Dataset;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

/// The "before" half of the scene: the joint 3D PCA of the smoothed native held-out data. It
/// needs no fit, so a viewer can show it while the fit runs.
pub(super) struct NativeView {
    /// n_frames × 3 scores per network, before the view's global scaling.
    scores: Vec<Array2<f64>>,
    pub(super) evr: [f64; 3],
    padded: bool,
    /// The smoothing window actually used.
    window: usize,
    pub(super) notes: Vec<String>,
}

fn evr3(p: &pca::JointPca) -> [f64; 3] {
    let g = |i: usize| p.explained_variance_ratio.get(i).copied().unwrap_or(0.0);
    [g(0), g(1), g(2)]
}

fn pca_failed(e: crate::linalg::LinalgError) -> AnalysisError {
    AnalysisError::Invalid(format!("PCA failed: {e}"))
}

/// Smoothing and the joint 3D PCA of the native held-out data, each network centred with its
/// training means (as the aligned view is) so that "before" shows differences of orientation,
/// not each network's constant offset.
pub(super) fn native_view(
    smooth: usize,
    test: &[Array2<f64>],
    mus: &[Option<&Array1<f64>>],
) -> Result<NativeView, AnalysisError> {
    let n_test = test.first().map_or(0, |x| x.nrows());
    let mut notes = Vec::new();
    let w = smooth.max(1).min(n_test);
    if w < smooth {
        notes.push(format!(
            "smoothing window clipped from {smooth} to {w} ({n_test} test images)"
        ));
    }
    let padded = !test.iter().all(|x| x.ncols() == test[0].ncols());
    if padded {
        notes.push(
            "networks have different unit counts: the \"before\" PCA zero-pads them to the widest"
                .into(),
        );
    }
    // The average of x − μ is the average of x, less μ: no centred copy.
    let smoothed: Vec<Array2<f64>> = test
        .par_iter()
        .zip(mus)
        .map(|(x, mu)| {
            let mut m = moving_average(&x.view(), w);
            if let Some(mu) = mu {
                m -= *mu;
            }
            m
        })
        .collect();
    let p = fit_joint(&views(&smoothed), 3).map_err(pca_failed)?;
    Ok(NativeView {
        scores: smoothed.iter().map(|x| p.transform(&x.view())).collect(),
        evr: evr3(&p),
        padded,
        window: w,
        notes,
    })
}

/// The aligned half (the joint 3D PCA of the smoothed shared responses) joined to `native` in
/// one scene. Without `y_test` (the fit is still running) both views show the native data and
/// there is no "after" disagreement or explained variance (NaN).
pub(super) fn assemble_scene(
    ds: &Dataset,
    names: &[String],
    native: &NativeView,
    y_test: Option<&[Array2<f64>]>,
    test_idx: &[usize],
) -> Result<SceneData, AnalysisError> {
    let n_test = test_idx.len();
    let w = native.window;
    let sb = &native.scores;
    let (sa, evr_after) = match y_test {
        Some(ys) => {
            let smoothed: Vec<Array2<f64>> = ys
                .par_iter()
                .map(|y| moving_average(&y.view(), w))
                .collect();
            let p = fit_joint(&views(&smoothed), 3).map_err(pca_failed)?;
            let mut sa: Vec<Array2<f64>> =
                smoothed.iter().map(|x| p.transform(&x.view())).collect();
            drop(smoothed);
            // Turn the "after" view rigidly to face like the "before" view so the morph between
            // them shows the alignment, not an arbitrary change of PCA basis.
            if let Some(r) = view_rotation(&sa, sb) {
                for x in sa.iter_mut() {
                    *x = x.dot(&r);
                }
            }
            (Some(sa), evr3(&p))
        }
        None => (None, [f64::NAN; 3]),
    };
    let gb = pca::global_scale(sb);
    let before: Vec<Vec<[f32; 3]>> = sb.iter().map(|b| pca::to_points(b, gb)).collect();
    let after: Vec<Vec<[f32; 3]>> = match &sa {
        Some(sa) => {
            let ga = pca::global_scale(sa);
            sa.iter().map(|a| pca::to_points(a, ga)).collect()
        }
        None => before.clone(),
    };
    let trajectories: Vec<Trajectory> = names
        .iter()
        .zip(before.into_iter().zip(after))
        .map(|(name, (before, after))| Trajectory {
            name: name.clone(),
            before,
            after,
        })
        .collect();
    let n_frames = trajectories.first().map_or(0, |t| t.before.len());
    let image_index: Vec<usize> = (0..n_frames).map(|t| test_idx[t]).collect();
    let labels = ds.labels.as_ref().map(|l| {
        (0..n_frames)
            .map(|t| l[test_idx[(t + w / 2).min(n_test - 1)]])
            .collect()
    });
    let before_pts: Vec<&[[f32; 3]]> = trajectories.iter().map(|t| t.before.as_slice()).collect();
    let after_pts: Vec<&[[f32; 3]]> = trajectories.iter().map(|t| t.after.as_slice()).collect();
    Ok(SceneData {
        disagreement_before: metrics::disagreement(&before_pts),
        // None yet without the aligned view (it would repeat the native one).
        disagreement_after: if y_test.is_some() {
            metrics::disagreement(&after_pts)
        } else {
            Vec::new()
        },
        trajectories,
        image_index,
        labels,
        evr_before: native.evr,
        evr_after,
        before_padded: native.padded,
    })
}

/// The 3 × 3 orthogonal R minimising ‖A·R − B‖ over all networks' stacked scores.
fn view_rotation(a: &[Array2<f64>], b: &[Array2<f64>]) -> Option<Array2<f64>> {
    let mut m = Array2::<f64>::zeros((3, 3));
    for (x, y) in a.iter().zip(b) {
        if x.ncols() != 3 || y.ncols() != 3 {
            return None;
        }
        m += &x.t().dot(y);
    }
    crate::linalg::procrustes(m.view()).ok()
}
