//! Background jobs: load + fit, studies, export, screenshot, file dialogs and model files.
//! The dialogs themselves are in `dialogs.rs`, the text shown for jobs in `messages.rs`.
//!
//! Every job runs on its own thread and talks back over one channel. The UI thread only ever
//! calls [`Worker::poll`] once per frame, so it never blocks; threads wake the UI with
//! `egui::Context::request_repaint`. Cancelling sets the job's `AtomicBool` (which the pipeline
//! and the exporter poll) *and* forgets the job at once, so the UI reacts in the same frame even
//! if the thread needs a moment to notice; whatever it still sends is dropped.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::pipeline::Partial;
use crate::analysis::study::cache::{self as study_cache, Cache};
use crate::analysis::study::runner::{run_study, RunOptions, StudyProgress, StudySink};
use crate::analysis::study::{CellResult, CellView};
use crate::analysis::{PipelineOutput, SceneData, Settings};
use crate::data::study::{CellSpec, Study};
use crate::data::Dataset;
use crate::progress::{Progress, ProgressEvent, Stage};
use crate::render::{ExportOptions, FrameState};

mod dialogs;
mod messages;

use dialogs::show_dialog;
pub use dialogs::{pick_outcome, DialogPurpose, PickOutcome, NO_PORTAL_THRESHOLD};
pub use messages::{duration_text, export_message, short_inputs, study_status};
use messages::{file_name, panic_message};

pub use super::slot::SlotId;

/// A successful load + fit.
#[derive(Debug)]
pub struct Fitted {
    pub inputs: Vec<String>,
    pub dataset: Arc<Dataset>,
    pub output: Arc<PipelineOutput>,
    pub settings: Settings,
    pub seconds: f64,
    /// Partial outputs are sent ahead while the job runs; its final result has everything.
    pub phase: Phase,
}

/// How far a fit on screen has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Native trajectories only (in both views): the fit is running.
    Aligning,
    /// Both views; the measures are being computed.
    Measuring,
    /// Trajectories and measures.
    Done,
}

/// What a finished job hands back.
#[derive(Debug)]
pub enum JobResult {
    Fitted(SlotId, Result<Box<Fitted>, String>),
    Picked(DialogPurpose, PickOutcome),
    /// A success message (what was written) or the error.
    Wrote(Result<String, String>),
    ModelLoaded(Result<Box<super::model_files::ModelSummary>, String>),
    /// News from a running study (sent while it runs) and its end.
    Study(StudyEvent),
}

/// What a study job reports, in order: the manifest, each cell as it finishes, the end.
#[derive(Debug)]
pub enum StudyEvent {
    Opened(Box<StudyOpened>),
    Cell {
        result: Box<CellResult>,
        /// `None` when a cached cell's view could not be read back.
        view: Option<Arc<CellView>>,
    },
    /// The whole study is done (cells, seconds) or failed.
    Done(Result<(usize, f64), String>),
}

/// A study's manifest, as the Study view needs it.
#[derive(Debug)]
pub struct StudyOpened {
    pub input: String,
    pub name: String,
    pub cells: Vec<CellSpec>,
    pub class_names: Option<Vec<String>>,
    /// Where finished cells are kept, or why there is no cache.
    pub cache: Result<PathBuf, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobKind {
    Fit(SlotId),
    Export,
    Screenshot,
    Dialog,
    SaveModel,
    LoadModel,
    Study,
}

/// A job the UI still waits for.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    /// Shown next to the progress bar.
    pub title: String,
    pub started: Instant,
    pub progress: Option<ProgressEvent>,
    /// Objective after each fit iteration so far (live convergence curve).
    pub objective: Vec<f64>,
    /// A study's cells done, running and ETA.
    pub study: Option<StudyProgress>,
    cancel: Arc<AtomicBool>,
}

impl Job {
    /// A one-line status: stage, iteration and objective.
    pub fn status(&self) -> String {
        if let Some(p) = &self.study {
            return format!("{}: {}", self.title, study_status(p));
        }
        let Some(p) = &self.progress else {
            return format!("{}: starting…", self.title);
        };
        let mut s = format!("{}: {}", self.title, p.stage.label());
        if let Some((i, n)) = p.iteration {
            s.push_str(&format!(" — iteration {i}/{n}"));
        }
        if let Some(o) = p.objective {
            s.push_str(&format!(", objective {o:.6}"));
        }
        s
    }

    /// The stage alone, short enough for a progress bar: `fitting 6/10`, `PCA`, `starting`.
    pub fn stage_text(&self) -> String {
        if let Some(p) = &self.study {
            return format!("cells {}/{}", p.done, p.total);
        }
        match &self.progress {
            None => "starting".into(),
            Some(p) => match p.iteration {
                Some((i, n)) => format!("{} {i}/{n}", p.stage.label()),
                None => p.stage.label().to_string(),
            },
        }
    }

    pub fn fraction(&self) -> f32 {
        if let Some(p) = &self.study {
            return if p.total == 0 {
                0.0
            } else {
                p.done as f32 / p.total as f32
            };
        }
        self.progress
            .as_ref()
            .map_or(0.0, |p| p.fraction.clamp(0.0, 1.0))
    }

    pub fn cancellable(&self) -> bool {
        self.kind != JobKind::Dialog
    }
}

enum Message {
    Progress(u64, ProgressEvent),
    StudyProgress(u64, StudyProgress),
    /// A result sent while the job still runs (a study's cells).
    Live(u64, JobResult),
    Done(u64, JobResult),
}

/// What a job's thread can send while it runs.
#[derive(Clone)]
pub struct Live {
    id: u64,
    tx: Sender<Message>,
    repaint: Repaint,
}

impl Live {
    pub fn send(&self, result: JobResult) {
        // A closed channel only means the app is gone.
        let _ = self.tx.send(Message::Live(self.id, result));
        (self.repaint)();
    }

    pub fn study_progress(&self, p: &StudyProgress) {
        let _ = self.tx.send(Message::StudyProgress(self.id, p.clone()));
        (self.repaint)();
    }
}

type Repaint = Arc<dyn Fn() + Send + Sync>;

/// Owner of the background threads' channel and of the list of running jobs.
pub struct Worker {
    tx: Sender<Message>,
    rx: Receiver<Message>,
    repaint: Repaint,
    jobs: Vec<Job>,
    next_id: u64,
    /// Job threads still alive, cancelled ones included (their results are dropped).
    alive: Arc<std::sync::atomic::AtomicUsize>,
    /// `--images` / `--class-names` files, attached whenever these inputs are loaded.
    pub extra_files: Option<ExtraFiles>,
}

/// Explicit image and class-name files for one list of inputs.
#[derive(Clone, Debug, Default)]
pub struct ExtraFiles {
    pub inputs: Vec<String>,
    pub images: Option<PathBuf>,
    pub class_names: Option<PathBuf>,
}

impl Default for Worker {
    fn default() -> Self {
        Self::new()
    }
}

impl Worker {
    pub fn new() -> Self {
        let (tx, rx) = channel();
        Self {
            tx,
            rx,
            repaint: Arc::new(|| {}),
            jobs: Vec::new(),
            next_id: 1,
            alive: Arc::default(),
            extra_files: None,
        }
    }

    /// Threads call this after each message (the UI's `request_repaint`).
    pub fn set_repaint(&mut self, repaint: impl Fn() + Send + Sync + 'static) {
        self.repaint = Arc::new(repaint);
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub fn busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Job threads that have not yet returned, including cancelled jobs still winding down.
    /// Tests use it to know a cancelled job has really ended before checking it left no trace.
    pub fn threads_alive(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    pub fn job(&self, kind: &JobKind) -> Option<&Job> {
        self.jobs.iter().find(|j| &j.kind == kind)
    }

    /// Stop a job: its flag is set and its results will be ignored.
    pub fn cancel(&mut self, id: u64) {
        if let Some(j) = self.jobs.iter().find(|j| j.id == id) {
            j.cancel.store(true, Ordering::Relaxed);
        }
        self.jobs.retain(|j| j.id != id);
    }

    pub fn cancel_kind(&mut self, kind: &JobKind) {
        let ids: Vec<u64> = self
            .jobs
            .iter()
            .filter(|j| &j.kind == kind)
            .map(|j| j.id)
            .collect();
        for id in ids {
            self.cancel(id);
        }
    }

    pub fn cancel_all(&mut self) {
        let ids: Vec<u64> = self.jobs.iter().map(|j| j.id).collect();
        for id in ids {
            self.cancel(id);
        }
    }

    /// Apply progress messages and return the results of jobs that finished (and were not
    /// cancelled) since the last call. Never blocks.
    pub fn poll(&mut self) -> Vec<(Job, JobResult)> {
        let mut done = Vec::new();
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Message::Progress(id, ev) => {
                    if let Some(j) = self.jobs.iter_mut().find(|j| j.id == id) {
                        if let (Some((i, _)), Some(o)) = (ev.iteration, ev.objective) {
                            if j.objective.len() < i {
                                j.objective.push(o);
                            }
                        }
                        j.progress = Some(ev);
                    }
                }
                Message::StudyProgress(id, p) => {
                    if let Some(j) = self.jobs.iter_mut().find(|j| j.id == id) {
                        j.study = Some(p);
                    }
                }
                Message::Live(id, result) => {
                    if let Some(j) = self.jobs.iter().find(|j| j.id == id) {
                        done.push((j.clone(), result));
                    }
                }
                Message::Done(id, result) => {
                    if let Some(pos) = self.jobs.iter().position(|j| j.id == id) {
                        done.push((self.jobs.remove(pos), result));
                    }
                }
            }
        }
        done
    }

    /// Wait (up to `timeout`) until no job is running; for tests and `--bench-frames`.
    pub fn wait_idle(&mut self, timeout: Duration) -> Vec<(Job, JobResult)> {
        let start = Instant::now();
        let mut all = Vec::new();
        loop {
            all.extend(self.poll());
            if self.jobs.is_empty() || start.elapsed() > timeout {
                return all;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Start a job on a new thread. `work` gets a progress reporter and returns the result; a
    /// panic inside it becomes an error result instead of a job that never ends.
    fn spawn(
        &mut self,
        kind: JobKind,
        title: String,
        on_panic: impl FnOnce(String) -> JobResult + Send + Clone + 'static,
        work: impl FnOnce(&Progress) -> JobResult + Send + 'static,
    ) -> u64 {
        self.spawn_live(kind, title, on_panic, move |p, _| work(p))
    }

    /// [`Self::spawn`] for jobs that also send results while they run.
    fn spawn_live(
        &mut self,
        kind: JobKind,
        title: String,
        on_panic: impl FnOnce(String) -> JobResult + Send + Clone + 'static,
        work: impl FnOnce(&Progress, &Live) -> JobResult + Send + 'static,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.jobs.push(Job {
            id,
            kind,
            title,
            started: Instant::now(),
            progress: None,
            objective: Vec::new(),
            study: None,
            cancel: cancel.clone(),
        });
        let tx = self.tx.clone();
        let repaint = self.repaint.clone();
        let live = Live {
            id,
            tx: tx.clone(),
            repaint: repaint.clone(),
        };
        let on_spawn_error = on_panic.clone();
        let alive = self.alive.clone();
        alive.fetch_add(1, Ordering::SeqCst);
        let alive_in_thread = alive.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("srmscope-job-{id}"))
            .spawn(move || {
                let report_tx = tx.clone();
                let report_repaint = repaint.clone();
                let report = move |ev: ProgressEvent| {
                    // A closed channel only means the app is gone; nothing to do then.
                    let _ = report_tx.send(Message::Progress(id, ev));
                    report_repaint();
                };
                let progress = Progress::new(&report, &cancel);
                let result = match catch_unwind(AssertUnwindSafe(|| work(&progress, &live))) {
                    Ok(r) => r,
                    Err(panic) => on_panic(panic_message(&panic)),
                };
                let _ = tx.send(Message::Done(id, result));
                alive_in_thread.fetch_sub(1, Ordering::SeqCst);
                repaint();
            });
        if let Err(e) = spawned {
            alive.fetch_sub(1, Ordering::SeqCst);
            let _ = self.tx.send(Message::Done(
                id,
                on_spawn_error(format!("cannot start a thread: {e}")),
            ));
        }
        id
    }

    /// Load `inputs` (unless `dataset` is given, to refit what is already loaded) and run the
    /// pipeline. A newer fit for the same slot replaces an older one.
    pub fn fit(
        &mut self,
        slot: SlotId,
        inputs: Vec<String>,
        dataset: Option<Arc<Dataset>>,
        settings: Settings,
    ) -> u64 {
        self.cancel_kind(&JobKind::Fit(slot));
        let extra = self.extra_files.clone().filter(|e| e.inputs == inputs);
        let title = match &dataset {
            Some(d) => format!("Fitting {}", d.name),
            None => format!("Loading {}", short_inputs(&inputs)),
        };
        self.spawn_live(
            JobKind::Fit(slot),
            title,
            move |msg| JobResult::Fitted(slot, Err(format!("internal error: {msg}"))),
            move |progress, live| {
                let preview = |f: Fitted| live.send(JobResult::Fitted(slot, Ok(Box::new(f))));
                JobResult::Fitted(
                    slot,
                    load_and_fit(inputs, dataset, settings, extra, progress, &preview)
                        .map(Box::new),
                )
            },
        )
    }

    /// Show a native file dialog on a worker thread (rfd over the xdg portal). Never call this
    /// from tests: with zenity installed and no display it blocks forever.
    pub fn dialog(&mut self, purpose: DialogPurpose) -> u64 {
        self.spawn(
            JobKind::Dialog,
            "Waiting for the file dialog".into(),
            move |_| JobResult::Picked(purpose, PickOutcome::NoPortal),
            move |_| {
                let start = Instant::now();
                let paths = show_dialog(purpose);
                JobResult::Picked(purpose, pick_outcome(paths, start.elapsed()))
            },
        )
    }

    /// Render an animation to `path` with the offscreen renderer.
    pub fn export(&mut self, scene: Arc<SceneData>, options: ExportOptions, path: PathBuf) -> u64 {
        self.cancel_kind(&JobKind::Export);
        let title = format!("Exporting {}", file_name(&path));
        self.spawn(
            JobKind::Export,
            title,
            |msg| JobResult::Wrote(Err(format!("export failed: {msg}"))),
            move |progress| {
                JobResult::Wrote(
                    crate::render::export(&scene, &options, &path, progress)
                        .map(|s| export_message(&s, &path))
                        .map_err(|e| e.to_string()),
                )
            },
        )
    }

    /// Write one PNG of `frame` (the current camera, head and morph) at `size` pixels.
    pub fn screenshot(
        &mut self,
        scene: Arc<SceneData>,
        names: Vec<String>,
        frame: FrameState,
        size: [u32; 2],
        path: PathBuf,
    ) -> u64 {
        let title = format!("Saving {}", file_name(&path));
        self.spawn(
            JobKind::Screenshot,
            title,
            |msg| JobResult::Wrote(Err(format!("screenshot failed: {msg}"))),
            move |_| {
                JobResult::Wrote(
                    super::render_glue::screenshot(&scene, &names, &frame, size, &path)
                        .map(|()| format!("Saved {}", path.display())),
                )
            },
        )
    }

    /// Run a short file job (saving a model) off the UI thread.
    pub fn write_file(
        &mut self,
        title: String,
        work: impl FnOnce() -> Result<String, String> + Send + 'static,
    ) -> u64 {
        self.spawn(
            JobKind::SaveModel,
            title,
            |msg| JobResult::Wrote(Err(format!("internal error: {msg}"))),
            move |_| JobResult::Wrote(work()),
        )
    }
}

impl Worker {
    /// Apply a loaded model to the dataset in `slot` (no fitting), delivered like a fit.
    pub fn apply_model(
        &mut self,
        slot: SlotId,
        inputs: Vec<String>,
        dataset: Arc<Dataset>,
        settings: Settings,
        model: Arc<crate::align::Model>,
    ) -> u64 {
        self.cancel_kind(&JobKind::Fit(slot));
        let title = format!("Applying the model to {}", dataset.name);
        self.spawn(
            JobKind::Fit(slot),
            title,
            move |msg| JobResult::Fitted(slot, Err(format!("internal error: {msg}"))),
            move |progress| {
                let start = Instant::now();
                // A model names stored units: read every unit when only some were loaded.
                let dataset = match crate::analysis::model_file::require_all_units(&dataset) {
                    Ok(()) => dataset,
                    Err(_) => match crate::data::load(&inputs, None) {
                        Ok(mut full) => {
                            full.images = dataset.images.clone();
                            full.class_names = dataset.class_names.clone();
                            Arc::new(full)
                        }
                        Err(e) => return JobResult::Fitted(slot, Err(e.to_string())),
                    },
                };
                let result = crate::analysis::pipeline::apply_model(
                    &dataset,
                    &settings,
                    (*model).clone(),
                    progress,
                )
                .map_err(|e| e.to_string())
                .map(|output| {
                    Box::new(Fitted {
                        inputs,
                        dataset,
                        output: Arc::new(output),
                        settings,
                        seconds: start.elapsed().as_secs_f64(),
                        phase: Phase::Done,
                    })
                });
                JobResult::Fitted(slot, result)
            },
        )
    }

    /// Open a study and fit all its cells with `settings`, sending each cell as it finishes.
    /// Finished cells are kept in the default cache (none when it cannot be opened). A newer
    /// study replaces a running one.
    pub fn study(&mut self, input: String, settings: Settings) -> u64 {
        self.cancel_kind(&JobKind::Study);
        let title = format!("Study {}", short_inputs(std::slice::from_ref(&input)));
        self.spawn_live(
            JobKind::Study,
            title,
            |msg| JobResult::Study(StudyEvent::Done(Err(format!("internal error: {msg}")))),
            move |progress, live| {
                JobResult::Study(StudyEvent::Done(run_study_job(
                    &input, &settings, progress, live,
                )))
            },
        )
    }

    /// Read a model file off the UI thread.
    pub fn load_model(&mut self, path: PathBuf) -> u64 {
        let title = format!("Reading {}", file_name(&path));
        self.spawn(
            JobKind::LoadModel,
            title,
            |msg| JobResult::ModelLoaded(Err(format!("internal error: {msg}"))),
            move |_| JobResult::ModelLoaded(super::model_files::load(&path).map(Box::new)),
        )
    }
}

fn load_and_fit(
    inputs: Vec<String>,
    dataset: Option<Arc<Dataset>>,
    settings: Settings,
    extra: Option<ExtraFiles>,
    progress: &Progress,
    preview: &dyn Fn(Fitted),
) -> Result<Fitted, String> {
    let start = Instant::now();
    let dataset = match dataset {
        Some(d) => d,
        None => {
            progress.stage(Stage::Load, 0.0);
            // Only the units this fit uses are read into memory; a refit with other unit
            // settings reads the files again (see `has_units_for`).
            let opts = crate::data::LoadOptions {
                keep_units: Some(crate::analysis::pipeline::keep_units_for(&settings)),
                ..Default::default()
            };
            let mut d = crate::data::load_with(&inputs, None, &opts).map_err(|e| e.to_string())?;
            if let Some(x) = extra {
                crate::data::attach(&mut d, x.images.as_deref(), x.class_names.as_deref());
            }
            progress.stage(Stage::Load, 1.0);
            Arc::new(d)
        }
    };
    if progress.cancelled() {
        return Err("cancelled".into());
    }
    let mut show = |part: Partial, output: crate::analysis::PipelineOutput| {
        preview(Fitted {
            inputs: inputs.clone(),
            dataset: dataset.clone(),
            output: Arc::new(output),
            settings: settings.clone(),
            seconds: start.elapsed().as_secs_f64(),
            phase: match part {
                Partial::Native => Phase::Aligning,
                Partial::Aligned => Phase::Measuring,
            },
        })
    };
    let output = crate::analysis::pipeline::run_preview(&dataset, &settings, progress, &mut show)
        .map_err(|e| e.to_string())?;
    Ok(Fitted {
        inputs,
        dataset,
        output: Arc::new(output),
        settings,
        seconds: start.elapsed().as_secs_f64(),
        phase: Phase::Done,
    })
}

/// Sends a running study's progress and cells to the UI; a cached cell's view is read back
/// from the cache here, off the UI thread.
struct StudyToUi<'a> {
    live: &'a Live,
    cache: Option<&'a Cache>,
}

impl StudySink for StudyToUi<'_> {
    fn progress(&self, p: &StudyProgress) {
        self.live.study_progress(p);
    }

    fn cell(&self, r: &CellResult, view: Option<Arc<CellView>>, key: Option<&str>) {
        let view = view.or_else(|| {
            let (cache, key) = (self.cache?, key?);
            cache.get_view(key).map(Arc::new)
        });
        self.live.send(JobResult::Study(StudyEvent::Cell {
            result: Box::new(r.clone()),
            view,
        }));
    }
}

fn run_study_job(
    input: &str,
    settings: &Settings,
    progress: &Progress,
    live: &Live,
) -> Result<(usize, f64), String> {
    let start = Instant::now();
    let study = Study::open(input).map_err(|e| e.to_string())?;
    let cache = match study_cache::default_dir() {
        None => Err("neither XDG_CACHE_HOME nor HOME is set".to_string()),
        Some(d) => Cache::open(&d).map_err(|e| e.to_string()),
    };
    live.send(JobResult::Study(StudyEvent::Opened(Box::new(
        StudyOpened {
            input: input.to_string(),
            name: study.name.clone(),
            cells: study.cells.clone(),
            class_names: study.class_names(),
            cache: cache
                .as_ref()
                .map(|c| c.dir().to_path_buf())
                .map_err(Clone::clone),
        },
    ))));
    let cache = cache.ok();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let opts = RunOptions {
        shard: None,
        cache: cache.as_ref(),
        workers: cores.clamp(1, 4),
        load: crate::data::LoadOptions::default(),
    };
    let sink = StudyToUi {
        live,
        cache: cache.as_ref(),
    };
    let results =
        run_study(&study, settings, &opts, &sink, progress.cancel).map_err(|e| e.to_string())?;
    Ok((results.cells.len(), start.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialog_outcomes() {
        let p = vec![PathBuf::from("/a.npy")];
        assert_eq!(
            pick_outcome(Some(p.clone()), Duration::ZERO),
            PickOutcome::Picked(p)
        );
        assert_eq!(
            pick_outcome(None, Duration::from_millis(2)),
            PickOutcome::NoPortal
        );
        assert_eq!(
            pick_outcome(Some(vec![]), Duration::from_millis(2)),
            PickOutcome::NoPortal
        );
        assert_eq!(
            pick_outcome(None, Duration::from_secs(3)),
            PickOutcome::Cancelled
        );
    }

    #[test]
    fn export_messages_are_readable() {
        let s = crate::render::ExportSummary {
            path: PathBuf::from("/t/x.gif"),
            frames: 250,
            width: 640,
            height: 480,
            delay_cs: Some(4),
            tail_images: 15,
            bytes: 1_706_589,
            seconds: 0.9,
        };
        assert_eq!(
            export_message(&s, std::path::Path::new("/t/x.gif")),
            "Exported /t/x.gif: 250 frames of 640×480, 1.7 MB in 0.9 s"
        );
    }

    #[test]
    fn short_inputs_names_files() {
        assert_eq!(short_inputs(&["demo:convnet".into()]), "demo:convnet");
        assert_eq!(
            short_inputs(&["/x/a.npy".into(), "/x/b.npy".into()]),
            "a.npy, b.npy"
        );
        assert_eq!(
            short_inputs(&[
                "a.npy".into(),
                "b.npy".into(),
                "c.npy".into(),
                "d.npy".into()
            ]),
            "a.npy, b.npy (+2 more)"
        );
    }

    #[test]
    fn panics_become_errors_and_cancel_drops_results() {
        let mut w = Worker::new();
        let id = w.spawn(
            JobKind::SaveModel,
            "panic".into(),
            |m| JobResult::Wrote(Err(m)),
            |_| panic!("boom"),
        );
        let done = w.wait_idle(Duration::from_secs(5));
        assert_eq!(done.len(), 1);
        assert!(
            matches!(&done[0].1, JobResult::Wrote(Err(m)) if m.contains("boom")),
            "{id}"
        );

        let id = w.write_file("slow".into(), || {
            std::thread::sleep(Duration::from_millis(50));
            Ok("written".into())
        });
        w.cancel(id);
        assert!(!w.busy(), "cancel forgets the job at once");
        std::thread::sleep(Duration::from_millis(100));
        assert!(w.poll().is_empty(), "a cancelled job's result is dropped");
    }

    #[test]
    fn fit_reports_load_errors() {
        let mut w = Worker::new();
        w.fit(
            SlotId::Primary,
            vec!["/definitely/not/here.npy".into()],
            None,
            Settings::default(),
        );
        let done = w.wait_idle(Duration::from_secs(10));
        let Some((job, JobResult::Fitted(SlotId::Primary, Err(msg)))) = done.into_iter().next()
        else {
            panic!("expected a failed fit");
        };
        assert_eq!(job.kind, JobKind::Fit(SlotId::Primary));
        assert!(msg.contains("not/here.npy"), "{msg}");
    }
}
