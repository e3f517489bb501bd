//! `srmscope study`: fit every (arch, layer, checkpoint) cell of a study, or merge shards.

use super::{check_output, FitArgs};
use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use srmscope::analysis::study::cache::{self, Cache};
use srmscope::analysis::study::runner::{self, RunOptions, StudyProgress, StudySink};
use srmscope::analysis::study::{merge, table, CellResult, CellView, StudyResults};
use srmscope::data::study::Study;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Args)]
pub struct StudyArgs {
    /// A study folder (with study.json), its study.json, a .zip of it, or demo:digits-study.
    #[arg(required_unless_present = "merge", conflicts_with = "merge")]
    pub study: Option<String>,
    /// Merge the RESULTS.json files of every shard of one run instead of fitting.
    #[arg(long, num_args = 1..)]
    pub merge: Vec<PathBuf>,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Moving-average window used for the trajectories' PCA.
    #[arg(long, default_value_t = 10)]
    pub smooth: usize,
    /// Where to write the results (.json): settings and one entry per cell.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write one row per cell as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also write the study figures as PNG into this folder (created if missing).
    #[arg(long)]
    pub figures: Option<PathBuf>,
    /// Also write one self-contained HTML report: the study figures, a table of every cell and
    /// every cell's trajectories, playable on click (frames subsampled to a size budget).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Fit only every N-th cell, starting at cell I (1-based): I/N. Merge the shards with --merge.
    #[arg(long, value_parser = runner::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Cache folder for finished cells (default: $XDG_CACHE_HOME/srmscope/studies).
    #[arg(long, conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// Fit everything again and keep nothing on disk.
    #[arg(long)]
    pub no_cache: bool,
    /// Cells fitted at once (default: the number of cores, at most 4).
    #[arg(long)]
    pub jobs: Option<usize>,
}

struct Bar {
    bar: ProgressBar,
    views: Option<Mutex<BTreeMap<usize, Arc<CellView>>>>,
    /// The cache key of each cell, for the views of cells answered by the cache.
    keys: Mutex<BTreeMap<usize, String>>,
}

impl Bar {
    /// Cells done of `cells`; the cells' views are kept when `keep_views` (figures, report).
    fn new(cells: usize, keep_views: bool) -> Self {
        let bar = ProgressBar::new(cells as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} cells {pos}/{len} [{bar:24}] {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self {
            bar,
            views: keep_views.then(|| Mutex::new(BTreeMap::new())),
            keys: Mutex::new(BTreeMap::new()),
        }
    }

    /// The views kept, with those of cells answered by `cache` brought from there.
    fn into_views(
        self,
        cache: Option<&Cache>,
        results: &StudyResults,
    ) -> Result<BTreeMap<usize, Arc<CellView>>> {
        let mut views = self
            .views
            .and_then(|m| m.into_inner().ok())
            .unwrap_or_default();
        let keys = self.keys.into_inner().unwrap_or_default();
        if let Some(c) = cache {
            for r in &results.cells {
                stop_if_interrupted(Ok(()))?;
                if let std::collections::btree_map::Entry::Vacant(e) = views.entry(r.index) {
                    if let Some(v) = keys.get(&r.index).and_then(|k| c.get_view(k)) {
                        e.insert(Arc::new(v));
                    }
                }
            }
        }
        Ok(views)
    }
}

impl StudySink for Bar {
    fn progress(&self, p: &StudyProgress) {
        self.bar.set_length(p.total as u64);
        self.bar.set_position(p.done as u64);
        let running: Vec<String> = p
            .running
            .iter()
            .map(|(_, c, stage)| format!("{c} {stage}"))
            .collect();
        let eta = p
            .eta
            .map_or(String::new(), |s| format!("  ETA {}", fmt_secs(s)));
        self.bar
            .set_message(format!("{}{eta}", running.join(" · ")));
    }

    fn warning(&self, msg: &str) {
        self.bar.suspend(|| eprintln!("warning: {msg}"));
    }

    fn cell(&self, r: &CellResult, view: Option<Arc<CellView>>, key: Option<&str>) {
        if let (Some(k), Ok(mut keys)) = (key, self.keys.lock()) {
            keys.insert(r.index, k.to_string());
        }
        if let (Some(views), Some(v)) = (&self.views, view) {
            if let Ok(mut m) = views.lock() {
                m.insert(r.index, v);
            }
        }
    }
}

fn fmt_secs(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

pub fn run(a: StudyArgs) -> Result<()> {
    let inputs = study_inputs(&a);
    check_outputs(&a, &inputs)?;
    if !a.merge.is_empty() {
        return run_merge(&a);
    }
    check_fit_flags(&a)?;
    let settings = a.fit.settings(a.smooth);
    let settings = settings.check().map_err(anyhow::Error::msg)?;
    if a.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    let mut load = srmscope::data::LoadOptions::default();
    if let Some(&m) = super::MAX_MEMORY.get() {
        load.max_bytes = load.max_bytes.min(m);
    }
    let study = open_study(&a, load.max_bytes)?;
    let cache = open_cache(&a);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let opts = RunOptions {
        shard: a.shard,
        cache: cache.as_ref(),
        workers: a.jobs.unwrap_or(cores.min(4)),
        load,
    };
    let wants_views = a.figures.is_some() || a.report.is_some();
    let sink = Bar::new(study.cells.len(), wants_views);
    let t0 = std::time::Instant::now();
    let res = runner::run_study(&study, &settings, &opts, &sink, srmscope::interrupt::flag());
    sink.bar.finish_and_clear();
    // Errors name the manifest and the cell already.
    let results = res?;
    let secs = t0.elapsed().as_secs_f64();
    print_notes(&results);
    stop_if_interrupted(write_outputs(&a, &results))?;
    let views = sink.into_views(cache.as_ref().filter(|_| wants_views), &results)?;
    write_pictures(&a, &study, &results, &views)?;
    summary(&study, &results, secs);
    println!("wrote {}", a.out.display());
    if let Some(c) = &a.csv {
        println!("wrote {}", c.display());
    }
    Ok(())
}

/// The files the study reads (and the shards merged), which no output may overwrite.
fn study_inputs(a: &StudyArgs) -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = a.merge.clone();
    if let Some(s) = a.study.as_ref().filter(|s| !s.starts_with("demo:")) {
        inputs.extend(super::input_paths(std::slice::from_ref(s), &[]));
        let p = PathBuf::from(s);
        if p.is_dir() {
            inputs.push(p.join(srmscope::data::study::MANIFEST));
        }
    }
    inputs
}

/// Every output checked before any work: a usable path, not an input, no two the same file.
fn check_outputs(a: &StudyArgs, inputs: &[PathBuf]) -> Result<()> {
    check_output("--out", &a.out, inputs, Some("json"))?;
    if let Some(c) = &a.csv {
        check_output("--csv", c, inputs, Some("csv"))?;
        if srmscope::data::output_target(c)? == srmscope::data::output_target(&a.out)? {
            bail!("--csv and --out name the same file");
        }
    }
    if let Some(dir) = &a.figures {
        check_figures(dir, inputs)?;
    }
    if let Some(r) = &a.report {
        check_output("--report", r, inputs, Some("html"))?;
        let target = srmscope::data::output_target(r)?;
        if target == srmscope::data::output_target(&a.out)?
            || a.csv
                .as_ref()
                .is_some_and(|c| srmscope::data::output_target(c).is_ok_and(|c| c == target))
        {
            bail!("--report names the same file as --out or --csv");
        }
    }
    Ok(())
}

/// A study names its own side files; the fit options that name them are refused.
fn check_fit_flags(a: &StudyArgs) -> Result<()> {
    for (flag, given) in [
        ("--labels", a.fit.labels.is_some()),
        ("--images", a.fit.images.is_some()),
        ("--class-names", a.fit.class_names.is_some()),
    ] {
        if given {
            bail!("{flag}: a study's labels, images and class names are named in its study.json");
        }
    }
    Ok(())
}

/// The study, opened with this run's memory limit, with `--shard` checked against its cells.
fn open_study(a: &StudyArgs, max_bytes: u64) -> Result<Study> {
    let input = a.study.clone().unwrap_or_default();
    let study = Study::open_with(&input, max_bytes)?;
    if let Some((i, n)) = a.shard {
        if n > study.cells.len() {
            bail!(
                "--shard {i}/{n}: {} has {} cells; use at most {} shards",
                study.manifest,
                study.cells.len(),
                study.cells.len()
            );
        }
    }
    Ok(study)
}

/// The cache of finished cells, unless `--no-cache`, or none when it cannot be opened.
fn open_cache(a: &StudyArgs) -> Option<Cache> {
    if a.no_cache {
        return None;
    }
    let dir = match &a.cache {
        Some(d) => Some(d.clone()),
        None => cache::default_dir(),
    };
    match dir {
        // A cache that cannot be opened costs speed, not the study.
        Some(d) => match Cache::open(&d) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!(
                    "warning: study cache {}: {e}; running without the cache",
                    srmscope::data::printable(&d.display().to_string())
                );
                None
            }
        },
        None => {
            eprintln!("note: no cache (neither XDG_CACHE_HOME nor HOME is set)");
            None
        }
    }
}

/// `--figures` and `--report`, from the cells' views.
fn write_pictures(
    a: &StudyArgs,
    study: &Study,
    results: &StudyResults,
    views: &BTreeMap<usize, Arc<CellView>>,
) -> Result<()> {
    if let Some(dir) = &a.figures {
        let written = stop_if_interrupted(
            srmscope::app::study::figures::write_figures(study, results, views, dir)
                .with_context(|| format!("--figures {}", dir.display())),
        )?;
        println!("wrote {written} figures into {}", dir.display());
    }
    if let Some(path) = &a.report {
        let bytes = stop_if_interrupted(
            write_report(study, results, views, path)
                .with_context(|| format!("--report {}", path.display())),
        )?;
        println!(
            "wrote {} ({})",
            path.display(),
            srmscope::data::fmt_bytes(bytes)
        );
    }
    Ok(())
}

/// The study report: the figures rendered offscreen as PNG, then one HTML page.
fn write_report(
    study: &Study,
    results: &StudyResults,
    views: &BTreeMap<usize, Arc<CellView>>,
    path: &std::path::Path,
) -> Result<u64> {
    use srmscope::app::study::figures::{render_figures_interruptible, REPORT_METRICS};
    use srmscope::render::html::{self, HtmlOptions, ReportFigure};
    // One pixel per point: a page is read on screen, and the figures stay small.
    let figures = render_figures_interruptible(study, results, views, 1.0, &REPORT_METRICS)?
        .into_iter()
        .map(|f| {
            Ok(ReportFigure {
                title: f.title,
                png: srmscope::render::ui_offscreen::png_bytes(&f.image)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let data = html::report_json(results, &figures, views, &HtmlOptions::default());
    let title = format!("{} · srmscope study report", results.name);
    Ok(html::write(path, &html::report_page(&data, &title))?)
}

/// `--figures DIR`, checked before any work: a folder, or nothing yet in an existing folder,
/// and not the study's own folder.
fn check_figures(dir: &std::path::Path, inputs: &[PathBuf]) -> Result<()> {
    let shown = srmscope::data::printable(&dir.display().to_string());
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => bail!("--figures {shown}: exists and is not a folder"),
        Ok(_) => {
            let canon = std::fs::canonicalize(dir).ok();
            let is_input = inputs
                .iter()
                .any(|p| p.is_dir() && canon.is_some() && std::fs::canonicalize(p).ok() == canon);
            if is_input {
                bail!("--figures {shown}: the study's own folder; give another folder");
            }
        }
        Err(_) => {
            let parent = dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            if !parent.is_dir() {
                bail!(
                    "--figures {shown}: the folder {} does not exist",
                    srmscope::data::printable(&parent.display().to_string())
                );
            }
        }
    }
    Ok(())
}

/// Every note of the cells (dropped images, clamped settings, files that changed...), each
/// once, on stderr; they are in RESULTS.json too.
fn print_notes(results: &StudyResults) {
    let mut seen = std::collections::BTreeSet::new();
    let notes: Vec<&String> = results
        .cells
        .iter()
        .flat_map(|c| &c.notes)
        .filter(|n| seen.insert(n.as_str()))
        .collect();
    const SHOWN: usize = 8;
    for n in notes.iter().take(SHOWN) {
        eprintln!("note: {}", srmscope::data::printable(n));
    }
    if notes.len() > SHOWN {
        eprintln!(
            "note: and {} more notes, in the cells' \"notes\" in the results",
            notes.len() - SHOWN
        );
    }
}

/// After the study, Ctrl-C ends the command at once: no output is being written at the points
/// this is called (each is atomic and already finished or removed), and freeing thousands of
/// cells' views and results on the way out would take a noticeable fraction of a second.
fn stop_if_interrupted<T>(r: Result<T>) -> Result<T> {
    if srmscope::interrupt::interrupted() {
        match &r {
            Err(e) => eprintln!("stopped: {e:#}"),
            Ok(_) => eprintln!("stopped: cancelled"),
        }
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: ends the process without running atexit handlers: the GL driver's would
        // first wait for the abandoned figure painter's frame; nothing of ours needs them.
        unsafe { libc::_exit(srmscope::interrupt::exit_code()) }
    }
    r
}

/// A writer that fails once Ctrl-C arrives, so a large RESULTS.json stops serialising at once.
struct StopOnInterrupt<W>(W);

impl<W: std::io::Write> std::io::Write for StopOnInterrupt<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if srmscope::interrupt::interrupted() {
            return Err(std::io::Error::other("interrupted"));
        }
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn write_outputs(a: &StudyArgs, results: &StudyResults) -> Result<()> {
    srmscope::data::write_atomic(&a.out, |f| {
        let mut w = StopOnInterrupt(std::io::BufWriter::new(f));
        serde_json::to_writer_pretty(&mut w, results).map_err(std::io::Error::other)?;
        std::io::Write::flush(&mut w)
    })?;
    if let Some(c) = &a.csv {
        super::write_text_atomic(c, &table::to_csv(results))?;
    }
    Ok(())
}

fn run_merge(a: &StudyArgs) -> Result<()> {
    if a.study.is_some() || a.shard.is_some() || a.figures.is_some() || a.report.is_some() {
        bail!("--merge takes only shard files, --out and --csv");
    }
    let mut shards = Vec::new();
    for p in &a.merge {
        let shown = srmscope::data::printable(&p.display().to_string());
        // Regular files only, of a bounded size (a FIFO would block).
        let text = srmscope::data::read_bounded(p, &shown, 1 << 30)?;
        let r: StudyResults = serde_json::from_slice(&text)
            .map_err(|e| anyhow::anyhow!("{shown}: not a study RESULTS.json ({e})"))?;
        shards.push((shown, r));
    }
    let merged = merge::merge(shards).map_err(anyhow::Error::msg)?;
    write_outputs(a, &merged)?;
    println!(
        "merged {} shards: {} cells of {} → {}",
        a.merge.len(),
        merged.cells.len(),
        merged.name,
        a.out.display()
    );
    Ok(())
}

fn summary(study: &Study, r: &StudyResults, secs: f64) {
    let shard = r
        .shard
        .map_or(String::new(), |[i, n]| format!(" (shard {i}/{n})"));
    println!(
        "{}{shard}: {} of {} cells in {secs:.1} s",
        r.name,
        r.cells.len(),
        r.n_cells
    );
    let axes = table::Axes::of(&study.cells);
    let f = |v: Option<f64>| v.map_or("  n/a".to_string(), |v| format!("{v:5.2}"));
    for arch in &axes.arches {
        println!(
            "  {}: held-out ISC shared / dev_vs_final per layer, checkpoints {:?}",
            arch.arch, arch.checkpoints
        );
        for (_, layer) in &arch.layers {
            let mut line = format!("    {layer:>12} ");
            for ck in &arch.checkpoints {
                let c = r
                    .cells
                    .iter()
                    .find(|c| c.arch == arch.arch && &c.layer == layer && c.checkpoint == *ck);
                match c {
                    Some(c) => line.push_str(&format!(
                        " {}/{}",
                        f(Some(c.metrics.isc.shared)),
                        f(c.dev_vs_final)
                    )),
                    None => line.push_str("      ·      "),
                }
            }
            println!("{line}");
        }
    }
}
