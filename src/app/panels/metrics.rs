//! Right panel: how well the alignment worked. Inter-network correlation (ISC) and second-order
//! RSA in native vs shared space, PCA variance per component before/after, the convergence curve
//! (live while fitting) and the variance each network's shared-space reconstruction explains,
//! train vs held-out.

use eframe::egui::{self, Color32, RichText};
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints};

use super::{heading, hint, num};
use crate::analysis::Metrics;
use crate::app::state::{AppState, Loaded};
use crate::app::theme;
use crate::app::worker::{JobKind, SlotId, Worker};

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
            quality(ui, m, l);
            ui.separator();
            pca(ui, l);
            ui.separator();
            let live = job.is_some_and(|j| !j.objective.is_empty());
            let objective = match job {
                Some(j) if live => &j.objective,
                _ => &m.objective,
            };
            convergence(ui, objective, live);
            ui.separator();
            variance_explained(ui, m, l);
            if let Some(c) = state.compare.as_ref().and_then(|c| c.loaded.as_ref()) {
                ui.separator();
                heading(ui, &format!("Beside: {}", c.dataset.name));
                quality(ui, &c.output.metrics, c);
            }
        });
}

fn fit_summary(ui: &mut egui::Ui, l: &Loaded) {
    heading(ui, "Fit");
    let s = &l.settings;
    let k = l.output.model.s.nrows();
    ui.label(format!(
        "{} · k = {k} · {} iterations",
        s.algo.label(),
        s.n_iter
    ));
    hint(
        ui,
        &format!(
            "fitted in {:.2} s (whole pipeline {:.2} s)",
            l.output.metrics.fit_seconds, l.fit_seconds
        ),
    );
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
                "Leave-one-out inter-network correlation per dimension",
                m.isc.native,
                Some(m.isc.shared),
            );
            pair_row(
                ui,
                "RSA",
                "Second-order similarity: inter-network RSM vs within-network RSM",
                m.rsa.native,
                Some(m.rsa.shared),
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
}

fn pair_row(ui: &mut egui::Ui, name: &str, tip: &str, native: Option<f64>, shared: Option<f64>) {
    ui.label(name).on_hover_text(tip);
    for (v, color) in [(native, theme::BEFORE), (shared, theme::AFTER)] {
        ui.horizontal(|ui| {
            ui.label(RichText::new(num(v, 3)).monospace());
            bar(ui, v.unwrap_or(0.0), color);
        });
    }
    ui.end_row();
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
    let (b, a) = (l.scene.evr_before, l.scene.evr_after);
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
            ui.label(
                RichText::new(format!("{:5.1} %", a.iter().sum::<f64>() * 100.0))
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
    let bars = |vals: &[f64], offset: f64, color: Color32| -> Vec<Bar> {
        vals.iter()
            .enumerate()
            .map(|(i, &v)| {
                let name = names.get(i).cloned().unwrap_or_else(|| format!("net{i}"));
                Bar::new(i as f64 + offset, if v.is_finite() { v } else { 0.0 })
                    .width(0.36)
                    .name(name)
                    .fill(color)
            })
            .collect()
    };
    let train = BarChart::new("train", bars(&ve.train, -0.2, theme::ACCENT)).color(theme::ACCENT);
    let test = BarChart::new("held-out", bars(&ve.test, 0.2, theme::AFTER)).color(theme::AFTER);
    let labels = names.clone();
    ui.horizontal(|ui| {
        ui.label(RichText::new("■ train").color(theme::ACCENT));
        ui.label(RichText::new("■ held-out").color(theme::AFTER));
    });
    Plot::new("ve_plot")
        .height(150.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            p.bar_chart(train);
            p.bar_chart(test);
        });
    hint(
        ui,
        "1 − error of rebuilding each network from the mean shared response (the paper's measure).",
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
