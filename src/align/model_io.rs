//! The model file (`MODEL.npz`): `w_<i>` (units_i × k), `mu_<i>`, `s` (k × n_train), `rho2` and
//! `sigma_s` (prob only), `networks`, `params` (JSON of every setting), plus `objective`,
//! `center_transform`, `units_<i>` (kept unit indices, when subsampled), `settings` (JSON of the
//! pipeline settings alone) and `norm_mean_<i>` / `norm_std_<i>` (training unit statistics, with
//! unit normalisation), `split_train` / `split_test` (image indices of the split). Files without
//! the last four still load.

use super::{Model, UnitNorm};
use crate::data::{read_npz, read_npz_bytes, write_npz_atomic, DataError, NpyArray};
use ndarray::{Array1, Array2, ArrayD, Ix1, Ix2};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ModelIoError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{path}: not a usable srmscope model: {reason}")]
    Invalid { path: String, reason: String },
}

/// A model and the extra arrays a caller wants stored beside it (e.g. `settings`).
pub fn save_model(path: &Path, model: &Model) -> Result<(), ModelIoError> {
    save_model_with(path, model, Vec::new())
}

/// [`save_model`] plus `extra` arrays (names must not clash with the model's own).
pub fn save_model_with(
    path: &Path,
    model: &Model,
    extra: Vec<(String, NpyArray)>,
) -> Result<(), ModelIoError> {
    let mut arrays: Vec<(String, NpyArray)> = Vec::new();
    for (i, (w, mu)) in model.w.iter().zip(&model.mu).enumerate() {
        arrays.push((format!("w_{i}"), NpyArray::from_f64(w)));
        arrays.push((format!("mu_{i}"), NpyArray::from_f64(mu)));
    }
    for (i, kept) in model.units_kept.iter().enumerate() {
        if let Some(kept) = kept {
            let idx: Array1<i64> = kept.iter().map(|&u| u as i64).collect();
            arrays.push((format!("units_{i}"), NpyArray::from_i64(&idx)));
        }
    }
    for (i, norm) in model.unit_norm.iter().enumerate() {
        if let Some(n) = norm {
            arrays.push((format!("norm_mean_{i}"), NpyArray::from_f64(&n.mean)));
            arrays.push((format!("norm_std_{i}"), NpyArray::from_f64(&n.std)));
        }
    }
    if let Some(split) = &model.split {
        for (key, idx) in [("split_train", &split.train), ("split_test", &split.test)] {
            let idx: Array1<i64> = idx.iter().map(|&i| i as i64).collect();
            arrays.push((key.into(), NpyArray::from_i64(&idx)));
        }
    }
    arrays.push(("s".into(), NpyArray::from_f64(&model.s)));
    if let Some(rho2) = &model.rho2 {
        arrays.push(("rho2".into(), NpyArray::from_f64(rho2)));
    }
    if let Some(sigma_s) = &model.sigma_s {
        arrays.push(("sigma_s".into(), NpyArray::from_f64(sigma_s)));
    }
    arrays.push((
        "objective".into(),
        NpyArray::from_f64(&Array1::from(model.objective.clone())),
    ));
    arrays.push((
        "center_transform".into(),
        NpyArray::from_i64(&Array1::from(vec![model.center_transform as i64])),
    ));
    arrays.push((
        "networks".into(),
        NpyArray::strings(model.networks.iter().cloned()),
    ));
    arrays.push(("params".into(), NpyArray::string(model.params.clone())));
    arrays.extend(extra);
    write_npz_atomic(path, &arrays)?;
    Ok(())
}

/// A model file's arrays, checked; `extra` keeps the arrays the model itself does not use.
pub struct LoadedModel {
    pub model: Model,
    pub extra: HashMap<String, NpyArray>,
}

pub fn load_model(path: &Path) -> Result<Model, ModelIoError> {
    Ok(load_model_full(path)?.model)
}

/// [`load_model`], keeping the arrays it does not interpret.
pub fn load_model_full(path: &Path) -> Result<LoadedModel, ModelIoError> {
    let shown = path.display().to_string();
    from_arrays(&shown, read_npz(path)?)
}

/// A model file held in memory; `name` is used in messages. The fuzz target `model` drives this.
pub fn load_model_bytes(name: &str, bytes: &[u8]) -> Result<LoadedModel, ModelIoError> {
    from_arrays(name, read_npz_bytes(name, bytes)?)
}

fn all_finite<'a>(values: impl IntoIterator<Item = &'a f64>) -> bool {
    values.into_iter().all(|v| v.is_finite())
}

fn from_arrays(shown: &str, arrays: Vec<(String, NpyArray)>) -> Result<LoadedModel, ModelIoError> {
    let bad = |reason: String| ModelIoError::Invalid {
        path: shown.to_string(),
        reason,
    };
    let mut arrays: HashMap<String, NpyArray> = arrays.into_iter().collect();
    // A numeric array by name; strings are an error, absence is None.
    let mut take_f64 = |key: &str| -> Result<Option<ArrayD<f64>>, ModelIoError> {
        match arrays.remove(key) {
            None => Ok(None),
            Some(a) => a
                .to_f64()
                .map(Some)
                .ok_or_else(|| bad(format!("`{key}` holds strings, not numbers"))),
        }
    };
    let mat = |a: ArrayD<f64>, key: &str| -> Result<Array2<f64>, ModelIoError> {
        let a = a
            .into_dimensionality::<Ix2>()
            .map_err(|_| bad(format!("`{key}` is not 2-D")))?;
        if !all_finite(&a) {
            return Err(bad(format!("`{key}` contains NaN or infinite values")));
        }
        Ok(a)
    };
    let vec1 = |a: ArrayD<f64>, key: &str| -> Result<Array1<f64>, ModelIoError> {
        let a = a
            .into_dimensionality::<Ix1>()
            .map_err(|_| bad(format!("`{key}` is not 1-D")))?;
        if !all_finite(&a) {
            return Err(bad(format!("`{key}` contains NaN or infinite values")));
        }
        Ok(a)
    };
    let s = mat(
        take_f64("s")?.ok_or_else(|| bad("no `s` array".into()))?,
        "s",
    )?;
    let mut w = Vec::new();
    let mut mu = Vec::new();
    let mut unit_norm = Vec::new();
    while let Some(wi) = take_f64(&format!("w_{}", w.len()))? {
        let i = w.len();
        let wi = mat(wi, &format!("w_{i}"))?;
        if wi.ncols() != s.nrows() {
            return Err(bad(format!(
                "w_{i} has {} columns but s has k = {}",
                wi.ncols(),
                s.nrows()
            )));
        }
        if wi.nrows() == 0 {
            return Err(bad(format!("w_{i} maps no units")));
        }
        let units = wi.nrows();
        let per_unit = |a: Array1<f64>, key: String| -> Result<Array1<f64>, ModelIoError> {
            if a.len() != units {
                return Err(bad(format!(
                    "{key} has {} entries but w_{i} maps {units} units",
                    a.len()
                )));
            }
            Ok(a)
        };
        let mui = match take_f64(&format!("mu_{i}"))? {
            Some(m) => per_unit(vec1(m, &format!("mu_{i}"))?, format!("mu_{i}"))?,
            None => Array1::zeros(units),
        };
        let mean = take_f64(&format!("norm_mean_{i}"))?;
        let std = take_f64(&format!("norm_std_{i}"))?;
        let norm = match (mean, std) {
            (None, None) => None,
            (Some(m), Some(sd)) => {
                let mean = per_unit(vec1(m, "norm_mean")?, format!("norm_mean_{i}"))?;
                let std = per_unit(vec1(sd, "norm_std")?, format!("norm_std_{i}"))?;
                if std.iter().any(|&v| v <= 0.0) {
                    return Err(bad(format!("norm_std_{i} holds a value ≤ 0")));
                }
                Some(UnitNorm { mean, std })
            }
            _ => {
                return Err(bad(format!(
                    "norm_mean_{i} and norm_std_{i} must come together"
                )))
            }
        };
        w.push(wi);
        mu.push(mui);
        unit_norm.push(norm);
    }
    if w.len() < 2 {
        return Err(bad(format!(
            "found {} `w_<i>` arrays, need at least 2",
            w.len()
        )));
    }
    let rho2 = take_f64("rho2")?.map(|a| vec1(a, "rho2")).transpose()?;
    if rho2.as_ref().is_some_and(|r| r.len() != w.len()) {
        return Err(bad(format!("rho2 does not have {} entries", w.len())));
    }
    let sigma_s = take_f64("sigma_s")?
        .map(|a| mat(a, "sigma_s"))
        .transpose()?;
    let objective = take_f64("objective")?
        .map(|a| a.iter().copied().collect())
        .unwrap_or_default();
    let center_transform = arrays
        .remove("center_transform")
        .and_then(|a| a.to_i64())
        .and_then(|a| a.iter().next().copied())
        .is_none_or(|v| v != 0);
    let networks = match arrays.remove("networks") {
        Some(a) => a
            .as_strings()
            .map(|s| s.to_vec())
            .ok_or_else(|| bad("`networks` is not a string array".into()))?,
        None => (0..w.len()).map(|i| format!("net{i}")).collect(),
    };
    if networks.len() != w.len() {
        return Err(bad(format!(
            "{} network names for {} maps",
            networks.len(),
            w.len()
        )));
    }
    let params = match arrays.remove("params") {
        None => String::new(),
        Some(a) => {
            let text = a
                .as_str()
                .ok_or_else(|| bad("`params` is not a single string".into()))?;
            let object =
                serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.is_object());
            if !text.is_empty() && !object {
                return Err(bad("`params` is not a JSON object".into()));
            }
            text.to_string()
        }
    };
    let mut units_kept = Vec::with_capacity(w.len());
    for (i, wi) in w.iter().enumerate() {
        let key = format!("units_{i}");
        let Some(a) = arrays.remove(&key) else {
            units_kept.push(None);
            continue;
        };
        let idx = a
            .to_i64()
            .ok_or_else(|| bad(format!("`{key}` must hold integer unit indices")))?;
        if idx.ndim() != 1 {
            return Err(bad(format!("`{key}` is not 1-D")));
        }
        if idx.len() != wi.nrows() {
            return Err(bad(format!(
                "{key} lists {} units but w_{i} maps {}",
                idx.len(),
                wi.nrows()
            )));
        }
        let mut cols = Vec::with_capacity(idx.len());
        for &u in idx.iter() {
            let u = usize::try_from(u)
                .map_err(|_| bad(format!("{key} holds a negative unit index ({u})")))?;
            if cols.last().is_some_and(|&p| p >= u) {
                return Err(bad(format!(
                    "{key} must list unit indices in increasing order without repeats"
                )));
            }
            cols.push(u);
        }
        units_kept.push(Some(cols));
    }
    let mut indices = |key: &str| -> Result<Option<Vec<usize>>, ModelIoError> {
        let Some(a) = arrays.remove(key) else {
            return Ok(None);
        };
        let idx = a
            .to_i64()
            .ok_or_else(|| bad(format!("`{key}` must hold integer image indices")))?;
        if idx.ndim() != 1 {
            return Err(bad(format!("`{key}` is not 1-D")));
        }
        idx.iter()
            .map(|&i| {
                usize::try_from(i)
                    .map_err(|_| bad(format!("{key} holds a negative image index ({i})")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    };
    let split = match (indices("split_train")?, indices("split_test")?) {
        (None, None) => None,
        (Some(train), Some(test)) => Some(super::ImageSplit { train, test }),
        _ => return Err(bad("split_train and split_test must come together".into())),
    };
    Ok(LoadedModel {
        model: Model {
            networks,
            w,
            mu,
            s,
            rho2,
            sigma_s,
            objective,
            center_transform,
            params,
            units_kept,
            unit_norm,
            split,
        },
        extra: arrays,
    })
}
