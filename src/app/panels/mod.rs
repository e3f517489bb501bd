//! The panels around the 3D view. Each is a function that reads the state and pushes
//! [`AppCommand`](super::commands::AppCommand)s. A panel with a form owns its draft, as egui's
//! demo windows do: [`settings::SettingsPanel`] (pipeline options, applied with Apply),
//! [`export::ExportPanel`] (options and path, used by Export), [`top_bar::TopBar`] (where
//! screenshots go).
//!
//! | room | file |
//! |---|---|
//! | menus, aligned toggle, job status | `top_bar.rs` |
//! | error / info messages | `banners.rs` |
//! | transport, scrubber, class ticks, disagreement strip, filmstrip | `time_panel/` |
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

/// Where exports and screenshots go by default: the last export folder, else the working one.
pub fn output_dir(p: &super::state::Persisted) -> std::path::PathBuf {
    p.export_dir
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
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

/// The text size of [`hint`]s.
pub const HINT_SIZE: f32 = 11.5;

/// A muted explanatory line.
pub fn hint(ui: &mut egui::Ui, text: &str) {
    ui.label(
        egui::RichText::new(text)
            .size(HINT_SIZE)
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
