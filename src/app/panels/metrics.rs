//! Right panel: how well the alignment worked. Inter-network correlation (ISC) and second-order
//! RSA in native vs shared space with bootstrap whiskers and chance ticks, a network × network
//! heatmap of any pairwise measure, PCA variance per component before/after, the convergence
//! curve (live while fitting) and the variance each network's shared-space reconstruction
//! explains, train vs held-out.

use crate::app::study::plots::{grouped_bars_with, BarGroup};
use eframe::egui::{self, Align2, Color32, FontId, RichText, Stroke};
use egui_plot::{Line, Plot, PlotPoints};

use super::{heading, hint, num};
use crate::analysis::metrics::{IntervalPair, NativeShared};
use crate::analysis::similarity::{Kind, MeasureInfo, MEASURES};
use crate::analysis::Metrics;
use crate::app::state::{AppState, Loaded};
use crate::app::theme;
use crate::app::worker::{JobKind, Phase, SlotId, Worker};

pub fn show(ui: &mut egui::Ui, state: &AppState, worker: &Worker) {
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let job = worker.job(&JobKind::Fit(SlotId::Primary));
            let Some(l) = &state.primary.loaded else {
                heading(ui, "Metrics");
                hint(ui, "Metrics appear when the first fit is done.");
                if let Some(job) = job {
                    convergence(ui, &job.objective, true);
                }
                return;
            };
            let m = &l.output.metrics;
            fit_summary(ui, l);
            ui.separator();
            if l.phase == Phase::Aligning {
                heading(ui, "Measures");
                hint(
                    ui,
                    "The fit is running: both views show the native trajectories until the \
                     aligned ones arrive, then the measures follow.",
                );
            } else if l.phase == Phase::Measuring {
                heading(ui, "Measures");
                hint(
                    ui,
                    "Computing ISC, RSA, variance explained, their intervals and the pairwise \
                     measures; the trajectories are final.",
                );
            } else {
                quality(ui, m, l);
                ui.separator();
                pairs_heatmap(ui, m, l);
            }
            ui.separator();
            pca(ui, l);
            ui.separator();
            let live = job.is_some_and(|j| !j.objective.is_empty());
            let objective = match job {
                Some(j) if live => &j.objective,
                _ => &m.objective,
            };
            convergence(ui, objective, live);
            if l.phase == Phase::Done {
                ui.separator();
                variance_explained(ui, m, l);
            }
            if let Some(c) = state
                .compare
                .as_ref()
                .and_then(|c| c.loaded.as_ref())
                .filter(|c| c.phase == Phase::Done)
            {
                ui.separator();
                heading(ui, &format!("Beside: {}", c.dataset.name));
                quality(ui, &c.output.metrics, c);
            }
        });
}

fn fit_summary(ui: &mut egui::Ui, l: &Loaded) {
    heading(ui, "Fit");
    let s = &l.settings;
    let k = l.output.k;
    ui.label(format!(
        "{} · k = {k} · {} iterations",
        s.algo.label(),
        s.n_iter
    ));
    if l.phase == Phase::Aligning {
        hint(ui, "fitting; the progress is in the top bar");
    } else {
        hint(
            ui,
            &format!(
                "fitted in {:.2} s (whole pipeline {:.2} s)",
                l.output.metrics.fit_seconds, l.fit_seconds
            ),
        );
    }
}

/// A small table with a bar per value so native vs shared reads at a glance.
fn quality(ui: &mut egui::Ui, m: &Metrics, l: &Loaded) {
    heading(ui, "Alignment quality (held-out)");
    let mean = |v: &[f32]| {
        let f: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
        (!f.is_empty()).then(|| f.iter().sum::<f32>() as f64 / f.len() as f64)
    };
    egui::Grid::new(("quality", l.generation))
        .num_columns(3)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            ui.label("");
            ui.label(RichText::new("native").color(theme::BEFORE));
            ui.label(RichText::new("shared").color(theme::AFTER));
            ui.end_row();
            pair_row(
                ui,
                "ISC",
                "Leave-one-out inter-network correlation per dimension (similarity, [−1, 1], 1 for identical networks)",
                &m.isc,
            );
            pair_row(
                ui,
                "RSA",
                "Second-order similarity: inter-network RSM vs within-network RSM (Pearson r, [−1, 1], 1 for identical networks)",
                &m.rsa,
            );
            let (b, a) = (
                mean(&l.scene.disagreement_before),
                mean(&l.scene.disagreement_after),
            );
            ui.label("Spread").on_hover_text(
                "Mean distance between networks in the 3D view (lower = more similar)",
            );
            ui.label(num(b, 3));
            ui.label(num(a, 3));
            ui.end_row();
        });
    if m.isc.native.is_none() {
        hint(ui, "Native values need equal unit counts.");
    }
    if m.isc.ci95.is_some() {
        hint(
            ui,
            "Whiskers: 95 % bootstrap interval over held-out images. Grey tick: chance (image order shuffled per network).",
        );
    }
}

fn interval_text(iv: Option<[f64; 2]>) -> String {
    iv.map_or("n/a".into(), |[a, b]| format!("[{a:.3}, {b:.3}]"))
}

/// Hover text for a headline number: its interval, range over left-out networks and chance.
pub fn uncertainty_text(v: &NativeShared, shared: bool) -> String {
    let pick = |p: &Option<IntervalPair>| {
        p.as_ref()
            .and_then(|p| if shared { p.shared } else { p.native })
    };
    let mut t = Vec::new();
    if v.ci95.is_some() {
        t.push(format!(
            "95 % bootstrap interval {}",
            interval_text(pick(&v.ci95))
        ));
    }
    if v.leave_one_network_out.is_some() {
        t.push(format!(
            "leaving one network out {}",
            interval_text(pick(&v.leave_one_network_out))
        ));
    }
    if let Some(c) = v.chance {
        t.push(format!("chance (shuffled images, shared) {c:.3}"));
    }
    if t.is_empty() {
        "no intervals computed".into()
    } else {
        t.join("\n")
    }
}

fn pair_row(ui: &mut egui::Ui, name: &str, tip: &str, v: &NativeShared) {
    ui.label(name).on_hover_text(tip);
    let ci = |shared: bool| {
        v.ci95
            .as_ref()
            .and_then(|c| if shared { c.shared } else { c.native })
    };
    for (val, color, shared) in [
        (v.native, theme::BEFORE, false),
        (Some(v.shared), theme::AFTER, true),
    ] {
        ui.horizontal(|ui| {
            ui.label(RichText::new(num(val, 3)).monospace());
            let r = bar_with_interval(ui, val.unwrap_or(0.0), ci(shared), v.chance, color);
            r.on_hover_text(uncertainty_text(v, shared));
        });
    }
    ui.end_row();
}

/// A 0..1 bar with a whisker for `ci` and a tick at `chance`.
fn bar_with_interval(
    ui: &mut egui::Ui,
    v: f64,
    ci: Option<[f64; 2]>,
    chance: Option<f64>,
    color: Color32,
) -> egui::Response {
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(60.0, 10.0), egui::Sense::hover());
    let p = ui.painter();
    p.rect_filled(rect, 2.0, theme::STRIP_BG);
    let x = |f: f64| rect.left() + rect.width() * (f.clamp(0.0, 1.0) as f32);
    if v.is_finite() {
        let filled = egui::Rect::from_min_max(rect.min, egui::pos2(x(v), rect.bottom()));
        p.rect_filled(filled, 2.0, color);
    }
    if let Some(c) = chance.filter(|c| c.is_finite()) {
        p.line_segment(
            [
                egui::pos2(x(c), rect.top()),
                egui::pos2(x(c), rect.bottom()),
            ],
            Stroke::new(1.5, theme::MUTED),
        );
    }
    if let Some([lo, hi]) = ci {
        let y = rect.center().y;
        let st = Stroke::new(1.2, Color32::WHITE);
        p.line_segment([egui::pos2(x(lo), y), egui::pos2(x(hi), y)], st);
        for e in [lo, hi] {
            p.line_segment([egui::pos2(x(e), y - 3.0), egui::pos2(x(e), y + 3.0)], st);
        }
    }
    resp
}

/// Tooltip text of a measure, from the metadata table.
pub fn measure_tooltip(m: &MeasureInfo) -> String {
    format!(
        "{}\n{} · range {} · a network against itself: {}\ninvariant to: {}\n{}",
        m.label,
        m.kind.label(),
        m.range_text,
        m.self_value,
        m.invariant_to,
        m.about
    )
}

/// Colour of a value's "alike-ness" t in [0, 1]: dark blue → teal → yellow.
fn ramp(t: f32) -> Color32 {
    let stops = [
        (30.0, 35.0, 70.0),
        (60.0, 160.0, 170.0),
        (245.0, 225.0, 120.0),
    ];
    let t = t.clamp(0.0, 1.0) * 2.0;
    let (i, f) = if t >= 1.0 { (1, t - 1.0) } else { (0, t) };
    let (a, b) = (stops[i], stops[i + 1]);
    let l = |x: f32, y: f32| (x + (y - x) * f).round() as u8;
    Color32::from_rgb(l(a.0, b.0), l(a.1, b.1), l(a.2, b.2))
}

/// Network × network heatmaps of one pairwise measure, native and shared on one colour scale.
fn pairs_heatmap(ui: &mut egui::Ui, m: &Metrics, l: &Loaded) {
    heading(ui, "Network × network");
    let Some(pairs) = &m.pairs else {
        hint(ui, "Pairwise measures were not computed for this fit.");
        return;
    };
    let id = egui::Id::unique("srmscope_pair_measure");
    let mut sel = ui.data_mut(|d| *d.get_temp_mut_or_default::<usize>(id));
    sel = sel.min(MEASURES.len() - 1);
    egui::ComboBox::from_id_salt("pair_measure_combo")
        .selected_text(MEASURES[sel].label)
        .show_ui(ui, |ui| {
            for (i, info) in MEASURES.iter().enumerate() {
                ui.selectable_value(&mut sel, i, info.label)
                    .on_hover_text(measure_tooltip(info));
            }
        })
        .response
        .on_hover_text(measure_tooltip(&MEASURES[sel]));
    ui.data_mut(|d| d.insert_temp(id, sel));
    let info = &MEASURES[sel];
    let Some(pm) = pairs.get(info.key) else {
        hint(ui, "This measure is not in the metrics.");
        return;
    };
    // One scale for both panels, over the off-diagonal cells, so native and shared compare.
    let offdiag = |mat: &Vec<Vec<f64>>| -> Vec<f64> {
        mat.iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.iter()
                    .enumerate()
                    .filter(move |(j, _)| *j != i)
                    .map(|(_, v)| *v)
            })
            .filter(|v| v.is_finite())
            .collect()
    };
    let vals: Vec<f64> = offdiag(&pm.native)
        .into_iter()
        .chain(offdiag(&pm.shared))
        .collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let alike = |v: f64| -> f32 {
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            return 1.0;
        }
        let t = ((v - lo) / (hi - lo)) as f32;
        match info.kind {
            Kind::Similarity => t,
            Kind::Distance => 1.0 - t,
        }
    };
    let names = l.names();
    ui.horizontal(|ui| {
        for (title, mat, color) in [
            ("native", &pm.native, theme::BEFORE),
            ("shared", &pm.shared, theme::AFTER),
        ] {
            ui.vertical(|ui| {
                ui.label(RichText::new(title).color(color));
                heatmap(ui, mat, &names, &alike, info);
            });
        }
    });
    if lo.is_finite() {
        let (best, worst) = match info.kind {
            Kind::Similarity => (hi, lo),
            Kind::Distance => (lo, hi),
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("{worst:.3}")).monospace().small());
            let (rect, _) = ui.allocate_exact_size(egui::vec2(80.0, 8.0), egui::Sense::hover());
            let steps = 20;
            for k in 0..steps {
                let a = rect.left() + rect.width() * k as f32 / steps as f32;
                let b = rect.left() + rect.width() * (k + 1) as f32 / steps as f32;
                ui.painter().rect_filled(
                    egui::Rect::from_min_max(
                        egui::pos2(a, rect.top()),
                        egui::pos2(b, rect.bottom()),
                    ),
                    0.0,
                    ramp(k as f32 / (steps - 1) as f32),
                );
            }
            ui.label(RichText::new(format!("{best:.3}")).monospace().small());
            ui.label(RichText::new("more alike →").small().color(theme::MUTED));
        });
    }
    hint(
        ui,
        &format!(
            "{} · range {} · self {} · invariant to {}",
            info.kind.label(),
            info.range_text,
            info.self_value,
            info.invariant_to
        ),
    );
}

fn heatmap(
    ui: &mut egui::Ui,
    mat: &[Vec<f64>],
    names: &[String],
    alike: &dyn Fn(f64) -> f32,
    info: &MeasureInfo,
) {
    let m = mat.len();
    let cell = if m == 0 {
        16.0
    } else {
        (120.0 / m as f32).clamp(6.0, 22.0)
    };
    let size = egui::vec2(cell * m as f32, cell * m as f32);
    let (rect, resp) = ui.allocate_exact_size(size, egui::Sense::hover());
    let p = ui.painter();
    for (i, row) in mat.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let min = rect.min + egui::vec2(j as f32 * cell, i as f32 * cell);
            let r = egui::Rect::from_min_size(min, egui::vec2(cell, cell)).shrink(0.5);
            let c = if v.is_finite() {
                ramp(alike(v))
            } else {
                theme::STRIP_BG
            };
            p.rect_filled(r, 0.0, c);
        }
    }
    if m > 0 && m <= 6 && cell >= 18.0 {
        for i in 0..m {
            p.text(
                rect.min + egui::vec2(-2.0, (i as f32 + 0.5) * cell),
                Align2::RIGHT_CENTER,
                format!("{i}"),
                FontId::monospace(9.0),
                theme::MUTED,
            );
        }
    }
    if let Some(pos) = resp.hover_pos() {
        let j = ((pos.x - rect.left()) / cell).floor() as usize;
        let i = ((pos.y - rect.top()) / cell).floor() as usize;
        if let Some(v) = mat.get(i).and_then(|r| r.get(j)) {
            let name = |k: usize| names.get(k).cloned().unwrap_or_else(|| format!("net{k}"));
            let val = if v.is_finite() {
                format!("{v:.4}")
            } else {
                "n/a (needs equal unit counts)".into()
            };
            resp.on_hover_text(format!("{} vs {}\n{}: {val}", name(i), name(j), info.label));
        }
    }
}

/// A 0..1 bar (negative values show empty).
fn bar(ui: &mut egui::Ui, v: f64, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(44.0, 8.0), egui::Sense::hover());
    ui.painter().rect_filled(rect, 2.0, theme::STRIP_BG);
    let f = if v.is_finite() {
        v.clamp(0.0, 1.0) as f32
    } else {
        0.0
    };
    let filled = egui::Rect::from_min_size(rect.min, egui::vec2(rect.width() * f, rect.height()));
    ui.painter().rect_filled(filled, 2.0, color);
}

fn pca(ui: &mut egui::Ui, l: &Loaded) {
    heading(ui, "PCA variance explained");
    // No aligned view yet while the fit runs.
    let a = if l.phase == Phase::Aligning {
        [f64::NAN; 3]
    } else {
        l.scene.evr_after
    };
    let b = l.scene.evr_before;
    egui::Grid::new(("pca", l.generation))
        .num_columns(3)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            ui.label("");
            ui.label(RichText::new("before").color(theme::BEFORE));
            ui.label(RichText::new("after").color(theme::AFTER));
            ui.end_row();
            for i in 0..3 {
                ui.label(format!("PC{}", i + 1));
                for (v, color) in [(b[i], theme::BEFORE), (a[i], theme::AFTER)] {
                    if !v.is_finite() {
                        ui.label(RichText::new("    —").monospace());
                        continue;
                    }
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(format!("{:5.1} %", v * 100.0)).monospace());
                        bar(ui, v, color);
                    });
                }
                ui.end_row();
            }
            ui.label(RichText::new("total").strong());
            ui.label(
                RichText::new(format!("{:5.1} %", b.iter().sum::<f64>() * 100.0))
                    .monospace()
                    .strong(),
            );
            let total_a = a.iter().sum::<f64>();
            ui.label(
                RichText::new(if total_a.is_finite() {
                    format!("{:5.1} %", total_a * 100.0)
                } else {
                    "    —".into()
                })
                .monospace()
                .strong(),
            );
            ui.end_row();
        });
    if l.scene.before_padded {
        hint(
            ui,
            "Before: networks of different widths were zero-padded for the joint PCA.",
        );
    }
}

fn convergence(ui: &mut egui::Ui, objective: &[f64], live: bool) {
    heading(
        ui,
        if live {
            "Convergence (fitting…)"
        } else {
            "Convergence"
        },
    );
    if objective.is_empty() {
        hint(ui, "No objective recorded.");
        return;
    }
    let pts: Vec<[f64; 2]> = objective
        .iter()
        .enumerate()
        .map(|(i, &o)| [(i + 1) as f64, o])
        .collect();
    Plot::new("convergence_plot")
        .height(130.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .x_axis_label("iteration")
        .y_axis_min_width(36.0)
        .y_axis_formatter(|mark, _| short_number(mark.value))
        .show(ui, |p| {
            p.line(
                Line::new("objective", PlotPoints::new(pts))
                    .color(theme::ACCENT)
                    .width(2.0),
            );
        });
    if let (Some(first), Some(last)) = (objective.first(), objective.last()) {
        hint(ui, &format!("objective {first:.4} → {last:.4}"));
    }
}

/// Axis labels for objectives that run into the hundreds of thousands: `480k`, `-1.2M`.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn variance_explained(ui: &mut egui::Ui, m: &Metrics, l: &Loaded) {
    heading(ui, "Variance explained per network");
    let ve = &m.variance_explained;
    if ve.train.is_empty() && ve.test.is_empty() {
        hint(ui, "Not computed for this fit.");
        return;
    }
    let names = l.names();
    let group = |name: &str, vals: &[f64], color: Color32| BarGroup {
        name: name.to_string(),
        color,
        values: vals
            .iter()
            .map(|&v| Some(if v.is_finite() { v } else { 0.0 }))
            .collect(),
        names: names.clone(),
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new("■ train").color(theme::ACCENT));
        ui.label(RichText::new("■ held-out").color(theme::AFTER));
    });
    let groups = [
        group("train", &ve.train, theme::ACCENT),
        group("held-out", &ve.test, theme::AFTER),
    ];
    grouped_bars_with(ui, "ve_plot", &groups, &names, 150.0, |p, offset| {
        // 95 % bootstrap whiskers on the held-out bars.
        for (i, iv) in ve.ci95.iter().flatten().enumerate() {
            if let Some([lo, hi]) = *iv {
                let x = i as f64 + offset(1);
                p.line(
                    Line::new(format!("ci{i}"), PlotPoints::new(vec![[x, lo], [x, hi]]))
                        .color(Color32::WHITE)
                        .width(1.5),
                );
            }
        }
    });
    hint(
        ui,
        if ve.ci95.is_some() {
            "1 − error of rebuilding each network from the mean shared response (the paper's measure). Whiskers: 95 % bootstrap interval over held-out images."
        } else {
            "1 − error of rebuilding each network from the mean shared response (the paper's measure)."
        },
    );
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(479_998.6), "480k");
        assert_eq!(short_number(-2_077_550.0), "-2.1M");
        assert_eq!(short_number(512.4), "512");
        assert_eq!(short_number(0.125), "0.12");
    }
}
