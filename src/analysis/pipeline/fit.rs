//! The runs that fit: k checked against the data, the native preview while the fit runs, SRM
//! or Procrustes on the training images, then everything after the fit.

use super::finish::{finish_inspect, Hooks};
use super::output::{check_finite_results, Inspect, Partial, PipelineOutput, Preview};
use super::prepare::{checked, prepare_checked, prepare_releasing_checked, Prepared};
use super::scene::{assemble_scene, native_view, NativeView};
use super::step::{check_cancel, next_step, views, Run};
use crate::align::{self, AlignOptions, ImageSplit, Model};
use crate::analysis::metrics::BeforeAfter;
use crate::analysis::{AnalysisError, Metrics, Settings, SettingsGuard, ValidSettings};
use crate::data::Dataset;
use crate::progress::{Progress, Stage};
use ndarray::Array1;
use std::time::Instant;

/// The whole pipeline on `ds`: prepare, fit, then everything after the fit.
pub fn run(
    ds: &Dataset,
    s: &impl SettingsGuard,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let s = checked(ds, s)?;
    let prep = prepare_checked(ds, &s, None)?;
    fit_prepared(ds, &s, prep, progress, None, None)
}

/// As [`run`], for callers that need the raw activations no more (the CLI's `fit` and
/// `export`): each network's raw data is freed as soon as it is prepared, so the peak holds
/// about one copy of the data instead of two.
pub fn run_owned(
    mut ds: Dataset,
    s: &impl SettingsGuard,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let s = checked(&ds, s)?;
    let prep = prepare_releasing_checked(&mut ds, &s)?;
    fit_prepared(&ds, &s, prep, progress, None, None)
}

/// As [`run`], handing the trajectories to `preview` as soon as they exist (the viewer draws
/// them while the measures, most of the time after a large fit, are computed).
pub fn run_preview(
    ds: &Dataset,
    s: &impl SettingsGuard,
    progress: &Progress,
    preview: Preview<'_>,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let s = checked(ds, s)?;
    let prep = prepare_checked(ds, &s, None)?;
    fit_prepared(ds, &s, prep, progress, None, Some(preview))
}

/// As [`run_owned`], handing the held-out data to `inspect` before it is freed.
pub fn run_owned_inspect(
    mut ds: Dataset,
    s: &impl SettingsGuard,
    progress: &Progress,
    inspect: Inspect<'_>,
) -> Result<PipelineOutput, AnalysisError> {
    progress.stage(Stage::Preprocess, 0.0);
    let s = checked(&ds, s)?;
    let prep = prepare_releasing_checked(&mut ds, &s)?;
    fit_prepared(&ds, &s, prep, progress, Some(inspect), None)
}

/// The fit on prepared data, then everything after it; `inspect` and `preview` watch.
fn fit_prepared<'h>(
    ds: &Dataset,
    s: &ValidSettings,
    prep: Prepared,
    progress: &Progress,
    inspect: Option<Inspect<'h>>,
    preview: Option<Preview<'h>>,
) -> Result<PipelineOutput, AnalysisError> {
    let names = ds.names();
    let k = resolved_k(s, &prep, &names)?;
    check_cancel(progress)?;
    let params = fit_params(ds, &names, s, k, &prep);
    // A viewer shows the native trajectories while the fit runs; the same view is the final
    // scene's "before" half.
    let mut preview = preview;
    let native = match preview.as_mut() {
        Some(show) => Some(show_native(ds, &names, s, &prep, k, progress, show)?),
        None => None,
    };
    check_cancel(progress)?;
    let (model, fit_seconds) = fit_model(&names, &prep, &align_options(s, k), params, progress)?;
    check_cancel(progress)?;
    let hooks = Hooks {
        inspect,
        preview: preview.map(|show| (show, native)),
    };
    let run = Run { ds, s, progress };
    let mut out = check_finite_results(
        finish_inspect(&run, prep, model, fit_seconds, hooks)?,
        &ds.name,
    )?;
    out.notes.extend(s.notes());
    Ok(out)
}

/// The k of `s` (None: the smallest unit count), refused where a network or the training
/// images are too few for it.
fn resolved_k(s: &Settings, prep: &Prepared, names: &[String]) -> Result<usize, AnalysisError> {
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
    Ok(k)
}

/// The model's `params`: JSON of every setting and what the fit saw.
fn fit_params(ds: &Dataset, names: &[String], s: &Settings, k: usize, prep: &Prepared) -> String {
    serde_json::json!({
        "dataset": ds.name,
        "networks": names,
        "settings": s,
        "k_resolved": k,
        "n_train": prep.train_idx.len(),
        "n_test": prep.test_idx.len(),
        "srmscope": env!("CARGO_PKG_VERSION"),
        "linalg": crate::linalg::BACKEND,
    })
    .to_string()
}

fn align_options(s: &Settings, k: usize) -> AlignOptions {
    AlignOptions {
        algo: s.algo,
        k,
        n_iter: s.n_iter,
        tol: s.tol,
        seed: s.seed,
        init: s.init,
        center: s.center,
        precision: s.precision,
    }
}

/// Makes the native half of the scene and hands it to the preview ([`Partial::Native`]) before
/// the fit; returns it for the final scene.
fn show_native(
    ds: &Dataset,
    names: &[String],
    s: &ValidSettings,
    prep: &Prepared,
    k: usize,
    progress: &Progress,
    show: &mut Preview<'_>,
) -> Result<NativeView, AnalysisError> {
    next_step(progress, Stage::Pca, 0.0);
    let mus: Vec<Option<Array1<f64>>> = prep
        .train
        .iter()
        .map(|x| (s.center == align::Center::On).then(|| align::column_means(&x.view())))
        .collect();
    let mus: Vec<Option<&Array1<f64>>> = mus.iter().map(Option::as_ref).collect();
    let view = native_view(s.smooth, &prep.test, &mus)?;
    let metrics = Metrics {
        pca_explained_variance: BeforeAfter {
            before: view.evr,
            after: [f64::NAN; 3],
        },
        ..Default::default()
    };
    show(
        Partial::Native,
        PipelineOutput::preview(
            metrics,
            assemble_scene(ds, names, &view, None, &prep.test_idx)?,
            &prep.train_idx,
            &prep.test_idx,
            &prep.units_kept,
            k,
            view.notes.clone(),
        ),
    );
    Ok(view)
}

/// Fits the model on the training data and records in it what the model file keeps (units
/// kept, unit statistics, split); returns the fit's seconds with it.
fn fit_model(
    names: &[String],
    prep: &Prepared,
    opts: &AlignOptions,
    params: String,
    progress: &Progress,
) -> Result<(Model, f64), AnalysisError> {
    next_step(progress, Stage::Fit, 0.0);
    let t0 = Instant::now();
    let mut model =
        align::fit(names, &views(&prep.train), opts, params, progress).map_err(|e| match e {
            align::AlignError::Cancelled => AnalysisError::Cancelled,
            e => AnalysisError::Align(e),
        })?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    model.units_kept = prep.units_kept.clone();
    model.unit_norm = prep.unit_norm.clone();
    model.split = Some(ImageSplit {
        train: prep.train_idx.clone(),
        test: prep.test_idx.clone(),
    });
    Ok((model, fit_seconds))
}
