//! One `.npy` stream into the [`Loader`]: header checks, size checks, the data (kept in its
//! stored precision where float32 holds it exactly), NaN/Inf.

use std::io::Read;

use ndarray::Array2;

use crate::data::activations::Activations;
use crate::data::dataset::Network;
use crate::data::error::DataError;
use crate::data::npy::{self, check_available, read_values, reorder, Header, Kind, Values, Want};
use crate::data::npz::drain;

use super::loader::{LabelArray, Loader, Role};

/// Rows read in blocks of about this many values: the whole array never exists as f64.
const READ_BLOCK_VALUES: usize = 1 << 20;

impl Loader<'_> {
    /// One `.npy` stream: header checks, size checks, data, NaN/Inf. `member`: an archive
    /// member, read to its end so the zip checksum is verified.
    pub fn array(
        &mut self,
        r: &mut impl Read,
        what: &str,
        available: Option<u64>,
        role: Role,
        member: bool,
    ) -> Result<(), DataError> {
        let h = npy::read_header(r, what)?;
        match role {
            Role::Labels => self.label_array(r, h, what, available, member),
            Role::Network(name) => self.network_array(r, &h, name, what, available, member),
        }
    }

    fn label_array(
        &mut self,
        r: &mut impl Read,
        h: Header,
        what: &str,
        available: Option<u64>,
        member: bool,
    ) -> Result<(), DataError> {
        let count = self.check_labels_header(&h, what)?;
        check_available(&h, what, available)?;
        let values = read_values(r, &h, count, Want::Native, what)?;
        if member {
            drain(r, what)?;
        }
        let values = match values {
            Values::F64(v) if h.fortran => Values::F64(reorder(v, &h, what)?),
            Values::I64(v) if h.fortran => Values::I64(reorder(v, &h, what)?),
            other => other,
        };
        self.labels.push(LabelArray {
            what: what.to_string(),
            shape: h.shape,
            values,
        });
        Ok(())
    }

    fn network_array(
        &mut self,
        r: &mut impl Read,
        h: &Header,
        name: String,
        what: &str,
        available: Option<u64>,
        member: bool,
    ) -> Result<(), DataError> {
        let (n_images, n_units) = self.check_network_header(h, what)?;
        check_available(h, what, available)?;
        if !h.fortran {
            let units = self.kept_units(n_units);
            let (data, non_finite) = read_rows(r, h, n_images, n_units, units.as_deref(), what)?;
            if member {
                // The zip checksum is verified before the values are complained about.
                drain(r, what)?;
            }
            if let Some(e) = non_finite {
                return Err(e);
            }
            self.push_network(name, what, h, data, units);
            return Ok(());
        }
        let data = read_fortran(r, h, n_images, n_units, what, member)?;
        let units = self.kept_units(n_units);
        let data = match &units {
            Some(cols) => data.select(ndarray::Axis(1), cols),
            None => data,
        };
        let data = if exact_in_f32(h) {
            // Decoded through f64 from values f32 holds exactly: no rounding.
            Activations::F32(data.mapv(|v| v as f32))
        } else {
            Activations::F64(data)
        };
        self.push_network(name, what, h, data, units);
        Ok(())
    }

    fn push_network(
        &mut self,
        name: String,
        what: &str,
        h: &Header,
        data: Activations,
        units: Option<Vec<usize>>,
    ) {
        let mut unique = name.clone();
        let mut k = 2;
        while self.networks.iter().any(|n| n.name == unique) {
            unique = format!("{name}_{k}");
            k += 1;
        }
        if unique != name {
            self.notes.push(format!(
                "{what}: renamed to '{unique}' because another network is already called '{name}'"
            ));
        }
        if h.shape.len() > 2 {
            self.notes.push(format!(
                "{unique}: flattened {} to {}",
                npy::fmt_shape(&h.shape),
                npy::fmt_shape(&[data.nrows(), h.shape[1..].iter().product()])
            ));
        }
        if h.descr.kind != Kind::Float {
            let to = if exact_in_f32(h) {
                "float32"
            } else {
                "float64"
            };
            self.notes
                .push(format!("{unique}: converted {} to {to}", h.descr_text));
        }
        self.networks.push(Network {
            name: unique,
            data,
            source: what.to_string(),
            dtype: h.descr_text.clone(),
            original_shape: h.shape.clone(),
            units,
        });
    }
}

/// A Fortran-order network array, whole, as float64 in C order, checked finite.
fn read_fortran(
    r: &mut impl Read,
    h: &Header,
    n_images: usize,
    n_units: usize,
    what: &str,
    member: bool,
) -> Result<Array2<f64>, DataError> {
    let values = read_values(r, h, n_images * n_units, Want::F64, what)?;
    if member {
        // Verify the zip checksum before trusting (or complaining about) the values.
        drain(r, what)?;
    }
    let Values::F64(data) = values else {
        return Err(DataError::Corrupt {
            what: what.to_string(),
            reason: "internal error: the data did not decode as numbers".into(),
        });
    };
    let data = reorder(data, h, what)?;
    check_finite(&data, n_units, what)?;
    Array2::from_shape_vec((n_images, n_units), data).map_err(|e| DataError::Corrupt {
        what: what.to_string(),
        reason: format!("internal error: {e}"),
    })
}
/// A C-order network array, decoded a block of rows at a time into its stored precision,
/// keeping `cols` (all when None). Every value is checked to be finite, kept or not: the
/// second value is the error for the first that is not (returned once the stream is drained).
fn read_rows(
    r: &mut impl Read,
    h: &Header,
    n_images: usize,
    n_units: usize,
    cols: Option<&[usize]>,
    what: &str,
) -> Result<(Activations, Option<DataError>), DataError> {
    let width = cols.map_or(n_units, <[usize]>::len);
    let narrow = exact_in_f32(h);
    let (mut out32, mut out64) = (Vec::new(), Vec::new());
    if narrow {
        out32.reserve_exact(n_images * width);
    } else {
        out64.reserve_exact(n_images * width);
    }
    let rows_per_block = (READ_BLOCK_VALUES / n_units.max(1)).max(1);
    let (mut bad, mut first_bad) = (0usize, None);
    let mut row = 0;
    while row < n_images {
        let rows = rows_per_block.min(n_images - row);
        let Values::F64(block) = read_values(r, h, rows * n_units, Want::F64, what)? else {
            return Err(DataError::Corrupt {
                what: what.to_string(),
                reason: "internal error: the data did not decode as numbers".into(),
            });
        };
        for (k, x) in block.iter().enumerate() {
            if !x.is_finite() {
                bad += 1;
                first_bad.get_or_insert(row * n_units + k);
            }
        }
        for values in block.chunks_exact(n_units.max(1)) {
            let kept = |j: &usize| values[*j];
            match (cols, narrow) {
                // Exact: these dtypes hold only values float32 represents.
                (Some(c), true) => out32.extend(c.iter().map(|j| kept(j) as f32)),
                (None, true) => out32.extend(values.iter().map(|&v| v as f32)),
                (Some(c), false) => out64.extend(c.iter().map(kept)),
                (None, false) => out64.extend_from_slice(values),
            }
        }
        row += rows;
    }
    let non_finite = first_bad.map(|k| DataError::NonFinite {
        what: what.to_string(),
        count: bad,
        image: k / n_units.max(1),
        unit: k % n_units.max(1),
    });
    let shape_err = |e: ndarray::ShapeError| DataError::Corrupt {
        what: what.to_string(),
        reason: format!("internal error: {e}"),
    };
    let data = if narrow {
        Activations::F32(Array2::from_shape_vec((n_images, width), out32).map_err(shape_err)?)
    } else {
        Activations::F64(Array2::from_shape_vec((n_images, width), out64).map_err(shape_err)?)
    };
    Ok((data, non_finite))
}

/// Whether every value of this dtype is a float32 (float16/32, bools, 8- and 16-bit integers).
fn exact_in_f32(h: &Header) -> bool {
    match h.descr.kind {
        Kind::Float => h.descr.size <= 4,
        Kind::Bool => true,
        Kind::Int | Kind::UInt => h.descr.size <= 2,
        Kind::Unicode => false,
    }
}

fn check_finite(data: &[f64], n_units: usize, what: &str) -> Result<(), DataError> {
    let mut count = 0usize;
    let mut first = None;
    for (k, x) in data.iter().enumerate() {
        if !x.is_finite() {
            count += 1;
            first.get_or_insert(k);
        }
    }
    match first {
        None => Ok(()),
        Some(k) => Err(DataError::NonFinite {
            what: what.to_string(),
            count,
            image: k / n_units.max(1),
            unit: k % n_units.max(1),
        }),
    }
}
