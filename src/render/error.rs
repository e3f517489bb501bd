//! The render layer's error, in its own file so that every part of `render/` can name it
//! without importing `render/mod.rs`.

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
    // Only the GL half of `render/` writes files itself.
    #[cfg(feature = "gui")]
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
