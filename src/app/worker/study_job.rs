//! A study job's thread: opens the study, sends its manifest, then each cell as it finishes.

use std::sync::Arc;
use std::time::Instant;

use super::{JobResult, Live, StudyEvent, StudyOpened};
use crate::analysis::study::cache::{self as study_cache, Cache};
use crate::analysis::study::runner::{run_study, RunOptions, StudyProgress, StudySink};
use crate::analysis::study::{CellResult, CellView};
use crate::analysis::Settings;
use crate::data::study::Study;
use crate::progress::Progress;

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

pub(super) fn run_study_job(
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
