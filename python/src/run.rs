//! Long calls off the calling thread, interruptible and with progress.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use srmscope::progress::{Progress, ProgressEvent};

use crate::errors::Failure;

/// How often the waiting thread takes the GIL to run Python's signal handlers and progress bar:
/// well inside the 0.5 s a Ctrl-C may take.
const POLL: Duration = Duration::from_millis(50);

type Outcome<T> = std::thread::Result<Result<T, Failure>>;

/// Runs `work` on a scoped worker thread with the GIL released. Every [`POLL`] the caller
/// checks for signals (a `KeyboardInterrupt` sets the cancel flag, waits for the worker to stop
/// and is raised) and passes the latest progress event to `progress(stage, fraction, iteration,
/// n_iter, objective)`. A panic in the engine becomes a `RuntimeError`, never an abort.
pub fn blocking<T, F>(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Progress) -> Result<T, Failure> + Send,
{
    let cancel = AtomicBool::new(false);
    let latest: Mutex<Option<ProgressEvent>> = Mutex::new(None);
    let done: (Mutex<Option<Outcome<T>>>, Condvar) = (Mutex::new(None), Condvar::new());
    std::thread::scope(|scope| {
        let (cancel, latest_ref, done_ref) = (&cancel, &latest, &done);
        scope.spawn(move || {
            let report = |e: ProgressEvent| {
                if let Ok(mut l) = latest_ref.lock() {
                    *l = Some(e);
                }
            };
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                work(&Progress::new(&report, cancel))
            }));
            if let Ok(mut slot) = done_ref.0.lock() {
                *slot = Some(outcome);
            }
            done_ref.1.notify_all();
        });
        loop {
            let finished = py.detach(|| wait(&done, POLL));
            if let Some(outcome) = finished {
                return finish(outcome);
            }
            if let Err(interrupt) = py.check_signals() {
                cancel.store(true, Ordering::Relaxed);
                // The engine checks the flag at every iteration and step; whatever it returns
                // now is dropped, and any temporary output it made is removed on the way out.
                let _ = py.detach(|| wait(&done, Duration::MAX));
                return Err(interrupt);
            }
            let event = latest.lock().ok().and_then(|mut l| l.take());
            if let (Some(cb), Some(e)) = (progress, event) {
                let (it, n) = e
                    .iteration
                    .map_or((None, None), |(i, n)| (Some(i), Some(n)));
                cb.call1((e.stage.label(), e.fraction, it, n, e.objective))?;
            }
        }
    })
}

/// The worker's outcome once it is there, waiting at most `timeout`.
fn wait<T>(done: &(Mutex<Option<Outcome<T>>>, Condvar), timeout: Duration) -> Option<Outcome<T>> {
    let (slot, cv) = done;
    let mut guard = slot.lock().ok()?;
    let deadline = std::time::Instant::now().checked_add(timeout);
    while guard.is_none() {
        let left = match deadline {
            Some(d) => d.saturating_duration_since(std::time::Instant::now()),
            None => Duration::from_secs(3600),
        };
        if left.is_zero() {
            return None;
        }
        guard = cv.wait_timeout(guard, left).ok()?.0;
    }
    guard.take()
}

fn finish<T>(outcome: Outcome<T>) -> PyResult<T> {
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(f)) => Err(f.into()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(crate::errors::runtime(format!(
                "srmscope: internal error (please report): {msg}"
            )))
        }
    }
}
