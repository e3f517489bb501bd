//! What an export is asked for ([`ExportOptions`]) and what it reports ([`ExportSummary`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::render::camera::{OrbitCamera, DEFAULT_AZIMUTH_DEG, DEFAULT_ELEVATION_DEG};
use crate::render::error::RenderError;
use crate::render::style::ViewStyle;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportView {
    Before,
    #[default]
    After,
    Both,
}

/// How `ExportView::Both` is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BothLayout {
    /// Before on the left, after on the right, same camera, each half `width/2` wide.
    #[default]
    SideBySide,
    /// The before animation, then a morph of the whole paths into alignment, then the after
    /// animation.
    Sequence,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    #[default]
    Gif,
    /// `frame_00000.png`, ... in a new folder.
    PngFrames,
    /// One PNG: the last frame (head at the final image).
    Png,
    /// One self-contained interactive page, written by [`crate::render::html`] (it needs the
    /// fit's measures and images, which the frame exporter never sees).
    Html,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportOptions {
    /// Seconds for one pass over all images (HyperTools `duration`).
    pub duration: f32,
    /// Frames per second (HyperTools `frame_rate`). GIF delays are whole centiseconds, so the
    /// stored delay is `round(100 / frame_rate)`, at least 2 (browsers slow 0-1 cs to 10 cs).
    pub frame_rate: f32,
    /// An explicit frame count per pass; overrides `duration` (which becomes frames/frame_rate).
    pub frames: Option<usize>,
    /// Seconds of playback that the bright head spans (HyperTools `tail_duration`), converted
    /// to images with the playback rate images/duration.
    pub tail_duration: f32,
    /// Total camera turns over the whole export (HyperTools `rotations`).
    pub rotations: f32,
    /// HyperTools `zoom`: 1 is the default distance; larger is closer (distance ∝ 9 − zoom).
    pub zoom: f32,
    /// Camera elevation in degrees; HyperTools' animations fix it at 10.
    pub elevation_deg: f32,
    /// Starting azimuth in degrees. HyperTools' animations start at 0; we start at matplotlib's
    /// static default −60 so an export opens on the same view as the viewer.
    pub azimuth_deg: f32,
    /// Start from this camera instead (the viewer's current view); `rotations` spins from it.
    pub camera: Option<OrbitCamera>,
    /// How the paths are drawn: ghosts, cube, line width, background, colour by class, legend
    /// (network names with colour swatches, top right). `style.tail` is not used: each frame's
    /// head length comes from `tail_duration`.
    pub style: ViewStyle,
    pub width: u32,
    pub height: u32,
    pub view: ExportView,
    pub both_layout: BothLayout,
    /// Seconds of the before→after morph in `BothLayout::Sequence`.
    pub morph_duration: f32,
    /// "before alignment" / "after alignment" under each view.
    pub captions: bool,
    pub title: Option<String>,
    pub format: ExportFormat,
    /// Per-network visibility; empty = all.
    pub visible: Vec<bool>,
    /// Draw the current input image in the bottom-left corner (needs `images`).
    pub show_image: bool,
    /// The images `show_image` draws; set by the caller from the dataset, never saved.
    #[serde(skip)]
    pub images: Option<std::sync::Arc<crate::render::inset::FrameImages>>,
}

impl Default for ExportOptions {
    /// GIF-friendly defaults: 10 s at 25 fps (250 frames, 4 cs delays) instead of HyperTools'
    /// 30 s at 50 fps, and the NeurIPS demo's `rotations=0.15`, `tail_duration=1`.
    fn default() -> Self {
        Self {
            duration: 10.0,
            frame_rate: 25.0,
            frames: None,
            tail_duration: 1.0,
            rotations: 0.15,
            zoom: 1.0,
            elevation_deg: DEFAULT_ELEVATION_DEG,
            azimuth_deg: DEFAULT_AZIMUTH_DEG,
            camera: None,
            style: ViewStyle::default(),
            width: 640,
            height: 480,
            view: ExportView::After,
            both_layout: BothLayout::SideBySide,
            morph_duration: 2.0,
            captions: true,
            title: None,
            format: ExportFormat::Gif,
            visible: Vec::new(),
            show_image: false,
            images: None,
        }
    }
}

/// What an export produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub frames: usize,
    pub width: u32,
    pub height: u32,
    /// GIF frame delay in centiseconds (None for PNG).
    pub delay_cs: Option<u16>,
    /// Images in the bright head.
    pub tail_images: usize,
    /// Total bytes written.
    pub bytes: u64,
    pub seconds: f32,
}

impl ExportOptions {
    /// The drawing style of a frame whose bright head spans `tail` images.
    pub(crate) fn style_with_tail(&self, tail: usize) -> ViewStyle {
        ViewStyle {
            tail,
            ..self.style.clone()
        }
    }
}

/// `Ok` when `ok`, else an options error with `msg`.
pub(super) fn check(ok: bool, msg: &str) -> Result<(), RenderError> {
    if ok {
        Ok(())
    } else {
        Err(RenderError::Options(msg.to_string()))
    }
}
