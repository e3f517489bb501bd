//! A study on disk: a `study.json` manifest naming one dataset per (arch, layer, checkpoint)
//! cell, in a folder, in a `.zip` of that folder, or embedded (`demo:digits-study`).
//!
//! ```json
//! {"name": "digits", "labels": "labels.npy",
//!  "cells": [{"arch": "convnet", "layer": "conv1", "checkpoint": 0, "path": "convnet/e0/conv1.npz"}]}
//! ```
//! Paths are relative to the manifest. Every error names the manifest and, where it is about
//! one cell, the cell.
//!
//! Rooms: `manifest` (the file's layout and its cells' checks), `source` (a folder or an
//! archive, read alike), `open` (the [`Study`] type, opened and checked), `cells` (each cell's
//! files and dataset), `digest` (content digests for the cache).

mod cells;
mod digest;
pub(crate) mod manifest;
mod open;
mod source;

pub use digest::{hex, sha256_file, DigestMemo, NoMemo};
pub use manifest::{CellSpec, MANIFEST};
pub use open::{is_study, Study};
