//! A model file with its typed settings, and the one path from raw activations to shared-space
//! coordinates under a saved model. The CLI's `transform` and the viewer both go through here,
//! so new data are preprocessed exactly as the training data were.

use std::path::Path;

use ndarray::{Array2, ArrayView2, Axis};

use super::preprocess::{unit_stats, zscore_rows};
use super::{AnalysisError, Normalize, Settings};
use crate::align::model_io::{self, LoadedModel};
use crate::align::{Model, UnitNorm};
use crate::data::{Dataset, NpyArray};

/// A loaded model, the settings it was fitted with, and remarks about what had to be assumed.
#[derive(Clone, Debug)]
pub struct ModelFile {
    pub model: Model,
    pub settings: Settings,
    /// The dataset it was fitted on, when recorded.
    pub dataset: Option<String>,
    pub notes: Vec<String>,
}

/// Writes the model with its typed settings (array `settings`, JSON of [`Settings`]).
pub fn save(path: &Path, model: &Model, settings: &Settings) -> Result<(), AnalysisError> {
    let json = serde_json::to_string(settings)
        .map_err(|e| AnalysisError::Invalid(format!("cannot encode the settings: {e}")))?;
    model_io::save_model_with(
        path,
        model,
        vec![("settings".into(), NpyArray::string(json))],
    )?;
    Ok(())
}

pub fn load(path: &Path) -> Result<ModelFile, AnalysisError> {
    interpret(
        &path.display().to_string(),
        model_io::load_model_full(path)?,
    )
}

/// [`load`] from bytes in memory; `name` is used in messages.
pub fn load_bytes(name: &str, bytes: &[u8]) -> Result<ModelFile, AnalysisError> {
    interpret(name, model_io::load_model_bytes(name, bytes)?)
}

fn interpret(shown: &str, loaded: LoadedModel) -> Result<ModelFile, AnalysisError> {
    let LoadedModel { model, extra } = loaded;
    let bad = |reason: String| AnalysisError::Invalid(format!("{shown}: {reason}"));
    let mut notes = Vec::new();
    let params: Option<serde_json::Value> = serde_json::from_str(&model.params).ok();
    let settings = match extra.get("settings") {
        Some(a) => {
            let text = a
                .as_str()
                .ok_or_else(|| bad("`settings` is not a single string".into()))?;
            serde_json::from_str::<Settings>(text)
                .map_err(|e| bad(format!("`settings` is not valid: {e}")))?
        }
        None => match params.as_ref().and_then(|p| p.get("settings")) {
            Some(v) => serde_json::from_value::<Settings>(v.clone())
                .map_err(|e| bad(format!("`params` holds invalid settings: {e}")))?,
            None => {
                notes.push(format!(
                    "{shown}: no settings stored; assuming the defaults"
                ));
                Settings::default()
            }
        },
    };
    let settings = settings
        .check()
        .map_err(|e| bad(format!("stored settings: {e}")))?
        .into_inner();
    if settings.normalize == Normalize::Unit && model.unit_norm.iter().any(Option::is_none) {
        notes.push(format!(
            "{shown}: written before training unit statistics were stored; new data are \
             normalised with their own statistics"
        ));
    }
    let dataset = params
        .as_ref()
        .and_then(|p| p.get("dataset"))
        .and_then(|d| d.as_str())
        .map(String::from);
    Ok(ModelFile {
        model,
        settings,
        dataset,
        notes,
    })
}

/// The units of network `i` the model uses (None: all), checked against its `n_units`.
fn unit_columns<'m>(
    model: &'m Model,
    i: usize,
    n_units: usize,
    source: &str,
) -> Result<Option<&'m [usize]>, AnalysisError> {
    let want = model.w.get(i).map_or(0, |w| w.nrows());
    match model.units_kept.get(i).and_then(|u| u.as_deref()) {
        Some(cols) => {
            if let Some(&bad) = cols.iter().find(|&&c| c >= n_units) {
                return Err(AnalysisError::Invalid(format!(
                    "{source}: the model uses unit {bad} but the network has {n_units} units"
                )));
            }
            Ok(Some(cols))
        }
        None if n_units == want => Ok(None),
        None => Err(AnalysisError::Invalid(format!(
            "{source}: the model maps {want} units but the network has {n_units}"
        ))),
    }
}

/// Training statistics for unit normalisation where the model file lacks them (older files):
/// computed from `rows` of each network's kept units. Returns a note when anything was filled.
pub fn fill_missing_unit_norm(
    model: &mut Model,
    normalize: Normalize,
    ds: &Dataset,
    rows: Option<&[usize]>,
) -> Result<Option<String>, AnalysisError> {
    if normalize != Normalize::Unit {
        return Ok(None);
    }
    model.unit_norm.resize(model.w.len(), None);
    let mut filled = false;
    for (i, net) in ds.networks.iter().enumerate().take(model.w.len()) {
        if model.unit_norm[i].is_some() {
            continue;
        }
        let cols = unit_columns(model, i, net.data.ncols(), &net.source)?;
        let x = net.data.select_f64(rows, cols);
        let (mean, std) = unit_stats(&x.view());
        model.unit_norm[i] = Some(UnitNorm { mean, std });
        filled = true;
    }
    Ok(filled
        .then(|| "the model has no training unit statistics; used the new data's own".to_string()))
}

/// Network `i`'s raw activations (images × all units) as the model's input: the kept units, then
/// the fit's normalisation (training statistics for unit normalisation).
pub fn model_input(
    model: &Model,
    normalize: Normalize,
    i: usize,
    x: &ArrayView2<f64>,
    source: &str,
) -> Result<Array2<f64>, AnalysisError> {
    let x = match unit_columns(model, i, x.ncols(), source)? {
        Some(cols) => x.select(Axis(1), cols),
        None => x.to_owned(),
    };
    normalized(model, normalize, i, x, source)
}

/// [`model_input`] of `rows` (all when None) of a dataset network, taking only those rows and
/// the model's units out of its stored activations.
pub fn network_input(
    model: &Model,
    normalize: Normalize,
    i: usize,
    net: &crate::data::Network,
    rows: Option<&[usize]>,
) -> Result<Array2<f64>, AnalysisError> {
    let cols = unit_columns(model, i, net.data.ncols(), &net.source)?;
    normalized(
        model,
        normalize,
        i,
        net.data.select_f64(rows, cols),
        &net.source,
    )
}

/// The fit's normalisation of network `i`'s kept units.
fn normalized(
    model: &Model,
    normalize: Normalize,
    i: usize,
    mut x: Array2<f64>,
    source: &str,
) -> Result<Array2<f64>, AnalysisError> {
    match normalize {
        Normalize::None => {}
        Normalize::Row => zscore_rows(&mut x),
        Normalize::Unit => {
            let Some(Some(n)) = model.unit_norm.get(i) else {
                return Err(AnalysisError::Invalid(format!(
                    "{source}: the model has no training unit statistics"
                )));
            };
            if n.mean.len() != x.ncols() || n.std.len() != x.ncols() {
                return Err(AnalysisError::Invalid(format!(
                    "{source}: the model's unit statistics cover {} units, not {}",
                    n.mean.len(),
                    x.ncols()
                )));
            }
            x -= &n.mean;
            x /= &n.std;
        }
    }
    Ok(x)
}

/// For each of the model's networks, the dataset network it applies to: by name when the names
/// match in any order, else in order (with a note) when no name matches at all.
pub fn match_networks(
    model: &Model,
    ds: &Dataset,
) -> Result<(Vec<usize>, Option<String>), AnalysisError> {
    let names = ds.names();
    if ds.networks.len() != model.w.len() {
        return Err(AnalysisError::Invalid(format!(
            "the inputs hold {} networks ({}) but the model was fitted on {} ({})",
            ds.networks.len(),
            names.join(", "),
            model.w.len(),
            model.networks.join(", ")
        )));
    }
    if names == model.networks {
        return Ok(((0..names.len()).collect(), None));
    }
    let found: Vec<Option<usize>> = model
        .networks
        .iter()
        .map(|m| names.iter().position(|n| n == m))
        .collect();
    if let Some(order) = found.iter().copied().collect::<Option<Vec<usize>>>() {
        let mut seen = order.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() == order.len() {
            return Ok((
                order,
                Some(format!(
                    "networks matched to the model by name ({})",
                    model.networks.join(", ")
                )),
            ));
        }
    }
    if found.iter().all(Option::is_none) {
        return Ok((
            (0..names.len()).collect(),
            Some(format!(
                "no network name matches the model's ({}); mapped in the order given ({})",
                model.networks.join(", "),
                names.join(", ")
            )),
        ));
    }
    Err(AnalysisError::Invalid(format!(
        "the networks ({}) match the model's ({}) only in part; give the same networks",
        names.join(", "),
        model.networks.join(", ")
    )))
}

/// Every network of `ds` in the shared space (images × k), in the model's network order, plus
/// remarks. Unit normalisation uses the training statistics stored in the model.
pub fn transform_dataset(
    mf: &ModelFile,
    ds: &Dataset,
) -> Result<(Vec<Array2<f64>>, Vec<String>), AnalysisError> {
    require_all_units(ds)?;
    let (order, note) = match_networks(&mf.model, ds)?;
    let mut notes: Vec<String> = note.into_iter().collect();
    let ordered = Dataset {
        name: ds.name.clone(),
        networks: order.iter().map(|&j| ds.networks[j].clone()).collect(),
        labels: None,
        notes: Vec::new(),
        ..Default::default()
    };
    let mut model = mf.model.clone();
    if let Some(n) = fill_missing_unit_norm(&mut model, mf.settings.normalize, &ordered, None)? {
        notes.push(n);
    }
    let mut out = Vec::with_capacity(ordered.networks.len());
    for (i, net) in ordered.networks.iter().enumerate() {
        let x = network_input(&model, mf.settings.normalize, i, net, None)?;
        let y = model
            .transform(i, x.view())
            .map_err(|e| AnalysisError::Invalid(format!("{}: {e}", net.source)))?;
        out.push(y);
    }
    Ok((out, notes))
}

/// A saved model names stored units, so applying one needs every unit loaded.
pub fn require_all_units(ds: &Dataset) -> Result<(), AnalysisError> {
    match ds.networks.iter().find(|n| n.units.is_some()) {
        Some(net) => Err(AnalysisError::Invalid(format!(
            "{}: only some of its units were loaded; a saved model needs all of them (open the \
             files again)",
            net.source
        ))),
        None => Ok(()),
    }
}
