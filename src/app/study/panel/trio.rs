//! The RSM trio of the selected cell (within, inter native, inter shared), as textures uploaded
//! once per selected cell, with class lines and a hover that names the positions and classes.

use eframe::egui::{self, Color32, RichText};

use super::super::plots::{self, ColorScale, RsmHover};
use super::super::StudyState;
use super::{StudyPanel, TrioTextures};
use crate::analysis::study::RsmTrio;
use crate::app::panels::{heading, hint};
use crate::app::theme;

/// One RSM of the trio: title, texture, values, title colour.
type Pane<'a> = (
    &'static str,
    Option<&'a egui::TextureHandle>,
    Option<&'a [f32]>,
    Color32,
);

impl StudyPanel {
    /// The selected cell's RSM trio, as textures uploaded once per selected cell.
    pub(super) fn trio(&mut self, ui: &mut egui::Ui, st: &StudyState) {
        heading(ui, "RSMs of the selected cell");
        let Some(i) = st.selected else {
            hint(ui, "Select a cell in the grid.");
            return;
        };
        let Some(view) = st.views.get(i).and_then(Option::as_ref) else {
            hint(
                ui,
                "This cell's RSMs are not available (its cached view could not be read).",
            );
            return;
        };
        let trio = &view.trio;
        if trio.size == 0 {
            hint(ui, "No held-out images in this cell.");
            return;
        }
        self.upload_trio(ui.ctx(), trio, (st.generation, i));
        let Some(t) = &self.trio else {
            return;
        };
        let avail = ui.available_width();
        let side = ((avail - 16.0) / 3.0)
            .min(ui.available_height() - 58.0)
            .clamp(60.0, 360.0);
        if let Some((resp, hv, title)) = panes(ui, t, trio, side) {
            resp.on_hover_text(format!(
                "{title}\nrow: {}\ncolumn: {}\nr = {:.3}",
                span(st, trio, hv.i),
                span(st, trio, hv.j),
                hv.value
            ));
        }
        plots::legend_bar(
            ui,
            &ColorScale::diverging(1.0),
            (avail - 120.0).clamp(60.0, 200.0),
            "Pearson r",
        );
        hint(
            ui,
            "Held-out images in class order (lines: class boundaries); \
             positions are in that order.",
        );
    }

    /// Upload the trio's three images unless cell `key`'s are already on the GPU.
    fn upload_trio(&mut self, ctx: &egui::Context, trio: &RsmTrio, key: (u64, usize)) {
        if self.trio.as_ref().is_some_and(|t| t.key == key) {
            return;
        }
        let scale = ColorScale::diverging(1.0);
        let tex = |name: &str, v: &[f32]| {
            ctx.load_texture(
                format!("study_rsm_{name}"),
                plots::rsm_image(v, trio.size, &scale),
                egui::TextureOptions::NEAREST,
            )
        };
        self.trio = Some(TrioTextures {
            key,
            within: tex("within", &trio.within),
            native: trio.inter_native.as_deref().map(|v| tex("native", v)),
            shared: tex("shared", &trio.inter_shared),
        });
        self.texture_uploads += 1;
    }
}

/// The three RSMs side by side, `side` points each; returns the one hovered, if any.
fn panes(
    ui: &mut egui::Ui,
    t: &TrioTextures,
    trio: &RsmTrio,
    side: f32,
) -> Option<(egui::Response, RsmHover, &'static str)> {
    let labels = trio.labels.as_deref();
    let mut hovered = None;
    ui.horizontal_top(|ui| {
        ui.spacing_mut().item_spacing.x = 8.0;
        let panes: [Pane<'_>; 3] = [
            (
                "within (mean)",
                Some(&t.within),
                Some(&trio.within[..]),
                Color32::from_gray(220),
            ),
            (
                "inter, native",
                t.native.as_ref(),
                trio.inter_native.as_deref(),
                theme::BEFORE,
            ),
            (
                "inter, shared",
                Some(&t.shared),
                Some(&trio.inter_shared[..]),
                theme::AFTER,
            ),
        ];
        for (title, tex, values, color) in panes {
            ui.vertical(|ui| {
                ui.set_width(side);
                ui.label(RichText::new(title).small().color(color));
                match (tex, values) {
                    (Some(tex), Some(values)) => {
                        let (resp, hover) = plots::rsm_heatmap(
                            ui,
                            tex,
                            side,
                            values,
                            trio.size,
                            &trio.bounds,
                            labels,
                        );
                        if let Some(hv) = hover {
                            hovered = Some((resp, hv, title));
                        }
                    }
                    _ => no_pane(ui, side),
                }
            });
        }
    });
    hovered
}

/// The stand-in for an inter-network RSM that cannot exist.
fn no_pane(ui: &mut egui::Ui, side: f32) {
    let (r, _) = ui.allocate_exact_size(egui::Vec2::splat(side), egui::Sense::hover());
    ui.painter().rect_filled(r, 0.0, theme::STRIP_BG);
    ui.painter().text(
        r.center(),
        egui::Align2::CENTER_CENTER,
        "networks differ\nin width",
        egui::FontId::proportional(11.0),
        theme::MUTED,
    );
}

/// The held-out positions of block `b`, and their classes when known.
fn span(st: &StudyState, trio: &RsmTrio, b: usize) -> String {
    let (s, e) = (
        trio.bounds.get(b).copied().unwrap_or(0),
        trio.bounds.get(b + 1).copied().unwrap_or(0),
    );
    let range = if e > s + 1 {
        format!("positions {s}–{}", e - 1)
    } else {
        format!("position {s}")
    };
    let classes = trio.labels.as_deref().map(|l| {
        let mut cs: Vec<i64> = l.get(s..e).unwrap_or(&[]).to_vec();
        cs.dedup();
        cs.iter()
            .map(|&c| crate::data::class_name(st.class_names.as_deref(), c))
            .collect::<Vec<_>>()
            .join(", ")
    });
    match classes {
        Some(c) if !c.is_empty() => format!("{range} ({c})"),
        _ => range,
    }
}
