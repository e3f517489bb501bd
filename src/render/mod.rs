//! Trajectory geometry, camera maths, the three-d scene, offscreen frames, GIF and PNG.
//!
//! The split follows who needs what: `camera`, `style` and `geometry` are pure maths that the
//! viewer also uses for picking and UI; `scene` draws on any three-d context (the egui paint
//! callback or an offscreen target); `headless`, `overlay` and `export` only exist for files.

pub mod error;

// GL, egui and encoders: only with the `gui` feature.
#[cfg(feature = "gui")]
pub mod camera;
pub mod demo;
#[cfg(feature = "gui")]
pub mod export;
pub mod geometry;
#[cfg(feature = "gui")]
pub mod headless;
pub mod html;
#[cfg(feature = "gui")]
pub mod inset;
#[cfg(feature = "gui")]
pub mod overlay;
#[cfg(feature = "gui")]
pub mod scene;
pub mod style;
#[cfg(feature = "gui")]
pub mod text;
#[cfg(feature = "gui")]
pub mod ui_offscreen;

#[cfg(feature = "gui")]
pub use camera::OrbitCamera;
pub use error::RenderError;
#[cfg(feature = "gui")]
pub use export::{
    export, render_single_png, BothLayout, ExportFormat, ExportOptions, ExportSummary, ExportView,
};
#[cfg(feature = "gui")]
pub use headless::HeadlessGl;
#[cfg(feature = "gui")]
pub use overlay::Overlay;
#[cfg(feature = "gui")]
pub use scene::{FrameState, SceneRenderer};
pub use style::{label_palette, palette, Ghost, ViewStyle};
