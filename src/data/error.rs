//! The one error type of the data layer. Every variant names the file (and, inside an `.npz`,
//! the array as `file:array`) so a message alone tells the user what to fix.

use std::io;

/// Why loading or writing arrays failed. `Display` gives one complete sentence-like message that
/// starts with the file (or `file:array`) it is about.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The path does not exist.
    #[error("{path}: no such file or folder")]
    Missing { path: String },

    /// An input that is neither `.npy`, `.npz`, a folder nor `demo:<name>`.
    #[error(
        "{path}: unsupported input ({reason}); expected a .npy file, a .npz archive, \
         a folder of .npy files or demo:<name>"
    )]
    Unsupported { path: String, reason: String },

    /// A FIFO, device, socket or folder where a file is read: refused before it is opened (a
    /// FIFO would block, a device never end).
    #[error("{path}: {kind}, not a regular file")]
    NotRegular { path: String, kind: String },

    /// A study (a folder with study.json, its manifest, a study .zip or `demo:<study>`) given
    /// where a set of networks is expected.
    #[error("{path}: a study, not a set of networks; run it with `srmscope study {path}`")]
    IsStudy { path: String },

    /// The operating system refused to read (permissions, I/O errors...).
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },

    /// Writing failed (disk full, permissions, missing folder...). Nothing was left behind.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },

    /// Truncated or damaged file, bad `.npy` header, bad zip archive.
    #[error("{what}: {reason}")]
    Corrupt { what: String, reason: String },

    /// A dtype this tool cannot use as numbers (complex, object, string, structured...).
    #[error("{what}: unsupported dtype {dtype} ({reason})")]
    Dtype {
        what: String,
        dtype: String,
        reason: String,
    },

    /// An array of the wrong dimensionality or an empty one.
    #[error("{what}: {reason}")]
    Shape { what: String, reason: String },

    /// NaN or infinite activations.
    #[error("{what}: contains {count} NaN/Inf values; the first is at image {image}, unit {unit}")]
    NonFinite {
        what: String,
        count: usize,
        image: usize,
        unit: usize,
    },

    /// Two networks recorded on different numbers of images.
    #[error(
        "networks disagree on the number of images: {first} has {first_n} images but \
         {other} has {other_n}; all networks must be recorded on the same images"
    )]
    Mismatch {
        first: String,
        first_n: usize,
        other: String,
        other_n: usize,
    },

    /// Fewer than two networks in all inputs together.
    #[error("need at least 2 networks to align, but found {found}: {detail}")]
    TooFew { found: usize, detail: String },

    /// The float64 copy would not fit in memory; refused before reading any data.
    #[error(
        "{what}: needs {} as float64{}, more than the {} {}",
        fmt_bytes(*.needed),
        if .total > .needed { format!(" ({} with the arrays loaded before it)", fmt_bytes(*.total)) } else { String::new() },
        fmt_bytes(*.limit),
        super::limits::limit_source(*.limit)
    )]
    TooLarge {
        what: String,
        needed: u64,
        total: u64,
        limit: u64,
    },

    /// Class labels that cannot be used.
    #[error("{what}: {reason}")]
    Labels { what: String, reason: String },

    /// `demo:<name>` with an unknown name.
    #[error("unknown demo set '{name}'; available: {available}")]
    UnknownDemo { name: String, available: String },

    /// SIGINT or SIGTERM arrived before the output was published; nothing was written.
    #[error("{path}: not written: interrupted")]
    Interrupted { path: String },

    /// An array passed to a writer whose shape and data disagree, or a bad array name.
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
}

/// Bytes as a short human string: `20.0 GB`, `512.0 MB`, `900 bytes` (decimal units). The one
/// formatter for every size shown to a user (CLI messages, errors, the viewer), so they agree.
pub fn fmt_bytes(b: u64) -> String {
    let f = b as f64;
    if f >= 1e9 {
        format!("{:.1} GB", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1} MB", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1} kB", f / 1e3)
    } else {
        format!("{b} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_message() {
        let e = DataError::TooLarge {
            what: "big.npy".into(),
            needed: 20_000_000_000,
            total: 20_000_000_000,
            limit: 18_000_000_000,
        };
        assert_eq!(
            e.to_string(),
            "big.npy: needs 20.0 GB as float64, more than the 18.0 GB this machine can spare"
        );
        let e = DataError::TooLarge {
            what: "b.npy".into(),
            needed: 10_000_000_000,
            total: 20_000_000_000,
            limit: 18_000_000_000,
        };
        assert!(e
            .to_string()
            .contains("(20.0 GB with the arrays loaded before it)"));
    }

    #[test]
    fn byte_formatting() {
        assert_eq!(fmt_bytes(900), "900 bytes");
        assert_eq!(fmt_bytes(1_500), "1.5 kB");
        assert_eq!(fmt_bytes(2_500_000), "2.5 MB");
    }
}
