//! One self-contained interactive HTML page per figure, and one page per study report.
//!
//! The pages are static templates (`page.html`, `report.html`: inline CSS and hand-written
//! WebGL2, nothing fetched) with one JSON blob spliced in. The JSON carries the trajectories as
//! base64 float32 (little-endian, network × frame × xyz), so a page holds exactly the numbers
//! the viewer draws. No GL here: the page draws itself in the reader's browser, so this room
//! builds without the `gui` feature.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::style::{label_palette, palette, Ghost};
use crate::analysis::metrics::{Metrics, NativeShared};
use crate::analysis::SceneData;
use crate::data::{DataError, ImageSet};

const PAGE: &str = include_str!("page.html");
const REPORT: &str = include_str!("report.html");
const DATA_MARKER: &str = "__SRMSCOPE_DATA__";
const TITLE_MARKER: &str = "__SRMSCOPE_TITLE__";
const PLAYER_MARKER: &str = "__SRMSCOPE_PLAYER_JS__";

/// Thumbnails stop being embedded past this many bytes of pixels: the page stays small, and
/// hover then shows the index and class only.
pub const MAX_THUMBNAIL_BYTES: usize = 600_000;
/// Thumbnails are shrunk to at most this side (nearest neighbour) before embedding.
pub const THUMBNAIL_SIDE: usize = 32;

/// Frames in the bright head when none is asked for: the viewer's default.
pub const DEFAULT_TAIL: usize = 60;

/// Which view a page opens on. `Both` shows before and after side by side (or in sequence).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HtmlView {
    Before,
    #[default]
    After,
    Both,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HtmlLayout {
    #[default]
    SideBySide,
    Sequence,
}

/// What a page shows and how it opens; the reader can change all of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HtmlOptions {
    pub view: HtmlView,
    pub layout: HtmlLayout,
    pub ghost: Ghost,
    /// Frames in the bright head; `None`: the viewer's default, [`DEFAULT_TAIL`].
    pub tail: Option<usize>,
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
    pub dark: bool,
    pub cube: bool,
    pub legend: bool,
    pub color_by_label: bool,
    /// Camera as the viewer's: azimuth and elevation in degrees, HyperTools zoom.
    pub yaw_deg: f32,
    pub pitch_deg: f32,
    pub zoom: f32,
    /// Seconds for one pass over the images at speed 1, and the frame rate.
    pub duration: f32,
    pub fps: f32,
}

impl Default for HtmlOptions {
    fn default() -> Self {
        Self {
            view: HtmlView::After,
            layout: HtmlLayout::SideBySide,
            ghost: Ghost::None,
            tail: None,
            width: 960,
            height: 640,
            title: None,
            dark: false,
            cube: false,
            legend: true,
            color_by_label: false,
            yaw_deg: -60.0,
            pitch_deg: 10.0,
            zoom: 1.0,
            duration: 10.0,
            fps: 25.0,
        }
    }
}

#[cfg(feature = "gui")]
impl HtmlOptions {
    /// The page options matching a GIF export form (the viewer's Export… dialog): its view,
    /// layout, ghost, size, title, look and camera (the current one when it starts from it).
    pub fn from_export(e: &super::export::ExportOptions) -> Self {
        use super::camera::DEFAULT_DISTANCE;
        use super::export::{BothLayout, ExportView};
        let (yaw_deg, pitch_deg, zoom) = match &e.camera {
            Some(c) => (
                c.yaw.to_degrees(),
                c.pitch.to_degrees(),
                // HyperTools' zoom from the eye distance (distance = D · (9 − zoom) / 8).
                9.0 - 8.0 * c.distance / DEFAULT_DISTANCE,
            ),
            None => (e.azimuth_deg, e.elevation_deg, e.zoom),
        };
        Self {
            view: match e.view {
                ExportView::Before => HtmlView::Before,
                ExportView::After => HtmlView::After,
                ExportView::Both => HtmlView::Both,
            },
            layout: match e.both_layout {
                BothLayout::SideBySide => HtmlLayout::SideBySide,
                BothLayout::Sequence => HtmlLayout::Sequence,
            },
            ghost: e.style.ghost,
            tail: None,
            width: e.width,
            height: e.height,
            title: e.title.clone(),
            dark: e.style.dark_background,
            cube: e.style.show_cube,
            legend: e.style.show_legend,
            color_by_label: e.style.color_by_label,
            yaw_deg,
            pitch_deg,
            zoom,
            duration: e.duration,
            fps: e.frame_rate,
        }
    }
}

/// Everything a figure page needs from a fit.
pub struct Figure<'a> {
    pub scene: &'a SceneData,
    pub metrics: Option<&'a Metrics>,
    /// The held-out images in display order (what `image_index` counts into), and the
    /// smoothing window, to find the image each frame stands for.
    pub test_idx: &'a [usize],
    pub smooth: usize,
    pub images: Option<&'a ImageSet>,
    pub class_names: Option<&'a [String]>,
    /// "prob SRM", k and the split sizes, for the headline.
    pub algo: String,
    pub k: usize,
    pub n_train: usize,
    pub n_test: usize,
}

/// Little-endian float32 bytes of `xs`, base64.
fn f32_base64(xs: impl Iterator<Item = f32>) -> String {
    let mut bytes = Vec::new();
    for x in xs {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    base64(&bytes)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648), what the page's `atob` reads.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn rgb(c: [u8; 3]) -> Value {
    json!([c[0], c[1], c[2]])
}

fn headline(ns: &NativeShared) -> Value {
    let ci = |side: fn(&crate::analysis::metrics::IntervalPair) -> Option<[f64; 2]>| {
        ns.ci95.as_ref().and_then(side)
    };
    json!({
        "native": ns.native.filter(|v| v.is_finite()),
        "shared": Some(ns.shared).filter(|v| v.is_finite()),
        "native_ci": ci(|p| p.native),
        "shared_ci": ci(|p| p.shared),
    })
}

/// The thumbnails of the frames' images, shrunk and deduplicated, or `None` when there are no
/// images or they would not fit [`MAX_THUMBNAIL_BYTES`].
fn thumbnails(fig: &Figure, n_frames: usize) -> Option<Value> {
    let set = fig.images?;
    let frame_image: Vec<Option<usize>> = (0..n_frames)
        .map(|f| super::geometry::centre_image(fig.test_idx, fig.smooth, f))
        .collect();
    let mut used: Vec<usize> = frame_image.iter().flatten().copied().collect();
    used.sort_unstable();
    used.dedup();
    let step = set.width.max(set.height).div_ceil(THUMBNAIL_SIDE).max(1);
    let (w, h) = (set.width.div_ceil(step), set.height.div_ceil(step));
    let gray = (0..set.n).all(|i| {
        set.image(i)
            .is_some_and(|px| px.chunks(4).all(|p| p[0] == p[1] && p[1] == p[2]))
    });
    let channels = if gray { 1 } else { 3 };
    if used.len() * w * h * channels > MAX_THUMBNAIL_BYTES {
        return None;
    }
    let mut data = Vec::with_capacity(used.len() * w * h * channels);
    for &i in &used {
        let px = set.image(i)?;
        for y in 0..h {
            for x in 0..w {
                let o = ((y * step).min(set.height - 1) * set.width
                    + (x * step).min(set.width - 1))
                    * 4;
                data.extend_from_slice(&px[o..o + channels]);
            }
        }
    }
    let frame_image: Vec<i64> = frame_image
        .iter()
        .map(|i| {
            i.and_then(|i| used.binary_search(&i).ok())
                .map_or(-1, |j| j as i64)
        })
        .collect();
    Some(json!({
        "width": w, "height": h, "channels": channels, "count": used.len(),
        "data": base64(&data), "frame_image": frame_image,
    }))
}

/// The page's data: the JSON contract of `page.html` (format `srmscope-figure`, version 1).
pub fn figure_json(fig: &Figure, opts: &HtmlOptions) -> Value {
    let scene = fig.scene;
    let n_frames = scene.n_frames();
    let colors = palette(scene.n_networks());
    let networks: Vec<Value> = scene
        .trajectories
        .iter()
        .zip(&colors)
        .map(|(t, &c)| json!({"name": t.name, "color": rgb(c)}))
        .collect();
    let flat = |after: bool| {
        f32_base64(scene.trajectories.iter().flat_map(move |t| {
            let pts = if after { &t.after } else { &t.before };
            pts.iter().flat_map(|p| p.iter().copied())
        }))
    };
    let (class_names, class_colors) = match &scene.labels {
        Some(labels) => {
            let mut distinct = labels.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let names: serde_json::Map<String, Value> = distinct
                .iter()
                .map(|&l| {
                    let name = crate::data::class_name(fig.class_names, l);
                    (l.to_string(), Value::String(name))
                })
                .collect();
            let colours: Vec<Value> = label_palette(distinct.len()).into_iter().map(rgb).collect();
            (Value::Object(names), Value::Array(colours))
        }
        None => (Value::Null, Value::Null),
    };
    let tail = opts.tail.unwrap_or(DEFAULT_TAIL).clamp(1, n_frames.max(1));
    let metrics = fig.metrics.map(|m| {
        json!({
            "isc": headline(&m.isc),
            "rsa": headline(&m.rsa),
            "k": fig.k, "algo": fig.algo, "n_train": fig.n_train, "n_test": fig.n_test,
        })
    });
    let title = opts.title.clone().unwrap_or_default();
    json!({
        "format": "srmscope-figure",
        "version": 1,
        "title": title,
        "n_networks": scene.n_networks(),
        "n_frames": n_frames,
        "networks": networks,
        "before": flat(false),
        "after": flat(true),
        "image_index": scene.image_index,
        "labels": scene.labels,
        "class_names": class_names,
        "class_colors": class_colors,
        "disagreement_before": f32_base64(scene.disagreement_before.iter().copied()),
        "disagreement_after": f32_base64(scene.disagreement_after.iter().copied()),
        "evr_before": scene.evr_before,
        "evr_after": scene.evr_after,
        "images": thumbnails(fig, n_frames),
        "metrics": metrics,
        "style": {
            "dark": opts.dark,
            "ghost": ghost_key(opts.ghost),
            "tail": tail,
            "cube": opts.cube,
            "legend": opts.legend,
            "color_by_label": opts.color_by_label && scene.labels.is_some(),
            "line_width": 1.0,
            "view": opts.view,
            "layout": opts.layout,
            "width": opts.width,
            "height": opts.height,
        },
        "camera": {"yaw": opts.yaw_deg, "pitch": opts.pitch_deg, "zoom": opts.zoom},
        "playback": {"fps": opts.fps, "duration": opts.duration},
    })
}

fn ghost_key(g: Ghost) -> &'static str {
    match g {
        Ghost::None => "none",
        Ghost::Chemtrails => "chemtrails",
        Ghost::Precog => "precog",
        Ghost::Bullettime => "bullettime",
    }
}

/// JSON safe inside a `<script>` element: `</` cannot close it, and U+2028/9 stay escaped.
fn script_json(v: &Value) -> String {
    v.to_string()
        .replace("</", "<\\/")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `template` with each marker replaced once. The markers are found in the template itself,
/// so nothing spliced in (a title containing a marker, say) can receive another substitution.
fn splice(template: &str, parts: &[(&str, &str)]) -> String {
    let mut found: Vec<(usize, &str, &str)> = parts
        .iter()
        .filter_map(|&(marker, value)| template.find(marker).map(|at| (at, marker, value)))
        .collect();
    found.sort_by_key(|&(at, _, _)| at);
    let mut out =
        String::with_capacity(template.len() + parts.iter().map(|p| p.1.len()).sum::<usize>());
    let mut from = 0;
    for (at, marker, value) in found {
        out.push_str(&template[from..at]);
        out.push_str(value);
        from = at + marker.len();
    }
    out.push_str(&template[from..]);
    out
}

fn fill(template: &str, data: &Value, title: &str, player: &str) -> String {
    splice(
        template,
        &[
            (TITLE_MARKER, &html_escape(title)),
            (DATA_MARKER, &script_json(data)),
            (PLAYER_MARKER, player),
        ],
    )
}

/// One self-contained HTML page for a figure.
pub fn figure_page(fig: &Figure, opts: &HtmlOptions) -> String {
    let data = figure_json(fig, opts);
    let title = opts.title.as_deref().unwrap_or("srmscope figure");
    fill(PAGE, &data, title, "")
}

/// The player script shared by the figure page and the report (between its markers in
/// `page.html`), so the two pages never drift apart.
fn player_js() -> &'static str {
    let start = PAGE.find("// BEGIN PLAYER");
    let end = PAGE.find("// END PLAYER");
    match (start, end) {
        (Some(s), Some(e)) if e > s => &PAGE[s..e + "// END PLAYER".len()],
        _ => "",
    }
}

/// Bytes of trajectories a study report embeds at most, over all its cells.
pub const REPORT_TRAJECTORY_BYTES: usize = 12_000_000;

/// A pre-rendered study figure (the Study view's sections) for the report.
pub struct ReportFigure {
    pub title: String,
    pub png: Vec<u8>,
}

/// Every `step`-th frame of `scene` (and of its per-frame arrays).
pub fn subsample(scene: &SceneData, step: usize) -> SceneData {
    let step = step.max(1);
    let pick = |v: &[f32]| -> Vec<f32> { v.iter().step_by(step).copied().collect() };
    SceneData {
        trajectories: scene
            .trajectories
            .iter()
            .map(|t| crate::analysis::Trajectory {
                name: t.name.clone(),
                before: t.before.iter().step_by(step).copied().collect(),
                after: t.after.iter().step_by(step).copied().collect(),
            })
            .collect(),
        image_index: scene.image_index.iter().step_by(step).copied().collect(),
        labels: scene
            .labels
            .as_ref()
            .map(|l| l.iter().step_by(step).copied().collect()),
        disagreement_before: pick(&scene.disagreement_before),
        disagreement_after: pick(&scene.disagreement_after),
        ..scene.clone()
    }
}

/// The report's JSON: the figures, a table of every cell, and every cell's trajectories with
/// frames subsampled so the cells fit [`REPORT_TRAJECTORY_BYTES`] together. Cells without a
/// view (not fitted in this run nor cached) are listed without trajectories.
pub fn report_json(
    results: &crate::analysis::study::StudyResults,
    figures: &[ReportFigure],
    views: &std::collections::BTreeMap<usize, std::sync::Arc<crate::analysis::study::CellView>>,
    opts: &HtmlOptions,
) -> Value {
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let rows: Vec<Value> = results
        .cells
        .iter()
        .map(|c| {
            json!([
                c.arch,
                c.layer,
                c.checkpoint,
                c.k,
                c.n_test,
                c.metrics.isc.native,
                c.metrics.isc.shared,
                c.metrics.rsa.native,
                c.metrics.rsa.shared,
                mean(&c.metrics.variance_explained.test),
                c.within_rsm_consistency,
                c.dev_vs_final,
            ])
        })
        .collect();
    // 2 views × 3 floats × 4 bytes, as base64, per network and frame.
    let frame_bytes = |s: &SceneData| (s.n_networks() * 32).max(1);
    let n_views = views.len().max(1);
    let mut most = 0usize;
    let mut subsampled = false;
    let cells: Vec<Value> = results
        .cells
        .iter()
        .map(|c| {
            let id = format!("{}/{}/{}", c.arch, c.layer, c.checkpoint);
            let figure = views.get(&c.index).map(|v| {
                let per_cell = REPORT_TRAJECTORY_BYTES / n_views / frame_bytes(&v.scene);
                let step = v.scene.n_frames().div_ceil(per_cell.max(50));
                subsampled |= step > 1;
                let scene = subsample(&v.scene, step);
                most = most.max(scene.n_frames());
                let fig = Figure {
                    scene: &scene,
                    metrics: Some(&c.metrics),
                    test_idx: &[],
                    smooth: 1,
                    images: None,
                    class_names: None,
                    algo: results.settings.algo.label().to_string(),
                    k: c.k,
                    n_train: c.n_train,
                    n_test: c.n_test,
                };
                let mut o = opts.clone();
                o.title = Some(format!("{} · {id}", results.name));
                figure_json(&fig, &o)
            });
            json!({"id": id, "arch": c.arch, "layer": c.layer, "checkpoint": c.checkpoint,
                   "figure": figure})
        })
        .collect();
    let note = if subsampled {
        format!(
            "Trajectories: every cell's frames are subsampled to at most {most} so the page \
             stays under about {} MB; the numbers are from all held-out images.",
            REPORT_TRAJECTORY_BYTES / 1_000_000 + 2
        )
    } else {
        "Trajectories: every held-out frame of every cell.".to_string()
    };
    json!({
        "format": "srmscope-report",
        "version": 1,
        "title": format!("{} · {} cells · {}", results.name, results.cells.len(),
                         results.settings.algo.label()),
        "note": note,
        "figures": figures.iter().map(|f| json!({"title": f.title, "png": base64(&f.png)}))
            .collect::<Vec<_>>(),
        "table": {
            "columns": ["arch", "layer", "checkpoint", "k", "n_test", "isc_native", "isc_shared",
                        "rsa_native", "rsa_shared", "ve_test", "within_rsm_consistency",
                        "dev_vs_final"],
            "rows": rows,
        },
        "cells": cells,
    })
}

/// A study report page: `data` is the report's JSON (format `srmscope-report`).
pub fn report_page(data: &Value, title: &str) -> String {
    fill(REPORT, data, title, player_js())
}

/// Writes `html` atomically (temp file, rename); returns the bytes written.
pub fn write(path: &Path, html: &str) -> Result<u64, DataError> {
    use std::io::Write;
    crate::data::write_atomic(path, |f| f.write_all(html.as_bytes()))?;
    Ok(html.len() as u64)
}

/// The float32 trajectories a page carries, decoded back from its JSON: `(before, after)`,
/// each network × frame × 3. Tests and the Python layer use it to check a page.
pub fn decode_trajectories(page: &str) -> Option<(Vec<f32>, Vec<f32>)> {
    let start = page.find("id=\"srmscope-data\">")? + "id=\"srmscope-data\">".len();
    let end = start + page[start..].find("</script>")?;
    let v: Value = serde_json::from_str(&page[start..end].replace("<\\/", "</")).ok()?;
    let dec = |key: &str| -> Option<Vec<f32>> {
        let bytes = base64_decode(v.get(key)?.as_str()?)?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    };
    Some((dec("before")?, dec("after")?))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| B64.iter().position(|&b| b == c).map(|p| p as u32);
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i as u32);
        }
        let take = chunk.len().saturating_sub(1);
        for i in 0..take {
            out.push(((n >> (16 - 8 * i as u32)) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for n in 0..10u8 {
            let bytes: Vec<u8> = (0..n)
                .map(|i| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            let enc = base64(&bytes);
            assert_eq!(enc.len(), bytes.len().div_ceil(3) * 4);
            assert_eq!(base64_decode(&enc).as_deref(), Some(bytes.as_slice()));
        }
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn markers_in_a_title_are_not_filled() {
        let page = splice(
            "<title>__SRMSCOPE_TITLE__</title><x>__SRMSCOPE_DATA__</x>",
            &[(TITLE_MARKER, "__SRMSCOPE_DATA__"), (DATA_MARKER, "{}")],
        );
        assert_eq!(page, "<title>__SRMSCOPE_DATA__</title><x>{}</x>");
    }

    #[test]
    fn the_report_carries_the_pages_player() {
        let js = player_js();
        assert!(js.starts_with("// BEGIN PLAYER") && js.ends_with("// END PLAYER"));
        assert!(js.len() > 10_000, "the player script is {} bytes", js.len());
        let page = report_page(&json!({"format": "srmscope-report"}), "t");
        assert!(page.contains(js) && !page.contains(PLAYER_MARKER) && !page.contains(DATA_MARKER));
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let v = json!({"title": "</script><script>alert(1)</script>"});
        let s = script_json(&v);
        assert!(!s.contains("</"));
        let back: Value = serde_json::from_str(&s.replace("<\\/", "</")).unwrap_or(Value::Null);
        assert_eq!(back, v);
    }
}
