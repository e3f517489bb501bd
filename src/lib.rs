//! srmscope: align the hidden-layer activations of several networks with the Shared Response
//! Model (as in BrainIAK) and look at them as 3D PCA trajectories, before and after alignment.
//!
//! The compute core (`data`, `linalg`, `align`, `analysis`) never touches GUI crates; `render`
//! draws with three-d on any GL context; `app` is the eframe viewer. Both GUI layers (`app`, and
//! the GL half of `render`) exist only with the default `gui` feature.

pub mod align;
pub mod analysis;
#[cfg(feature = "gui")]
pub mod app;
pub mod data;
pub mod interrupt;
pub mod linalg;
pub mod memory;
pub mod progress;
pub mod render;
