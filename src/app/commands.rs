//! Everything the UI can ask for. Widgets, keys and the 3D view push [`AppCommand`]s into a list
//! during a frame; [`crate::app::ViewerApp::apply`] is the one place that acts on them.
//!
//! Keeping the vocabulary in one enum makes every user action testable without a window and
//! greppable from the widget that emits it to the code that handles it.

use std::path::PathBuf;

use super::playback::PlaybackCommand;
use super::state::ViewOptions;
use super::worker::{DialogPurpose, SlotId};
use crate::analysis::Settings;
use crate::render::ExportOptions;

/// How the camera moves. Pixels are egui points in the 3D view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CameraCommand {
    Orbit {
        dx: f32,
        dy: f32,
    },
    Pan {
        dx: f32,
        dy: f32,
        viewport_height: f32,
    },
    /// Multiplicative; > 1 moves closer.
    Zoom(f32),
    /// A mouse-wheel delta in points.
    Scroll(f32),
    Reset,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    Playback(PlaybackCommand),
    Camera(CameraCommand),
    /// Display options: style, ghosts, cube, colour by class, layout.
    SetView(ViewOptions),
    /// Show/hide one network's line (legend click).
    ToggleNetwork {
        slot: SlotId,
        network: usize,
    },
    /// Solo a network (legend double-click); `None` shows all again.
    Solo {
        slot: SlotId,
        network: Option<usize>,
    },
    /// Highlight a network while its legend entry is hovered.
    Highlight {
        slot: SlotId,
        network: Option<usize>,
    },
    /// Load inputs (paths or `demo:<name>`) into a slot and fit with the current settings.
    Open {
        slot: SlotId,
        inputs: Vec<String>,
    },
    /// Files dropped on the window or picked in a dialog.
    OpenPaths {
        slot: SlotId,
        paths: Vec<PathBuf>,
    },
    /// Ask the desktop for files (runs on a worker; never from tests).
    ShowDialog(DialogPurpose),
    /// Remove the side-by-side comparison.
    CloseCompare,
    /// Refit the loaded data with these settings (the settings panel's Apply).
    Refit(Settings),
    /// Stop a background job.
    Cancel(u64),
    /// Render frames to a file on the worker.
    Export {
        options: Box<ExportOptions>,
        path: PathBuf,
    },
    /// PNG of the current frame of the primary view.
    Screenshot(PathBuf),
    SaveModel(PathBuf),
    LoadModel(PathBuf),
    DismissBanner(u64),
    /// Play a study cell's trajectories in the 3D view (grid click or arrow keys).
    SelectStudyCell {
        index: usize,
    },
    /// Close the Study view (stops its job).
    CloseStudy,
    /// Show or hide a side panel/window.
    TogglePanel(Panel),
}

/// Panels that can be shown or hidden from the top bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Settings,
    Metrics,
    Images,
    Export,
}

impl From<PlaybackCommand> for AppCommand {
    fn from(c: PlaybackCommand) -> Self {
        AppCommand::Playback(c)
    }
}

impl From<CameraCommand> for AppCommand {
    fn from(c: CameraCommand) -> Self {
        AppCommand::Camera(c)
    }
}
