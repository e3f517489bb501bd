//! `srmscope study --figures DIR/`: the Study view's sections painted offscreen (egui on the
//! headless GL context) into PNG files, with the viewer's own painters and theme, so the files
//! and the window look alike.

use super::panel::StudyPanel;
use super::{StudyState, StudyStatus};
use crate::analysis::study::table::StudyMetric;
use crate::analysis::study::{CellView, StudyResults};
use crate::data::study::Study;
use crate::render::ui_offscreen::{write_png, UiPainter};
use crate::render::RenderError;
use eframe::egui;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Pixels per point of the figures: print-sharp text.
const PPP: f32 = 2.0;

/// The figures one study gives: `grid_<metric>.png` and `development_<metric>.png` for every
/// metric, `by_layer.png`, and `trio_<arch>_<layer>_<checkpoint>.png` for the deepest layer of
/// each arch at its first and last checkpoints. Returns the number of files written.
pub fn write_figures(
    study: &Study,
    results: &StudyResults,
    views: &BTreeMap<usize, Arc<CellView>>,
    dir: &Path,
) -> Result<usize, RenderError> {
    std::fs::create_dir_all(dir).map_err(|e| RenderError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let mut st = StudyState::opening(study.manifest.clone(), 0, 0);
    st.set_cells(study.name.clone(), study.cells.clone());
    st.class_names = study.class_names();
    for r in &results.cells {
        st.set_cell(r.clone(), views.get(&r.index).cloned());
    }
    st.status = StudyStatus::Done {
        cells: results.cells.len(),
        seconds: 0.0,
    };
    let mut painter = UiPainter::new()?;
    crate::app::theme::apply(painter.egui_context());
    let visuals = painter
        .egui_context()
        .style_of(egui::Theme::Dark)
        .visuals
        .clone();
    let mut panel = StudyPanel::default();
    panel.figure = true;
    let n_arch = st.axes.arches.len().max(1) as f32;
    let max_layers = st
        .axes
        .arches
        .iter()
        .map(|a| a.layers.len())
        .max()
        .unwrap_or(1) as f32;
    let grid_h = 120.0 + n_arch * (max_layers * 30.0 + 50.0);
    let mut written = 0;
    let mut save = |name: String, img: crate::render::ui_offscreen::RgbaImage| {
        write_png(&dir.join(name), &img).map(|_| written += 1)
    };
    st.selected = None;
    for metric in StudyMetric::ALL {
        panel.metric = metric;
        let img = painter.render([560.0, grid_h], PPP, visuals.clone(), |ui| {
            ui.label(egui::RichText::new(metric.label()).strong());
            panel.figure_grid(ui, &st);
        })?;
        save(format!("grid_{}.png", metric.key()), img)?;
        let img = painter.render([720.0, 420.0], PPP, visuals.clone(), |ui| {
            panel.figure_development(ui, &st);
        })?;
        save(format!("development_{}.png", metric.key()), img)?;
    }
    let img = painter.render([720.0, 420.0], PPP, visuals.clone(), |ui| {
        panel.figure_by_layer(ui, &st);
    })?;
    save("by_layer.png".into(), img)?;
    // The trio of the deepest layer of each arch, at initialisation and at the end.
    for ax in &st.axes.arches {
        let Some((_, layer)) = ax.layers.last() else {
            continue;
        };
        let mut cks = vec![ax.checkpoints.first(), ax.checkpoints.last()];
        cks.dedup();
        for ck in cks.into_iter().flatten() {
            let Some(i) = st.position(&ax.arch, layer, *ck) else {
                continue;
            };
            if st.views.get(i).and_then(Option::as_ref).is_none() {
                continue;
            }
            st.selected = Some(i);
            let img = painter.render([1000.0, 420.0], PPP, visuals.clone(), |ui| {
                ui.label(
                    egui::RichText::new(format!(
                        "{} {} {layer}, checkpoint {ck}",
                        st.name, ax.arch
                    ))
                    .strong(),
                );
                panel.figure_trio(ui, &st);
            })?;
            save(
                format!("trio_{}_{layer}_{ck}.png", file_safe(&ax.arch)),
                img,
            )?;
        }
    }
    Ok(written)
}

/// Letters, digits, `-` and `_` kept; anything else becomes `_`.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
