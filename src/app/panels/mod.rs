//! The panels around the 3D view. Each is a function that reads the state and pushes
//! [`AppCommand`](super::commands::AppCommand)s; the only thing panels own is [`Drafts`], the
//! edit buffers of forms that are applied with a button (settings, export).
//!
//! | room | file |
//! |---|---|
//! | menus, aligned toggle, job status | `top_bar.rs` |
//! | error / info messages | `banners.rs` |
//! | transport, scrubber, class ticks, disagreement strip | `time_panel.rs` |
//! | data summary and every pipeline option | `settings.rs` |
//! | ISC / RSA with intervals, pairwise heatmap, PCA numbers, convergence, variance explained | `metrics.rs` |
//! | export window | `export.rs` |
//! | most disagreeing images (thumbnails, click to seek) | `disagreeing.rs` |

pub mod banners;
pub mod disagreeing;
pub mod export;
pub mod metrics;
pub mod settings;
pub mod time_panel;
pub mod top_bar;

use eframe::egui::{self, Align2, Color32, FontId};

use super::state::{AppState, Persisted};
use crate::analysis::Settings;
use crate::render::{ExportOptions, ExportView};

/// Form contents that are edited freely and only take effect when applied.
#[derive(Clone, Debug)]
pub struct Drafts {
    /// The settings panel's values; Apply refits with them.
    pub settings: Settings,
    pub export: ExportOptions,
    pub export_path: String,
    /// Where the screenshot button writes.
    pub screenshot_dir: String,
    /// Pixel size of the primary 3D view in the last frame (screenshots use it).
    pub view_size_px: [u32; 2],
}

impl Drafts {
    pub fn new(p: &Persisted) -> Self {
        let dir = p
            .export_dir
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        Self {
            settings: p.settings.clone(),
            export: ExportOptions::default(),
            export_path: dir.join("trajectories.gif").display().to_string(),
            screenshot_dir: dir.display().to_string(),
            view_size_px: [1280, 800],
        }
    }

    /// Start the export form from what is on screen: camera, style, visibility, view.
    pub fn prepare_export(&mut self, s: &AppState) {
        let e = &mut self.export;
        e.camera = Some(s.camera);
        // The view's style, except the legend, which the export form owns.
        e.style = crate::render::ViewStyle {
            show_legend: e.style.show_legend,
            ..s.view.style.clone()
        };
        e.visible = s.primary.visible.clone();
        e.view = if s.playback.aligned() {
            ExportView::After
        } else {
            ExportView::Before
        };
        e.rotations = if s.playback.spin() {
            s.playback.rotations()
        } else {
            0.0
        };
        if let Some(l) = &s.primary.loaded {
            e.title = Some(l.dataset.name.clone());
        }
    }

    /// Screenshot size: the 3D view's pixels, within sane bounds.
    pub fn screenshot_size(&self) -> [u32; 2] {
        [
            self.view_size_px[0].clamp(64, 8192),
            self.view_size_px[1].clamp(64, 8192),
        ]
    }
}

/// Frame of the top and bottom bars.
pub fn bar_frame() -> egui::Frame {
    egui::Frame::new()
        .fill(super::theme::PANEL)
        .inner_margin(egui::Margin::symmetric(10, 6))
}

/// Frame of the side panels.
pub fn side_frame() -> egui::Frame {
    egui::Frame::new()
        .fill(super::theme::PANEL)
        .inner_margin(egui::Margin::symmetric(12, 10))
}

/// While files are dragged over the window, say where they will go.
pub fn drop_hint(ui: &egui::Ui, rect: egui::Rect) {
    let hovering = ui.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let painter = ui.ctx().layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop_hint"),
    ));
    painter.rect_filled(rect, 0.0, Color32::from_black_alpha(170));
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        "Drop .npy files, one .npz, a folder or a study to open them",
        FontId::proportional(22.0),
        Color32::WHITE,
    );
}

/// A section heading in the side panels.
pub fn heading(ui: &mut egui::Ui, text: &str) {
    ui.add_space(4.0);
    ui.label(
        egui::RichText::new(text)
            .strong()
            .size(14.0)
            .color(Color32::from_gray(230)),
    );
    ui.add_space(2.0);
}

/// A muted explanatory line.
pub fn hint(ui: &mut egui::Ui, text: &str) {
    ui.label(
        egui::RichText::new(text)
            .size(11.5)
            .color(super::theme::MUTED),
    );
}

/// Format a number that may be missing or NaN.
pub fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "—".into(),
    }
}
