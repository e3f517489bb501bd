//! `srmscope study --figures DIR/`: the Study view's sections painted offscreen (egui on the
//! headless GL context) into PNG files, with the viewer's own painters and theme, so the files
//! and the window look alike.

use super::panel::StudyPanel;
use super::{StudyState, StudyStatus};
use crate::analysis::study::table::StudyMetric;
use crate::analysis::study::{CellView, StudyResults};
use crate::data::study::Study;
use crate::render::ui_offscreen::{RgbaImage, UiPainter};
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
    // Painted and encoded on a worker thread that Ctrl-C abandons; written here, each file
    // atomically, so an interrupted run leaves whole files or none.
    let pngs = off_thread(study, results, views, move |st, r, v| {
        render_figures(st, r, v, PPP, &StudyMetric::ALL)?
            .into_iter()
            .map(|f| Ok((f.file, crate::render::ui_offscreen::png_bytes(&f.image)?)))
            .collect::<Result<Vec<_>, RenderError>>()
    })?;
    for (file, png) in &pngs {
        if crate::interrupt::interrupted() {
            return Err(RenderError::Cancelled);
        }
        let path = dir.join(file);
        crate::data::write_atomic(&path, |f| std::io::Write::write_all(f, png))
            .map_err(|e| RenderError::Output(e.to_string()))?;
    }
    Ok(pngs.len())
}

/// [`render_figures`] on a worker thread that Ctrl-C abandons: one figure of thousands of cells
/// takes about a second to paint, and the command stops within tens of milliseconds instead.
/// The figures are only in memory until the caller writes them, so nothing is left half done.
pub fn render_figures_interruptible(
    study: &Study,
    results: &StudyResults,
    views: &BTreeMap<usize, Arc<CellView>>,
    ppp: f32,
    metrics: &[StudyMetric],
) -> Result<Vec<StudyFigure>, RenderError> {
    let metrics = metrics.to_vec();
    off_thread(study, results, views, move |st, r, v| {
        render_figures(st, r, v, ppp, &metrics)
    })
}

/// Runs `work` on copies of the study's data on a worker thread, polling Ctrl-C every 10 ms.
fn off_thread<T: Send + 'static>(
    study: &Study,
    results: &StudyResults,
    views: &BTreeMap<usize, Arc<CellView>>,
    work: impl FnOnce(&Study, &StudyResults, &BTreeMap<usize, Arc<CellView>>) -> Result<T, RenderError>
        + Send
        + 'static,
) -> Result<T, RenderError> {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    let (study, results, views) = (study.clone(), results.clone(), views.clone());
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("study-figures".into())
        .spawn(move || {
            let _ = tx.send(work(&study, &results, &views));
        })
        .map_err(|e| RenderError::Output(format!("cannot start the figure painter: {e}")))?;
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(10)) {
            Ok(r) => return r,
            Err(RecvTimeoutError::Timeout) => {
                if crate::interrupt::interrupted() {
                    return Err(RenderError::Cancelled);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(RenderError::Output("the figure painter stopped".into()))
            }
        }
    }
}

/// One study figure: its file name, a caption, and the pixels.
pub struct StudyFigure {
    pub file: String,
    pub title: String,
    pub image: RgbaImage,
}

/// The metrics a study report shows (the files get every one): the paper's headline measures
/// and the development measure.
pub const REPORT_METRICS: [StudyMetric; 4] = [
    StudyMetric::IscShared,
    StudyMetric::RsaShared,
    StudyMetric::VeTest,
    StudyMetric::DevVsFinal,
];

/// The study figures in memory (see [`write_figures`] for which) at `ppp` pixels per point,
/// grids and developments for `metrics` only; for files and reports alike.
pub fn render_figures(
    study: &Study,
    results: &StudyResults,
    views: &BTreeMap<usize, Arc<CellView>>,
    ppp: f32,
    metrics: &[StudyMetric],
) -> Result<Vec<StudyFigure>, RenderError> {
    let mut st = study_state(study, results, views)?;
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
    let mut out = Vec::new();
    let mut save = |file: String, title: String, image: RgbaImage| -> Result<(), RenderError> {
        out.push(StudyFigure { file, title, image });
        cancelled()
    };
    st.selected = None;
    for &metric in metrics {
        panel.metric = metric;
        let img = painter.render([560.0, grid_h], ppp, visuals.clone(), |ui| {
            ui.label(egui::RichText::new(metric.label()).strong());
            panel.figure_grid(ui, &st);
        })?;
        save(
            format!("grid_{}.png", metric.key()),
            format!("{}: layer × checkpoint", metric.label()),
            img,
        )?;
        let img = painter.render([720.0, 420.0], ppp, visuals.clone(), |ui| {
            panel.figure_development(ui, &st);
        })?;
        save(
            format!("development_{}.png", metric.key()),
            format!("{} over checkpoints", metric.label()),
            img,
        )?;
    }
    let img = painter.render([720.0, 420.0], ppp, visuals.clone(), |ui| {
        panel.figure_by_layer(ui, &st);
    })?;
    save(
        "by_layer.png".into(),
        "By layer, at the last checkpoint".into(),
        img,
    )?;
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
            let img = painter.render([1000.0, 420.0], ppp, visuals.clone(), |ui| {
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
                // Names from the manifest never steer the path: `../` stays in the folder.
                format!("trio_{}_{}_{ck}.png", file_safe(&ax.arch), file_safe(layer)),
                format!("RSMs of {} {layer} at checkpoint {ck}", ax.arch),
                img,
            )?;
        }
    }
    Ok(out)
}

/// Ctrl-C stops between cells and between figures (a study may have thousands of cells).
fn cancelled() -> Result<(), RenderError> {
    if crate::interrupt::interrupted() {
        Err(RenderError::Cancelled)
    } else {
        Ok(())
    }
}

/// The Study view's state of a finished study: its cells, results and views.
fn study_state(
    study: &Study,
    results: &StudyResults,
    views: &BTreeMap<usize, Arc<CellView>>,
) -> Result<StudyState, RenderError> {
    let mut st = StudyState::opening(study.manifest.clone(), 0, 0);
    st.set_cells(study.name.clone(), study.cells.clone());
    st.class_names = study.class_names();
    for (j, r) in results.cells.iter().enumerate() {
        if j % 64 == 0 {
            cancelled()?;
        }
        st.set_cell(r.clone(), views.get(&r.index).cloned());
    }
    st.status = StudyStatus::Done {
        cells: results.cells.len(),
        seconds: 0.0,
    };
    Ok(st)
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
