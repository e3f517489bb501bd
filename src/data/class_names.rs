//! Optional class names: label `k` is shown as `names[k]`. From a `class_names` string array in
//! the `.npz`, a `class_names.txt` (one a line) beside the inputs, or `--class-names FILE`.

use std::io::{BufReader, Read};
use std::path::Path;

use super::error::DataError;
use super::files::{open_sized, read_bounded};
use super::npy::{self, check_available, read_values, Values, Want};
use super::npz::drain;

/// Read a `.txt` (one name a line) or `.npy` (1-D strings) file of class names.
pub fn read_class_names_file(path: &Path) -> Result<Vec<String>, DataError> {
    let shown = path.display().to_string();
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if is_npy {
        let (file, size) = open_sized(path, &shown)?;
        return read_class_names(&mut BufReader::new(file), &shown, Some(size), false);
    }
    let bytes = read_bounded(path, &shown, MAX_CLASS_NAMES_BYTES)?;
    parse_class_names(&bytes, &shown)
}

/// The most a class names `.txt` may take (a million names of 64 bytes).
pub(crate) const MAX_CLASS_NAMES_BYTES: u64 = 64 << 20;

/// Class names as text, one a line: UTF-8 only (a folder and a zip read them alike), trimmed,
/// without the trailing blank lines an editor leaves.
pub(crate) fn parse_class_names(bytes: &[u8], shown: &str) -> Result<Vec<String>, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DataError::Corrupt {
        what: shown.to_string(),
        reason: "class names must be UTF-8 text, one name a line".into(),
    })?;
    let mut names: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    // A trailing blank line is an editor habit, not a class.
    while names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    if names.is_empty() {
        return Err(DataError::Shape {
            what: shown.to_string(),
            reason: "holds no class names".into(),
        });
    }
    Ok(names)
}

/// A 1-D string array of class names inside an `.npy` stream.
pub(crate) fn read_class_names(
    r: &mut impl Read,
    what: &str,
    available: Option<u64>,
    member: bool,
) -> Result<Vec<String>, DataError> {
    let h = npy::read_header(r, what)?;
    if h.descr.is_numeric() || h.shape.len() != 1 {
        return Err(DataError::Shape {
            what: what.into(),
            reason: format!(
                "class names must be a 1-D array of strings, not {} {}",
                npy::fmt_shape(&h.shape),
                h.descr_text
            ),
        });
    }
    check_available(&h, what, available)?;
    let count = h.shape[0];
    let values = read_values(r, &h, count, Want::Native, what)?;
    if member {
        drain(r, what)?;
    }
    match values {
        Values::Str(v) => Ok(v),
        _ => Err(DataError::Corrupt {
            what: what.into(),
            reason: "internal error: the class names did not decode as strings".into(),
        }),
    }
}

/// The name of class `label`, or the number when there is no name for it.
pub fn class_name(names: Option<&[String]>, label: i64) -> String {
    usize::try_from(label)
        .ok()
        .and_then(|k| names.and_then(|n| n.get(k)))
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| label.to_string())
}
