//! Scene-ready output of the pipeline: 3D trajectories per network, before and after alignment.

use serde::{Deserialize, Serialize};

/// One network's trajectory in both views. Points are already centred and scaled with one global
/// factor per view into [-1, 1] (the HyperTools look), one point per displayed frame.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Trajectory {
    pub name: String,
    pub before: Vec<[f32; 3]>,
    pub after: Vec<[f32; 3]>,
}

/// Everything the viewer and the exporter draw. Frames are the held-out images in display order
/// (sorted by class), after 'valid' smoothing.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SceneData {
    pub trajectories: Vec<Trajectory>,
    /// Index into the original image sequence of the first image of each frame's smoothing window.
    pub image_index: Vec<usize>,
    /// Class label of each frame (the label of the window's centre image), if labels exist.
    pub labels: Option<Vec<i64>>,
    /// Mean distance of each network to the others at each frame, in the 3D view's units.
    pub disagreement_before: Vec<f32>,
    pub disagreement_after: Vec<f32>,
    /// Explained-variance ratio of the three joint-PCA components of each view.
    pub evr_before: [f64; 3],
    pub evr_after: [f64; 3],
    /// True when networks had different unit counts and the "before" PCA zero-padded them.
    pub before_padded: bool,
}

impl SceneData {
    pub fn n_frames(&self) -> usize {
        self.trajectories.first().map_or(0, |t| t.before.len())
    }

    pub fn n_networks(&self) -> usize {
        self.trajectories.len()
    }
}
