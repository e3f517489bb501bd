//! Animated GIF, PNG frame sequences and single PNGs, rendered offscreen.
//!
//! Options carry HyperTools' names where they mean the same (`duration`, `frame_rate`,
//! `tail_duration`, `rotations`, `zoom`, chemtrails/precog/bullettime as `ghost`); defaults are
//! chosen for GIFs rather than copied (see `ExportOptions::default`). GIF colours come from a
//! fixed palette built from the scene's own colours (we know every colour we draw), mapped
//! through a lazily filled RGB lookup table, which is ~50× faster than per-frame NeuQuant.
//! Encoding runs on a worker thread while the next frame renders. Files are written to a
//! temporary name in the target folder and renamed at the end, so a failed or cancelled export
//! leaves nothing behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use three_d::Viewport;

use crate::analysis::SceneData;
use crate::data::output::{sweep_stale_temps, AtomicFile, TEMP_PREFIX};
use crate::progress::{Progress, Stage};

use super::camera::{OrbitCamera, DEFAULT_AZIMUTH_DEG, DEFAULT_ELEVATION_DEG};
use super::headless::HeadlessGl;
use super::overlay::{Canvas, Overlay};
use super::scene::{FrameState, SceneRenderer};
use super::style::{label_palette, mix, palette, Ghost, ViewStyle, GHOST_FADE};
use super::RenderError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportView {
    Before,
    #[default]
    After,
    Both,
}

/// How `ExportView::Both` is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BothLayout {
    /// Before on the left, after on the right, same camera, each half `width/2` wide.
    #[default]
    SideBySide,
    /// The before animation, then a morph of the whole paths into alignment, then the after
    /// animation.
    Sequence,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    #[default]
    Gif,
    /// `frame_00000.png`, ... in a new folder.
    PngFrames,
    /// One PNG: the last frame (head at the final image).
    Png,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportOptions {
    /// Seconds for one pass over all images (HyperTools `duration`).
    pub duration: f32,
    /// Frames per second (HyperTools `frame_rate`). GIF delays are whole centiseconds, so the
    /// stored delay is `round(100 / frame_rate)`, at least 2 (browsers slow 0-1 cs to 10 cs).
    pub frame_rate: f32,
    /// An explicit frame count per pass; overrides `duration` (which becomes frames/frame_rate).
    pub frames: Option<usize>,
    /// Seconds of playback that the bright head spans (HyperTools `tail_duration`), converted
    /// to images with the playback rate images/duration.
    pub tail_duration: f32,
    /// Total camera turns over the whole export (HyperTools `rotations`).
    pub rotations: f32,
    /// HyperTools `zoom`: 1 is the default distance; larger is closer (distance ∝ 9 − zoom).
    pub zoom: f32,
    /// Camera elevation in degrees; HyperTools' animations fix it at 10.
    pub elevation_deg: f32,
    /// Starting azimuth in degrees. HyperTools' animations start at 0; we start at matplotlib's
    /// static default −60 so an export opens on the same view as the viewer.
    pub azimuth_deg: f32,
    /// Start from this camera instead (the viewer's current view); `rotations` spins from it.
    pub camera: Option<OrbitCamera>,
    pub ghost: Ghost,
    pub width: u32,
    pub height: u32,
    pub view: ExportView,
    pub both_layout: BothLayout,
    /// Seconds of the before→after morph in `BothLayout::Sequence`.
    pub morph_duration: f32,
    /// Network names with colour swatches, top right.
    pub legend: bool,
    /// "before alignment" / "after alignment" under each view.
    pub captions: bool,
    pub title: Option<String>,
    pub format: ExportFormat,
    pub show_cube: bool,
    pub line_width: f32,
    pub dark_background: bool,
    pub color_by_label: bool,
    /// Per-network visibility; empty = all.
    pub visible: Vec<bool>,
    /// Draw the current input image in the bottom-left corner (needs `images`).
    pub show_image: bool,
    /// The images `show_image` draws; set by the caller from the dataset, never saved.
    #[serde(skip)]
    pub images: Option<std::sync::Arc<super::inset::FrameImages>>,
}

impl Default for ExportOptions {
    /// GIF-friendly defaults: 10 s at 25 fps (250 frames, 4 cs delays) instead of HyperTools'
    /// 30 s at 50 fps, and the NeurIPS demo's `rotations=0.15`, `tail_duration=1`.
    fn default() -> Self {
        let style = ViewStyle::default();
        Self {
            duration: 10.0,
            frame_rate: 25.0,
            frames: None,
            tail_duration: 1.0,
            rotations: 0.15,
            zoom: 1.0,
            elevation_deg: DEFAULT_ELEVATION_DEG,
            azimuth_deg: DEFAULT_AZIMUTH_DEG,
            camera: None,
            ghost: Ghost::None,
            width: 640,
            height: 480,
            view: ExportView::After,
            both_layout: BothLayout::SideBySide,
            morph_duration: 2.0,
            legend: true,
            captions: true,
            title: None,
            format: ExportFormat::Gif,
            show_cube: style.show_cube,
            line_width: style.line_width,
            dark_background: style.dark_background,
            color_by_label: false,
            visible: Vec::new(),
            show_image: false,
            images: None,
        }
    }
}

/// What an export produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub frames: usize,
    pub width: u32,
    pub height: u32,
    /// GIF frame delay in centiseconds (None for PNG).
    pub delay_cs: Option<u16>,
    /// Images in the bright head.
    pub tail_images: usize,
    /// Total bytes written.
    pub bytes: u64,
    pub seconds: f32,
}

/// One planned output frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedFrame {
    pub head: f32,
    pub tail: usize,
    /// 0 = before, 1 = after. Ignored for side-by-side frames (left is before, right after).
    pub morph: f32,
    pub side_by_side: bool,
    pub yaw: f32,
    pub caption: Option<&'static str>,
}

const MAX_FRAMES: usize = 100_000;

fn check(ok: bool, msg: &str) -> Result<(), RenderError> {
    if ok {
        Ok(())
    } else {
        Err(RenderError::Options(msg.to_string()))
    }
}

/// Frames per pass over the images, and the head length in images.
fn pass_frames(n_images: usize, opts: &ExportOptions) -> Result<(usize, usize), RenderError> {
    check(
        opts.frame_rate.is_finite() && opts.frame_rate > 0.0 && opts.frame_rate <= 100.0,
        "frame_rate must be in (0, 100]",
    )?;
    let n = match opts.frames {
        Some(n) => n,
        None => {
            check(
                opts.duration.is_finite() && opts.duration > 0.0,
                "duration must be positive",
            )?;
            (opts.duration * opts.frame_rate).round() as usize
        }
    };
    check(n >= 1, "the export needs at least one frame")?;
    check(n <= MAX_FRAMES, "too many frames (at most 100000)")?;
    check(
        opts.tail_duration.is_finite() && opts.tail_duration >= 0.0,
        "tail_duration must be >= 0",
    )?;
    let seconds = n as f32 / opts.frame_rate;
    let tail = (opts.tail_duration * n_images as f32 / seconds).round() as usize;
    Ok((n, tail))
}

/// The frame-by-frame schedule: head position, tail, morph, camera azimuth. Public so the
/// viewer can preview an export and tests can check the HyperTools semantics.
pub fn plan_frames(
    n_images: usize,
    opts: &ExportOptions,
) -> Result<Vec<PlannedFrame>, RenderError> {
    if n_images == 0 {
        return Err(RenderError::Scene("the scene has no frames".into()));
    }
    check(opts.rotations.is_finite(), "rotations must be finite")?;
    let (n, tail) = pass_frames(n_images, opts)?;
    let last = (n_images - 1) as f32;
    let head_at = |f: usize| {
        if n > 1 {
            f as f32 * last / (n - 1) as f32
        } else {
            last
        }
    };
    let single = |morph: f32, caption| {
        (0..n).map(move |f| PlannedFrame {
            head: head_at(f),
            tail,
            morph,
            side_by_side: false,
            yaw: 0.0,
            caption,
        })
    };
    let mut frames: Vec<PlannedFrame> = match (opts.view, opts.both_layout) {
        (ExportView::Before, _) => single(0.0, Some("before alignment")).collect(),
        (ExportView::After, _) => single(1.0, Some("after alignment")).collect(),
        (ExportView::Both, BothLayout::SideBySide) => single(0.0, None)
            .map(|f| PlannedFrame {
                side_by_side: true,
                ..f
            })
            .collect(),
        (ExportView::Both, BothLayout::Sequence) => {
            check(
                opts.morph_duration.is_finite() && opts.morph_duration >= 0.0,
                "morph_duration must be >= 0",
            )?;
            let m = (opts.morph_duration * opts.frame_rate).round() as usize;
            let mut v: Vec<PlannedFrame> = single(0.0, Some("before alignment")).collect();
            // The morph shows whole paths so the viewer sees the shapes move into alignment.
            v.extend((0..m).map(|j| {
                let t = if m > 1 {
                    j as f32 / (m - 1) as f32
                } else {
                    1.0
                };
                PlannedFrame {
                    head: last,
                    tail: n_images,
                    morph: t * t * (3.0 - 2.0 * t),
                    side_by_side: false,
                    yaw: 0.0,
                    caption: Some("aligning..."),
                }
            }));
            v.extend(single(1.0, Some("after alignment")));
            v
        }
    };
    if opts.format == ExportFormat::Png {
        // A still: the end of the (after, or side-by-side) animation.
        let mut f = *frames
            .last()
            .ok_or_else(|| RenderError::Options("no frames".into()))?;
        if opts.view == ExportView::Both {
            f.side_by_side = true;
            f.caption = None;
        }
        frames = vec![f];
    }
    check(
        frames.len() <= MAX_FRAMES,
        "too many frames (at most 100000)",
    )?;
    let total = frames.len();
    for (g, f) in frames.iter_mut().enumerate() {
        f.yaw = (opts.rotations * 360.0 * g as f32 / total as f32).to_radians();
    }
    Ok(frames)
}

/// GIF frame delay for a frame rate, in centiseconds.
pub fn gif_delay_cs(frame_rate: f32) -> u16 {
    (100.0 / frame_rate).round().clamp(2.0, 65535.0) as u16
}

fn base_camera(opts: &ExportOptions) -> OrbitCamera {
    opts.camera
        .unwrap_or_else(|| OrbitCamera::hypertools(opts.elevation_deg, opts.azimuth_deg, opts.zoom))
}

fn style_of(opts: &ExportOptions, tail: usize) -> ViewStyle {
    ViewStyle {
        tail,
        ghost: opts.ghost,
        show_cube: opts.show_cube,
        line_width: opts.line_width,
        color_by_label: opts.color_by_label,
        dark_background: opts.dark_background,
        show_legend: opts.legend,
    }
}

/// Draws one planned frame into RGBA, overlays included.
struct FrameRenderer<'a> {
    // The renderer's GL objects must go before the context (fields drop in order).
    renderer: SceneRenderer,
    gl: HeadlessGl,
    opts: &'a ExportOptions,
    legend: Vec<(String, [u8; 3])>,
}

impl<'a> FrameRenderer<'a> {
    fn new(scene: &SceneData, opts: &'a ExportOptions) -> Result<Self, RenderError> {
        let gl = HeadlessGl::new()?;
        let renderer = SceneRenderer::new(gl.context(), scene)?;
        let legend = renderer
            .names()
            .iter()
            .cloned()
            .zip(renderer.colors().iter().copied())
            .enumerate()
            .filter(|(k, _)| opts.visible.get(*k).copied().unwrap_or(true))
            .map(|(_, e)| e)
            .collect();
        Ok(Self {
            renderer,
            gl,
            opts,
            legend,
        })
    }

    fn render(&mut self, f: &PlannedFrame) -> Result<Vec<u8>, RenderError> {
        let opts = self.opts;
        let (w, h) = (opts.width, opts.height);
        let mut camera = base_camera(opts);
        camera.yaw += f.yaw;
        let style = style_of(opts, f.tail);
        let state = FrameState {
            camera,
            head: f.head,
            morph: f.morph,
            style: style.clone(),
            visible: opts.visible.clone(),
            highlight: None,
            clear_color: None,
        };
        let bg = state.opaque_background();
        let renderer = &mut self.renderer;
        let left_w = w / 2;
        let mut rgba = self.gl.render_views(w, h, bg, |ctx| {
            if f.side_by_side {
                let left = Viewport {
                    x: 0,
                    y: 0,
                    width: left_w,
                    height: h,
                };
                let right = Viewport {
                    x: left_w as i32,
                    y: 0,
                    width: w - left_w,
                    height: h,
                };
                renderer.draw(
                    ctx,
                    left,
                    &FrameState {
                        morph: 0.0,
                        ..state.clone()
                    },
                );
                renderer.draw(
                    ctx,
                    right,
                    &FrameState {
                        morph: 1.0,
                        ..state.clone()
                    },
                );
            } else {
                renderer.draw(ctx, Viewport::new_at_origo(w, h), &state);
            }
        })?;
        let overlay = |caption: Option<&str>, legend: bool, title: bool| Overlay {
            title: if title { opts.title.clone() } else { None },
            legend: if legend && opts.legend {
                self.legend.clone()
            } else {
                Vec::new()
            },
            caption: caption.filter(|_| opts.captions).map(str::to_string),
            text_color: style.text_color(),
            background: style.background(),
        };
        let (wu, hu) = (w as usize, h as usize);
        let mut canvas = Canvas::new(&mut rgba, wu, hu);
        if f.side_by_side {
            let lw = left_w as usize;
            overlay(Some("before alignment"), false, false).draw_in(&mut canvas, (0, 0, lw, hu));
            overlay(Some("after alignment"), true, false)
                .draw_in(&mut canvas, (lw, 0, wu - lw, hu));
            overlay(None, false, true).draw_in(&mut canvas, (0, 0, wu, hu));
        } else {
            overlay(f.caption, true, true).draw_in(&mut canvas, (0, 0, wu, hu));
        }
        if let (true, Some(im)) = (opts.show_image, &opts.images) {
            im.draw(&mut canvas, f.head, style.text_color(), style.background());
        }
        Ok(rgba)
    }
}

/// Exports `scene` to `out` (a file for GIF/PNG, a new folder for PNG frames). Call it from a
/// thread that has no GL context current (a worker thread in the GUI): it makes its own.
pub fn export(
    scene: &SceneData,
    opts: &ExportOptions,
    out: &Path,
    progress: &Progress,
) -> Result<ExportSummary, RenderError> {
    let t0 = Instant::now();
    check(
        (16..=8192).contains(&opts.width) && (16..=8192).contains(&opts.height),
        "width and height must be between 16 and 8192",
    )?;
    check(
        opts.elevation_deg.is_finite() && opts.elevation_deg.abs() <= 90.0,
        "the elevation must be a number of degrees between -90 and 90",
    )?;
    check(
        opts.zoom.is_finite() && opts.zoom > 0.0,
        "the zoom must be a positive number",
    )?;
    let plan = plan_frames(scene.n_frames(), opts)?;
    let tail_images = plan.first().map_or(0, |f| f.tail);
    let parent = parent_dir(out)?;
    progress.stage(Stage::Export, 0.0);
    let mut frames = FrameRenderer::new(scene, opts)?;

    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(2);
    let (w, h) = (opts.width, opts.height);
    let delay = gif_delay_cs(opts.frame_rate);
    let bytes;
    match opts.format {
        ExportFormat::Gif | ExportFormat::Png => {
            let mut tmp =
                AtomicFile::create(out).map_err(|e| RenderError::Output(e.to_string()))?;
            let tmp_path = tmp.temp_path().to_path_buf();
            let file = tmp
                .file()
                .try_clone()
                .map_err(|e| RenderError::io(&tmp_path, e))?;
            let is_gif = opts.format == ExportFormat::Gif;
            let palette = gif_palette(scene, opts, &frames.legend);
            let worker = std::thread::spawn(move || -> Result<(), RenderError> {
                let mut writer = BufWriter::new(file);
                if is_gif {
                    let mut q = Quantizer::new(palette);
                    let flat: Vec<u8> = q.palette.iter().flatten().copied().collect();
                    let enc_err = |e: gif::EncodingError| match e {
                        gif::EncodingError::Io(io) => RenderError::io(&tmp_path, io),
                        other => RenderError::Encode {
                            path: tmp_path.clone(),
                            msg: other.to_string(),
                        },
                    };
                    let mut enc = gif::Encoder::new(&mut writer, w as u16, h as u16, &flat)
                        .map_err(enc_err)?;
                    enc.set_repeat(gif::Repeat::Infinite).map_err(enc_err)?;
                    for rgba in rx {
                        let idx = q.map(&rgba);
                        let mut frame =
                            gif::Frame::from_indexed_pixels(w as u16, h as u16, idx, None);
                        frame.delay = delay;
                        enc.write_frame(&frame).map_err(enc_err)?;
                    }
                    drop(enc);
                } else if let Ok(rgba) = rx.recv() {
                    write_png(&mut writer, &rgba, w, h, &tmp_path)?;
                }
                writer.flush().map_err(|e| RenderError::io(&tmp_path, e))?;
                writer
                    .get_ref()
                    .sync_all()
                    .map_err(|e| RenderError::io(&tmp_path, e))
            });
            finish(run_frames(&mut frames, &plan, tx, progress), worker)?;
            check_dest_file(out)?;
            bytes = tmp
                .commit()
                .map_err(|e| RenderError::Output(e.to_string()))?;
        }
        ExportFormat::PngFrames => {
            check_dest_dir(out)?;
            sweep_stale_temps(&parent);
            let dir = tempfile::Builder::new()
                .prefix(&format!("{TEMP_PREFIX}{}-frames-", std::process::id()))
                .tempdir_in(&parent)
                .map_err(|e| RenderError::io(&parent, e))?;
            let dir_path = dir.path().to_path_buf();
            let worker = std::thread::spawn(move || -> Result<(), RenderError> {
                for (i, rgba) in rx.into_iter().enumerate() {
                    let path = dir_path.join(format!("frame_{i:05}.png"));
                    let file = File::create(&path).map_err(|e| RenderError::io(&path, e))?;
                    let mut writer = BufWriter::new(file);
                    write_png(&mut writer, &rgba, w, h, &path)?;
                    writer.flush().map_err(|e| RenderError::io(&path, e))?;
                }
                Ok(())
            });
            finish(run_frames(&mut frames, &plan, tx, progress), worker)?;
            bytes = std::fs::read_dir(dir.path())
                .map(|it| {
                    it.flatten()
                        .filter_map(|e| e.metadata().ok())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0);
            if crate::interrupt::interrupted() {
                return Err(RenderError::Cancelled);
            }
            if out.is_dir() {
                // Only an empty folder gets here (checked above); rename cannot replace it on
                // every platform, so remove it first.
                std::fs::remove_dir(out).map_err(|e| RenderError::io(out, e))?;
            }
            let kept = dir.keep();
            publish_permissions(&kept, true);
            std::fs::rename(&kept, out).map_err(|e| {
                let _ = std::fs::remove_dir_all(&kept);
                RenderError::io(out, e)
            })?;
        }
    }
    progress.stage(Stage::Export, 1.0);
    Ok(ExportSummary {
        path: out.to_path_buf(),
        frames: plan.len(),
        width: w,
        height: h,
        delay_cs: (opts.format == ExportFormat::Gif).then_some(delay),
        tail_images,
        bytes,
        seconds: t0.elapsed().as_secs_f32(),
    })
}

/// Renders every planned frame and hands it to the encoder. Takes the sender by value so it is
/// dropped (and the encoder finishes) when this returns. Returns early on cancel or a render
/// error; when the encoder hung up, its own error comes from `join_encoder`.
fn run_frames(
    frames: &mut FrameRenderer,
    plan: &[PlannedFrame],
    tx: mpsc::SyncSender<Vec<u8>>,
    progress: &Progress,
) -> Result<(), RenderError> {
    for (i, f) in plan.iter().enumerate() {
        if progress.cancelled() {
            return Err(RenderError::Cancelled);
        }
        let rgba = frames.render(f)?;
        if tx.send(rgba).is_err() {
            return Ok(());
        }
        progress.stage(Stage::Export, (i + 1) as f32 / plan.len() as f32);
    }
    Ok(())
}

/// Waits for the encoder; the render loop's error wins over the encoder's.
fn finish(
    rendered: Result<(), RenderError>,
    worker: std::thread::JoinHandle<Result<(), RenderError>>,
) -> Result<(), RenderError> {
    let encoded = worker
        .join()
        .unwrap_or_else(|_| Err(RenderError::Gl("the encoder thread panicked".into())));
    rendered.and(encoded)
}

fn parent_dir(out: &Path) -> Result<PathBuf, RenderError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(RenderError::io(
            &parent,
            std::io::Error::new(std::io::ErrorKind::NotFound, "the folder does not exist"),
        ));
    }
    Ok(parent)
}

fn check_dest_file(out: &Path) -> Result<(), RenderError> {
    if out.is_dir() {
        return Err(RenderError::io(
            out,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it is a folder; give a file name",
            ),
        ));
    }
    Ok(())
}

fn check_dest_dir(out: &Path) -> Result<(), RenderError> {
    if out.exists() {
        let empty = out.is_dir()
            && std::fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
        if !empty {
            return Err(RenderError::io(
                out,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "it already exists; PNG frames go into a new or empty folder",
                ),
            ));
        }
    }
    Ok(())
}

fn write_png<W: Write>(
    w: W,
    rgba: &[u8],
    width: u32,
    height: u32,
    path: &Path,
) -> Result<(), RenderError> {
    let mut enc = png::Encoder::new(w, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let png_err = |e: png::EncodingError| match e {
        png::EncodingError::IoError(io) => RenderError::io(path, io),
        other => RenderError::Encode {
            path: path.to_path_buf(),
            msg: other.to_string(),
        },
    };
    let mut writer = enc.write_header().map_err(png_err)?;
    let rgb: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    writer.write_image_data(&rgb).map_err(png_err)?;
    writer.finish().map_err(png_err)
}

/// Renders a single frame state (the viewer's current view) to a PNG, atomically. Like
/// `export`, call it from a thread without a current GL context.
pub fn render_single_png(
    scene: &SceneData,
    state: &FrameState,
    width: u32,
    height: u32,
    overlay: Option<&Overlay>,
    out: &Path,
) -> Result<(), RenderError> {
    parent_dir(out)?;
    check_dest_file(out)?;
    let mut gl = HeadlessGl::new()?;
    let mut renderer = SceneRenderer::new(gl.context(), scene)?;
    let mut rgba = gl.render_rgba(&mut renderer, width, height, state)?;
    if let Some(o) = overlay {
        o.draw(&mut rgba, width as usize, height as usize);
    }
    let mut tmp = AtomicFile::create(out).map_err(|e| RenderError::Output(e.to_string()))?;
    let tmp_path = tmp.temp_path().to_path_buf();
    {
        let mut writer = BufWriter::new(tmp.file());
        write_png(&mut writer, &rgba, width, height, &tmp_path)?;
        writer.flush().map_err(|e| RenderError::io(&tmp_path, e))?;
    }
    tmp.commit()
        .map_err(|e| RenderError::Output(e.to_string()))?;
    Ok(())
}

/// Temporary files and folders are created private (0600/0700); the published result gets
/// the usual 0644/0755. Best effort: a failure here leaves a correct but private file.
fn publish_permissions(path: &Path, dir: bool) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if dir { 0o755 } else { 0o644 };
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (path, dir);
}

/// Every colour an export can draw, most important first, at most 255 entries: background,
/// text and cube; the network colours, their ghosts and marker rims; label colours; then
/// antialiasing blends toward the background while there is room.
pub fn gif_palette(
    scene: &SceneData,
    opts: &ExportOptions,
    legend: &[(String, [u8; 3])],
) -> Vec<[u8; 3]> {
    let style = style_of(opts, 0);
    let bg = style.background();
    let nets = palette(scene.n_networks());
    let labels: Vec<[u8; 3]> = match (&scene.labels, opts.color_by_label) {
        (Some(l), true) => label_palette(super::geometry::label_indices(l).1),
        _ => Vec::new(),
    };
    let rim = |c: [u8; 3]| c.map(|v| (v as f32 * 0.45).round() as u8);
    let ghost = |c: [u8; 3]| mix(c, bg, GHOST_FADE);
    let mut tiers: Vec<Vec<[u8; 3]>> = vec![
        vec![bg, style.text_color(), style.cube_color()],
        nets.clone(),
        legend.iter().map(|(_, c)| *c).collect(),
        nets.iter().map(|&c| ghost(c)).collect(),
        labels.clone(),
        labels.iter().map(|&c| ghost(c)).collect(),
        nets.iter().map(|&c| rim(c)).collect(),
        match (opts.show_image, &opts.images) {
            (true, Some(im)) => im.palette(),
            _ => Vec::new(),
        },
    ];
    for t in [0.5, 0.25, 0.75] {
        tiers.push(nets.iter().chain(&labels).map(|&c| mix(c, bg, t)).collect());
        tiers.push(vec![mix(style.cube_color(), bg, t)]);
        tiers.push(nets.iter().map(|&c| mix(rim(c), bg, t)).collect());
        tiers.push(
            nets.iter()
                .chain(&labels)
                .map(|&c| mix(ghost(c), bg, t))
                .collect(),
        );
    }
    let mut out: Vec<[u8; 3]> = Vec::new();
    for tier in tiers {
        let new: Vec<[u8; 3]> = {
            let mut v = Vec::new();
            for c in tier {
                if !out.contains(&c) && !v.contains(&c) {
                    v.push(c);
                }
            }
            v
        };
        if out.len() + new.len() <= 255 {
            out.extend(new);
        } else {
            // Fill what is left of a tier that does not fit whole (many labels).
            let room = 255 - out.len();
            out.extend(new.into_iter().take(room));
            break;
        }
    }
    out
}

/// Nearest-palette-colour mapping with a lazily filled 2^24 lookup table (index + 1, 0 = not
/// yet known). The table is allocated zeroed, so only pages of colours that occur are touched.
pub struct Quantizer {
    palette: Vec<[u8; 3]>,
    lut: Vec<u8>,
}

impl Quantizer {
    /// At most 255 colours (one LUT value is reserved for "unknown").
    pub fn new(mut palette: Vec<[u8; 3]>) -> Self {
        palette.truncate(255);
        if palette.is_empty() {
            palette.push([0, 0, 0]);
        }
        Self {
            palette,
            lut: vec![0u8; 1 << 24],
        }
    }

    pub fn palette(&self) -> &[[u8; 3]] {
        &self.palette
    }

    pub fn index_of(&mut self, c: [u8; 3]) -> u8 {
        let key = ((c[0] as usize) << 16) | ((c[1] as usize) << 8) | c[2] as usize;
        let v = self.lut[key];
        if v != 0 {
            return v - 1;
        }
        let mut best = (u32::MAX, 0usize);
        for (i, p) in self.palette.iter().enumerate() {
            // Weighted like human luminance sensitivity, so greys do not go green.
            let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2) as u32;
            let dist = 3 * d(c[0], p[0]) + 4 * d(c[1], p[1]) + 2 * d(c[2], p[2]);
            if dist < best.0 {
                best = (dist, i);
            }
        }
        self.lut[key] = best.1 as u8 + 1;
        best.1 as u8
    }

    /// RGBA8 to palette indices.
    pub fn map(&mut self, rgba: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(rgba.len() / 4);
        let mut last = ([0u8; 3], None::<u8>);
        for p in rgba.chunks_exact(4) {
            let c = [p[0], p[1], p[2]];
            // Runs of the background are the common case: skip the table for them.
            let i = match last {
                (lc, Some(li)) if lc == c => li,
                _ => self.index_of(c),
            };
            last = (c, Some(i));
            out.push(i);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_follows_hypertools_semantics() {
        let opts = ExportOptions {
            duration: 10.0,
            frame_rate: 10.0,
            tail_duration: 2.0,
            rotations: 1.0,
            ..Default::default()
        };
        let p = plan_frames(500, &opts).unwrap();
        assert_eq!(p.len(), 100);
        assert_eq!(p[0].head, 0.0);
        assert_eq!(p[99].head, 499.0);
        // 500 images over 10 s = 50 images/s; a 2 s tail = 100 images.
        assert_eq!(p[0].tail, 100);
        assert!(p.iter().all(|f| f.morph == 1.0));
        // One full turn over the run: last frame one step short of 360°.
        assert!((p[99].yaw.to_degrees() - 356.4).abs() < 1e-3);
        let explicit = plan_frames(
            500,
            &ExportOptions {
                frames: Some(7),
                ..opts.clone()
            },
        )
        .unwrap();
        assert_eq!(explicit.len(), 7);
        // 7 frames at 10 fps = 0.7 s for 500 images: a 2 s tail covers everything.
        assert!(explicit[0].tail >= 500);
    }

    #[test]
    fn plan_layouts() {
        let base = ExportOptions {
            frames: Some(10),
            frame_rate: 10.0,
            morph_duration: 1.0,
            ..Default::default()
        };
        let seq = plan_frames(
            50,
            &ExportOptions {
                view: ExportView::Both,
                both_layout: BothLayout::Sequence,
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(seq.len(), 30);
        assert_eq!(seq[0].morph, 0.0);
        assert_eq!(seq[10].morph, 0.0);
        assert_eq!(seq[19].morph, 1.0);
        assert!(seq[15].morph > 0.0 && seq[15].morph < 1.0);
        assert_eq!(seq[29].morph, 1.0);
        let sbs = plan_frames(
            50,
            &ExportOptions {
                view: ExportView::Both,
                ..base.clone()
            },
        )
        .unwrap();
        assert!(sbs.iter().all(|f| f.side_by_side));
        let still = plan_frames(
            50,
            &ExportOptions {
                format: ExportFormat::Png,
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(still.len(), 1);
        assert_eq!(still[0].head, 49.0);
        let before = plan_frames(
            50,
            &ExportOptions {
                view: ExportView::Before,
                ..base
            },
        )
        .unwrap();
        assert!(before.iter().all(|f| f.morph == 0.0));
    }

    #[test]
    fn plan_rejects_nonsense() {
        let bad = [
            ExportOptions {
                frame_rate: 0.0,
                ..Default::default()
            },
            ExportOptions {
                duration: f32::NAN,
                ..Default::default()
            },
            ExportOptions {
                frames: Some(0),
                ..Default::default()
            },
            ExportOptions {
                tail_duration: -1.0,
                ..Default::default()
            },
            ExportOptions {
                frames: Some(MAX_FRAMES + 1),
                ..Default::default()
            },
        ];
        for o in bad {
            assert!(
                matches!(plan_frames(10, &o), Err(RenderError::Options(_))),
                "{o:?}"
            );
        }
        assert!(plan_frames(0, &ExportOptions::default()).is_err());
    }

    #[test]
    fn delays() {
        assert_eq!(gif_delay_cs(25.0), 4);
        assert_eq!(gif_delay_cs(30.0), 3);
        assert_eq!(gif_delay_cs(100.0), 2);
        assert_eq!(gif_delay_cs(0.5), 200);
    }

    #[test]
    fn quantizer_maps_exact_and_nearest() {
        let mut q = Quantizer::new(vec![[255, 255, 255], [200, 0, 0], [0, 0, 200]]);
        let img = [
            255, 255, 255, 255, 200, 0, 0, 255, 10, 10, 190, 255, 250, 250, 250, 255,
        ];
        assert_eq!(q.map(&img), vec![0, 1, 2, 0]);
        assert_eq!(q.index_of([201, 1, 0]), 1);
    }

    #[test]
    fn palette_holds_scene_colours() {
        let scene = SceneData {
            trajectories: (0..5)
                .map(|k| crate::analysis::Trajectory {
                    name: format!("n{k}"),
                    before: vec![[0.0; 3]; 2],
                    after: vec![[0.0; 3]; 2],
                })
                .collect(),
            ..Default::default()
        };
        let opts = ExportOptions::default();
        let p = gif_palette(&scene, &opts, &[]);
        assert!(p.len() <= 255);
        for c in palette(5) {
            assert!(p.contains(&c));
            assert!(p.contains(&mix(c, [255, 255, 255], GHOST_FADE)));
        }
        let mut labelled = scene.clone();
        labelled.labels = Some((0..2).collect());
        let many = SceneData {
            labels: Some(vec![0, 1]),
            ..labelled
        };
        let p = gif_palette(
            &many,
            &ExportOptions {
                color_by_label: true,
                ..opts
            },
            &[],
        );
        assert!(p.len() <= 255 && p.contains(&label_palette(2)[1]));
    }
}
