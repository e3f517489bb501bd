//! Checks on an array's header, before any of its data is read: dtype, shape, image count
//! against the first network, and the memory its float64 copy will take.

use crate::data::error::{fmt_bytes, DataError};
use crate::data::npy::{self, Header, Kind};

use super::loader::Loader;

impl Loader<'_> {
    /// A network's (images, units per image), with its memory counted against the limit.
    pub fn check_network_header(
        &mut self,
        h: &Header,
        what: &str,
    ) -> Result<(usize, usize), DataError> {
        let (n_images, n_units) = self.network_shape(h, what)?;
        if let Some(first) = self.networks.first() {
            if first.data.nrows() != n_images {
                return Err(DataError::Mismatch {
                    first: first.source.clone(),
                    first_n: first.data.nrows(),
                    other: what.to_string(),
                    other_n: n_images,
                });
            }
        }
        self.reserve_network(h, what, n_images, n_units)?;
        Ok((n_images, n_units))
    }

    /// (images, units per image) of a numeric array of two or more dimensions, neither empty.
    fn network_shape(&self, h: &Header, what: &str) -> Result<(usize, usize), DataError> {
        let shape_err = |reason: String| DataError::Shape {
            what: what.to_string(),
            reason,
        };
        if !h.descr.is_numeric() {
            return Err(DataError::Dtype {
                what: what.to_string(),
                dtype: h.descr_text.clone(),
                reason: "strings, not numbers".into(),
            });
        }
        let n_images =
            match h.shape.as_slice() {
                [] => return Err(shape_err(
                    "is a 0-d scalar; expected a 2-D array (images, units) with one row per image"
                        .into(),
                )),
                [n] => {
                    return Err(shape_err(format!(
                    "is 1-D with shape ({n},); expected a 2-D array (images, units) with one row \
                     per image (an array of class labels must be called 'labels')"
                )))
                }
                [n, ..] => *n,
            };
        // Empty before too large: (0, 10¹³, 10¹³) is "0 images", not an overflow.
        if n_images == 0 {
            return Err(shape_err(format!(
                "is empty: 0 images (shape {})",
                npy::fmt_shape(&h.shape)
            )));
        }
        let no_units = || {
            shape_err(format!(
                "is empty: 0 units per image (shape {})",
                npy::fmt_shape(&h.shape)
            ))
        };
        if h.shape[1..].contains(&0) {
            return Err(no_units());
        }
        let Some(n_units) = h.shape[1..]
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
        else {
            return Err(self.too_large(what, u64::MAX, u64::MAX));
        };
        if n_units == 0 {
            return Err(no_units());
        }
        Ok((n_images, n_units))
    }

    /// Counts the float64 copy of the units kept against the limit, and announces it when large.
    fn reserve_network(
        &mut self,
        h: &Header,
        what: &str,
        n_images: usize,
        n_units: usize,
    ) -> Result<(), DataError> {
        // Only the kept units stay (the whole array passes through while it is read).
        let kept = self.kept_units(n_units).map_or(n_units, |c| c.len());
        let needed = (n_images as u64)
            .checked_mul(kept as u64)
            .and_then(|c| c.checked_mul(8))
            .filter(|_| n_images.checked_mul(n_units).is_some());
        let Some(needed) = needed else {
            return Err(self.too_large(what, u64::MAX, u64::MAX));
        };
        let total = self.used.saturating_add(needed);
        if total > self.opts.max_bytes {
            return Err(self.too_large(what, needed, total));
        }
        self.used = total;
        if let Some(tell) = self
            .opts
            .announce
            .filter(|_| needed >= self.opts.announce_bytes)
        {
            tell(&format!(
                "{what}: shape {} will take {} as float64 ({} of the {} limit so far; \
                 --max-memory lowers it)",
                npy::fmt_shape(&h.shape),
                fmt_bytes(needed),
                fmt_bytes(total),
                fmt_bytes(self.opts.max_bytes)
            ));
        }
        Ok(())
    }

    fn too_large(&self, what: &str, needed: u64, total: u64) -> DataError {
        DataError::TooLarge {
            what: what.to_string(),
            needed,
            total,
            limit: self.opts.max_bytes,
        }
    }

    /// The number of labels, with their memory counted against the limit.
    pub fn check_labels_header(&mut self, h: &Header, what: &str) -> Result<usize, DataError> {
        let err = |reason: String| DataError::Labels {
            what: what.to_string(),
            reason,
        };
        if h.descr.kind == Kind::Unicode {
            return Err(err(format!(
                "holds strings ({}); class labels must be integers",
                h.descr_text
            )));
        }
        let ok = match h.shape.as_slice() {
            [_] => true,
            [a, b] => *a == 1 || *b == 1,
            _ => false,
        };
        if !ok {
            return Err(err(format!(
                "has shape {}; expected a 1-D array with one integer label per image",
                npy::fmt_shape(&h.shape)
            )));
        }
        let count = h
            .count()
            .ok_or_else(|| err("the shape is too large".into()))?;
        let needed = (count as u64).saturating_mul(8);
        let total = self.used.saturating_add(needed);
        if total > self.opts.max_bytes {
            return Err(self.too_large(what, needed, total));
        }
        self.used = total;
        Ok(count)
    }

    /// The units [`super::LoadOptions::keep_units`] keeps of the next network (None: all);
    /// indices beyond the stored count are ignored.
    pub fn kept_units(&self, n_units: usize) -> Option<Vec<usize>> {
        let pick = self.opts.keep_units.as_ref()?;
        let mut cols = (pick.0)(self.networks.len(), n_units)?;
        cols.retain(|&c| c < n_units);
        (cols.len() < n_units).then_some(cols)
    }
}
