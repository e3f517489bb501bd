//! The model file (`MODEL.npz`): `w_<i>` (units_i × k), `mu_<i>`, `s` (k × n_train), `rho2` and
//! `sigma_s` (prob only), `networks`, `params` (JSON of every setting), plus `objective`,
//! `center_transform` and `units_<i>` (kept unit indices, when subsampled).

use super::Model;
use crate::data::{read_npz, write_npz_atomic, DataError, NpyArray};
use ndarray::{Array1, Array2, ArrayD, Ix1, Ix2};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ModelIoError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{path}: not a srmscope model: {reason}")]
    Invalid { path: String, reason: String },
}

pub fn save_model(path: &Path, model: &Model) -> Result<(), ModelIoError> {
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
    write_npz_atomic(path, &arrays)?;
    Ok(())
}

pub fn load_model(path: &Path) -> Result<Model, ModelIoError> {
    let shown = path.display().to_string();
    let bad = |reason: String| ModelIoError::Invalid {
        path: shown.clone(),
        reason,
    };
    let mut arrays: HashMap<String, NpyArray> = read_npz(path)?.into_iter().collect();
    let mut take_f64 =
        |key: &str| -> Option<ArrayD<f64>> { arrays.remove(key).and_then(|a| a.to_f64()) };
    let mat = |a: ArrayD<f64>, key: &str| -> Result<Array2<f64>, ModelIoError> {
        a.into_dimensionality::<Ix2>()
            .map_err(|_| bad(format!("`{key}` is not 2-D")))
    };
    let vec1 = |a: ArrayD<f64>, key: &str| -> Result<Array1<f64>, ModelIoError> {
        a.into_dimensionality::<Ix1>()
            .map_err(|_| bad(format!("`{key}` is not 1-D")))
    };
    let s = mat(
        take_f64("s").ok_or_else(|| bad("no `s` array".into()))?,
        "s",
    )?;
    let mut w = Vec::new();
    let mut mu = Vec::new();
    while let Some(wi) = take_f64(&format!("w_{}", w.len())) {
        let i = w.len();
        let wi = mat(wi, &format!("w_{i}"))?;
        if wi.ncols() != s.nrows() {
            return Err(bad(format!(
                "w_{i} has {} columns but s has k = {}",
                wi.ncols(),
                s.nrows()
            )));
        }
        let mui = match take_f64(&format!("mu_{i}")) {
            Some(m) => vec1(m, &format!("mu_{i}"))?,
            None => Array1::zeros(wi.nrows()),
        };
        if mui.len() != wi.nrows() {
            return Err(bad(format!(
                "mu_{i} has {} entries for {} units",
                mui.len(),
                wi.nrows()
            )));
        }
        w.push(wi);
        mu.push(mui);
    }
    if w.len() < 2 {
        return Err(bad(format!(
            "found {} `w_<i>` arrays, need at least 2",
            w.len()
        )));
    }
    let rho2 = take_f64("rho2").map(|a| vec1(a, "rho2")).transpose()?;
    let sigma_s = take_f64("sigma_s").map(|a| mat(a, "sigma_s")).transpose()?;
    let objective = take_f64("objective")
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
    let params = arrays
        .remove("params")
        .and_then(|a| a.as_str().map(String::from))
        .unwrap_or_default();
    let units_kept = (0..w.len())
        .map(|i| {
            arrays
                .remove(&format!("units_{i}"))
                .and_then(|a| a.to_i64())
                .map(|a| a.iter().map(|&u| u.max(0) as usize).collect())
        })
        .collect();
    Ok(Model {
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
    })
}
