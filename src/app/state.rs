//! What the viewer shows, apart from the widgets: the loaded data of each view, the shared time
//! axis and camera, display options and messages. No egui in here; [`super::ViewerApp`] owns one
//! [`AppState`] and is the only code that mutates it (through commands).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::playback::{Playback, PlaybackPrefs};
use super::worker::{Fitted, Phase, SlotId};
use crate::analysis::{PipelineOutput, SceneData, Settings};
use crate::data::Dataset;
use crate::render::{FrameState, OrbitCamera, ViewStyle};

/// The embedded demo opened when no input is given.
pub const DEFAULT_DEMO: &str = "demo:convnet";
/// How many recent input lists the Open menu remembers.
pub const MAX_RECENT: usize = 8;

/// Display options the user edits in the view menu; everything the renderer needs besides time
/// and camera.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewOptions {
    /// Line width, ghosts, cube, colour by class, background. `style.tail` is overwritten by the
    /// playback tail when drawing.
    pub style: ViewStyle,
    /// Tooltips with image, class and network under the cursor.
    pub hover: bool,
    /// Draw the legend inside each 3D view.
    pub legend: bool,
}

impl Default for ViewOptions {
    fn default() -> Self {
        Self {
            style: ViewStyle {
                dark_background: true,
                show_legend: false,
                ..ViewStyle::default()
            },
            hover: true,
            legend: true,
        }
    }
}

/// A fitted dataset on screen.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub inputs: Vec<String>,
    pub dataset: Arc<Dataset>,
    pub output: Arc<PipelineOutput>,
    pub scene: Arc<SceneData>,
    pub settings: Settings,
    pub fit_seconds: f64,
    /// Changes whenever the scene does, so the GL side knows to rebuild its buffers.
    pub generation: u64,
    /// Native trajectories while the fit runs, both views while the measures are computed,
    /// or everything.
    pub phase: Phase,
}

impl Loaded {
    pub fn from_fitted(f: Fitted, generation: u64) -> Self {
        Self {
            scene: Arc::new(f.output.scene.clone()),
            inputs: f.inputs,
            dataset: f.dataset,
            output: f.output,
            settings: f.settings,
            fit_seconds: f.seconds,
            generation,
            phase: f.phase,
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.scene
            .trajectories
            .iter()
            .map(|t| t.name.clone())
            .collect()
    }

    /// Class label of a frame, when labels exist.
    pub fn label(&self, frame: usize) -> Option<i64> {
        self.scene
            .labels
            .as_ref()
            .and_then(|l| l.get(frame).copied())
    }

    /// Class of a frame as shown: its name when the dataset has class names.
    pub fn class(&self, frame: usize) -> Option<String> {
        self.label(frame).map(|c| self.dataset.class_name(c))
    }

    /// Original index of a frame's image: the centre of its smoothing window, the image whose
    /// class the frame carries (so the picture, the number and the class agree).
    pub fn image(&self, frame: usize) -> Option<usize> {
        if frame >= self.scene.n_frames() || self.output.test_idx.is_empty() {
            return self.scene.image_index.get(frame).copied();
        }
        crate::render::inset::centre_image(&self.output.test_idx, self.settings.smooth, frame)
    }
}

/// One 3D view's data and per-network display flags.
#[derive(Clone, Debug, Default)]
pub struct Slot {
    pub loaded: Option<Loaded>,
    /// Per-network visibility (legend clicks); missing entries are visible.
    pub visible: Vec<bool>,
    /// Network highlighted from the legend.
    pub highlight: Option<usize>,
    /// Inputs of a load in progress, for the placeholder text.
    pub pending: Option<Vec<String>>,
    /// The last complete fit, while a running fit's preview stands in for it: shown again if
    /// that fit is cancelled or fails.
    pub previous: Option<Loaded>,
}

impl Slot {
    pub fn n_frames(&self) -> usize {
        self.loaded.as_ref().map_or(0, |l| l.scene.n_frames())
    }

    pub fn is_visible(&self, k: usize) -> bool {
        self.visible.get(k).copied().unwrap_or(true)
    }

    pub fn toggle(&mut self, k: usize) {
        let n = self.loaded.as_ref().map_or(0, |l| l.scene.n_networks());
        if k >= n {
            return;
        }
        self.visible.resize(n, true);
        if let Some(v) = self.visible.get_mut(k) {
            *v = !*v;
        }
    }

    /// Show only `k` (or everything again when `k` is `None` or already the only one shown).
    pub fn solo(&mut self, k: Option<usize>) {
        let n = self.loaded.as_ref().map_or(0, |l| l.scene.n_networks());
        match k {
            Some(k) if k < n => {
                let only_k = (0..n).all(|i| self.is_visible(i) == (i == k));
                self.visible = (0..n).map(|i| only_k || i == k).collect();
            }
            _ => self.visible = vec![true; n],
        }
    }

    /// Put a new fit on screen, keeping visibility when the networks are the same.
    pub fn set_loaded(&mut self, loaded: Loaded) {
        let same = self
            .loaded
            .as_ref()
            .is_some_and(|old| old.names() == loaded.names());
        if !same {
            self.visible = vec![true; loaded.scene.n_networks()];
            self.highlight = None;
        }
        self.loaded = Some(loaded);
        self.pending = None;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BannerKind {
    Error,
    Warning,
    Info,
}

/// A dismissible message under the top bar.
#[derive(Clone, Debug)]
pub struct Banner {
    pub id: u64,
    pub kind: BannerKind,
    pub text: String,
    pub created: Instant,
}

impl Banner {
    /// Info messages go away by themselves after this many seconds; errors stay.
    pub const INFO_SECONDS: f32 = 8.0;
}

/// Which side panels and windows are open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelsOpen {
    pub settings: bool,
    pub metrics: bool,
    pub export: bool,
    /// "Most disagreeing images".
    pub images: bool,
}

impl Default for PanelsOpen {
    fn default() -> Self {
        Self {
            settings: true,
            metrics: true,
            export: false,
            images: true,
        }
    }
}

/// Everything remembered between sessions (eframe storage).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub settings: Settings,
    pub playback: PlaybackPrefs,
    pub view: ViewOptions,
    pub camera: Option<OrbitCamera>,
    pub recent: Vec<Vec<String>>,
    pub panels: PanelsOpen,
    pub export_dir: Option<PathBuf>,
}

/// The app's state, mutated only through [`super::ViewerApp::apply`].
pub struct AppState {
    pub primary: Slot,
    /// The side-by-side comparison, when open.
    pub compare: Option<Slot>,
    pub playback: Playback,
    /// One camera for both views: orbiting one turns the other.
    pub camera: OrbitCamera,
    pub view: ViewOptions,
    /// Settings of the next fit (the last applied ones).
    pub settings: Settings,
    pub banners: Vec<Banner>,
    pub recent: Vec<Vec<String>>,
    pub panels: PanelsOpen,
    pub export_dir: Option<PathBuf>,
    /// The open study, if any: its cells, results and selection.
    pub study: Option<super::study::StudyState>,
    next_generation: u64,
    next_banner: u64,
}

impl AppState {
    pub fn new(persisted: Persisted) -> Self {
        Self {
            primary: Slot::default(),
            compare: None,
            playback: Playback::new(0, &persisted.playback),
            camera: persisted.camera.unwrap_or_default(),
            view: persisted.view,
            settings: persisted.settings,
            banners: Vec::new(),
            recent: persisted.recent,
            // The export form starts from the view on screen, so it is never reopened by itself.
            panels: PanelsOpen {
                export: false,
                ..persisted.panels
            },
            export_dir: persisted.export_dir,
            study: None,
            next_generation: 1,
            next_banner: 1,
        }
    }

    pub fn persisted(&self) -> Persisted {
        Persisted {
            settings: self.settings.clone(),
            playback: self.playback.prefs(),
            view: self.view.clone(),
            camera: Some(self.camera),
            recent: self.recent.clone(),
            panels: self.panels.clone(),
            export_dir: self.export_dir.clone(),
        }
    }

    pub fn slot(&self, id: SlotId) -> Option<&Slot> {
        match id {
            SlotId::Primary => Some(&self.primary),
            SlotId::Compare => self.compare.as_ref(),
        }
    }

    pub fn slot_mut(&mut self, id: SlotId) -> &mut Slot {
        match id {
            SlotId::Primary => &mut self.primary,
            SlotId::Compare => self.compare.get_or_insert_with(Slot::default),
        }
    }

    pub fn loaded(&self, id: SlotId) -> Option<&Loaded> {
        self.slot(id).and_then(|s| s.loaded.as_ref())
    }

    /// Slots in display order (primary first).
    pub fn slots(&self) -> Vec<(SlotId, &Slot)> {
        let mut v = vec![(SlotId::Primary, &self.primary)];
        if let Some(c) = &self.compare {
            v.push((SlotId::Compare, c));
        }
        v
    }

    pub fn next_generation(&mut self) -> u64 {
        let g = self.next_generation;
        self.next_generation += 1;
        g
    }

    /// A later part of the fit on screen arrived: the aligned trajectories join the native
    /// ones (a new scene of the same frames, so playback and camera carry on), or the measures
    /// join the trajectories (the same scene: no GL rebuild). None when the slot does not show
    /// an earlier part of that fit; otherwise whether the aligned view just arrived.
    pub fn advance(&mut self, slot: SlotId, fitted: &Fitted) -> Option<bool> {
        let l = self.loaded(slot)?;
        let earlier = matches!(
            (l.phase, fitted.phase),
            (Phase::Aligning, Phase::Measuring | Phase::Done) | (Phase::Measuring, Phase::Done)
        );
        let same = earlier
            && l.inputs == fitted.inputs
            && l.scene.n_frames() == fitted.output.scene.n_frames()
            && l.scene.trajectories.len() == fitted.output.scene.trajectories.len();
        if !same {
            return None;
        }
        let aligned_now = l.phase == Phase::Aligning;
        let generation = aligned_now.then(|| self.next_generation());
        let s = self.slot_mut(slot);
        if fitted.phase == Phase::Done {
            s.previous = None;
        }
        let l = s.loaded.as_mut()?;
        if let Some(g) = generation {
            l.scene = Arc::new(fitted.output.scene.clone());
            l.generation = g;
        }
        l.output = fitted.output.clone();
        l.fit_seconds = fitted.seconds;
        l.phase = fitted.phase;
        Some(aligned_now)
    }

    /// The fit behind a slot's preview was cancelled or failed: nothing of it stays. The last
    /// complete fit comes back (or the slot empties). True when the slot changed.
    pub fn abandon_preview(&mut self, slot: SlotId) -> bool {
        if self.loaded(slot).is_none_or(|l| l.phase == Phase::Done) {
            return false;
        }
        // A new generation: the GL buffers hold the preview's points.
        let generation = self.next_generation();
        let s = self.slot_mut(slot);
        s.loaded = s.previous.take().map(|mut l| {
            l.generation = generation;
            l
        });
        let restored = s.loaded.as_ref().map(|l| l.settings.clone());
        if slot == SlotId::Primary {
            if let Some(settings) = restored {
                self.settings = settings;
            }
            let n = self.primary.n_frames();
            self.playback
                .apply(super::playback::PlaybackCommand::SetFrames(n));
        }
        true
    }

    /// Put a successful fit into a slot; the time axis follows the primary slot.
    pub fn install(&mut self, slot: SlotId, fitted: Fitted) {
        let generation = self.next_generation();
        let loaded = Loaded::from_fitted(fitted, generation);
        self.remember(&loaded.inputs);
        if slot == SlotId::Primary {
            self.settings = loaded.settings.clone();
        }
        let s = self.slot_mut(slot);
        if loaded.phase == Phase::Done {
            s.previous = None;
        } else if s.loaded.as_ref().is_some_and(|l| l.phase == Phase::Done) {
            s.previous = s.loaded.take();
        }
        s.set_loaded(loaded);
        let n = self.primary.n_frames();
        self.playback
            .apply(super::playback::PlaybackCommand::SetFrames(n));
    }

    pub fn remember(&mut self, inputs: &[String]) {
        if inputs.is_empty() {
            return;
        }
        self.recent.retain(|r| r.as_slice() != inputs);
        self.recent.insert(0, inputs.to_vec());
        self.recent.truncate(MAX_RECENT);
    }

    pub fn banner(&mut self, kind: BannerKind, text: impl Into<String>) -> u64 {
        let text = text.into();
        // The same message twice in a row is shown once.
        if let Some(b) = self
            .banners
            .iter_mut()
            .find(|b| b.text == text && b.kind == kind)
        {
            b.created = Instant::now();
            return b.id;
        }
        let id = self.next_banner;
        self.next_banner += 1;
        self.banners.push(Banner {
            id,
            kind,
            text,
            created: Instant::now(),
        });
        id
    }

    pub fn dismiss(&mut self, id: u64) {
        self.banners.retain(|b| b.id != id);
    }

    /// Drop info banners older than [`Banner::INFO_SECONDS`].
    pub fn expire_banners(&mut self) {
        self.banners.retain(|b| {
            b.kind != BannerKind::Info || b.created.elapsed().as_secs_f32() < Banner::INFO_SECONDS
        });
    }

    /// The frame a slot shows: its own frame index for the shared head. Views with different
    /// frame counts stay in step by position along the sequence.
    pub fn head_for(&self, id: SlotId) -> f32 {
        let head = self.playback.head();
        if id == SlotId::Primary {
            return head;
        }
        let n_primary = self.primary.n_frames();
        let n = self.slot(id).map_or(0, Slot::n_frames);
        if n_primary <= 1 || n <= 1 || n == n_primary {
            return head.min(n.saturating_sub(1) as f32);
        }
        head / (n_primary - 1) as f32 * (n - 1) as f32
    }

    /// Whether a slot shows native trajectories only, its fit still running.
    pub fn aligning(&self, id: SlotId) -> bool {
        self.loaded(id).is_some_and(|l| l.phase == Phase::Aligning)
    }

    /// Everything the renderer needs for one view this frame.
    pub fn frame_state(&self, id: SlotId) -> FrameState {
        let slot = self.slot(id);
        let mut style = self.view.style.clone();
        style.tail = self.playback.tail();
        FrameState {
            camera: self.camera,
            head: self.head_for(id),
            // Until the fit ends there is only the native view.
            morph: if self.aligning(id) {
                0.0
            } else {
                self.playback.morph().value()
            },
            style,
            visible: slot.map(|s| s.visible.clone()).unwrap_or_default(),
            highlight: slot.and_then(|s| s.highlight),
            clear_color: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::Model;
    use crate::analysis::{Metrics, Trajectory};

    pub(crate) fn fitted(names: &[&str], n_frames: usize) -> Fitted {
        let trajectories = names
            .iter()
            .map(|n| Trajectory {
                name: n.to_string(),
                before: vec![[0.0; 3]; n_frames],
                after: vec![[0.5; 3]; n_frames],
            })
            .collect();
        let scene = SceneData {
            trajectories,
            image_index: (0..n_frames).collect(),
            ..SceneData::default()
        };
        Fitted {
            inputs: vec!["demo:test".into()],
            dataset: Arc::new(Dataset::default()),
            phase: Phase::Done,
            output: Arc::new(PipelineOutput {
                model: Model::default(),
                metrics: Metrics::default(),
                scene,
                train_idx: vec![],
                test_idx: vec![],
                units_kept: vec![],
                k: 3,
                notes: vec![],
            }),
            settings: Settings::default(),
            seconds: 0.1,
        }
    }

    #[test]
    fn install_sets_frames_and_recent() {
        let mut s = AppState::new(Persisted::default());
        s.install(SlotId::Primary, fitted(&["a", "b"], 50));
        assert_eq!(s.playback.n_frames(), 50);
        assert_eq!(s.recent, vec![vec!["demo:test".to_string()]]);
        s.install(SlotId::Primary, fitted(&["a", "b"], 50));
        assert_eq!(s.recent.len(), 1, "recent inputs are not duplicated");
        assert_eq!(s.primary.visible, vec![true, true]);
    }

    #[test]
    fn measures_join_the_trajectories_on_screen() {
        let mut s = AppState::new(Persisted::default());
        let preview = Fitted {
            phase: Phase::Measuring,
            ..fitted(&["a", "b"], 40)
        };
        // Nothing on screen yet: the final result installs normally.
        assert_eq!(s.advance(SlotId::Primary, &fitted(&["a", "b"], 40)), None);
        s.install(SlotId::Primary, preview);
        s.playback
            .apply(super::super::playback::PlaybackCommand::Seek(17.0));
        let generation = s.primary.loaded.as_ref().map(|l| l.generation);
        let mut done = fitted(&["a", "b"], 40);
        done.seconds = 9.0;
        assert_eq!(s.advance(SlotId::Primary, &done), Some(false));
        let l = s.primary.loaded.as_ref().unwrap();
        assert_eq!(l.phase, Phase::Done);
        assert_eq!(l.fit_seconds, 9.0);
        assert_eq!(Some(l.generation), generation, "same scene, no GL rebuild");
        assert_eq!(s.playback.frame(), 17, "playback carries on");
        // Once measured, a later result is a new fit.
        assert_eq!(s.advance(SlotId::Primary, &fitted(&["a", "b"], 40)), None);
    }

    #[test]
    fn aligned_trajectories_replace_the_native_preview() {
        let mut s = AppState::new(Persisted::default());
        let mut native = Fitted {
            phase: Phase::Aligning,
            ..fitted(&["a", "b"], 40)
        };
        // The native preview has the native points in both views.
        let mut scene = native.output.scene.clone();
        for t in &mut scene.trajectories {
            t.after = t.before.clone();
        }
        Arc::make_mut(&mut native.output).scene = scene;
        s.install(SlotId::Primary, native);
        assert!(s.aligning(SlotId::Primary));
        s.playback
            .apply(super::super::playback::PlaybackCommand::SetAligned(true));
        s.playback
            .apply(super::super::playback::PlaybackCommand::FinishMorph);
        assert_eq!(
            s.frame_state(SlotId::Primary).morph,
            0.0,
            "only the native view exists while the fit runs"
        );
        s.playback
            .apply(super::super::playback::PlaybackCommand::Seek(12.0));
        let before = s.primary.loaded.as_ref().map(|l| l.generation);
        let aligned = Fitted {
            phase: Phase::Measuring,
            ..fitted(&["a", "b"], 40)
        };
        // A result of another fit (other inputs) is not a later part of this one.
        let other = Fitted {
            inputs: vec!["demo:other".into()],
            ..fitted(&["a", "b"], 40)
        };
        assert_eq!(s.advance(SlotId::Primary, &other), None);
        assert_eq!(s.advance(SlotId::Primary, &aligned), Some(true));
        let l = s.primary.loaded.as_ref().unwrap();
        assert_eq!(l.phase, Phase::Measuring);
        assert_ne!(
            Some(l.generation),
            before,
            "new points: the GL buffers rebuild"
        );
        assert_eq!(l.scene.trajectories[0].after[0], [0.5; 3]);
        assert_eq!(s.playback.frame(), 12, "playback carries on");
        assert!(!s.aligning(SlotId::Primary));
        assert_eq!(s.frame_state(SlotId::Primary).morph, 1.0);
        // The measures then join without a rebuild.
        let generation = s.primary.loaded.as_ref().map(|l| l.generation);
        assert_eq!(
            s.advance(SlotId::Primary, &fitted(&["a", "b"], 40)),
            Some(false)
        );
        assert_eq!(s.primary.loaded.as_ref().map(|l| l.generation), generation);
        // A stale native preview never replaces what is on screen.
        let late = Fitted {
            phase: Phase::Aligning,
            ..fitted(&["a", "b"], 40)
        };
        assert_eq!(s.advance(SlotId::Primary, &late), None);
    }

    #[test]
    fn a_cancelled_fit_leaves_nothing_of_its_previews() {
        let mut s = AppState::new(Persisted::default());
        // A first load cancelled while only its native preview is on screen: the view empties.
        s.install(
            SlotId::Primary,
            Fitted {
                phase: Phase::Aligning,
                ..fitted(&["a", "b"], 40)
            },
        );
        assert!(s.abandon_preview(SlotId::Primary));
        assert!(s.primary.loaded.is_none());
        assert_eq!(s.playback.n_frames(), 0);
        // A complete fit, then a refit whose preview (other settings) stands in for it.
        s.install(SlotId::Primary, fitted(&["a", "b"], 40));
        assert!(!s.abandon_preview(SlotId::Primary), "nothing to abandon");
        let mut refit = Fitted {
            phase: Phase::Measuring,
            ..fitted(&["a", "b"], 33)
        };
        refit.settings.smooth = 3;
        s.install(SlotId::Primary, refit);
        assert_eq!(s.settings.smooth, 3);
        let preview_generation = s.primary.loaded.as_ref().map(|l| l.generation);
        assert!(s.abandon_preview(SlotId::Primary));
        let l = s.primary.loaded.as_ref().expect("the complete fit is back");
        assert_eq!((l.phase, l.scene.n_frames()), (Phase::Done, 40));
        assert_ne!(Some(l.generation), preview_generation, "GL buffers rebuild");
        assert_eq!(s.settings.smooth, Settings::default().smooth);
        assert_eq!(s.playback.n_frames(), 40);
        assert!(s.primary.previous.is_none());
        // Once a fit completes, it is the one kept.
        s.install(
            SlotId::Primary,
            Fitted {
                phase: Phase::Measuring,
                ..fitted(&["a", "b"], 40)
            },
        );
        assert_eq!(
            s.advance(SlotId::Primary, &fitted(&["a", "b"], 40)),
            Some(false)
        );
        assert!(s.primary.previous.is_none());
        assert!(!s.abandon_preview(SlotId::Primary));
    }

    #[test]
    fn visibility_survives_refit_of_same_networks() {
        let mut s = AppState::new(Persisted::default());
        s.install(SlotId::Primary, fitted(&["a", "b", "c"], 10));
        s.primary.toggle(1);
        assert!(!s.primary.is_visible(1));
        s.install(SlotId::Primary, fitted(&["a", "b", "c"], 10));
        assert!(!s.primary.is_visible(1));
        s.install(SlotId::Primary, fitted(&["x", "y"], 10));
        assert!(s.primary.is_visible(1));
        s.primary.toggle(99); // out of range: ignored
        assert_eq!(s.primary.visible.len(), 2);
    }

    #[test]
    fn solo_and_back() {
        let mut s = AppState::new(Persisted::default());
        s.install(SlotId::Primary, fitted(&["a", "b", "c"], 10));
        s.primary.solo(Some(2));
        assert_eq!(s.primary.visible, vec![false, false, true]);
        s.primary.solo(Some(2));
        assert_eq!(s.primary.visible, vec![true, true, true]);
        s.primary.solo(Some(0));
        s.primary.solo(None);
        assert_eq!(s.primary.visible, vec![true, true, true]);
    }

    #[test]
    fn compare_head_follows_by_position() {
        let mut s = AppState::new(Persisted::default());
        s.install(SlotId::Primary, fitted(&["a", "b"], 101));
        s.install(SlotId::Compare, fitted(&["a", "b"], 51));
        s.playback
            .apply(super::super::playback::PlaybackCommand::Seek(50.0));
        assert_eq!(s.head_for(SlotId::Primary), 50.0);
        assert_eq!(s.head_for(SlotId::Compare), 25.0);
        let f = s.frame_state(SlotId::Compare);
        assert_eq!(f.camera, s.camera, "both views share the camera");
        assert_eq!(f.style.tail, s.playback.tail());
    }

    #[test]
    fn banners_dedupe_and_dismiss() {
        let mut s = AppState::new(Persisted::default());
        let a = s.banner(BannerKind::Error, "bad file");
        let b = s.banner(BannerKind::Error, "bad file");
        assert_eq!(a, b);
        assert_eq!(s.banners.len(), 1);
        s.dismiss(a);
        assert!(s.banners.is_empty());
    }

    #[test]
    fn persisted_round_trips_through_json() {
        let mut s = AppState::new(Persisted::default());
        s.settings.n_iter = 33;
        s.camera.orbit(10.0, 5.0);
        let p = s.persisted();
        let json = serde_json::to_string(&p).unwrap_or_default();
        let back: Persisted = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, p);
        // Unknown or missing fields fall back to defaults.
        let old: Persisted =
            serde_json::from_str("{\"recent\": [[\"a.npz\"]]}").unwrap_or_default();
        assert_eq!(old.recent, vec![vec!["a.npz".to_string()]]);
        assert_eq!(old.settings, Settings::default());
    }
}
