//! `--bench-frames N`: play the scene for N frames with vsync off, then print the median and
//! 95th percentile of the wall time between frames and close the window.
//!
//! Counting starts once the data is on screen and the GL side has drawn a few frames, so shader
//! compilation and the first upload are not part of the numbers.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Frames drawn before measuring starts.
pub const WARMUP_FRAMES: u64 = 5;
/// Give up when the data is on screen but GL has not drawn the warm-up frames after this long.
pub const GL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug)]
pub struct Bench {
    target: usize,
    intervals_ms: Vec<f64>,
    ui_ms: Vec<f64>,
    last: Option<Instant>,
    /// `frames_drawn` when measuring started.
    drawn_at_start: Option<u64>,
    drawn_at_end: u64,
    failed: Option<String>,
    ready_since: Option<Instant>,
    started: Instant,
    /// When the native trajectories first reached the screen (the fit still running), and
    /// when the aligned ones did (before the measures were done).
    native_at: Option<Instant>,
    shown_at: Option<Instant>,
    fit_s: Option<f64>,
    /// Filled when finished: the printed report, or why it failed.
    pub outcome: Arc<Mutex<Option<Result<BenchReport, String>>>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    pub frames: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Paint callbacks that actually drew during the measurement.
    pub gl_frames: u64,
    /// Median CPU time of the UI pass alone (layout, picking, panels), without painting.
    pub ui_median_ms: f64,
    /// Seconds from the window's creation to the first frame with the aligned trajectories on
    /// screen (load, fit, projection, PCA; the measures follow), and the fit's own seconds.
    pub ready_after_s: f64,
    /// Seconds to the first frame with the native trajectories (shown while the fit runs).
    pub native_after_s: Option<f64>,
    pub fit_s: Option<f64>,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bench: {} frames, median {:.2} ms ({:.0} fps), p95 {:.2} ms, max {:.2} ms, {} GL draws, \
             UI pass median {:.2} ms",
            self.frames,
            self.median_ms,
            if self.median_ms > 0.0 { 1000.0 / self.median_ms } else { 0.0 },
            self.p95_ms,
            self.max_ms,
            self.gl_frames,
            self.ui_median_ms
        )?;
        if let Some(n) = self.native_after_s {
            write!(f, "; native trajectories on screen {n:.1} s")?;
        }
        write!(
            f,
            "; aligned trajectories on screen {:.1} s after start",
            self.ready_after_s
        )?;
        if let Some(fit) = self.fit_s {
            write!(f, " (fit {fit:.1} s)")?;
        }
        Ok(())
    }
}

impl Bench {
    pub fn new(frames: usize) -> Self {
        Self {
            target: frames.max(1),
            intervals_ms: Vec::new(),
            ui_ms: Vec::new(),
            last: None,
            drawn_at_start: None,
            drawn_at_end: 0,
            failed: None,
            ready_since: None,
            started: Instant::now(),
            native_at: None,
            shown_at: None,
            fit_s: None,
            outcome: Arc::new(Mutex::new(None)),
        }
    }

    /// Trajectories are on screen, native only while the fit runs or aligned (frames are
    /// timed only once the measures are done too).
    pub fn shown(&mut self, now: Instant, aligned: bool) {
        self.native_at.get_or_insert(now);
        if aligned {
            self.shown_at.get_or_insert(now);
        }
    }

    /// The fit's seconds, for the report.
    pub fn note_fit(&mut self, seconds: f64) {
        self.fit_s = Some(seconds);
    }

    /// Loading failed: stop and report it.
    pub fn fail(&mut self, msg: String) {
        self.failed = Some(msg);
    }

    /// Called once per UI frame, `now` being when the frame's UI pass started and `ui_ms` how
    /// long it took. Returns true when the window should close.
    pub fn frame(&mut self, ready: bool, gl_frames_drawn: u64, now: Instant, ui_ms: f64) -> bool {
        if let Some(msg) = self.failed.take() {
            self.finish(Err(msg));
            return true;
        }
        if !ready {
            return false;
        }
        let since = *self.ready_since.get_or_insert(now);
        let Some(start) = self.drawn_at_start else {
            if now.duration_since(since) > GL_TIMEOUT {
                self.finish(Err(format!(
                    "the 3D view drew {gl_frames_drawn} frames in {} s; is OpenGL working?",
                    GL_TIMEOUT.as_secs()
                )));
                return true;
            }
            if gl_frames_drawn >= WARMUP_FRAMES {
                self.drawn_at_start = Some(gl_frames_drawn);
                self.last = Some(now);
            }
            return false;
        };
        if let Some(last) = self.last {
            self.intervals_ms
                .push(now.duration_since(last).as_secs_f64() * 1000.0);
        }
        self.last = Some(now);
        self.ui_ms.push(ui_ms);
        self.drawn_at_end = gl_frames_drawn;
        if self.intervals_ms.len() >= self.target {
            let mut report = summarize(&self.intervals_ms, self.drawn_at_end.saturating_sub(start));
            report.ui_median_ms = summarize(&self.ui_ms, 0).median_ms;
            let shown = self.shown_at.unwrap_or(since);
            report.ready_after_s = shown.duration_since(self.started).as_secs_f64();
            report.fit_s = self.fit_s;
            report.native_after_s = self
                .native_at
                .filter(|n| *n < shown)
                .map(|n| n.duration_since(self.started).as_secs_f64());
            self.finish(Ok(report));
            return true;
        }
        false
    }

    fn finish(&mut self, r: Result<BenchReport, String>) {
        let mut o = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        if o.is_none() {
            *o = Some(r);
        }
    }
}

/// Median, p95 and max of frame intervals (nearest-rank percentiles).
pub fn summarize(intervals_ms: &[f64], gl_frames: u64) -> BenchReport {
    let mut v: Vec<f64> = intervals_ms
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    v.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v.get(rank - 1).copied().unwrap_or(0.0)
    };
    BenchReport {
        frames: v.len(),
        median_ms: pct(0.5),
        p95_ms: pct(0.95),
        max_ms: v.last().copied().unwrap_or(0.0),
        gl_frames,
        ui_median_ms: 0.0,
        ready_after_s: 0.0,
        native_after_s: None,
        fit_s: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let r = summarize(&v, 100);
        assert_eq!(r.median_ms, 50.0);
        assert_eq!(r.p95_ms, 95.0);
        assert_eq!(r.max_ms, 100.0);
        assert_eq!(summarize(&[], 0).median_ms, 0.0);
    }

    #[test]
    fn waits_for_data_and_warmup_then_counts() {
        let mut b = Bench::new(3);
        let t0 = Instant::now();
        assert!(!b.frame(false, 0, t0, 1.0));
        assert!(!b.frame(true, 1, t0, 1.0));
        let ms = |n: u64| t0 + Duration::from_millis(n);
        assert!(!b.frame(true, WARMUP_FRAMES, ms(10), 2.0));
        assert!(!b.frame(true, WARMUP_FRAMES + 1, ms(20), 2.0));
        assert!(!b.frame(true, WARMUP_FRAMES + 2, ms(30), 2.0));
        assert!(b.frame(true, WARMUP_FRAMES + 3, ms(45), 2.0));
        let out = b.outcome.lock().map(|o| o.clone()).ok().flatten();
        let Some(Ok(r)) = out else {
            panic!("no report")
        };
        assert_eq!(r.frames, 3);
        assert!((r.median_ms - 10.0).abs() < 0.5);
        assert_eq!(r.gl_frames, 3);
        assert_eq!(r.ui_median_ms, 2.0);
    }

    #[test]
    fn failure_closes_with_error() {
        let mut b = Bench::new(3);
        b.fail("no such file".into());
        assert!(b.frame(false, 0, Instant::now(), 0.0));
        let out = b.outcome.lock().map(|o| o.clone()).ok().flatten();
        assert!(matches!(out, Some(Err(m)) if m == "no such file"));
    }
}
