//! What `srmscope view` asks of the viewer, in its own file so that the viewer and the entry
//! point both read it without importing each other.

/// How `srmscope view` starts the viewer.
#[derive(Clone, Debug, Default)]
pub struct ViewerOptions {
    /// Files, folders or `demo:<name>`; empty opens the embedded demo `demo:convnet`.
    pub inputs: Vec<String>,
    /// An optional second dataset shown side by side, with synced time and camera.
    pub compare: Vec<String>,
    /// Play this many frames with vsync off, print median and p95 frame times, and exit.
    pub bench_frames: Option<usize>,
    /// Pipeline settings; `None` uses the ones remembered from the last session.
    pub settings: Option<crate::analysis::Settings>,
    /// Images in the bright head; `None` uses the remembered one.
    pub tail: Option<usize>,
    /// `--images FILE` for the inputs.
    pub images: Option<std::path::PathBuf>,
    /// `--class-names FILE` for the inputs.
    pub class_names: Option<std::path::PathBuf>,
}
