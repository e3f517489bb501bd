//! Split, unit subsample and normalisation of every network: the data a fit starts from, and
//! the checks that refuse data no fit could use.

use crate::align::{Center, UnitNorm};
use crate::analysis::preprocess::{
    centred_columns, normalize, split_with, subsample_units, unit_stats,
};
use crate::analysis::{AnalysisError, Normalize, Settings, SettingsGuard, ValidSettings};
use crate::data::Dataset;
use ndarray::Array2;
use rayon::prelude::*;
use std::borrow::Cow;

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

/// Refuses a dataset no alignment could use.
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

/// Where every entry point checks what it is given: the dataset first, then the settings (once:
/// checked settings pass as they are).
pub(super) fn checked<'s>(
    ds: &Dataset,
    s: &'s impl SettingsGuard,
) -> Result<Cow<'s, ValidSettings>, AnalysisError> {
    check_dataset(ds)?;
    s.checked().map_err(AnalysisError::Invalid)
}

/// Split, subsample and normalise.
pub fn prepare(ds: &Dataset, s: &impl SettingsGuard) -> Result<Prepared, AnalysisError> {
    prepare_with_units(ds, s, None)
}

/// As [`prepare`], keeping the given units per network instead of drawing them (a saved model's).
pub fn prepare_with_units(
    ds: &Dataset,
    s: &impl SettingsGuard,
    units: Option<&[Option<Vec<usize>>]>,
) -> Result<Prepared, AnalysisError> {
    let s = checked(ds, s)?;
    prepare_checked(ds, &s, units)
}

/// [`prepare_with_units`] of a dataset and settings already [`checked`].
pub(super) fn prepare_checked(
    ds: &Dataset,
    s: &ValidSettings,
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
pub fn prepare_releasing(
    ds: &mut Dataset,
    s: &impl SettingsGuard,
) -> Result<Prepared, AnalysisError> {
    let s = checked(ds, s)?;
    prepare_releasing_checked(ds, &s)
}

/// [`prepare_releasing`] of a dataset and settings already [`checked`].
pub(super) fn prepare_releasing_checked(
    ds: &mut Dataset,
    s: &ValidSettings,
) -> Result<Prepared, AnalysisError> {
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

/// Makes the split; no network is prepared yet.
fn start_prepared(ds: &Dataset, s: &ValidSettings) -> Result<Prepared, AnalysisError> {
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
pub(super) fn split_of(
    ds: &Dataset,
    s: &ValidSettings,
) -> Result<(Vec<usize>, Vec<usize>), AnalysisError> {
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
    s: &ValidSettings,
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

/// The held-out data of every network as the RSMs' native space sees it (preprocessed, centred
/// with its own means unless `--center brainiak`), without fitting anything.
pub fn native_test(
    ds: &Dataset,
    s: &impl SettingsGuard,
) -> Result<Vec<Array2<f64>>, AnalysisError> {
    Ok(native_test_split(ds, s)?.0)
}

/// [`native_test`] and the images its rows are (`test_idx`), so that another run's held-out
/// rows can be paired with them by image, not by position.
pub fn native_test_split(
    ds: &Dataset,
    s: &impl SettingsGuard,
) -> Result<(Vec<Array2<f64>>, Vec<usize>), AnalysisError> {
    let s = checked(ds, s)?;
    let prep = prepare_checked(ds, &s, None)?;
    if s.center == Center::Brainiak {
        return Ok((prep.test, prep.test_idx));
    }
    let test = prep
        .test
        .iter()
        .map(|x| centred_columns(&x.view()))
        .collect();
    Ok((test, prep.test_idx))
}
