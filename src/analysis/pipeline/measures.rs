//! The held-out measures of METRICS.json: variance explained, ISC and RSA with their intervals,
//! pairwise Procrustes and the pairwise similarity matrices.

use super::output::{Inspect, TestSpaces};
use super::step::{check_cancel, next_step, views};
use crate::align::{ImageSplit, Model};
use crate::analysis::metrics::{
    self, BeforeAfter, NativeShared, PairMatrix, TrainTest, UncertaintyInfo,
};
use crate::analysis::preprocess::centred_columns;
use crate::analysis::similarity::{self, SimilarityError};
use crate::analysis::uncertainty;
use crate::analysis::{AnalysisError, Metrics, SceneData, ValidSettings};
use crate::progress::{Progress, Stage};
use ndarray::{Array1, Array2, ArrayView2};
use std::collections::BTreeMap;

/// Above this many held-out images the bootstrap, chance, leave-one-network-out ranges and the
/// pairwise matrices are skipped: they hold image × image matrices (128 MB each at this size).
pub const UNCERTAINTY_MAX_IMAGES: usize = 4096;

/// The held-out data as the measures read them.
pub(super) struct HeldOut<'a> {
    pub model: &'a Model,
    /// Native data as preprocessed, and the model's projection of them.
    pub test: &'a [Array2<f64>],
    pub y_test: &'a [Array2<f64>],
    /// The means the projection centres each network with (None: not centred).
    pub mus: &'a [Option<&'a Array1<f64>>],
    pub test_idx: &'a [usize],
}

/// The held-out measures of METRICS.json.
pub(super) struct Measured {
    ve_test: Vec<f64>,
    ve_ci95: Option<Vec<Option<[f64; 2]>>>,
    isc: NativeShared,
    rsa: NativeShared,
    procrustes_ve: Vec<Vec<f64>>,
    pairs: Option<BTreeMap<String, PairMatrix>>,
}

/// The image × image RSMs behind the headline RSA and its intervals.
struct DenseRsms {
    within: Array2<f64>,
    inter_native: Option<Array2<f64>>,
    inter_shared: Array2<f64>,
}

/// Each network's sum of squares, centred with `mus` (as the projection centres it).
pub(super) fn sums_of_squares(xs: &[Array2<f64>], mus: &[Option<&Array1<f64>>]) -> Vec<f64> {
    xs.iter()
        .zip(mus)
        .map(|(x, mu)| crate::linalg::centred_sum_sq(&x.view(), *mu))
        .collect()
}

/// Every held-out measure: variance explained, ISC and RSA with their intervals, pairwise
/// Procrustes, then the pairwise matrices. `inspect` gets the held-out data on the way.
pub(super) fn measure(
    h: &HeldOut,
    s: &ValidSettings,
    progress: &Progress,
    inspect: Option<Inspect<'_>>,
    notes: &mut Vec<String>,
) -> Result<Measured, AnalysisError> {
    let test_sq = sums_of_squares(h.test, h.mus);
    let ve_test = metrics::variance_explained(&views(h.test), &test_sq, &views(h.y_test));

    // Native space compares unit j with unit j, which needs equal widths.
    let same_width = h.test.iter().all(|x| x.ncols() == h.test[0].ncols());
    let native_c: Vec<Array2<f64>> = h.test.iter().map(|x| centred_columns(&x.view())).collect();
    let yv = views(h.y_test);
    let nv = views(&native_c);
    // The RSMs see native data as the projection sees them: centred where the transform
    // centres, raw where it does not (BrainIAK's transform, the paper's RSMs).
    let raw_test = views(h.test);
    let rv: &[ArrayView2<f64>] = if h.model.center_transform {
        &nv
    } else {
        &raw_test
    };
    let mut isc = NativeShared {
        native: same_width.then(|| metrics::isc_loo(&nv)),
        shared: metrics::isc_loo(&yv),
        ..Default::default()
    };
    next_step(progress, Stage::Metrics, 0.3);
    // The intervals resample image × image RSMs, so they are computed up to a size where a few
    // of those stay small; those RSMs then give the point RSA too. Beyond it, or without
    // intervals, the headline RSA is tiled: no image × image matrix at any number of images.
    let n_test = h.test_idx.len();
    let dense = (s.bootstrap > 0 && n_test <= UNCERTAINTY_MAX_IMAGES).then(|| DenseRsms {
        within: metrics::mean_within_rsm(rv),
        inter_native: same_width.then(|| metrics::inter_rsm_loo(rv)),
        inter_shared: metrics::inter_rsm_loo(&yv),
    });
    let mut rsa = point_rsa(dense.as_ref(), rv, &yv, same_width);
    let procrustes_ve = metrics::pairwise_procrustes_ve(&test_sq, &yv);
    if let Some(f) = inspect {
        f(&TestSpaces {
            native: rv,
            shared: &yv,
            same_width,
            test_idx: h.test_idx,
        });
    }
    check_cancel(progress)?;
    next_step(progress, Stage::Metrics, 0.5);
    let ve_ci95 = match &dense {
        Some(d) => uncertainty::headline(
            &uncertainty::Headline {
                native: same_width.then_some(nv.as_slice()),
                native_all: rv,
                shared: &yv,
                test: &views(h.test),
                test_mu: h.mus,
                within: &d.within,
                inter_native: d.inter_native.as_ref(),
                inter_shared: &d.inter_shared,
                resamples: s.bootstrap,
                seed: s.seed,
            },
            &mut isc,
            &mut rsa,
        ),
        None => {
            if s.bootstrap > 0 {
                notes.push(format!(
                    "no intervals or chance levels: {n_test} held-out images (at most {UNCERTAINTY_MAX_IMAGES})"
                ));
            }
            None
        }
    };
    drop(dense);
    check_cancel(progress)?;
    next_step(progress, Stage::Metrics, 0.8);
    // The centred copy goes before the pairwise summaries are built (they centre for
    // themselves): one copy of the held-out data less at that step's peak.
    drop(raw_test);
    drop(nv);
    drop(native_c);
    let pairs = pairs(h, s.knn, notes);
    check_cancel(progress)?;
    Ok(Measured {
        ve_test,
        ve_ci95,
        isc,
        rsa,
        procrustes_ve,
        pairs,
    })
}

/// The headline RSA: from the dense RSMs where the intervals made them, else tiled.
fn point_rsa(
    dense: Option<&DenseRsms>,
    rv: &[ArrayView2<f64>],
    yv: &[ArrayView2<f64>],
    same_width: bool,
) -> NativeShared {
    match dense {
        Some(d) => NativeShared {
            native: d
                .inter_native
                .as_ref()
                .map(|a| metrics::lower_tri_corr(a, &d.within)),
            shared: metrics::lower_tri_corr(&d.inter_shared, &d.within),
            ..Default::default()
        },
        None if same_width => {
            let r = metrics::rsa_loo(rv, &[rv, yv]);
            NativeShared {
                native: Some(r[0]),
                shared: r[1],
                ..Default::default()
            }
        }
        None => NativeShared {
            native: None,
            shared: metrics::rsa_loo(rv, &[yv])[0],
            ..Default::default()
        },
    }
}

/// The most neighbours the mutual k-NN measure allows: 1 ≤ k < held-out images.
fn knn_max(n_test: usize) -> usize {
    n_test.saturating_sub(1).max(1)
}

/// The pairwise similarity matrices, native and shared; None (with a note) beyond
/// [`UNCERTAINTY_MAX_IMAGES`] held-out images or when a measure cannot be computed.
fn pairs(h: &HeldOut, knn: usize, notes: &mut Vec<String>) -> Option<BTreeMap<String, PairMatrix>> {
    // Square W_i make the shared data a rotation of the native data (centring commutes with
    // W), so the rotation-invariant Procrustes distances are the native ones exactly.
    let rotation = h
        .model
        .w
        .iter()
        .zip(h.test)
        .all(|(w, x)| w.nrows() == w.ncols() && w.nrows() == x.ncols());
    // The pairwise measures hold image × image kernels per network, so they share the
    // intervals' size limit.
    let n_test = h.test_idx.len();
    if n_test > UNCERTAINTY_MAX_IMAGES {
        notes.push(format!(
            "no pairwise similarity matrices: {n_test} held-out images (at most {UNCERTAINTY_MAX_IMAGES})"
        ));
        return None;
    }
    // The k-NN measure needs 1 ≤ k < held-out images: say so when --knn is clamped.
    let knn_used = knn.clamp(1, knn_max(n_test));
    if knn_used != knn {
        notes.push(format!(
            "--knn {knn}: {n_test} held-out images allow at most {}; the mutual k-NN used k = {knn_used}",
            knn_max(n_test)
        ));
    }
    match pair_measures(&views(h.test), &views(h.y_test), knn, rotation) {
        Ok(p) => Some(p),
        Err(e) => {
            notes.push(format!("pairwise similarity measures skipped: {e}"));
            None
        }
    }
}

/// Every pairwise measure, native and shared, keyed as `similarity::MEASURES`.
fn pair_measures(
    native: &[ArrayView2<f64>],
    shared: &[ArrayView2<f64>],
    knn: usize,
    shared_is_rotation: bool,
) -> Result<BTreeMap<String, PairMatrix>, SimilarityError> {
    let mut nat = similarity::pair_matrices(native, knn)?;
    let mut sha = similarity::pair_matrices_with(shared, knn, !shared_is_rotation)?;
    if shared_is_rotation {
        for key in ["procrustes_angular", "procrustes_euclidean"] {
            if let Some(v) = nat.get(key).cloned() {
                sha.insert(key.to_string(), v);
            }
        }
    }
    Ok(similarity::MEASURES
        .iter()
        .map(|m| {
            let pm = PairMatrix {
                native: nat.remove(m.key).unwrap_or_default(),
                shared: sha.remove(m.key).unwrap_or_default(),
            };
            (m.key.to_string(), pm)
        })
        .collect())
}

impl Measured {
    /// METRICS.json: these measures with the fit's, the training data's and the scene's.
    pub(super) fn into_metrics(
        self,
        model: &Model,
        ve_train: Vec<f64>,
        fit_seconds: f64,
        scene: &SceneData,
        s: &ValidSettings,
        split: ImageSplit,
    ) -> Metrics {
        let n_test = split.test.len();
        Metrics {
            objective: model.objective.clone(),
            variance_explained: TrainTest {
                train: ve_train,
                test: self.ve_test,
                ci95: self.ve_ci95,
            },
            isc: self.isc,
            rsa: self.rsa,
            procrustes_ve: self.procrustes_ve,
            pca_explained_variance: BeforeAfter {
                before: scene.evr_before,
                after: scene.evr_after,
            },
            fit_seconds,
            pairs: self.pairs,
            uncertainty: Some(UncertaintyInfo {
                bootstrap: s.bootstrap,
                seed: s.seed,
                level: uncertainty::LEVEL,
                chance_shuffles_isc: uncertainty::CHANCE_SHUFFLES_ISC,
                chance_shuffles_rsa: uncertainty::CHANCE_SHUFFLES_RSA,
                // The neighbours the measure used (--knn, clamped to the held-out images).
                knn: s.knn.clamp(1, knn_max(n_test)),
            }),
            split: Some(split),
        }
    }
}
