//! The words the viewer shows for jobs: progress, durations, export summaries, input names.

use crate::analysis::study::runner::StudyProgress;

/// `3/12 cells · net/low/4 (fit 3/10) · about 20 s left`
pub fn study_status(p: &StudyProgress) -> String {
    let mut s = format!("{}/{} cells", p.done, p.total);
    if p.cached > 0 {
        s.push_str(&format!(" ({} cached)", p.cached));
    }
    if !p.running.is_empty() {
        let names: Vec<String> = p
            .running
            .iter()
            .map(|(_, cell, stage)| format!("{cell} ({stage})"))
            .collect();
        s.push_str(&format!(" · {}", names.join(", ")));
    }
    if let Some(eta) = p.eta.filter(|e| e.is_finite() && p.done < p.total) {
        s.push_str(&format!(" · about {} left", duration_text(eta)));
    }
    s
}

/// `42 s`, `3 min 5 s`.
pub fn duration_text(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// `Exported /x/t.gif: 250 frames of 640×480, 1.7 MB in 0.9 s`
pub fn export_message(summary: &crate::render::ExportSummary, path: &std::path::Path) -> String {
    // The same byte formatter as the CLI, so both say the same size for one file.
    let size = crate::data::fmt_bytes(summary.bytes);
    format!(
        "Exported {}: {} frame{} of {}×{}, {size} in {:.1} s",
        path.display(),
        summary.frames,
        if summary.frames == 1 { "" } else { "s" },
        summary.width,
        summary.height,
        summary.seconds
    )
}

pub(super) fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `a.npy, b.npy (+3 more)` for titles.
pub fn short_inputs(inputs: &[String]) -> String {
    let names: Vec<String> = inputs
        .iter()
        .map(|s| {
            if s.starts_with("demo:") {
                s.clone()
            } else {
                file_name(std::path::Path::new(s))
            }
        })
        .collect();
    match names.len() {
        0 => "nothing".into(),
        1..=2 => names.join(", "),
        n => format!("{}, {} (+{} more)", names[0], names[1], n - 2),
    }
}

pub(super) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a background job panicked".into()
    }
}
