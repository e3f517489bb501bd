//! Animated GIF, PNG frame sequences and single PNGs, rendered offscreen.
//!
//! Options carry HyperTools' names where they mean the same (`duration`, `frame_rate`,
//! `tail_duration`, `rotations`, `zoom`, chemtrails/precog/bullettime as `ghost`); defaults are
//! chosen for GIFs rather than copied (see `ExportOptions::default`).
//!
//! Rooms: [`plan`] schedules the frames (head, tail, morph, camera turn); `frames` renders one
//! planned frame with GL and its overlays; [`palette`] builds the fixed GIF palette from the
//! scene's own colours and maps pixels through a lazily filled lookup table (~50× faster than
//! per-frame NeuQuant); `output` encodes on a worker thread while the next frame renders and
//! writes to a temporary name that is renamed at the end, so a failed or cancelled export leaves
//! nothing behind.
//!
//! `options.rs` holds the options and the summary, so the rooms read them without importing
//! this file.

mod frames;
mod options;
mod output;
pub mod palette;
pub mod plan;

pub use options::{BothLayout, ExportFormat, ExportOptions, ExportSummary, ExportView};
pub use output::{export, render_single_png};
pub use palette::{gif_palette, Quantizer};
pub use plan::{gif_delay_cs, plan_frames, PlannedFrame};
