//! A saved model applied to a dataset without fitting: the model's split and units, then
//! everything after the fit.

use super::finish::{finish_inspect, Hooks};
use super::output::{check_finite_results, Inspect, PipelineOutput};
use super::prepare::{checked, split_of, Prepared};
use super::step::Run;
use crate::align::{ImageSplit, Model};
use crate::analysis::model_file;
use crate::analysis::{AnalysisError, SettingsGuard, ValidSettings};
use crate::data::Dataset;
use crate::progress::{Progress, Stage};

/// Applies a saved model to a dataset without fitting: the same split and units as `s` (the
/// model's own settings), each network preprocessed by [`model_file::model_input`] with the
/// training statistics stored in the model, then everything after the fit.
pub fn apply_model(
    ds: &Dataset,
    s: &impl SettingsGuard,
    model: Model,
    progress: &Progress,
) -> Result<PipelineOutput, AnalysisError> {
    apply_model_inspect(ds, s, model, progress, None)
}

/// As [`apply_model`], handing the held-out data to `inspect` (studies reuse cached fits).
pub fn apply_model_inspect(
    ds: &Dataset,
    s: &impl SettingsGuard,
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
    let s = checked(ds, s)?;
    let mut model = model;
    let mut notes = Vec::new();
    let (train_idx, test_idx) = recorded_split(ds, &s, &mut model, &mut notes)?;
    if let Some(n) =
        model_file::fill_missing_unit_norm(&mut model, s.normalize, ds, Some(&train_idx))?
    {
        notes.push(n);
    }
    let prep = model_inputs(ds, &s, &model, train_idx, test_idx)?;
    let hooks = Hooks {
        inspect,
        preview: None,
    };
    let run = Run {
        ds,
        s: &s,
        progress,
    };
    let mut out = check_finite_results(finish_inspect(&run, prep, model, 0.0, hooks)?, &ds.name)?;
    out.notes.extend(notes);
    Ok(out)
}

/// The split the model recorded, when it fits these images; else the settings' split. The
/// model records the split used.
fn recorded_split(
    ds: &Dataset,
    s: &ValidSettings,
    model: &mut Model,
    notes: &mut Vec<String>,
) -> Result<(Vec<usize>, Vec<usize>), AnalysisError> {
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
    Ok((train_idx, test_idx))
}

/// Every network's training and held-out rows as the model's input.
fn model_inputs(
    ds: &Dataset,
    s: &ValidSettings,
    model: &Model,
    train_idx: Vec<usize>,
    test_idx: Vec<usize>,
) -> Result<Prepared, AnalysisError> {
    let mut train = Vec::new();
    let mut test = Vec::new();
    for (i, net) in ds.networks.iter().enumerate() {
        for (rows, out) in [(&train_idx, &mut train), (&test_idx, &mut test)] {
            out.push(model_file::network_input(
                model,
                s.normalize,
                i,
                net,
                Some(rows),
            )?);
        }
    }
    Ok(Prepared {
        train,
        test,
        train_idx,
        test_idx,
        units_kept: model.units_kept.clone(),
        unit_norm: model.unit_norm.clone(),
    })
}
