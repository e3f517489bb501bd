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
    let mut a = Arrays {
        shown,
        arrays: arrays.into_iter().collect(),
    };
    let s = a
        .take_mat("s")?
        .ok_or_else(|| a.bad("no `s` array".into()))?;
    let mut maps = NetworkMaps::default();
    while let Some(wi) = a.take_mat(&format!("w_{}", maps.w.len()))? {
        a.push_network(&mut maps, wi, s.nrows())?;
    }
    let NetworkMaps { w, mu, unit_norm } = maps;
    if w.len() < 2 {
        return Err(a.bad(format!("found {} `w_<i>` arrays, need at least 2", w.len())));
    }
    let rho2 = a.take_vec("rho2")?;
    if rho2.as_ref().is_some_and(|r| r.len() != w.len()) {
        return Err(a.bad(format!("rho2 does not have {} entries", w.len())));
    }
    let sigma_s = a.take_mat("sigma_s")?;
    let objective = a
        .take_f64("objective")?
        .map(|o| o.iter().copied().collect())
        .unwrap_or_default();
    let center_transform = a.take_center_transform();
    let networks = a.take_networks(w.len())?;
    let params = a.take_params()?;
    let units_kept = a.take_units_kept(&w)?;
    let split = a.take_split()?;
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
        extra: a.arrays,
    })
}

/// A model file's arrays by name, each taken out as it is read and checked; what is left is
/// the extra arrays. `shown` names the file in messages.
struct Arrays<'s> {
    shown: &'s str,
    arrays: HashMap<String, NpyArray>,
}

/// The per-network arrays read so far: `w_<i>`, `mu_<i>` and the unit statistics.
#[derive(Default)]
struct NetworkMaps {
    w: Vec<Array2<f64>>,
    mu: Vec<Array1<f64>>,
    unit_norm: Vec<Option<UnitNorm>>,
}

fn invalid(shown: &str, reason: String) -> ModelIoError {
    ModelIoError::Invalid {
        path: shown.to_string(),
        reason,
    }
}

impl Arrays<'_> {
    fn bad(&self, reason: String) -> ModelIoError {
        invalid(self.shown, reason)
    }

    /// A numeric array by name; strings are an error, absence is None.
    fn take_f64(&mut self, key: &str) -> Result<Option<ArrayD<f64>>, ModelIoError> {
        match self.arrays.remove(key) {
            None => Ok(None),
            Some(a) => a
                .to_f64()
                .map(Some)
                .ok_or_else(|| self.bad(format!("`{key}` holds strings, not numbers"))),
        }
    }

    fn mat(&self, a: ArrayD<f64>, key: &str) -> Result<Array2<f64>, ModelIoError> {
        let a = a
            .into_dimensionality::<Ix2>()
            .map_err(|_| self.bad(format!("`{key}` is not 2-D")))?;
        if !all_finite(&a) {
            return Err(self.bad(format!("`{key}` contains NaN or infinite values")));
        }
        Ok(a)
    }

    fn vec1(&self, a: ArrayD<f64>, key: &str) -> Result<Array1<f64>, ModelIoError> {
        let a = a
            .into_dimensionality::<Ix1>()
            .map_err(|_| self.bad(format!("`{key}` is not 1-D")))?;
        if !all_finite(&a) {
            return Err(self.bad(format!("`{key}` contains NaN or infinite values")));
        }
        Ok(a)
    }

    /// A finite matrix by name.
    fn take_mat(&mut self, key: &str) -> Result<Option<Array2<f64>>, ModelIoError> {
        self.take_f64(key)?.map(|a| self.mat(a, key)).transpose()
    }

    /// A finite vector by name.
    fn take_vec(&mut self, key: &str) -> Result<Option<Array1<f64>>, ModelIoError> {
        self.take_f64(key)?.map(|a| self.vec1(a, key)).transpose()
    }

    /// Checks the map `wi` of the next network against k and appends it with its centre and
    /// unit statistics.
    fn push_network(
        &mut self,
        maps: &mut NetworkMaps,
        wi: Array2<f64>,
        k: usize,
    ) -> Result<(), ModelIoError> {
        let i = maps.w.len();
        if wi.ncols() != k {
            return Err(self.bad(format!(
                "w_{i} has {} columns but s has k = {k}",
                wi.ncols()
            )));
        }
        if wi.nrows() == 0 {
            return Err(self.bad(format!("w_{i} maps no units")));
        }
        let (units, shown) = (wi.nrows(), self.shown);
        let per_unit = |a: Array1<f64>, key: String| -> Result<Array1<f64>, ModelIoError> {
            if a.len() != units {
                return Err(invalid(
                    shown,
                    format!("{key} has {} entries but w_{i} maps {units} units", a.len()),
                ));
            }
            Ok(a)
        };
        let mui = match self.take_f64(&format!("mu_{i}"))? {
            Some(m) => per_unit(self.vec1(m, &format!("mu_{i}"))?, format!("mu_{i}"))?,
            None => Array1::zeros(units),
        };
        let mean = self.take_f64(&format!("norm_mean_{i}"))?;
        let std = self.take_f64(&format!("norm_std_{i}"))?;
        let norm = match (mean, std) {
            (None, None) => None,
            (Some(m), Some(sd)) => {
                let mean = per_unit(self.vec1(m, "norm_mean")?, format!("norm_mean_{i}"))?;
                let std = per_unit(self.vec1(sd, "norm_std")?, format!("norm_std_{i}"))?;
                if std.iter().any(|&v| v <= 0.0) {
                    return Err(self.bad(format!("norm_std_{i} holds a value ≤ 0")));
                }
                Some(UnitNorm { mean, std })
            }
            _ => return Err(self.bad(format!("norm_mean_{i} and norm_std_{i} must come together"))),
        };
        maps.w.push(wi);
        maps.mu.push(mui);
        maps.unit_norm.push(norm);
        Ok(())
    }

    /// Whether the transform centres (files without the flag: it does).
    fn take_center_transform(&mut self) -> bool {
        self.arrays
            .remove("center_transform")
            .and_then(|a| a.to_i64())
            .and_then(|a| a.iter().next().copied())
            .is_none_or(|v| v != 0)
    }

    /// One name per map (`net<i>` when the file names none).
    fn take_networks(&mut self, maps: usize) -> Result<Vec<String>, ModelIoError> {
        let networks = match self.arrays.remove("networks") {
            Some(a) => a
                .as_strings()
                .map(|s| s.to_vec())
                .ok_or_else(|| self.bad("`networks` is not a string array".into()))?,
            None => (0..maps).map(|i| format!("net{i}")).collect(),
        };
        if networks.len() != maps {
            return Err(self.bad(format!("{} network names for {maps} maps", networks.len())));
        }
        Ok(networks)
    }

    /// `params`: a JSON object, or empty.
    fn take_params(&mut self) -> Result<String, ModelIoError> {
        let Some(a) = self.arrays.remove("params") else {
            return Ok(String::new());
        };
        let text = a
            .as_str()
            .ok_or_else(|| self.bad("`params` is not a single string".into()))?;
        let object = serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.is_object());
        if !text.is_empty() && !object {
            return Err(self.bad("`params` is not a JSON object".into()));
        }
        Ok(text.to_string())
    }

    /// `units_<i>` of each map: increasing unit indices, one per row of `w_<i>`.
    fn take_units_kept(
        &mut self,
        w: &[Array2<f64>],
    ) -> Result<Vec<Option<Vec<usize>>>, ModelIoError> {
        let mut units_kept = Vec::with_capacity(w.len());
        for (i, wi) in w.iter().enumerate() {
            let key = format!("units_{i}");
            let Some(a) = self.arrays.remove(&key) else {
                units_kept.push(None);
                continue;
            };
            let idx = a
                .to_i64()
                .ok_or_else(|| self.bad(format!("`{key}` must hold integer unit indices")))?;
            if idx.ndim() != 1 {
                return Err(self.bad(format!("`{key}` is not 1-D")));
            }
            if idx.len() != wi.nrows() {
                return Err(self.bad(format!(
                    "{key} lists {} units but w_{i} maps {}",
                    idx.len(),
                    wi.nrows()
                )));
            }
            let mut cols = Vec::with_capacity(idx.len());
            for &u in idx.iter() {
                let u = usize::try_from(u)
                    .map_err(|_| self.bad(format!("{key} holds a negative unit index ({u})")))?;
                if cols.last().is_some_and(|&p| p >= u) {
                    return Err(self.bad(format!(
                        "{key} must list unit indices in increasing order without repeats"
                    )));
                }
                cols.push(u);
            }
            units_kept.push(Some(cols));
        }
        Ok(units_kept)
    }

    /// Image indices by name.
    fn take_indices(&mut self, key: &str) -> Result<Option<Vec<usize>>, ModelIoError> {
        let Some(a) = self.arrays.remove(key) else {
            return Ok(None);
        };
        let idx = a
            .to_i64()
            .ok_or_else(|| self.bad(format!("`{key}` must hold integer image indices")))?;
        if idx.ndim() != 1 {
            return Err(self.bad(format!("`{key}` is not 1-D")));
        }
        idx.iter()
            .map(|&i| {
                usize::try_from(i)
                    .map_err(|_| self.bad(format!("{key} holds a negative image index ({i})")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// `split_train` and `split_test`, both or neither.
    fn take_split(&mut self) -> Result<Option<super::ImageSplit>, ModelIoError> {
        match (
            self.take_indices("split_train")?,
            self.take_indices("split_test")?,
        ) {
            (None, None) => Ok(None),
            (Some(train), Some(test)) => Ok(Some(super::ImageSplit { train, test })),
            _ => Err(self.bad("split_train and split_test must come together".into())),
        }
    }
}
