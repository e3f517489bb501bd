//! Trajectory geometry, camera maths, the three-d scene, offscreen frames, GIF and PNG.
//!
//! The split follows who needs what: `camera`, `style` and `geometry` are pure maths that the
//! viewer also uses for picking and UI; `scene` draws on any three-d context (the egui paint
//! callback or an offscreen target); `headless`, `overlay` and `export` only exist for files.

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

use std::path::PathBuf;

/// Errors of the render layer. Messages are shown to users as they are, so they name the path
/// or the missing system package.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No OpenGL context could be created (no Mesa/EGL, no device).
    #[error("cannot create an OpenGL context: {0} (on Debian/Ubuntu install libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1)")]
    NoContext(String),
    /// three-d or the driver refused something (shader, texture, framebuffer).
    #[error("OpenGL error: {0}")]
    Gl(String),
    /// The scene cannot be drawn as given.
    #[error("invalid scene: {0}")]
    Scene(String),
    /// Export options that make no sense (zero size, zero frames, ...).
    #[error("invalid export options: {0}")]
    Options(String),
    /// A file or folder could not be written; the message names the path and the cause.
    #[error("cannot write {}: {}", path.display(), io_hint(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The GIF or PNG encoder failed.
    #[error("cannot encode {}: {msg}", path.display())]
    Encode { path: PathBuf, msg: String },
    #[error("export cancelled")]
    Cancelled,
    /// The output path was refused or the finished file could not be published.
    #[error("{0}")]
    Output(String),
}

impl RenderError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RenderError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Turns the two errors users actually hit into plain words; the OS text stays appended.
fn io_hint(e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull {
        format!("the disk is full ({e})")
    } else if e.kind() == std::io::ErrorKind::PermissionDenied {
        format!("permission denied ({e})")
    } else {
        e.to_string()
    }
}

#[cfg(feature = "gui")]
impl From<three_d::CoreError> for RenderError {
    fn from(e: three_d::CoreError) -> Self {
        RenderError::Gl(e.to_string())
    }
}
