//! normalise → unit subsample → split → fit → transform → smooth → joint PCA, plus metrics.

use super::metrics::{self, BeforeAfter, NativeShared, PairMatrix, TrainTest, UncertaintyInfo};
use super::model_file;
use super::pca::{self, fit_joint, moving_average};
use super::preprocess::{centred_columns, normalize, split_with, subsample_units, unit_stats};
use super::similarity::{self, SimilarityError};
use super::{AnalysisError, Metrics, Normalize, SceneData, Settings, Trajectory};
use crate::align::{self, AlignOptions, ImageSplit, Model, UnitNorm};
use crate::data::Dataset;
use crate::progress::{Progress, Stage};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// Above this many held-out images the bootstrap, chance, leave-one-network-out ranges and the
/// pairwise matrices are skipped: they hold image × image matrices (128 MB each at this size).
pub const UNCERTAINTY_MAX_IMAGES: usize = 4096;

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

/// Train and test matrices of every network after subsampling and normalisation.
pub struct Prepared {
    pub train: Vec<Array2<f64>>,
    pub test: Vec<Array2<f64>>,
    pub train_idx: Vec<usize>,
    pub test_idx: Vec<usize>,
    pub units_kept: Vec<Option<Vec<usize>>>,
    /// Training unit statistics per network (unit normalisation only).
    pub unit_norm: Vec<Option<UnitNorm>>,
}

fn check_dataset(ds: &Dataset) -> Result<(), AnalysisError> {
    if ds.networks.len() < 2 {
        return Err(AnalysisError::Invalid(format!(
            "alignment needs at least 2 networks; {} has {}",
            ds.name,
            ds.networks.len()
        )));
    }
    let n = ds.n_images();
    if let Some(net) = ds.networks.iter().find(|net| net.data.nrows() != n) {
        return Err(AnalysisError::Invalid(format!(
            "{} has {} images but {} has {n}",
            net.source,
            net.data.nrows(),
            ds.networks[0].source
        )));
    }
    if let Some(l) = &ds.labels {
        if l.len() != n {
            return Err(AnalysisError::Invalid(format!(
                "{} labels for {n} images",
                l.len()
            )));
        }
    }
    if n < 4 {
        return Err(AnalysisError::Invalid(format!(
            "{} has only {n} images; need at least 4",
            ds.name
        )));
    }
    Ok(())
}

/// Split, subsample and normalise.
pub fn prepare(ds: &Dataset, s: &Settings) -> Result<Prepared, AnalysisError> {
    prepare_with_units(ds, s, None)
}

/// As [`prepare`], keeping the given units per network instead of drawing them (a saved model's).
pub fn prepare_with_units(
    ds: &Dataset,
    s: &Settings,
    units: Option<&[Option<Vec<usize>>]>,
) -> Result<Prepared, AnalysisError> {
    let mut prep = start_prepared(ds, s)?;
    let parts: Vec<_> = ds
        .networks
        .par_iter()
        .enumerate()
        .map(|(i, net)| prepare_network(&prep, net, i, s, units))
        .collect();
    prep.extend(parts)?;
    Ok(prep)
}

/// As [`prepare`], freeing each network's raw activations once its train and test parts are
/// made, so that about one copy of the data is held at a time.
pub fn prepare_releasing(ds: &mut Dataset, s: &Settings) -> Result<Prepared, AnalysisError> {
    let mut prep = start_prepared(ds, s)?;
    let parts: Vec<_> = ds
        .networks
        .par_iter_mut()
        .enumerate()
        .map(|(i, net)| {
            let part = prepare_network(&prep, net, i, s, None);
            net.data = Default::default();
            part
        })
        .collect();
    prep.extend(parts)?;
    Ok(prep)
}

/// Checks the dataset and settings and makes the split; no network is prepared yet.
fn start_prepared(ds: &Dataset, s: &Settings) -> Result<Prepared, AnalysisError> {
    check_dataset(ds)?;
    s.validate().map_err(AnalysisError::Invalid)?;
    let (train_idx, test_idx) = split_of(ds, s)?;
    Ok(Prepared {
        train: Vec::new(),
        test: Vec::new(),
        train_idx,
        test_idx,
        units_kept: Vec::new(),
        unit_norm: Vec::new(),
    })
}

/// The split `s` asks for (test in display order).
fn split_of(ds: &Dataset, s: &Settings) -> Result<(Vec<usize>, Vec<usize>), AnalysisError> {
    split_with(
        ds.n_images(),
        ds.labels.as_deref(),
        s.test_fraction,
        s.seed,
        s.split,
    )
    .map_err(|e| AnalysisError::Invalid(format!("{}: {e}", ds.name)))
}

/// One network's part of [`Prepared`]: train, test, units kept and unit statistics.
type NetworkPart = (
    Array2<f64>,
    Array2<f64>,
    Option<Vec<usize>>,
    Option<UnitNorm>,
);

impl Prepared {
    /// Appends the networks' parts in order; the first error (in network order) wins.
    fn extend(
        &mut self,
        parts: Vec<Result<NetworkPart, AnalysisError>>,
    ) -> Result<(), AnalysisError> {
        for part in parts {
            let (tr, te, drawn, norm) = part?;
            self.train.push(tr);
            self.test.push(te);
            self.units_kept.push(drawn);
            self.unit_norm.push(norm);
        }
        Ok(())
    }
}

/// Subsamples, splits and normalises network `i` with the split of `prep` (unit statistics
/// from the training images only, kept for the model file).
fn prepare_network(
    prep: &Prepared,
    net: &crate::data::Network,
    i: usize,
    s: &Settings,
    units: Option<&[Option<Vec<usize>>]>,
) -> Result<NetworkPart, AnalysisError> {
    let stored = net.stored_units();
    let drawn = match units {
        Some(u) => u.get(i).cloned().flatten(),
        None => subsample_units(stored, s.max_units, s.seed, i),
    };
    if let Some(&bad) = drawn
        .as_ref()
        .and_then(|c| c.iter().find(|&&c| c >= stored))
    {
        return Err(AnalysisError::Invalid(format!(
            "{} has {stored} units but the model uses unit {bad}",
            net.source
        )));
    }
    let cols = loaded_columns(net, drawn.as_deref())?;
    let mut tr = net.data.select_f64(Some(&prep.train_idx), cols.as_deref());
    let mut te = net.data.select_f64(Some(&prep.test_idx), cols.as_deref());
    check_degenerate(
        &tr,
        &te,
        &prep.train_idx,
        &prep.test_idx,
        s.normalize,
        &net.source,
    )?;
    let norm = match s.normalize {
        Normalize::Unit => {
            let (mean, std) = unit_stats(&tr.view());
            for x in [&mut tr, &mut te] {
                *x -= &mean;
                *x /= &std;
            }
            Some(UnitNorm { mean, std })
        }
        how => {
            normalize(&mut tr, &mut te, how);
            None
        }
    };
    Ok((tr, te, drawn, norm))
}

/// The columns of `net.data` that hold the stored units `drawn` (None: all of them), when only
/// some units were loaded.
fn loaded_columns(
    net: &crate::data::Network,
    drawn: Option<&[usize]>,
) -> Result<Option<Vec<usize>>, AnalysisError> {
    let Some(loaded) = &net.units else {
        return Ok(drawn.map(<[usize]>::to_vec));
    };
    let missing = |u: usize| {
        AnalysisError::Invalid(format!(
            "{}: unit {u} is needed but only {} of its {} units were loaded; open the files again",
            net.source,
            loaded.len(),
            net.stored_units()
        ))
    };
    match drawn {
        None if loaded.len() == net.stored_units() => Ok(None),
        None => Err(missing(
            (0..net.stored_units())
                .find(|u| loaded.binary_search(u).is_err())
                .unwrap_or(0),
        )),
        Some(d) if d == loaded.as_slice() => Ok(None),
        Some(d) => d
            .iter()
            .map(|&u| loaded.binary_search(&u).map_err(|_| missing(u)))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
    }
}

/// Whether `ds` holds every unit a fit with `s` draws (false when it was loaded keeping only
/// the units of other settings; then it must be read again).
pub fn has_units_for(ds: &Dataset, s: &Settings) -> bool {
    ds.networks.iter().enumerate().all(|(i, net)| {
        net.units.is_none()
            || loaded_columns(
                net,
                subsample_units(net.stored_units(), s.max_units, s.seed, i).as_deref(),
            )
            .is_ok()
    })
}

/// Load options that keep only the units a fit with `s` uses (the viewer's open).
pub fn keep_units_for(s: &Settings) -> crate::data::KeepUnits {
    let (max, seed) = (s.max_units, s.seed);
    crate::data::KeepUnits(std::sync::Arc::new(move |i, n| {
        subsample_units(n, max, seed, i)
    }))
}

/// Refuses data that would make every result NaN: fewer than 2 units, fewer than 2 units that
/// vary over the training images, or (under row z-scoring) an image constant across units.
fn check_degenerate(
    train: &Array2<f64>,
    test: &Array2<f64>,
    train_idx: &[usize],
    test_idx: &[usize],
    how: Normalize,
    source: &str,
) -> Result<(), AnalysisError> {
    let units = train.ncols();
    if units < 2 {
        return Err(AnalysisError::Invalid(format!(
            "{source}: has {units} unit; alignment needs at least 2 units per network"
        )));
    }
    let varying = train
        .columns()
        .into_iter()
        .filter(|c| c.iter().any(|&v| v != c[0]))
        .count();
    if varying < 2 {
        return Err(AnalysisError::Invalid(format!(
            "{source}: only {varying} of its {units} units vary over the training images; \
             alignment needs at least 2"
        )));
    }
    if how == Normalize::Row {
        for (x, idx) in [(train, train_idx), (test, test_idx)] {
            if let Some(r) = x
                .rows()
                .into_iter()
                .position(|r| r.iter().all(|&v| v == r[0]))
            {
                return Err(AnalysisError::Invalid(format!(
                    "{source}: image {} has the same value in every unit, so row z-scoring \
                     (--normalize row) leaves nothing; use --normalize unit or none",
                    idx.get(r).copied().unwrap_or(r)
                )));
            }
        }
    }
    Ok(())
}

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
fn check_finite_results(out: PipelineOutput, name: &str) -> Result<PipelineOutput, AnalysisError> {
    match first_non_finite(&out.metrics) {
        None => Ok(out),
        Some(what) => Err(AnalysisError::Invalid(format!(
            "{name}: the {what} came out as NaN or infinite; the data are degenerate \
             (near-constant networks or images)"
        ))),
    }
}

/// Reports the next step after handing the previous step's freed memory back, so that it
/// does not add to this step's peak.
fn next_step(progress: &Progress, stage: Stage, fraction: f32) {
    crate::memory::release_free();
    progress.stage(stage, fraction);
}

fn views(xs: &[Array2<f64>]) -> Vec<ArrayView2<'_, f64>> {
    xs.iter().map(|x| x.view()).collect()
}

pub fn run(
    ds: &Dataset,
    s: &Settings,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let prep = prepare(ds, s)?;
    fit_prepared(ds, s, prep, progress)
}

/// As [`run`], for callers that need the raw activations no more (the CLI's `fit` and
/// `export`): each network's raw data is freed as soon as it is prepared, so the peak holds
/// about one copy of the data instead of two.
pub fn run_owned(
    mut ds: Dataset,
    s: &Settings,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let prep = prepare_releasing(&mut ds, s)?;
    fit_prepared(&ds, s, prep, progress)
}

fn fit_prepared(
    ds: &Dataset,
    s: &Settings,
    prep: Prepared,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    fit_prepared_inspect(ds, s, prep, progress, None, None)
}

fn fit_prepared_inspect(
    ds: &Dataset,
    s: &Settings,
    prep: Prepared,
    progress: &Progress,
    inspect: Option<Inspect<'_>>,
    preview: Option<Preview<'_>>,
) -> Result<PipelineOutput, AnalysisError> {
    let names = ds.names();
    let min_units = prep.train.iter().map(|x| x.ncols()).min().unwrap_or(0);
    let k = s.k.unwrap_or(min_units);
    if k > min_units {
        let (i, net) = prep
            .train
            .iter()
            .enumerate()
            .find(|(_, x)| x.ncols() < k)
            .map(|(i, x)| (i, x.ncols()))
            .unwrap_or((0, min_units));
        return Err(AnalysisError::Invalid(format!(
            "k = {k} is larger than the {net} units of {}; choose k ≤ {min_units}",
            names.get(i).map_or("a network", |n| n.as_str())
        )));
    }
    if k > prep.train_idx.len() {
        return Err(AnalysisError::Invalid(format!(
            "k = {k} is larger than the {} training images; choose k ≤ {} or a smaller test fraction",
            prep.train_idx.len(),
            prep.train_idx.len()
        )));
    }
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    let params = serde_json::json!({
        "dataset": ds.name,
        "networks": names,
        "settings": s,
        "k_resolved": k,
        "n_train": prep.train_idx.len(),
        "n_test": prep.test_idx.len(),
        "srmscope": env!("CARGO_PKG_VERSION"),
        "linalg": crate::linalg::BACKEND,
    })
    .to_string();
    let opts = AlignOptions {
        algo: s.algo,
        k,
        n_iter: s.n_iter,
        tol: s.tol,
        seed: s.seed,
        init: s.init,
        center: s.center,
        precision: s.precision,
    };
    // A viewer shows the native trajectories while the fit runs; the same view is the final
    // scene's "before" half.
    let mut preview = preview;
    let native = match preview.as_mut() {
        Some(show) => {
            next_step(progress, Stage::Pca, 0.0);
            let mus: Vec<Option<ndarray::Array1<f64>>> = prep
                .train
                .iter()
                .map(|x| (s.center == align::Center::On).then(|| align::column_means(&x.view())))
                .collect();
            let mus: Vec<Option<&ndarray::Array1<f64>>> = mus.iter().map(Option::as_ref).collect();
            let view = native_view(s, &prep.test, &mus)?;
            show(
                Partial::Native,
                PipelineOutput {
                    model: Model::default(),
                    metrics: Metrics {
                        pca_explained_variance: BeforeAfter {
                            before: view.evr,
                            after: [f64::NAN; 3],
                        },
                        ..Default::default()
                    },
                    scene: assemble_scene(ds, &names, &view, None, &prep.test_idx)?,
                    train_idx: prep.train_idx.clone(),
                    test_idx: prep.test_idx.clone(),
                    units_kept: prep.units_kept.clone(),
                    k,
                    notes: view.notes.clone(),
                },
            );
            Some(view)
        }
        None => None,
    };
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    next_step(progress, Stage::Fit, 0.0);
    let t0 = Instant::now();
    let model =
        align::fit(&names, &views(&prep.train), &opts, params, progress).map_err(|e| match e {
            align::AlignError::Cancelled => AnalysisError::Cancelled,
            e => AnalysisError::Align(e),
        })?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    let mut model = model;
    model.units_kept = prep.units_kept.clone();
    model.unit_norm = prep.unit_norm.clone();
    model.split = Some(ImageSplit {
        train: prep.train_idx.clone(),
        test: prep.test_idx.clone(),
    });
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    let mut out = check_finite_results(
        finish_inspect(
            ds,
            s,
            prep,
            model,
            fit_seconds,
            progress,
            inspect,
            preview.map(|show| (show, native)),
        )?,
        &ds.name,
    )?;
    out.notes.extend(s.notes());
    Ok(out)
}

/// Applies a saved model to a dataset without fitting: the same split and units as `s` (the
/// model's own settings), each network preprocessed by [`model_file::model_input`] with the
/// training statistics stored in the model, then everything after the fit.
pub fn apply_model(
    ds: &Dataset,
    s: &Settings,
    model: Model,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    apply_model_inspect(ds, s, model, progress, None)
}

/// As [`apply_model`], handing the held-out data to `inspect` (studies reuse cached fits).
pub fn apply_model_inspect(
    ds: &Dataset,
    s: &Settings,
    model: Model,
    progress: &Progress,
    inspect: Option<Inspect<'_>>,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    model_file::require_all_units(ds)?;
    if model.w.len() != ds.networks.len() {
        return Err(AnalysisError::Invalid(format!(
            "the model maps {} networks but {} has {}",
            model.w.len(),
            ds.name,
            ds.networks.len()
        )));
    }
    check_dataset(ds)?;
    s.validate().map_err(AnalysisError::Invalid)?;
    let mut model = model;
    let mut notes = Vec::new();
    // The split the model recorded, when it fits these images; else the settings' split.
    let n = ds.n_images();
    let (train_idx, test_idx) = match model.split.take() {
        Some(sp) if sp.train.iter().chain(&sp.test).all(|&i| i < n) => (sp.train, sp.test),
        Some(_) => {
            notes.push(format!(
                "the model's recorded split names images beyond these {n}; split again from its \
                 settings"
            ));
            split_of(ds, s)?
        }
        None => split_of(ds, s)?,
    };
    model.split = Some(ImageSplit {
        train: train_idx.clone(),
        test: test_idx.clone(),
    });
    if let Some(n) =
        model_file::fill_missing_unit_norm(&mut model, s.normalize, ds, Some(&train_idx))?
    {
        notes.push(n);
    }
    let mut train = Vec::new();
    let mut test = Vec::new();
    for (i, net) in ds.networks.iter().enumerate() {
        for (rows, out) in [(&train_idx, &mut train), (&test_idx, &mut test)] {
            out.push(model_file::network_input(
                &model,
                s.normalize,
                i,
                net,
                Some(rows),
            )?);
        }
    }
    let prep = Prepared {
        train,
        test,
        train_idx,
        test_idx,
        units_kept: model.units_kept.clone(),
        unit_norm: model.unit_norm.clone(),
    };
    let mut out = check_finite_results(
        finish_inspect(ds, s, prep, model, 0.0, progress, inspect, None)?,
        &ds.name,
    )?;
    out.notes.extend(notes);
    Ok(out)
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

/// As [`run`], handing the trajectories to `preview` as soon as they exist (the viewer draws
/// them while the measures, most of the time after a large fit, are computed).
pub fn run_preview(
    ds: &Dataset,
    s: &Settings,
    progress: &Progress,
    preview: Preview<'_>,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let prep = prepare(ds, s)?;
    fit_prepared_inspect(ds, s, prep, progress, None, Some(preview))
}

/// As [`run_owned`], handing the held-out data to `inspect` before it is freed.
pub fn run_owned_inspect(
    mut ds: Dataset,
    s: &Settings,
    progress: &Progress,
    inspect: Inspect<'_>,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let prep = prepare_releasing(&mut ds, s)?;
    fit_prepared_inspect(&ds, s, prep, progress, Some(inspect), None)
}

/// The held-out data of every network as the RSMs' native space sees it (preprocessed, centred
/// with its own means unless `--center brainiak`), without fitting anything.
pub fn native_test(ds: &Dataset, s: &Settings) -> Result<Vec<Array2<f64>>, AnalysisError> {
    Ok(native_test_split(ds, s)?.0)
}

/// [`native_test`] and the images its rows are (`test_idx`), so that another run's held-out
/// rows can be paired with them by image, not by position.
pub fn native_test_split(
    ds: &Dataset,
    s: &Settings,
) -> Result<(Vec<Array2<f64>>, Vec<usize>), AnalysisError> {
    let prep = prepare(ds, s)?;
    if s.center == align::Center::Brainiak {
        return Ok((prep.test, prep.test_idx));
    }
    let test = prep
        .test
        .iter()
        .map(|x| centred_columns(&x.view()))
        .collect();
    Ok((test, prep.test_idx))
}

/// Everything after the fit: transform, metrics, smoothing, joint PCA and the scene.
pub fn finish(
    ds: &Dataset,
    s: &Settings,
    prep: Prepared,
    model: Model,
    fit_seconds: f64,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    finish_inspect(ds, s, prep, model, fit_seconds, progress, None, None)
}

#[allow(clippy::too_many_arguments)]
fn finish_inspect(
    ds: &Dataset,
    s: &Settings,
    prep: Prepared,
    model: Model,
    fit_seconds: f64,
    progress: &Progress,
    inspect: Option<Inspect<'_>>,
    preview: Option<(Preview<'_>, Option<NativeView>)>,
) -> Result<PipelineOutput, AnalysisError> {
    next_step(progress, Stage::Metrics, 0.0);
    let mut notes = Vec::new();
    let mus: Vec<Option<&ndarray::Array1<f64>>> = model
        .mu
        .iter()
        .map(|m| model.center_transform.then_some(m))
        .collect();
    let project = |i: usize, x: &Array2<f64>| -> Result<Array2<f64>, AnalysisError> {
        model.transform(i, x.view()).map_err(AnalysisError::Align)
    };
    let sq_of = |xs: &[Array2<f64>]| -> Vec<f64> {
        xs.iter()
            .zip(&mus)
            .map(|(x, mu)| crate::linalg::centred_sum_sq(&x.view(), *mu))
            .collect()
    };
    let Prepared {
        train,
        test,
        train_idx,
        test_idx,
        units_kept,
        ..
    } = prep;
    // Training VE in two passes (the mean shared response, then each network against it), so
    // that only one training projection is held at a time; then the training data go.
    let training_ve = |train: Vec<Array2<f64>>| -> Result<Vec<f64>, AnalysisError> {
        let mut sbar: Option<Array2<f64>> = None;
        for (i, x) in train.iter().enumerate() {
            let y = project(i, x)?;
            sbar = Some(match sbar {
                Some(acc) => acc + y,
                None => y,
            });
        }
        let sbar = sbar.map(|a| a / train.len() as f64).unwrap_or_default();
        let dots = train
            .iter()
            .enumerate()
            .map(|(i, x)| Ok(metrics::frob(&sbar.view(), &project(i, x)?.view())))
            .collect::<Result<Vec<f64>, AnalysisError>>()?;
        let stats: Vec<(f64, f64)> = train
            .iter()
            .map(|x| metrics::entry_variance(&x.view()))
            .collect();
        let ve = metrics::variance_explained_from(
            &stats,
            &sq_of(&train),
            &dots,
            metrics::frob(&sbar.view(), &sbar.view()),
        );
        drop(train);
        crate::memory::release_free();
        Ok(ve)
    };
    // Without a viewer waiting, the training data go first (they would add to every later
    // step's peak); with one, the aligned trajectories come first.
    let (mut train, mut ve_train) = (Some(train), None);
    if preview.is_none() {
        ve_train = train.take().map(&training_ve).transpose()?;
    }
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    let y_test = test
        .iter()
        .enumerate()
        .map(|(i, x)| project(i, x))
        .collect::<Result<Vec<_>, _>>()?;
    let scene_now = |native: Option<NativeView>, notes: &mut Vec<String>| {
        next_step(progress, Stage::Pca, 0.0);
        let native = match native {
            Some(v) => v,
            None => native_view(s, &test, &mus)?,
        };
        notes.extend(native.notes.iter().cloned());
        assemble_scene(ds, &model.networks, &native, Some(&y_test), &test_idx)
    };
    let early_scene = match preview {
        Some((show, native)) => {
            let scene = scene_now(native, &mut notes)?;
            show(
                Partial::Aligned,
                PipelineOutput {
                    model: Model::default(),
                    metrics: Metrics {
                        objective: model.objective.clone(),
                        fit_seconds,
                        pca_explained_variance: BeforeAfter {
                            before: scene.evr_before,
                            after: scene.evr_after,
                        },
                        ..Default::default()
                    },
                    scene: scene.clone(),
                    train_idx: train_idx.clone(),
                    test_idx: test_idx.clone(),
                    units_kept: units_kept.clone(),
                    k: model.k(),
                    notes: notes.clone(),
                },
            );
            next_step(progress, Stage::Metrics, 0.0);
            Some(scene)
        }
        None => None,
    };
    if let Some(t) = train.take() {
        ve_train = Some(training_ve(t)?);
    }
    let ve_train = ve_train.unwrap_or_default();
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    let test_sq = sq_of(&test);
    let ve_test = metrics::variance_explained(&views(&test), &test_sq, &views(&y_test));

    // Native space compares unit j with unit j, which needs equal widths.
    let same_width = test.iter().all(|x| x.ncols() == test[0].ncols());
    let native_c: Vec<Array2<f64>> = test.iter().map(|x| centred_columns(&x.view())).collect();
    let yv = views(&y_test);
    let nv = views(&native_c);
    // The RSMs see native data as the projection sees them: centred where the transform
    // centres, raw where it does not (BrainIAK's transform, the paper's RSMs).
    let raw_test = views(&test);
    let rv: &[ArrayView2<f64>] = if model.center_transform {
        &nv
    } else {
        &raw_test
    };
    let isc = NativeShared {
        native: same_width.then(|| metrics::isc_loo(&nv)),
        shared: metrics::isc_loo(&yv),
        ..Default::default()
    };
    next_step(progress, Stage::Metrics, 0.3);
    // The intervals resample image × image RSMs, so they are computed up to a size where a few
    // of those stay small; those RSMs then give the point RSA too. Beyond it, or without
    // intervals, the headline RSA is tiled: no image × image matrix at any number of images.
    let n_test = test_idx.len();
    let dense = (s.bootstrap > 0 && n_test <= UNCERTAINTY_MAX_IMAGES).then(|| DenseRsms {
        within: metrics::mean_within_rsm(rv),
        inter_native: same_width.then(|| metrics::inter_rsm_loo(rv)),
        inter_shared: metrics::inter_rsm_loo(&yv),
    });
    let mut rsa = match &dense {
        Some(d) => NativeShared {
            native: d
                .inter_native
                .as_ref()
                .map(|a| metrics::lower_tri_corr(a, &d.within)),
            shared: metrics::lower_tri_corr(&d.inter_shared, &d.within),
            ..Default::default()
        },
        None if same_width => {
            let r = metrics::rsa_loo(rv, &[rv, &yv]);
            NativeShared {
                native: Some(r[0]),
                shared: r[1],
                ..Default::default()
            }
        }
        None => NativeShared {
            native: None,
            shared: metrics::rsa_loo(rv, &[&yv])[0],
            ..Default::default()
        },
    };
    let procrustes_ve = metrics::pairwise_procrustes_ve(&test_sq, &yv);
    if let Some(f) = inspect {
        f(&TestSpaces {
            native: rv,
            shared: &yv,
            same_width,
            test_idx: &test_idx,
        });
    }
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    next_step(progress, Stage::Metrics, 0.5);
    let mut isc = isc;
    let ve_ci95 = if let Some(d) = &dense {
        super::uncertainty::headline(
            &super::uncertainty::Headline {
                native: same_width.then_some(nv.as_slice()),
                native_all: rv,
                shared: &yv,
                test: &views(&test),
                test_mu: &mus,
                within: &d.within,
                inter_native: d.inter_native.as_ref(),
                inter_shared: &d.inter_shared,
                resamples: s.bootstrap,
                seed: s.seed,
            },
            &mut isc,
            &mut rsa,
        )
    } else {
        if s.bootstrap > 0 {
            notes.push(format!(
                "no intervals or chance levels: {n_test} held-out images (at most {UNCERTAINTY_MAX_IMAGES})"
            ));
        }
        None
    };
    drop(dense);
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }
    next_step(progress, Stage::Metrics, 0.8);
    // Square W_i make the shared data a rotation of the native data (centring commutes with
    // W), so the rotation-invariant Procrustes distances are the native ones exactly.
    let rotation = model
        .w
        .iter()
        .zip(&test)
        .all(|(w, x)| w.nrows() == w.ncols() && w.nrows() == x.ncols());
    // The pairwise measures hold image × image kernels per network, so they share the
    // intervals' size limit.
    // Each network's summary centres its data itself: the native data as given stand in for
    // the centred copy, which goes before the summaries are built (one copy of the held-out
    // data less at this step's peak).
    drop(raw_test);
    drop(nv);
    drop(native_c);
    let pairs = if n_test > UNCERTAINTY_MAX_IMAGES {
        notes.push(format!(
            "no pairwise similarity matrices: {n_test} held-out images (at most {UNCERTAINTY_MAX_IMAGES})"
        ));
        None
    } else {
        // The k-NN measure needs 1 ≤ k < held-out images: say so when --knn is clamped.
        let knn_used = s.knn.clamp(1, n_test.saturating_sub(1).max(1));
        if knn_used != s.knn {
            notes.push(format!(
                "--knn {}: {n_test} held-out images allow at most {}; the mutual k-NN used k = {knn_used}",
                s.knn,
                n_test.saturating_sub(1).max(1)
            ));
        }
        match pair_measures(&views(&test), &yv, s.knn, rotation) {
            Ok(p) => Some(p),
            Err(e) => {
                notes.push(format!("pairwise similarity measures skipped: {e}"));
                None
            }
        }
    };
    if progress.cancelled() {
        return Err(AnalysisError::Cancelled);
    }

    let scene = match early_scene {
        Some(scene) => scene,
        None => scene_now(None, &mut notes)?,
    };
    drop((test, y_test));
    let metrics = Metrics {
        objective: model.objective.clone(),
        variance_explained: TrainTest {
            train: ve_train,
            test: ve_test,
            ci95: ve_ci95,
        },
        isc,
        rsa,
        procrustes_ve,
        pca_explained_variance: BeforeAfter {
            before: scene.evr_before,
            after: scene.evr_after,
        },
        fit_seconds,
        pairs,
        uncertainty: Some(UncertaintyInfo {
            bootstrap: s.bootstrap,
            seed: s.seed,
            level: super::uncertainty::LEVEL,
            chance_shuffles_isc: super::uncertainty::CHANCE_SHUFFLES_ISC,
            chance_shuffles_rsa: super::uncertainty::CHANCE_SHUFFLES_RSA,
            // The neighbours the measure used (--knn, clamped to the held-out images).
            knn: s.knn.clamp(1, n_test.saturating_sub(1).max(1)),
        }),
        split: Some(ImageSplit {
            train: train_idx.clone(),
            test: test_idx.clone(),
        }),
    };
    progress.stage(Stage::Pca, 1.0);
    Ok(PipelineOutput {
        k: model.k(),
        model,
        metrics,
        scene,
        train_idx,
        test_idx,
        units_kept,
        notes,
    })
}

/// The "before" half of the scene: the joint 3D PCA of the smoothed native held-out data. It
/// needs no fit, so a viewer can show it while the fit runs.
pub(crate) struct NativeView {
    /// n_frames × 3 scores per network, before the view's global scaling.
    scores: Vec<Array2<f64>>,
    evr: [f64; 3],
    padded: bool,
    /// The smoothing window actually used.
    window: usize,
    notes: Vec<String>,
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
fn native_view(
    s: &Settings,
    test: &[Array2<f64>],
    mus: &[Option<&ndarray::Array1<f64>>],
) -> Result<NativeView, AnalysisError> {
    let n_test = test.first().map_or(0, |x| x.nrows());
    let mut notes = Vec::new();
    let w = s.smooth.max(1).min(n_test);
    if w < s.smooth {
        notes.push(format!(
            "smoothing window clipped from {} to {w} ({n_test} test images)",
            s.smooth
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
fn assemble_scene(
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

/// The image × image RSMs behind the headline RSA and its intervals.
struct DenseRsms {
    within: Array2<f64>,
    inter_native: Option<Array2<f64>>,
    inter_shared: Array2<f64>,
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
