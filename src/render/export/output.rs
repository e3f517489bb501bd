//! Writing exports: the encoder thread (GIF or PNG) fed by the render loop, PNG frame folders,
//! single PNGs, and the checks on the destination. GIF and PNG files go through
//! `data::output::AtomicFile`. A PNG frames folder is the one thing written here: its frames go
//! into a temporary folder beside the target, named with `data::output::TEMP_PREFIX` and the
//! process id (so `sweep_stale_temps` removes one a killed run left), which is made 0755 and
//! renamed onto the target at the end.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use super::frames::{run_frames, FrameRenderer};
use super::options::{check, ExportFormat, ExportOptions, ExportSummary};
use super::palette::{gif_palette, Quantizer};
use super::plan::{gif_delay_cs, plan_frames};
use crate::analysis::SceneData;
use crate::data::output::{sweep_stale_temps, AtomicFile, TEMP_PREFIX};
use crate::progress::{Progress, Stage};
use crate::render::error::RenderError;
use crate::render::headless::HeadlessGl;
use crate::render::overlay::Overlay;
use crate::render::scene::{FrameState, SceneRenderer};

/// Exports `scene` to `out` (a file for GIF/PNG, a new folder for PNG frames). Call it from a
/// thread that has no GL context current (a worker thread in the GUI): it makes its own.
pub fn export(
    scene: &SceneData,
    opts: &ExportOptions,
    out: &Path,
    progress: &Progress,
) -> Result<ExportSummary, RenderError> {
    let t0 = Instant::now();
    check_options(opts)?;
    let plan = plan_frames(scene.n_frames(), opts)?;
    let tail_images = plan.first().map_or(0, |f| f.tail);
    let parent = parent_dir(out)?;
    progress.stage(Stage::Export, 0.0);
    let mut frames = FrameRenderer::new(scene, opts)?;

    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(2);
    let (w, h) = (opts.width, opts.height);
    let delay = gif_delay_cs(opts.frame_rate);
    let bytes = match opts.format {
        ExportFormat::Gif | ExportFormat::Png => {
            let mut tmp =
                AtomicFile::create(out).map_err(|e| RenderError::Output(e.to_string()))?;
            let palette = (opts.format == ExportFormat::Gif)
                .then(|| gif_palette(scene, opts, &frames.legend));
            let encoder = spawn_file_encoder(&mut tmp, palette, [w, h], delay, rx)?;
            finish(run_frames(&mut frames, &plan, tx, progress), encoder)?;
            check_dest_file(out)?;
            tmp.commit()
                .map_err(|e| RenderError::Output(e.to_string()))?
        }
        ExportFormat::PngFrames => {
            check_dest_dir(out)?;
            sweep_stale_temps(&parent);
            let dir = tempfile::Builder::new()
                .prefix(&format!("{TEMP_PREFIX}{}-frames-", std::process::id()))
                .tempdir_in(&parent)
                .map_err(|e| RenderError::io(&parent, e))?;
            let writer = spawn_frame_writer(dir.path().to_path_buf(), [w, h], rx);
            finish(run_frames(&mut frames, &plan, tx, progress), writer)?;
            publish_dir(dir, out)?
        }
        // Refused at the top of this function.
        ExportFormat::Html => return Err(RenderError::Options("HTML".into())),
    };
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

/// The options the frame exporter refuses before it renders anything.
fn check_options(opts: &ExportOptions) -> Result<(), RenderError> {
    check(
        opts.format != ExportFormat::Html,
        "an HTML page is written by render::html::figure_page, not the frame exporter",
    )?;
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
    )
}

/// The encoder thread of a GIF (given its palette) or of one PNG (the first frame), writing
/// into `tmp`'s temporary file and syncing it; the caller commits.
fn spawn_file_encoder(
    tmp: &mut AtomicFile,
    palette: Option<Vec<[u8; 3]>>,
    [w, h]: [u32; 2],
    delay: u16,
    rx: mpsc::Receiver<Vec<u8>>,
) -> Result<std::thread::JoinHandle<Result<(), RenderError>>, RenderError> {
    let tmp_path = tmp.temp_path().to_path_buf();
    let file = tmp
        .file()
        .try_clone()
        .map_err(|e| RenderError::io(&tmp_path, e))?;
    Ok(std::thread::spawn(move || -> Result<(), RenderError> {
        let mut writer = BufWriter::new(file);
        if let Some(palette) = palette {
            let mut q = Quantizer::new(palette);
            let flat: Vec<u8> = q.palette().iter().flatten().copied().collect();
            let enc_err = |e: gif::EncodingError| match e {
                gif::EncodingError::Io(io) => RenderError::io(&tmp_path, io),
                other => RenderError::Encode {
                    path: tmp_path.clone(),
                    msg: other.to_string(),
                },
            };
            let mut enc =
                gif::Encoder::new(&mut writer, w as u16, h as u16, &flat).map_err(enc_err)?;
            enc.set_repeat(gif::Repeat::Infinite).map_err(enc_err)?;
            for rgba in rx {
                let idx = q.map(&rgba);
                let mut frame = gif::Frame::from_indexed_pixels(w as u16, h as u16, idx, None);
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
    }))
}

/// The writer thread of a PNG frames folder: `frame_00000.png`, … into `dir`.
fn spawn_frame_writer(
    dir: PathBuf,
    [w, h]: [u32; 2],
    rx: mpsc::Receiver<Vec<u8>>,
) -> std::thread::JoinHandle<Result<(), RenderError>> {
    std::thread::spawn(move || -> Result<(), RenderError> {
        for (i, rgba) in rx.into_iter().enumerate() {
            let path = dir.join(format!("frame_{i:05}.png"));
            let file = File::create(&path).map_err(|e| RenderError::io(&path, e))?;
            let mut writer = BufWriter::new(file);
            write_png(&mut writer, &rgba, w, h, &path)?;
            writer.flush().map_err(|e| RenderError::io(&path, e))?;
        }
        Ok(())
    })
}

/// Moves a finished frames folder onto `out` (an empty folder there is removed first: rename
/// cannot replace it on every platform) and returns the bytes of its files.
fn publish_dir(dir: tempfile::TempDir, out: &Path) -> Result<u64, RenderError> {
    let bytes = std::fs::read_dir(dir.path())
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
        // Only an empty folder gets here (checked before rendering).
        std::fs::remove_dir(out).map_err(|e| RenderError::io(out, e))?;
    }
    let kept = dir.keep();
    publish_permissions(&kept, true);
    std::fs::rename(&kept, out).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        RenderError::io(out, e)
    })?;
    Ok(bytes)
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
