//! Colours and spacing of the viewer: a dark theme that lets the network palette stand out.

use eframe::egui::{self, Color32, CornerRadius, Stroke};

/// Disagreement before alignment (warm) and after (cool), used in the strip and the metrics.
pub const BEFORE: Color32 = Color32::from_rgb(232, 140, 90);
pub const AFTER: Color32 = Color32::from_rgb(80, 200, 190);
/// Playhead and selected controls.
pub const ACCENT: Color32 = Color32::from_rgb(110, 170, 255);
pub const ERROR: Color32 = Color32::from_rgb(200, 70, 70);
pub const WARNING: Color32 = Color32::from_rgb(210, 160, 60);
pub const INFO: Color32 = Color32::from_rgb(70, 130, 200);
pub const MUTED: Color32 = Color32::from_rgb(140, 144, 152);
pub const PANEL: Color32 = Color32::from_rgb(30, 31, 35);
pub const STRIP_BG: Color32 = Color32::from_rgb(22, 23, 26);

/// `a` moved a fraction `t` towards `b`, opaque.
pub fn mix(a: Color32, b: Color32, t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let f = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    Color32::from_rgb(f(a.r(), b.r()), f(a.g(), b.g()), f(a.b(), b.b()))
}

pub fn rgb(c: [u8; 3]) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// The network colours the renderer uses, as egui colours.
pub fn network_colors(n: usize) -> Vec<Color32> {
    crate::render::palette(n).into_iter().map(rgb).collect()
}

/// Colour of class `k` of `n_classes` (the renderer's label palette).
pub fn class_colors(n_classes: usize) -> Vec<Color32> {
    crate::render::label_palette(n_classes)
        .into_iter()
        .map(rgb)
        .collect()
}

/// The viewer's fonts: the same definitions exported frames use, so a GIF matches the app.
pub fn install_fonts(ctx: &egui::Context) {
    ctx.set_fonts(crate::render::text::font_definitions());
}

pub fn apply(ctx: &egui::Context) {
    install_fonts(ctx);
    let mut visuals = egui::Visuals::dark();
    visuals.panel_fill = PANEL;
    visuals.window_fill = Color32::from_rgb(34, 35, 40);
    visuals.extreme_bg_color = Color32::from_rgb(18, 18, 21);
    visuals.faint_bg_color = Color32::from_rgb(38, 39, 44);
    visuals.selection.bg_fill = ACCENT.gamma_multiply(0.55);
    visuals.selection.stroke = Stroke::new(1.0, ACCENT);
    visuals.hyperlink_color = ACCENT;
    visuals.window_corner_radius = CornerRadius::same(8);
    visuals.widgets.noninteractive.bg_stroke = Stroke::new(1.0, Color32::from_rgb(52, 54, 60));
    ctx.set_visuals_of(egui::Theme::Dark, visuals);
    ctx.set_theme(egui::ThemePreference::Dark);
    ctx.all_styles_mut(|style| {
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(8.0, 3.0);
        style.spacing.interact_size.y = 22.0;
        style.spacing.slider_width = 140.0;
        // A thin handle stays visible on a scroll area with more below, not only on hover:
        // without it a cut-off section looks like the end of the panel.
        style.spacing.scroll.dormant_handle_opacity = 0.6;
    });
}

/// Transport and status icons, painted as shapes: egui's default fonts have no media glyphs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    JumpStart,
    StepBack,
    Play,
    Pause,
    StepForward,
    JumpEnd,
}

pub fn paint_icon(painter: &egui::Painter, rect: egui::Rect, icon: Icon, color: Color32) {
    use egui::{pos2, Shape};
    let c = rect.center();
    let s = rect.height().min(rect.width()) * 0.26;
    let tri_right = |x: f32| {
        Shape::convex_polygon(
            vec![
                pos2(x - s * 0.8, c.y - s),
                pos2(x + s * 0.8, c.y),
                pos2(x - s * 0.8, c.y + s),
            ],
            color,
            Stroke::NONE,
        )
    };
    let tri_left = |x: f32| {
        Shape::convex_polygon(
            vec![
                pos2(x + s * 0.8, c.y - s),
                pos2(x + s * 0.8, c.y + s),
                pos2(x - s * 0.8, c.y),
            ],
            color,
            Stroke::NONE,
        )
    };
    let bar = |x: f32, w: f32| {
        Shape::rect_filled(
            egui::Rect::from_center_size(pos2(x, c.y), egui::vec2(w, 2.0 * s)),
            0.5,
            color,
        )
    };
    let shapes = match icon {
        Icon::Play => vec![tri_right(c.x + s * 0.15)],
        Icon::Pause => vec![bar(c.x - s * 0.45, s * 0.55), bar(c.x + s * 0.45, s * 0.55)],
        Icon::StepForward => vec![tri_right(c.x - s * 0.3), bar(c.x + s * 0.85, s * 0.3)],
        Icon::StepBack => vec![bar(c.x - s * 0.85, s * 0.3), tri_left(c.x + s * 0.3)],
        Icon::JumpEnd => vec![
            tri_right(c.x - s * 0.9),
            tri_right(c.x + s * 0.3),
            bar(c.x + s * 1.25, s * 0.3),
        ],
        Icon::JumpStart => vec![
            bar(c.x - s * 1.25, s * 0.3),
            tri_left(c.x - s * 0.3),
            tri_left(c.x + s * 0.9),
        ],
    };
    painter.extend(shapes);
}

/// A button showing a painted icon; screen readers and UI tests see `name`.
pub fn icon_button(
    ui: &mut egui::Ui,
    icon: Icon,
    name: &str,
    size: egui::Vec2,
    fill: Option<Color32>,
) -> egui::Response {
    let mut b = egui::Button::new("").min_size(size);
    if let Some(f) = fill {
        b = b.fill(f);
    }
    let r = ui.add(b);
    let color = if ui.is_enabled() {
        ui.visuals().strong_text_color()
    } else {
        ui.visuals().weak_text_color()
    };
    paint_icon(ui.painter(), r.rect, icon, color);
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, ui.is_enabled(), name));
    r
}
