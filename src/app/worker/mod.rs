//! Background jobs: load + fit, studies, export, screenshot, file dialogs and model files.
//!
//! | room | file |
//! |---|---|
//! | the queue: spawn, poll, cancel, wait | `mod.rs` |
//! | job kinds, a running job's progress, the results | `job.rs` |
//! | the jobs the viewer starts (fit, model, study, export, screenshot, dialogs) | `tasks.rs` |
//! | a study job's thread and its sink | `study_job.rs` |
//! | native file dialogs | `dialogs.rs` |
//! | the text shown for jobs | `messages.rs` |
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

use crate::analysis::study::runner::StudyProgress;
use crate::progress::{Progress, ProgressEvent};

mod dialogs;
mod job;
mod messages;
mod study_job;
mod tasks;

pub use dialogs::{pick_outcome, DialogPurpose, PickOutcome, NO_PORTAL_THRESHOLD};
pub use job::{Fitted, Job, JobKind, JobResult, Phase, StudyEvent, StudyOpened};
use messages::panic_message;
pub use messages::{duration_text, export_message, short_inputs, study_status};

pub use super::slot::SlotId;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Settings;

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
