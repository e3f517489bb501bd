//! Pure painters of the Study view. Each takes plain data and an `&mut egui::Ui` and returns
//! what was clicked or hovered, so the same functions can paint into an offscreen context for
//! PNG figures. No app state in here.

use eframe::egui::{self, Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, Vec2};
use egui_plot::{Bar, BarChart, Line, LineStyle, MarkerShape, Plot, PlotPoints, Points};

use crate::app::theme;

/// How values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScaleKind {
    /// Low → high: dark blue, teal, yellow.
    Sequential,
    /// Negative blue, zero near-white, positive red; symmetric around zero.
    Diverging,
}

/// A colour scale over `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColorScale {
    pub lo: f64,
    pub hi: f64,
    pub kind: ScaleKind,
}

impl ColorScale {
    /// A sequential scale over the values' range (a degenerate range is widened a little).
    pub fn sequential(lo: f64, hi: f64) -> Self {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        };
        Self {
            lo,
            hi,
            kind: ScaleKind::Sequential,
        }
    }

    /// A diverging scale over `-limit..=limit`.
    pub fn diverging(limit: f64) -> Self {
        let l = if limit.is_finite() && limit > 0.0 {
            limit
        } else {
            1.0
        };
        Self {
            lo: -l,
            hi: l,
            kind: ScaleKind::Diverging,
        }
    }

    /// Where `v` falls on the scale, clamped to 0..=1 (NaN gives the middle).
    pub fn t(&self, v: f64) -> f32 {
        if !v.is_finite() {
            return 0.5;
        }
        (((v - self.lo) / (self.hi - self.lo)) as f32).clamp(0.0, 1.0)
    }

    pub fn color(&self, v: f64) -> Color32 {
        let t = self.t(v);
        match self.kind {
            ScaleKind::Sequential => sequential_color(t),
            ScaleKind::Diverging => diverging_color(t),
        }
    }
}

fn lerp_stops(stops: &[(f32, f32, f32)], t: f32) -> Color32 {
    let n = stops.len().saturating_sub(1).max(1);
    let x = t.clamp(0.0, 1.0) * n as f32;
    let i = (x.floor() as usize).min(n - 1);
    let f = x - i as f32;
    let (a, b) = (stops[i], stops[(i + 1).min(stops.len() - 1)]);
    let l = |x: f32, y: f32| (x + (y - x) * f).round().clamp(0.0, 255.0) as u8;
    Color32::from_rgb(l(a.0, b.0), l(a.1, b.1), l(a.2, b.2))
}

/// Dark blue → teal → yellow (the metrics panel's ramp, with one more stop).
pub fn sequential_color(t: f32) -> Color32 {
    lerp_stops(
        &[
            (30.0, 35.0, 70.0),
            (40.0, 100.0, 140.0),
            (60.0, 160.0, 170.0),
            (245.0, 225.0, 120.0),
        ],
        t,
    )
}

/// Blue → near-white → red.
pub fn diverging_color(t: f32) -> Color32 {
    lerp_stops(
        &[
            (33.0, 72.0, 160.0),
            (120.0, 160.0, 215.0),
            (240.0, 240.0, 240.0),
            (225.0, 125.0, 100.0),
            (170.0, 30.0, 40.0),
        ],
        t,
    )
}

/// One square of a metric grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GridCell {
    /// The manifest has no such cell.
    Absent,
    /// Not fitted yet.
    Pending,
    /// Fitted, but the metric is undefined there.
    Undefined,
    Value(f64),
}

/// Where a grid's squares are: `rows × cols` squares of `cell` size from `origin`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridGeom {
    pub origin: Pos2,
    pub cell: Vec2,
    pub rows: usize,
    pub cols: usize,
}

impl GridGeom {
    pub fn rect(&self, row: usize, col: usize) -> Rect {
        Rect::from_min_size(
            self.origin + Vec2::new(col as f32 * self.cell.x, row as f32 * self.cell.y),
            self.cell,
        )
    }

    /// The square under `pos`, if any.
    pub fn hit(&self, pos: Pos2) -> Option<(usize, usize)> {
        let d = pos - self.origin;
        if d.x < 0.0 || d.y < 0.0 || self.cell.x <= 0.0 || self.cell.y <= 0.0 {
            return None;
        }
        let (c, r) = (
            (d.x / self.cell.x).floor() as usize,
            (d.y / self.cell.y).floor() as usize,
        );
        (r < self.rows && c < self.cols).then_some((r, c))
    }
}

/// A metric grid to paint: rows are layers (top = first), columns checkpoints.
pub struct GridSpec<'a> {
    pub id_salt: &'a str,
    pub row_labels: &'a [String],
    pub col_labels: &'a [String],
    /// Row-major, `rows × cols`.
    pub cells: &'a [GridCell],
    pub scale: ColorScale,
    pub selected: Option<(usize, usize)>,
    /// Width available for the whole grid, labels included.
    pub width: f32,
    /// The tallest a row may be (the viewer fits every arch's grid in its section).
    pub max_row_h: f32,
}

/// What happened to a grid this frame.
pub struct GridOutput {
    pub response: egui::Response,
    pub geom: GridGeom,
    pub clicked: Option<(usize, usize)>,
    pub hovered: Option<(usize, usize)>,
}

/// A heatmap of one metric, with row labels at the left and column labels below. Pending cells
/// are drawn as hatched dark squares, undefined ones grey with a dash, absent ones not at all.
pub fn heatmap_grid(ui: &mut egui::Ui, spec: &GridSpec<'_>) -> GridOutput {
    let rows = spec.row_labels.len();
    let cols = spec.col_labels.len();
    let font = FontId::proportional(11.0);
    let label_w = spec
        .row_labels
        .iter()
        .map(|l| {
            ui.fonts_mut(|f| {
                f.layout_no_wrap(l.clone(), font.clone(), Color32::WHITE)
                    .size()
                    .x
            })
        })
        .fold(0.0f32, f32::max)
        .clamp(16.0, 110.0)
        + 6.0;
    let cw = ((spec.width - label_w) / cols.max(1) as f32).clamp(12.0, 60.0);
    let ch = cw.clamp(14.0, 32.0).min(spec.max_row_h);
    let size = Vec2::new(label_w + cw * cols as f32, ch * rows as f32 + 16.0);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let geom = GridGeom {
        origin: rect.min + Vec2::new(label_w, 0.0),
        cell: Vec2::new(cw, ch),
        rows,
        cols,
    };
    let p = ui.painter_at(rect.expand(2.0));
    grid_labels(&p, spec, &geom, &font);
    for r in 0..rows {
        for c in 0..cols {
            let cell = spec
                .cells
                .get(r * cols + c)
                .copied()
                .unwrap_or(GridCell::Absent);
            paint_cell(&p, geom.rect(r, c).shrink(1.0), cell, &spec.scale);
        }
    }
    if let Some((r, c)) = spec.selected.filter(|&(r, c)| r < rows && c < cols) {
        let sq = geom.rect(r, c);
        p.rect_stroke(
            sq.shrink(0.5),
            1.0,
            Stroke::new(2.5, Color32::WHITE),
            egui::StrokeKind::Inside,
        );
    }
    let hovered = response.hover_pos().and_then(|pos| geom.hit(pos));
    if let Some((r, c)) = hovered {
        p.rect_stroke(
            geom.rect(r, c),
            1.0,
            Stroke::new(1.0, theme::ACCENT),
            egui::StrokeKind::Inside,
        );
    }
    let clicked = if response.clicked() {
        response
            .interact_pointer_pos()
            .and_then(|pos| geom.hit(pos))
    } else {
        None
    };
    if response.has_focus() {
        p.rect_stroke(
            Rect::from_min_size(geom.origin, Vec2::new(cw * cols as f32, ch * rows as f32))
                .expand(1.5),
            2.0,
            Stroke::new(1.0, theme::ACCENT.gamma_multiply(0.6)),
            egui::StrokeKind::Outside,
        );
    }
    GridOutput {
        response,
        geom,
        clicked,
        hovered,
    }
}

/// Row labels at the left; column labels below, all when they fit, else every k-th.
fn grid_labels(p: &egui::Painter, spec: &GridSpec<'_>, geom: &GridGeom, font: &FontId) {
    for (r, l) in spec.row_labels.iter().enumerate() {
        p.text(
            Pos2::new(geom.origin.x - 4.0, geom.rect(r, 0).center().y),
            Align2::RIGHT_CENTER,
            l,
            font.clone(),
            theme::MUTED,
        );
    }
    let step = ((28.0 / geom.cell.x).ceil() as usize).max(1);
    for (c, l) in spec.col_labels.iter().enumerate() {
        if c % step != 0 && c + 1 != geom.cols {
            continue;
        }
        p.text(
            Pos2::new(
                geom.rect(0, c).center().x,
                geom.origin.y + geom.cell.y * geom.rows as f32 + 2.0,
            ),
            Align2::CENTER_TOP,
            l,
            FontId::proportional(10.0),
            theme::MUTED,
        );
    }
}

/// One grid square `sq`: its colour, hatching while pending, a dash where undefined.
fn paint_cell(p: &egui::Painter, sq: Rect, cell: GridCell, scale: &ColorScale) {
    match cell {
        GridCell::Absent => {}
        GridCell::Pending => {
            p.rect_filled(sq, 1.0, theme::STRIP_BG);
            // Hatching says "not yet".
            // Parallel "/" lines: the upper-left half, the diagonal, the lower-right half.
            let st = Stroke::new(1.0, Color32::from_gray(66));
            let n = 3;
            for k in 1..=n {
                let f = k as f32 / n as f32;
                p.line_segment(
                    [
                        Pos2::new(sq.left() + sq.width() * f, sq.top()),
                        Pos2::new(sq.left(), sq.top() + sq.height() * f),
                    ],
                    st,
                );
                if k < n {
                    p.line_segment(
                        [
                            Pos2::new(sq.right(), sq.top() + sq.height() * f),
                            Pos2::new(sq.left() + sq.width() * f, sq.bottom()),
                        ],
                        st,
                    );
                }
            }
        }
        GridCell::Undefined => {
            p.rect_filled(sq, 1.0, Color32::from_gray(60));
            p.text(
                sq.center(),
                Align2::CENTER_CENTER,
                "–",
                FontId::proportional(10.0),
                Color32::from_gray(150),
            );
        }
        GridCell::Value(v) => {
            p.rect_filled(sq, 1.0, scale.color(v));
        }
    }
}

/// A horizontal colour bar with its end values and a caption.
pub fn legend_bar(ui: &mut egui::Ui, scale: &ColorScale, width: f32, caption: &str) {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        ui.label(
            RichText::new(format!("{:.2}", scale.lo))
                .monospace()
                .small(),
        );
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, 9.0), Sense::hover());
        let steps = 32;
        for k in 0..steps {
            let a = rect.left() + rect.width() * k as f32 / steps as f32;
            let b = rect.left() + rect.width() * (k + 1) as f32 / steps as f32;
            let v = scale.lo + (scale.hi - scale.lo) * (k as f64 + 0.5) / steps as f64;
            ui.painter().rect_filled(
                Rect::from_min_max(Pos2::new(a, rect.top()), Pos2::new(b, rect.bottom())),
                0.0,
                scale.color(v),
            );
        }
        ui.label(
            RichText::new(format!("{:.2}", scale.hi))
                .monospace()
                .small(),
        );
        if !caption.is_empty() {
            ui.label(RichText::new(caption).small().color(theme::MUTED));
        }
    });
}

/// One line of a plot.
pub struct Series {
    pub name: String,
    pub color: Color32,
    pub dashed: bool,
    pub points: Vec<[f64; 2]>,
}

/// A line plot of a metric over checkpoints, one line per series, with a ring on `marked`.
pub fn line_plot(
    ui: &mut egui::Ui,
    id: &str,
    series: &[Series],
    marked: Option<[f64; 2]>,
    height: f32,
    x_label: &str,
) -> egui::Response {
    Plot::new(id)
        .height(height)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .x_axis_label(x_label)
        .y_axis_min_width(30.0)
        .show(ui, |p| {
            for s in series {
                let mut line = Line::new(s.name.clone(), PlotPoints::new(s.points.clone()))
                    .color(s.color)
                    .width(1.8);
                if s.dashed {
                    line = line.style(LineStyle::dashed_loose());
                }
                p.line(line);
                p.points(
                    Points::new("", PlotPoints::new(s.points.clone()))
                        .color(s.color)
                        .radius(2.5),
                );
            }
            if let Some(m) = marked {
                p.points(
                    Points::new("", PlotPoints::new(vec![m]))
                        .shape(MarkerShape::Circle)
                        .filled(false)
                        .radius(7.0)
                        .color(Color32::WHITE),
                );
            }
        })
        .response
}

/// A wrapped row of coloured names: the key of a plot, outside it so it hides nothing. An entry
/// is never broken across lines, so the row's height is what it takes.
pub fn key_row(ui: &mut egui::Ui, series: &[Series]) {
    ui.scope(|ui| {
        // Rows as tall as the small text, not as a button (set before the wrapped layout starts).
        ui.spacing_mut().item_spacing = Vec2::new(8.0, 2.0);
        ui.spacing_mut().interact_size.y = 0.0;
        ui.horizontal_wrapped(|ui| {
            for s in series {
                let mark = if s.dashed { "╌" } else { "━" };
                let text = RichText::new(format!("{mark} {}", s.name))
                    .small()
                    .color(s.color);
                ui.add(egui::Label::new(text).wrap_mode(egui::TextWrapMode::Extend));
            }
        });
    });
}

/// One group of bars (an arch): a value per category (a layer), `None` where it has none.
pub struct BarGroup {
    pub name: String,
    pub color: Color32,
    pub values: Vec<Option<f64>>,
    /// Hover name per category.
    pub names: Vec<String>,
}

/// Whether every category's name fits under its bars in `width` points (about 7 px a
/// character at the axis' size); otherwise the bars are numbered and [`bar_key`] names them.
pub fn bar_names_fit(width: f32, categories: &[String]) -> bool {
    let slot = width / categories.len().max(1) as f32;
    categories
        .iter()
        .all(|c| c.chars().count() as f32 * 7.0 < slot * 0.9)
}

/// The key of numbered bars: `1 name   2 name …`.
pub fn bar_key_text(categories: &[String]) -> String {
    let key: Vec<String> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} {c}", i + 1))
        .collect();
    key.join("   ")
}

/// [`bar_key_text`] as a small muted label.
pub fn bar_key(ui: &mut egui::Ui, categories: &[String]) {
    ui.label(
        RichText::new(bar_key_text(categories))
            .small()
            .color(theme::MUTED),
    );
}

/// Bars per category, groups side by side, with something drawn over them (`overlay`, given
/// each group's x offset from its category's centre: whiskers, say). Names under the bars when
/// they fit; otherwise numbers there and a key of the names under the plot.
pub fn grouped_bars_with(
    ui: &mut egui::Ui,
    id: &str,
    groups: &[BarGroup],
    categories: &[String],
    height: f32,
    overlay: impl FnOnce(&mut egui_plot::PlotUi, &dyn Fn(usize) -> f64),
) -> egui::Response {
    let names_fit = bar_names_fit(ui.available_width(), categories);
    let response = bar_plot(ui, id, groups, categories, height, names_fit, overlay);
    if !names_fit {
        bar_key(ui, categories);
    }
    response
}

/// The plot of [`grouped_bars_with`] alone: category names under the bars when `names_fit`,
/// else their numbers (the caller shows the key).
pub fn bar_plot(
    ui: &mut egui::Ui,
    id: &str,
    groups: &[BarGroup],
    categories: &[String],
    height: f32,
    names_fit: bool,
    overlay: impl FnOnce(&mut egui_plot::PlotUi, &dyn Fn(usize) -> f64),
) -> egui::Response {
    let n = groups.len().max(1) as f64;
    let w = 0.8 / n;
    let labels: Vec<String> = if names_fit {
        categories.to_vec()
    } else {
        (1..=categories.len()).map(|i| i.to_string()).collect()
    };
    Plot::new(id)
        .height(height)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .include_y(1.0)
        .include_x(-0.6)
        .include_x(categories.len() as f64 - 0.4)
        .y_axis_min_width(30.0)
        .include_y(-0.14)
        // Category names are drawn as text under their bars: axis labels hide themselves once
        // the slots get narrow, which left only the first group named.
        .show_axes([false, true])
        .show_grid([false, true])
        .show(ui, |p| {
            let offset = |g: usize| (g as f64 - (n - 1.0) / 2.0) * w;
            for (g, group) in groups.iter().enumerate() {
                let off = offset(g);
                let bars: Vec<Bar> = group
                    .values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let v = (*v)?;
                        let name = group.names.get(i).cloned().unwrap_or_default();
                        Some(
                            Bar::new(i as f64 + off, v)
                                .width(w * 0.92)
                                .name(name)
                                .fill(group.color),
                        )
                    })
                    .collect();
                p.bar_chart(BarChart::new(group.name.clone(), bars).color(group.color));
            }
            for (i, label) in labels.iter().enumerate() {
                p.text(
                    egui_plot::Text::new(
                        format!("label{i}"),
                        egui_plot::PlotPoint::new(i as f64, -0.07),
                        RichText::new(label).small(),
                    )
                    .color(theme::MUTED),
                );
            }
            overlay(p, &offset);
        })
        .response
}

/// An RSM as pixels: `size × size` row-major values on `scale`.
pub fn rsm_image(values: &[f32], size: usize, scale: &ColorScale) -> egui::ColorImage {
    let pixels = (0..size * size)
        .map(|k| {
            values
                .get(k)
                .map_or(theme::STRIP_BG, |&v| scale.color(f64::from(v)))
        })
        .collect();
    egui::ColorImage::new([size, size], pixels)
}

/// Fractional block coordinate of held-out position `pos` (block b covers
/// `bounds[b]..bounds[b + 1]`).
pub fn block_coord(bounds: &[usize], pos: usize) -> f32 {
    for b in 0..bounds.len().saturating_sub(1) {
        let (s, e) = (bounds[b], bounds[b + 1]);
        if pos < e || b + 2 == bounds.len() {
            let f = if e > s {
                (pos.saturating_sub(s)) as f32 / (e - s) as f32
            } else {
                0.0
            };
            return b as f32 + f.min(1.0);
        }
    }
    0.0
}

/// Held-out positions where the class changes (class-sorted order).
pub fn class_breaks(labels: &[i64]) -> Vec<usize> {
    (1..labels.len())
        .filter(|&i| labels[i] != labels[i - 1])
        .collect()
}

/// The block of an RSM under the pointer: rows `i`, columns `j`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RsmHover {
    pub i: usize,
    pub j: usize,
    pub value: f32,
}

/// A square RSM from a prepared texture, with class boundaries as lines. Returns the block
/// under the pointer.
pub fn rsm_heatmap(
    ui: &mut egui::Ui,
    texture: &egui::TextureHandle,
    side: f32,
    values: &[f32],
    size: usize,
    bounds: &[usize],
    labels: Option<&[i64]>,
) -> (egui::Response, Option<RsmHover>) {
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(side), Sense::hover());
    let p = ui.painter_at(rect);
    p.image(
        texture.id(),
        rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
    if size > 0 {
        if let Some(l) = labels {
            let st = Stroke::new(1.0, Color32::from_black_alpha(170));
            for b in class_breaks(l) {
                let f = block_coord(bounds, b) / size as f32;
                let x = rect.left() + rect.width() * f;
                let y = rect.top() + rect.height() * f;
                p.line_segment([Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())], st);
                p.line_segment([Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)], st);
            }
        }
    }
    p.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, Color32::from_gray(90)),
        egui::StrokeKind::Outside,
    );
    let hover = response.hover_pos().and_then(|pos| {
        if size == 0 {
            return None;
        }
        let d = (pos - rect.min) / side * size as f32;
        let (j, i) = (d.x.floor() as usize, d.y.floor() as usize);
        if i >= size || j >= size {
            return None;
        }
        values
            .get(i * size + j)
            .map(|&value| RsmHover { i, j, value })
    });
    (response, hover)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_clamp_and_order_colours() {
        let s = ColorScale::sequential(0.2, 0.8);
        assert_eq!(s.t(0.2), 0.0);
        assert_eq!(s.t(0.8), 1.0);
        assert_eq!(s.t(0.5), 0.5);
        assert_eq!(s.t(-3.0), 0.0);
        assert_eq!(s.t(f64::NAN), 0.5);
        assert_eq!(s.color(0.2), sequential_color(0.0));
        assert_eq!(s.color(9.0), sequential_color(1.0));
        // A single value still gets a usable scale.
        let one = ColorScale::sequential(0.5, 0.5);
        assert!(one.hi > one.lo);
        assert_eq!(one.t(0.5), 0.5);
        let d = ColorScale::diverging(1.0);
        assert_eq!(d.t(0.0), 0.5);
        let mid = d.color(0.0);
        assert!(mid.r() > 200 && mid.g() > 200 && mid.b() > 200, "{mid:?}");
        assert!(d.color(-1.0).b() > d.color(-1.0).r(), "negative is blue");
        assert!(d.color(1.0).r() > d.color(1.0).b(), "positive is red");
        assert_eq!(ColorScale::diverging(f64::NAN).hi, 1.0);
    }

    #[test]
    fn grid_hit_testing() {
        let g = GridGeom {
            origin: Pos2::new(10.0, 20.0),
            cell: Vec2::new(20.0, 10.0),
            rows: 3,
            cols: 4,
        };
        assert_eq!(g.hit(Pos2::new(10.0, 20.0)), Some((0, 0)));
        assert_eq!(g.hit(Pos2::new(29.9, 29.9)), Some((0, 0)));
        assert_eq!(g.hit(Pos2::new(30.0, 30.0)), Some((1, 1)));
        assert_eq!(g.hit(Pos2::new(89.0, 49.0)), Some((2, 3)));
        assert_eq!(g.hit(Pos2::new(90.0, 49.0)), None);
        assert_eq!(g.hit(Pos2::new(50.0, 50.0)), None);
        assert_eq!(g.hit(Pos2::new(9.0, 25.0)), None);
        for r in 0..3 {
            for c in 0..4 {
                assert_eq!(g.hit(g.rect(r, c).center()), Some((r, c)));
            }
        }
    }

    #[test]
    fn class_lines_fall_between_blocks() {
        assert_eq!(class_breaks(&[0, 0, 1, 1, 1, 2]), vec![2, 5]);
        // Exact: one block per position.
        let exact: Vec<usize> = (0..=6).collect();
        assert_eq!(block_coord(&exact, 2), 2.0);
        // Two positions per block.
        let b = [0, 2, 4, 6];
        assert_eq!(block_coord(&b, 3), 1.5);
        assert_eq!(block_coord(&b, 6), 3.0);
        let img = rsm_image(&[1.0, -1.0, 0.0, 0.5], 2, &ColorScale::diverging(1.0));
        assert_eq!(img.size, [2, 2]);
        assert_eq!(img.pixels[1], diverging_color(0.0));
    }
}
