//! The native file dialogs a job can show (rfd over the XDG desktop portal), and how their
//! outcome is told apart from a missing portal.

use std::path::PathBuf;
use std::time::Duration;

use crate::app::slot::SlotId;

/// What a file dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Several `.npy` files or one `.npz` for a slot.
    OpenFiles(SlotId),
    /// A folder of `.npy` files for a slot.
    OpenFolder(SlotId),
    SaveModel,
    LoadModel,
    /// Where to write an export (the extension picks the format).
    ExportTo,
    Screenshot,
}

/// A dialog that returns `None` faster than this was not shown: no desktop portal answered.
pub const NO_PORTAL_THRESHOLD: Duration = Duration::from_millis(250);

#[derive(Clone, Debug, PartialEq)]
pub enum PickOutcome {
    Picked(Vec<PathBuf>),
    Cancelled,
    /// The dialog could not be shown at all (no xdg-desktop-portal on D-Bus).
    NoPortal,
}

/// Classify a dialog result by how long it took.
pub fn pick_outcome(paths: Option<Vec<PathBuf>>, elapsed: Duration) -> PickOutcome {
    match paths {
        Some(p) if !p.is_empty() => PickOutcome::Picked(p),
        _ if elapsed < NO_PORTAL_THRESHOLD => PickOutcome::NoPortal,
        _ => PickOutcome::Cancelled,
    }
}

pub(super) fn show_dialog(purpose: DialogPurpose) -> Option<Vec<PathBuf>> {
    let activations = |d: rfd::FileDialog| {
        d.add_filter("NumPy activations", &["npy", "npz"])
            .add_filter("Study (study.json or .zip)", &["json", "zip"])
    };
    match purpose {
        DialogPurpose::OpenFiles(slot) => activations(rfd::FileDialog::new())
            .set_title(format!(
                "Open activations ({}): several .npy or one .npz",
                slot.label()
            ))
            .pick_files(),
        DialogPurpose::OpenFolder(_) => rfd::FileDialog::new()
            .set_title("Open a folder of .npy activations or a study folder")
            .pick_folder()
            .map(|p| vec![p]),
        DialogPurpose::LoadModel => rfd::FileDialog::new()
            .set_title("Load a fitted model")
            .add_filter("srmscope model", &["npz"])
            .pick_file()
            .map(|p| vec![p]),
        DialogPurpose::SaveModel => rfd::FileDialog::new()
            .set_title("Save the fitted model")
            .add_filter("srmscope model", &["npz"])
            .set_file_name("model.npz")
            .save_file()
            .map(|p| vec![p]),
        DialogPurpose::ExportTo => rfd::FileDialog::new()
            .set_title("Export animation")
            .add_filter("GIF animation", &["gif"])
            .add_filter("PNG frames folder", &["png"])
            .set_file_name("trajectories.gif")
            .save_file()
            .map(|p| vec![p]),
        DialogPurpose::Screenshot => rfd::FileDialog::new()
            .set_title("Save screenshot")
            .add_filter("PNG image", &["png"])
            .set_file_name("srmscope.png")
            .save_file()
            .map(|p| vec![p]),
    }
}
