//! The data layer: loading activations (`.npy` for one network, `.npz` for several, folders of
//! `.npy`, the embedded demo sets `demo:<name>`) with validation, and the `.npy`/`.npz` readers
//! and atomic writers everything else uses.
//!
//! Rooms: `npy` (format: header, decoding, reading, writing) and `npz` (zip plumbing, read and
//! write) are the formats; `files` opens inputs safely, `limits` probes memory; `dataset` holds
//! the [`Dataset`] type and its naming, `activations` a network's values in their stored
//! precision; `load` turns inputs into a `Dataset`; `embedded` holds the
//! demo bytes and [`demo`] loads them; `images`, `class_names` and `extras` are the optional
//! side arrays; [`output`] is the one atomic writer; [`study`] the study manifest; `printable`
//! makes names safe for terminals. Files import from the file that defines an item, not from
//! here, so no file and this surface use each other.

mod activations;
mod class_names;
mod dataset;
pub mod demo;
mod embedded;
mod error;
mod extras;
mod files;
mod images;
mod limits;
mod load;
mod npy;
mod npz;
pub mod output;
mod printable;
pub mod study;

pub use activations::Activations;
pub use class_names::{class_name, read_class_names_file};
pub use dataset::{Dataset, Network};
pub use demo::{load_demo, DEMOS};
pub use error::{fmt_bytes, DataError};
pub use extras::attach;
pub use files::read_bounded;
pub use images::{read_images_file, ImageSet, MAX_SIDE};
pub use limits::{memory_limit, set_max_memory, ANNOUNCE_BYTES, FALLBACK_MEMORY_LIMIT};
pub use load::{load, load_npz_bytes, load_with, KeepUnits, LoadOptions};
pub use npy::{read_npy, read_npy_bytes, write_npy_array_atomic, write_npy_atomic, NpyArray};
pub use npz::{read_npz, read_npz_bytes, read_npz_f64, write_npz_atomic};
pub use output::{check_output, output_target, write_atomic, AtomicFile};
pub use printable::printable;
