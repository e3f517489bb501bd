//! The eframe viewer: load, align in the background, and play the 3D trajectories.
//!
//! Where things live:
//!
//! | room | file |
//! |---|---|
//! | entry point, window options | `mod.rs` ([`run_viewer`]) |
//! | how `srmscope view` starts the viewer | `options.rs` ([`ViewerOptions`]) |
//! | the owner: frame loop, applying commands, job results | `viewer/` ([`ViewerApp`]) |
//! | the command vocabulary | `commands.rs` |
//! | data on screen, camera, options, banners, persistence | `state.rs` |
//! | time axis, morph and auto-spin state machine (no egui) | `playback.rs` |
//! | background jobs (load + fit, studies, export, model files); dialogs; job messages | `worker/`, `model_files.rs` |
//! | the 3D view: input, picking, overlays | `view3d.rs` |
//! | egui ↔ three-d paint callback, screenshots | `render_glue.rs` |
//! | which 3D view (data or comparison) | `slot.rs` |
//! | panels: top bar, banners, time panel, settings, metrics, export | `panels/` |
//! | colours and spacing | `theme.rs` |
//! | `--bench-frames` | `bench.rs` |
//! | the Study view: cells of a study, grid, plots, RSM trio | `study/` |

pub mod bench;
pub mod commands;
pub mod images;
pub mod model_files;
pub mod options;
pub mod panels;
pub mod playback;
pub mod render_glue;
pub mod slot;
pub mod state;
pub mod study;
pub mod theme;
pub mod view3d;
pub mod viewer;
pub mod worker;

pub use commands::{AppCommand, CameraCommand};
pub use options::ViewerOptions;
pub use playback::{Playback, PlaybackCommand};
pub use slot::SlotId;
pub use state::{AppState, Persisted, ViewOptions};
pub use viewer::ViewerApp;

use eframe::egui;

/// Open the viewer window and run until it is closed.
pub fn run_viewer(opts: ViewerOptions) -> anyhow::Result<()> {
    let bench = opts.bench_frames.is_some();
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("srmscope")
            .with_app_id("srmscope")
            .with_inner_size([1440.0, 880.0])
            .with_min_inner_size([820.0, 520.0])
            .with_drag_and_drop(true),
        depth_buffer: 24,
        glow_options: eframe::egui_glow::GlowConfiguration {
            vsync: !bench,
            ..Default::default()
        },
        persist_window: !bench,
        ..Default::default()
    };
    let outcome = std::sync::Arc::new(std::sync::Mutex::new(None));
    let outcome_in_app = outcome.clone();
    eframe::run_native(
        "srmscope",
        native,
        Box::new(move |cc| {
            let persisted = if bench {
                Persisted::default()
            } else {
                cc.storage
                    .and_then(|s| eframe::get_value(s, viewer::STORAGE_KEY))
                    .unwrap_or_default()
            };
            theme::apply(&cc.egui_ctx);
            let app = ViewerApp::new(&opts, persisted);
            if let Some(b) = &app.bench {
                if let Ok(mut o) = outcome_in_app.lock() {
                    *o = Some(b.outcome.clone());
                }
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the viewer window: {e}"))?;

    let result = outcome
        .lock()
        .ok()
        .and_then(|o| o.clone())
        .and_then(|r| r.lock().ok().and_then(|r| r.clone()));
    match (bench, result) {
        (false, _) => Ok(()),
        (true, Some(Ok(report))) => {
            println!("{report}");
            Ok(())
        }
        (true, Some(Err(msg))) => Err(anyhow::anyhow!("bench failed: {msg}")),
        (true, None) => Err(anyhow::anyhow!(
            "bench: the window closed before the frames were measured"
        )),
    }
}
