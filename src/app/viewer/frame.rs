//! One frame of the viewer: keys and dropped files in, the panels and 3D views drawn, the
//! commands they push applied, and the next repaint asked for.

use super::*;

impl ViewerApp {
    /// Space, arrows, Home/End drive the time axis; A toggles alignment. Not while typing.
    pub(super) fn keys(&self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        // Over the study grid the arrows move its selection instead.
        let arrows = !(self.state.study.is_some() && self.study_panel.grid_hot);
        ctx.input_mut(|i| {
            let mut key = |k: Key| i.count_and_consume_key(Modifiers::NONE, k);
            if key(Key::Space) % 2 == 1 {
                cmds.push(PlaybackCommand::TogglePlay.into());
            }
            if arrows {
                for _ in 0..key(Key::ArrowRight) {
                    cmds.push(PlaybackCommand::StepForward.into());
                }
                for _ in 0..key(Key::ArrowLeft) {
                    cmds.push(PlaybackCommand::StepBack.into());
                }
            }
            if key(Key::Home) > 0 {
                cmds.push(PlaybackCommand::JumpStart.into());
            }
            if key(Key::End) > 0 {
                cmds.push(PlaybackCommand::JumpEnd.into());
            }
            if key(Key::A) % 2 == 1 {
                cmds.push(PlaybackCommand::ToggleAligned.into());
            }
        });
    }

    /// Files dropped on the window open in the view they were dropped on.
    pub(super) fn dropped(&self, ctx: &egui::Context, cmds: &mut Vec<AppCommand>) {
        let (files, pos) = ctx.input(|i| (i.raw.dropped_files.clone(), i.pointer.latest_pos()));
        let paths: Vec<PathBuf> = files
            .into_iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if paths.is_empty() {
            return;
        }
        let slot = pos
            .and_then(|p| {
                self.view_rects
                    .iter()
                    .find(|(_, r)| r.contains(p))
                    .map(|(s, _)| *s)
            })
            .unwrap_or(SlotId::Primary);
        cmds.push(AppCommand::OpenPaths { slot, paths });
    }

    /// One frame of the whole UI.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.started {
            self.started = true;
            theme::apply(&ctx);
            let c = ctx.clone();
            self.worker.set_repaint(move || c.request_repaint());
            let startup = std::mem::take(&mut self.startup);
            self.apply_all(startup);
        }
        for (job, result) in self.worker.poll() {
            self.handle(job, result);
        }

        let mut cmds: Vec<AppCommand> = Vec::new();
        self.keys(&ctx, &mut cmds);
        self.dropped(&ctx, &mut cmds);

        let dt = ui.input(|i| i.stable_dt);
        let frame_start = Instant::now();
        self.state.playback.apply(PlaybackCommand::Tick(dt));
        let spin = self.state.playback.take_spin();
        if spin != 0.0 {
            self.state.camera.spin(1.0, spin / std::f32::consts::TAU);
        }
        self.state.expire_banners();

        let central = self.panels(ui, &mut cmds);
        self.overlays(&ctx, central, &mut cmds);
        let changed = !cmds.is_empty();
        self.apply_all(cmds);
        self.bench_frame(&ctx, frame_start);
        self.ask_repaint(&ctx, changed);
    }

    /// The 3D view, or two side by side when a comparison is open.
    pub(super) fn views(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) {
        let rect = ui.available_rect_before_wrap();
        let slots: Vec<SlotId> = self.state.slots().into_iter().map(|(id, _)| id).collect();
        let n = slots.len().max(1) as f32;
        let gap = if slots.len() > 1 { 2.0 } else { 0.0 };
        let w = (rect.width() - gap * (n - 1.0)) / n;
        self.view_rects.clear();
        render_glue::lock(&self.gl).set_live(&slots);
        for (i, id) in slots.into_iter().enumerate() {
            let r = egui::Rect::from_min_size(
                rect.min + egui::vec2(i as f32 * (w + gap), 0.0),
                egui::vec2(w, rect.height()),
            );
            self.view_rects.push((id, r));
            let mut job = self.worker.job(&JobKind::Fit(id));
            if job.is_none() && id == SlotId::Primary && self.state.primary.loaded.is_none() {
                // The first cells of a study are on their way.
                job = self.worker.job(&JobKind::Study);
            }
            view3d::show(ui, r, &self.state, id, &self.gl, job, cmds);
        }
        if let Some((_, r)) = self.view_rects.first() {
            let ppp = ui.ctx().pixels_per_point();
            self.view_size_px = [(r.width() * ppp) as u32, (r.height() * ppp) as u32];
        }
        ui.allocate_rect(rect, egui::Sense::hover());
        panels::drop_hint(ui, rect);
    }

    /// The bars and side panels around the 3D views, then the views; returns their rect.
    fn panels(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<AppCommand>) -> egui::Rect {
        egui::Panel::top("top_bar")
            .frame(panels::bar_frame())
            .show(ui, |ui| {
                self.top_bar.show(ui, &self.state, &self.worker, cmds);
            });
        egui::Panel::bottom("time_panel")
            .frame(panels::bar_frame())
            .show(ui, |ui| {
                panels::time_panel::show(ui, &self.state, cmds);
            });
        if self.state.study.is_some() {
            egui::Panel::bottom("study_panel")
                .resizable(true)
                .default_size(360.0)
                .size_range(190.0..=760.0)
                .frame(panels::side_frame())
                .show(ui, |ui| {
                    self.study_panel.show(ui, &self.state, &self.worker, cmds);
                });
        }
        if self.state.panels.settings {
            egui::Panel::left("settings_panel")
                .resizable(true)
                .default_size(290.0)
                .size_range(240.0..=420.0)
                .frame(panels::side_frame())
                .show(ui, |ui| {
                    self.settings_panel
                        .show(ui, &self.state, &self.worker, cmds);
                });
        }
        if self.state.panels.metrics {
            egui::Panel::right("metrics_panel")
                .resizable(true)
                .default_size(320.0)
                .size_range(260.0..=520.0)
                .frame(panels::side_frame())
                .show(ui, |ui| {
                    panels::metrics::show(ui, &self.state, &self.worker);
                });
        }
        // A study cell has no images of its own: the space goes to the 3D view.
        if self.state.panels.images
            && self.state.primary.loaded.is_some()
            && self.state.study.is_none()
        {
            egui::Panel::right("images_panel")
                .resizable(true)
                .default_size(210.0)
                .size_range(180.0..=360.0)
                .frame(panels::side_frame())
                .show(ui, |ui| panels::disagreeing::show(ui, &self.state, cmds));
        }
        let central = egui::CentralPanel::no_frame().show(ui, |ui| self.views(ui, cmds));
        central.response.rect
    }

    /// Banners over the bottom of the 3D views, and the export window.
    fn overlays(&mut self, ctx: &egui::Context, central: egui::Rect, cmds: &mut Vec<AppCommand>) {
        // Messages float over the bottom of the 3D view, so the layout never jumps.
        if !self.state.banners.is_empty() {
            let r = central;
            let width = (r.width() - 40.0).clamp(200.0, 760.0);
            egui::Area::new(egui::Id::unique("banners"))
                .order(egui::Order::Foreground)
                .anchor(
                    egui::Align2::CENTER_BOTTOM,
                    egui::vec2(
                        r.center().x - ctx.content_rect().center().x,
                        r.bottom() - ctx.content_rect().bottom() - 36.0,
                    ),
                )
                .show(ctx, |ui| {
                    ui.set_width(width);
                    panels::banners::show(ui, &self.state.banners, cmds);
                });
        }

        if self.state.panels.export {
            let mut open = true;
            self.export_panel
                .show(ctx, &mut open, &self.state, &self.worker, cmds);
            if !open {
                cmds.push(AppCommand::TogglePanel(Panel::Export));
            }
        }
    }

    /// `--bench-frames`: time this frame, play once everything is computed, close when done.
    fn bench_frame(&mut self, ctx: &egui::Context, frame_start: Instant) {
        if let Some(bench) = &mut self.bench {
            let drawn = render_glue::lock(&self.gl).frames_drawn;
            if let Some(l) = &self.state.primary.loaded {
                let aligned = l.phase != Phase::Aligning;
                bench.shown(frame_start, aligned);
                if aligned {
                    bench.note_fit(l.output.metrics.fit_seconds);
                }
            }
            // Frames are timed with everything computed, as a user scrubbing later sees them.
            let ready = self
                .state
                .primary
                .loaded
                .as_ref()
                .is_some_and(|l| l.phase == Phase::Done);
            if ready && !self.state.playback.playing() {
                self.state.playback.apply(PlaybackCommand::Play);
            }
            let ui_ms = frame_start.elapsed().as_secs_f64() * 1000.0;
            if bench.frame(ready, drawn, frame_start, ui_ms) {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            // Until the data are on screen the bench waits like a user would: spinning frames
            // here would take a core from the fit (llvmpipe paints on the CPU).
            if ready {
                ctx.request_repaint();
            }
        }
    }

    /// Repaint now while something moves, soon while work runs, rarely for a timed message.
    fn ask_repaint(&self, ctx: &egui::Context, changed: bool) {
        if changed || self.state.playback.needs_repaint() {
            ctx.request_repaint();
        } else if self.worker.busy() {
            // Progress messages repaint as they come; this only keeps spinners alive.
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        } else if self
            .state
            .banners
            .iter()
            .any(|b| b.kind == BannerKind::Info)
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(500));
        }
    }
}
