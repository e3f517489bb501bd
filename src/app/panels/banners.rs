//! Dismissible messages under the top bar: errors stay until dismissed, info fades by itself.

use eframe::egui::{self, Color32, RichText};

use crate::app::commands::AppCommand;
use crate::app::state::{Banner, BannerKind};
use crate::app::theme;

pub fn show(ui: &mut egui::Ui, banners: &[Banner], cmds: &mut Vec<AppCommand>) {
    for b in banners {
        let (color, icon) = match b.kind {
            BannerKind::Error => (theme::ERROR, "!"),
            BannerKind::Warning => (theme::WARNING, "!"),
            BannerKind::Info => (theme::INFO, "i"),
        };
        egui::Frame::new()
            .fill(theme::mix(theme::PANEL, color, 0.3))
            .stroke(egui::Stroke::new(1.0, color.gamma_multiply(0.8)))
            .inner_margin(egui::Margin::symmetric(10, 5))
            .outer_margin(egui::Margin::symmetric(6, 3))
            .shadow(egui::Shadow {
                offset: [0, 2],
                blur: 10,
                spread: 0,
                color: Color32::from_black_alpha(110),
            })
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let (r, _) =
                        ui.allocate_exact_size(egui::vec2(18.0, 18.0), egui::Sense::hover());
                    ui.painter().circle_filled(r.center(), 8.0, color);
                    ui.painter().text(
                        r.center(),
                        egui::Align2::CENTER_CENTER,
                        icon,
                        egui::FontId::proportional(12.0),
                        Color32::WHITE,
                    );
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.button("Dismiss").clicked() {
                            cmds.push(AppCommand::DismissBanner(b.id));
                        }
                        ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                            ui.add(
                                egui::Label::new(
                                    RichText::new(&b.text).color(Color32::from_gray(235)),
                                )
                                .wrap(),
                            );
                        });
                    });
                });
            });
    }
}
