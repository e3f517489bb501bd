//! The transport row: jump, step, play/pause, frame counter, speed, loop, tail and auto-spin.

use eframe::egui::{self, Color32, RichText, Vec2};

use crate::app::commands::AppCommand;
use crate::app::playback::Playback;
use crate::app::playback::{PlaybackCommand as P, SPEED_RANGE};
use crate::app::state::AppState;
use crate::app::theme::{self, icon_button, Icon};

pub(super) fn transport(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    let n = state.playback.n_frames();
    ui.horizontal(|ui| {
        ui.add_enabled_ui(n > 1, |ui| buttons(ui, &state.playback, cmds));
        ui.separator();
        frame_counter(ui, state, cmds);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            rate_controls(ui, &state.playback, cmds);
        });
    });
}

/// Jump, step and play/pause.
fn buttons(ui: &mut egui::Ui, pb: &Playback, cmds: &mut Vec<AppCommand>) {
    let small = Vec2::new(30.0, 26.0);
    let button = |ui: &mut egui::Ui, icon: Icon, name: &str, hint: &str| {
        icon_button(ui, icon, name, small, None)
            .on_hover_text(hint)
            .clicked()
    };
    if button(ui, Icon::JumpStart, "Jump to start", "Jump to start (Home)") {
        cmds.push(P::JumpStart.into());
    }
    if button(ui, Icon::StepBack, "Step back", "One image back (←)") {
        cmds.push(P::StepBack.into());
    }
    let (icon, name) = if pb.playing() {
        (Icon::Pause, "Pause")
    } else {
        (Icon::Play, "Play")
    };
    let fill = theme::ACCENT.gamma_multiply(if pb.playing() { 0.35 } else { 0.6 });
    if icon_button(ui, icon, name, Vec2::new(46.0, 26.0), Some(fill))
        .on_hover_text("Play / pause (Space)")
        .clicked()
    {
        cmds.push(P::TogglePlay.into());
    }
    if button(
        ui,
        Icon::StepForward,
        "Step forward",
        "One image forward (→)",
    ) {
        cmds.push(P::StepForward.into());
    }
    if button(ui, Icon::JumpEnd, "Jump to end", "Jump to end (End)") {
        cmds.push(P::JumpEnd.into());
    }
}

/// The frame number (drag or type to seek), the count, and the image and class on screen.
fn frame_counter(ui: &mut egui::Ui, state: &AppState, cmds: &mut Vec<AppCommand>) {
    let pb = &state.playback;
    let n = pb.n_frames();
    // Frame number: drag or type to seek.
    let mut frame = pb.frame() + 1;
    let r = ui
        .add_enabled(
            n > 0,
            egui::DragValue::new(&mut frame)
                .range(1..=n.max(1))
                .prefix("frame ")
                .speed(1.0),
        )
        .on_hover_text("Current frame (drag or type to seek)");
    if r.changed() && n > 0 {
        cmds.push(P::Seek(frame.saturating_sub(1) as f32).into());
    }
    let total = if n > 0 {
        format!("/ {n}")
    } else {
        "/ —".to_string()
    };
    ui.label(RichText::new(total).color(theme::MUTED));
    if let Some(l) = &state.primary.loaded {
        let f = pb.frame();
        let mut s = String::new();
        if let Some(img) = l.image(f) {
            s.push_str(&format!("image #{img}"));
        }
        if let Some(c) = l.class(f) {
            s.push_str(&format!(" · class {c}"));
        }
        ui.label(RichText::new(s).monospace().color(Color32::from_gray(210)));
    }
}

/// Right to left: rotations, auto-spin, tail, loop and speed.
fn rate_controls(ui: &mut egui::Ui, pb: &Playback, cmds: &mut Vec<AppCommand>) {
    let mut rot = pb.rotations();
    if ui
        .add_enabled(
            pb.spin(),
            egui::DragValue::new(&mut rot)
                .range(-20.0..=20.0)
                .speed(0.01)
                .suffix(" turns/run"),
        )
        .on_hover_text("Camera turns per pass over all images (HyperTools `rotations`)")
        .changed()
    {
        cmds.push(P::SetRotations(rot).into());
    }
    let mut spin = pb.spin();
    if ui.checkbox(&mut spin, "Auto-spin").changed() {
        cmds.push(P::SetSpin(spin).into());
    }
    ui.separator();
    let mut tail = pb.tail();
    if ui
        .add(
            egui::DragValue::new(&mut tail)
                .range(1..=100_000)
                .speed(1.0)
                .prefix("tail ")
                .suffix(" img"),
        )
        .on_hover_text("Images in the bright head behind the current one")
        .changed()
    {
        cmds.push(P::SetTail(tail).into());
    }
    let mut looping = pb.looping();
    if ui.checkbox(&mut looping, "Loop").changed() {
        cmds.push(P::SetLoop(looping).into());
    }
    let mut speed = pb.speed();
    if ui
        .add(
            egui::DragValue::new(&mut speed)
                .range(SPEED_RANGE.0..=SPEED_RANGE.1)
                .speed(0.5)
                .max_decimals(1)
                .suffix(" img/s"),
        )
        .on_hover_text("Playback speed in images per second")
        .changed()
    {
        cmds.push(P::SetSpeed(speed).into());
    }
    ui.label(RichText::new("speed").color(theme::MUTED));
}
