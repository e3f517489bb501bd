use super::{Bar, FitArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use srmscope::progress::Progress;
use srmscope::render::export::{export, BothLayout, ExportFormat, ExportOptions, ExportView};
use srmscope::render::html::{Figure, HtmlLayout, HtmlOptions, HtmlView};
use srmscope::render::style::Ghost;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum ViewArg {
    Before,
    After,
    Both,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// Before and after side by side in one frame.
    SideBySide,
    /// Before, then a morph into alignment, then after.
    Sequence,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GhostArg {
    None,
    Chemtrails,
    Precog,
    Bullettime,
}

#[derive(Args)]
pub struct ExportArgs {
    /// .npy files, one .npz, a folder, or demo:<name>.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// anim.gif, frame.png (one frame), fig.html (one self-contained interactive page), or
    /// DIR/ with --png for a PNG sequence.
    #[arg(long)]
    pub out: PathBuf,
    /// Write PNG frames into the folder --out instead of a GIF.
    #[arg(long)]
    pub png: bool,
    #[arg(long, value_enum, default_value = "after")]
    pub view: ViewArg,
    /// How `--view both` is laid out.
    #[arg(long, value_enum, default_value = "side-by-side")]
    pub layout: LayoutArg,
    /// Frames per pass over the images (overrides --duration).
    #[arg(long, conflicts_with = "duration")]
    pub frames: Option<usize>,
    /// Seconds for one pass over the images (HyperTools `duration`).
    #[arg(long)]
    pub duration: Option<f32>,
    /// Frames per second (HyperTools `frame_rate`).
    #[arg(long)]
    pub frame_rate: Option<f32>,
    /// WIDTHxHEIGHT in pixels.
    #[arg(long, default_value = "640x480")]
    pub size: String,
    /// Seconds of playback covered by the bright head (HyperTools `tail_duration`).
    #[arg(long, conflicts_with = "tail")]
    pub tail_duration: Option<f32>,
    /// Images in the bright head (as the viewer's `--tail`); overrides --tail-duration.
    #[arg(long)]
    pub tail: Option<usize>,
    /// Total camera turns over the animation (HyperTools `rotations`).
    #[arg(long)]
    pub rotations: Option<f32>,
    /// HyperTools `zoom` (1 = default distance, larger is closer).
    #[arg(long)]
    pub zoom: Option<f32>,
    /// Camera elevation in degrees (HyperTools animations use 10).
    #[arg(long)]
    pub elevation: Option<f32>,
    /// Faded past (chemtrails), future (precog) or whole path (bullettime).
    #[arg(long, value_enum, default_value = "none")]
    pub ghost: GhostArg,
    /// Title drawn at the top.
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub no_legend: bool,
    /// Draw HyperTools' unit-cube wireframe.
    #[arg(long)]
    pub cube: bool,
    #[arg(long)]
    pub dark: bool,
    /// Colour the points by class label instead of by network.
    #[arg(long)]
    pub color_by_label: bool,
    /// Put the current input image (and its class name) in the bottom-left corner.
    #[arg(long)]
    pub show_image: bool,
    /// Moving-average window over images.
    #[arg(long, default_value_t = 10)]
    pub smooth: usize,
    #[command(flatten)]
    pub fit: FitArgs,
}

/// `--png` output: a new or empty folder whose parent exists, not one of the inputs.
fn check_frames_folder(out: &std::path::Path, inputs: &[PathBuf]) -> Result<()> {
    let shown = srmscope::data::printable(&out.display().to_string());
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    if !parent.is_dir() {
        bail!(
            "--out {shown}: the folder {} does not exist",
            parent.display()
        );
    }
    if let Ok(m) = std::fs::symlink_metadata(out) {
        let empty_dir = m.is_dir() && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_none());
        if !empty_dir {
            bail!("--out {shown}: already exists; PNG frames go into a new or empty folder");
        }
    }
    if inputs.iter().any(|i| i == out) {
        bail!("--out {shown}: it is an input");
    }
    Ok(())
}

fn parse_size(s: &str) -> Result<(u32, u32)> {
    let (w, h) = s
        .split_once(['x', 'X', '×'])
        .with_context(|| format!("--size {s}: expected WIDTHxHEIGHT, e.g. 640x480"))?;
    let w: u32 = w
        .trim()
        .parse()
        .with_context(|| format!("--size {s}: bad width"))?;
    let h: u32 = h
        .trim()
        .parse()
        .with_context(|| format!("--size {s}: bad height"))?;
    Ok((w, h))
}

/// A float option must be finite and within `range` (inclusive); `what` names the flag.
fn check_float(what: &str, v: Option<f32>, lo: f32, hi: f32) -> Result<()> {
    if let Some(v) = v {
        if !v.is_finite() || v < lo || v > hi {
            bail!("{what} must be a number between {lo} and {hi}, got {v}");
        }
    }
    Ok(())
}

/// The options shared by every format, checked.
fn options_checked(a: &ExportArgs) -> Result<ExportOptions> {
    let (width, height) = parse_size(&a.size)?;
    if !(16..=8192).contains(&width) || !(16..=8192).contains(&height) {
        bail!(
            "--size {}: width and height must be between 16 and 8192",
            a.size
        );
    }
    check_float("--elevation", a.elevation, -90.0, 90.0)?;
    check_float("--zoom", a.zoom, 0.01, 100.0)?;
    check_float("--duration", a.duration, 0.01, 36_000.0)?;
    check_float("--frame-rate", a.frame_rate, 0.01, 1000.0)?;
    check_float("--tail-duration", a.tail_duration, 0.0, 36_000.0)?;
    check_float("--rotations", a.rotations, -1000.0, 1000.0)?;
    if let Some(f) = a.frames {
        if !(1..=100_000).contains(&f) {
            bail!("--frames must be between 1 and 100000, got {f}");
        }
    }
    let mut o = ExportOptions {
        width,
        height,
        ..ExportOptions::default()
    };
    if let Some(v) = a.duration {
        o.duration = v;
    }
    if let Some(v) = a.frame_rate {
        o.frame_rate = v;
    }
    o.frames = a.frames;
    if let Some(v) = a.tail_duration {
        o.tail_duration = v;
    }
    if let Some(v) = a.rotations {
        o.rotations = v;
    }
    if let Some(v) = a.zoom {
        o.zoom = v;
    }
    if let Some(v) = a.elevation {
        o.elevation_deg = v;
    }
    o.view = match a.view {
        ViewArg::Before => ExportView::Before,
        ViewArg::After => ExportView::After,
        ViewArg::Both => ExportView::Both,
    };
    o.both_layout = match a.layout {
        LayoutArg::SideBySide => BothLayout::SideBySide,
        LayoutArg::Sequence => BothLayout::Sequence,
    };
    o.style.ghost = match a.ghost {
        GhostArg::None => Ghost::None,
        GhostArg::Chemtrails => Ghost::Chemtrails,
        GhostArg::Precog => Ghost::Precog,
        GhostArg::Bullettime => Ghost::Bullettime,
    };
    o.title = a.title.clone();
    o.style.show_legend = !a.no_legend;
    if a.cube {
        o.style.show_cube = true;
    }
    if a.dark {
        o.style.dark_background = true;
    }
    o.style.color_by_label = a.color_by_label;
    if let Some(t) = a.tail {
        if !(1..=srmscope::analysis::MAX_COUNT).contains(&t) {
            bail!(
                "--tail must be between 1 and {}",
                srmscope::analysis::MAX_COUNT
            );
        }
    }
    Ok(o)
}

pub fn options(a: &ExportArgs) -> Result<ExportOptions> {
    let mut o = options_checked(a)?;
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    o.format = match (a.png, ext.as_deref()) {
        (true, Some("png")) | (false, Some("png")) => ExportFormat::Png,
        (true, _) => ExportFormat::PngFrames,
        (false, Some("gif")) => ExportFormat::Gif,
        (false, _) => bail!(
            "--out {}: use a .gif, .png or .html file, or a folder with --png",
            a.out.display()
        ),
    };
    Ok(o)
}

fn is_html(out: &std::path::Path) -> bool {
    out.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// The page's options from the export flags that mean something in a browser.
pub fn html_options(a: &ExportArgs) -> Result<HtmlOptions> {
    let o = options_checked(a)?;
    Ok(HtmlOptions {
        view: match a.view {
            ViewArg::Before => HtmlView::Before,
            ViewArg::After => HtmlView::After,
            ViewArg::Both => HtmlView::Both,
        },
        layout: match a.layout {
            LayoutArg::SideBySide => HtmlLayout::SideBySide,
            LayoutArg::Sequence => HtmlLayout::Sequence,
        },
        ghost: o.style.ghost,
        tail: a.tail,
        width: o.width,
        height: o.height,
        title: a.title.clone(),
        dark: a.dark,
        cube: a.cube,
        legend: !a.no_legend,
        color_by_label: a.color_by_label,
        yaw_deg: o.azimuth_deg,
        pitch_deg: o.elevation_deg,
        zoom: o.zoom,
        duration: o.duration,
        fps: o.frame_rate,
    })
}

fn run_html(a: ExportArgs) -> Result<()> {
    if a.png {
        bail!("--png writes PNG frames; an .html page is one file (drop --png)");
    }
    let mut hopts = html_options(&a)?;
    let settings = a.fit.settings(a.smooth);
    let settings = settings.check().map_err(anyhow::Error::msg)?;
    let inputs = super::input_paths(&a.files, &[a.fit.labels.as_deref()]);
    super::check_output("--out", &a.out, &inputs, None)?;
    let ds = super::load_fit(&a.files, &a.fit, &settings)?;
    let (images, class_names, name) = (ds.images.clone(), ds.class_names.clone(), ds.name.clone());
    let bar = Bar::new();
    let report = |e| bar.report(e);
    let progress = Progress::new(&report, srmscope::interrupt::flag());
    let out = srmscope::analysis::pipeline::run_owned(ds, &settings, &progress)
        .with_context(|| format!("fitting {name}"));
    bar.finish();
    let out = out?;
    if hopts.title.is_none() {
        hopts.title = Some(format!("{name} · {}, k = {}", settings.algo.label(), out.k));
    }
    let fig = Figure {
        scene: &out.scene,
        metrics: Some(&out.metrics),
        test_idx: &out.test_idx,
        smooth: settings.smooth,
        images: images.as_deref(),
        class_names: class_names.as_deref(),
        algo: settings.algo.label().to_string(),
        k: out.k,
        n_train: out.train_idx.len(),
        n_test: out.test_idx.len(),
    };
    let page = srmscope::render::html::figure_page(&fig, &hopts);
    let bytes = srmscope::render::html::write(&a.out, &page)
        .with_context(|| format!("exporting to {}", a.out.display()))?;
    println!(
        "wrote {}: {} networks × {} frames, {}",
        a.out.display(),
        out.scene.n_networks(),
        out.scene.n_frames(),
        srmscope::data::fmt_bytes(bytes)
    );
    Ok(())
}

pub fn run(a: ExportArgs) -> Result<()> {
    if is_html(&a.out) {
        return run_html(a);
    }
    // Every option and the output path are checked before anything is loaded or fitted.
    let opts = options(&a)?;
    let settings = a.fit.settings(a.smooth);
    let settings = settings.check().map_err(anyhow::Error::msg)?;
    let inputs = super::input_paths(&a.files, &[a.fit.labels.as_deref()]);
    if opts.format == ExportFormat::PngFrames {
        check_frames_folder(&a.out, &inputs)?;
    } else {
        super::check_output("--out", &a.out, &inputs, None)?;
    }
    let ds = super::load_fit(&a.files, &a.fit, &settings)?;
    if a.show_image && ds.images.is_none() {
        eprintln!(
            "note: --show-image: {} has no images (give --images FILE); exporting without",
            ds.name
        );
    }
    let (images, labels, class_names) =
        (ds.images.clone(), ds.labels.clone(), ds.class_names.clone());
    let bar = Bar::new();
    let report = |e| bar.report(e);
    let progress = Progress::new(&report, srmscope::interrupt::flag());
    let name = ds.name.clone();
    let result = srmscope::analysis::pipeline::run_owned(ds, &settings, &progress)
        .with_context(|| format!("fitting {name}"))
        .and_then(|out| {
            let mut opts = opts;
            // --tail counts images; the exporter's head is measured in seconds of playback.
            if let Some(t) = a.tail {
                let secs = opts
                    .frames
                    .map_or(opts.duration, |f| f as f32 / opts.frame_rate);
                opts.tail_duration = t as f32 * secs / out.scene.n_frames().max(1) as f32;
            }
            if a.show_image {
                opts.show_image = true;
                opts.images = srmscope::render::inset::FrameImages::new(
                    images,
                    &out.test_idx,
                    settings.smooth,
                    out.scene.n_frames(),
                    labels.as_deref(),
                    class_names.as_deref(),
                )
                .map(std::sync::Arc::new);
            }
            if opts.title.is_none() && matches!(a.view, ViewArg::Both) {
                opts.title = Some(format!("{name} - {}", settings.algo.label()));
            }
            export(&out.scene, &opts, &a.out, &progress)
                .with_context(|| format!("exporting to {}", a.out.display()))
        });
    bar.finish();
    let s = result?;
    println!(
        "wrote {}: {} frames, {}×{}, {} in {:.2} s",
        s.path.display(),
        s.frames,
        s.width,
        s.height,
        srmscope::data::fmt_bytes(s.bytes),
        s.seconds
    );
    Ok(())
}
