//! Fits a study's cells in parallel. Memory stays bounded: each worker holds one cell's raw
//! activations at a time, and the last checkpoint's held-out data (for `dev_vs_final`) is kept
//! per (arch, layer) only while cells of that layer remain. A finished cell keeps its numbers
//! and its `CellView`, nothing else.

use super::cache::Cache;
use super::measures::{rsm_trio, within_rsm_consistency};
use super::{finite, CellResult, CellView, StudyError, StudyResults, RSM_BLOCKS};
use crate::analysis::metrics::rsa_loo;
use crate::analysis::pipeline::{
    apply_model_inspect, native_test_split, run_owned_inspect, Inspect, PipelineOutput, TestSpaces,
};
use crate::analysis::{AnalysisError, Settings, SettingsGuard, ValidSettings};
use crate::data::study::{CellSpec, Study};
use crate::data::{Dataset, LoadOptions};
use crate::progress::{Progress, ProgressEvent};
use ndarray::{Array2, ArrayView2};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How a study runs.
pub struct RunOptions<'a> {
    /// `(I, N)`, 1-based: fit the cells whose manifest position p has p % N == I − 1.
    pub shard: Option<(usize, usize)>,
    pub cache: Option<&'a Cache>,
    /// Cells fitted at once (each also uses the shared thread pool inside).
    pub workers: usize,
    pub load: LoadOptions,
}

/// Where the study is: cells done of the total, the cells being fitted, seconds so far.
#[derive(Clone, Debug, Default)]
pub struct StudyProgress {
    pub done: usize,
    pub total: usize,
    pub cached: usize,
    /// `arch/layer/checkpoint` and the current stage of each cell being fitted.
    pub running: Vec<(usize, String, String)>,
    pub elapsed: f64,
    /// Seconds left, from the pace of the cells fitted so far.
    pub eta: Option<f64>,
}

/// Receives a study's progress and each finished cell as soon as it is done.
pub trait StudySink: Sync {
    fn progress(&self, _p: &StudyProgress) {}
    /// Something the user should know that does not stop the study (the cache cannot be
    /// written, say).
    fn warning(&self, _msg: &str) {}
    /// `view` is `None` for a cell taken from the cache (read it with `Cache::get_view`).
    fn cell(&self, _r: &CellResult, _view: Option<Arc<CellView>>, _key: Option<&str>) {}
}

/// A sink that ignores everything.
pub struct Quiet;
impl StudySink for Quiet {}

/// The most shards a study may be split into.
pub const MAX_SHARDS: usize = 1_000_000;

/// Parses `I/N` (1 ≤ I ≤ N ≤ [`MAX_SHARDS`]).
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let shown = crate::data::printable(s);
    let shown: String = shown.chars().take(40).collect();
    let err = || format!("--shard {shown}: expected I/N with 1 ≤ I ≤ N, e.g. 2/8");
    let (i, n) = s.split_once('/').ok_or_else(err)?;
    let i: usize = i.trim().parse().map_err(|_| err())?;
    let n: usize = n.trim().parse().map_err(|_| err())?;
    if n == 0 || i == 0 || i > n {
        return Err(err());
    }
    if n > MAX_SHARDS {
        return Err(format!(
            "--shard {shown}: at most {MAX_SHARDS} shards (and no more than the study's cells)"
        ));
    }
    Ok((i, n))
}

/// The manifest positions a shard fits.
pub fn shard_cells(n_cells: usize, shard: Option<(usize, usize)>) -> Vec<usize> {
    (0..n_cells)
        .filter(|p| shard.is_none_or(|(i, n)| p % n == i - 1))
        .collect()
}

/// For each cell, the manifest position of the last checkpoint of its arch and layer.
pub fn final_cells(cells: &[CellSpec]) -> Vec<usize> {
    let mut last: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (p, c) in cells.iter().enumerate() {
        let e = last.entry((c.arch.as_str(), c.layer.as_str())).or_insert(p);
        if cells[*e].checkpoint < c.checkpoint {
            *e = p;
        }
    }
    cells
        .iter()
        .map(|c| last[&(c.arch.as_str(), c.layer.as_str())])
        .collect()
}

/// The last checkpoint's held-out native data of one (arch, layer): the rows, the images they
/// are, and the digest of the bytes they were loaded from.
struct FinalData {
    native: Vec<Array2<f64>>,
    test_idx: Vec<usize>,
    digest: String,
}

/// [`FinalData`], shared while cells of its layer remain.
#[derive(Default)]
struct FinalSlot {
    data: Option<Arc<FinalData>>,
    remaining: usize,
}

struct Shapes {
    per_arch: BTreeMap<String, (Vec<String>, String)>,
    images: Option<(usize, String)>,
}

struct Ctx<'a> {
    study: &'a Study,
    settings: &'a ValidSettings,
    opts: &'a RunOptions<'a>,
    finals: Vec<usize>,
    /// Keys of the cells' results looked up before the run (cache only).
    keys: BTreeMap<usize, String>,
    slots: BTreeMap<usize, Mutex<FinalSlot>>,
    shapes: Mutex<Shapes>,
    cancel: &'a AtomicBool,
    sink: &'a dyn StudySink,
    /// Set once the cache could not be written: the study carries on without it.
    cache_off: AtomicBool,
}

impl Ctx<'_> {
    /// Every cell of an arch has the same networks; every cell of the study the same images.
    fn check_shape(&self, p: usize, names: &[String], n: usize) -> Result<(), StudyError> {
        let c = &self.study.cells[p];
        let mut s = self
            .shapes
            .lock()
            .map_err(|_| StudyError::Invalid("a worker failed".into()))?;
        match &s.images {
            Some((m, other)) if *m != n => {
                return Err(StudyError::Invalid(format!(
                    "{}: {n} images, but cell {other} has {m}; every cell needs the same images",
                    self.study.cell_what(p)
                )))
            }
            Some(_) => {}
            None => s.images = Some((n, c.label())),
        }
        match s.per_arch.get(&c.arch) {
            Some((want, other)) if want.as_slice() != names => Err(StudyError::Invalid(format!(
                "{}: networks [{}], but cell {other} has [{}]; every cell of {} needs the same networks",
                self.study.cell_what(p),
                names.join(", "),
                want.join(", "),
                c.arch
            ))),
            Some(_) => Ok(()),
            None => {
                s.per_arch
                    .insert(c.arch.clone(), (names.to_vec(), c.label()));
                Ok(())
            }
        }
    }

    /// Cell `p`'s dataset and the digest of the bytes it was loaded from.
    fn load(&self, p: usize) -> Result<(Dataset, String), StudyError> {
        self.study
            .load_cell_digest(p, &self.opts.load)
            .map_err(|e| StudyError::Load {
                what: self.study.cell_what(p),
                source: e,
            })
    }

    /// The cache, unless it is off or could not be written.
    fn cache(&self) -> Option<&Cache> {
        self.opts
            .cache
            .filter(|_| !self.cache_off.load(Ordering::Relaxed))
    }

    /// A failed cache write: one warning, then the study carries on without the cache.
    fn cache_failed(&self, e: &crate::data::DataError) {
        if let Some(c) = self.opts.cache {
            if !self.cache_off.swap(true, Ordering::Relaxed) {
                self.sink.warning(&format!(
                    "study cache {}: cannot store results ({e}); carrying on without the cache",
                    c.shown()
                ));
            }
        }
    }

    fn final_native(&self, f: usize) -> Result<Arc<FinalData>, StudyError> {
        let slot = self
            .slots
            .get(&f)
            .ok_or_else(|| StudyError::Invalid("no final slot".into()))?;
        let mut g = slot
            .lock()
            .map_err(|_| StudyError::Invalid("a worker failed".into()))?;
        if let Some(d) = &g.data {
            return Ok(d.clone());
        }
        let (ds, digest) = self.load(f)?;
        self.check_shape(f, &ds.names(), ds.n_images())?;
        let (native, test_idx) =
            native_test_split(&ds, self.settings).map_err(|e| StudyError::Cell {
                what: self.study.cell_what(f),
                source: e,
            })?;
        let d = Arc::new(FinalData {
            native,
            test_idx,
            digest,
        });
        g.data = Some(d.clone());
        Ok(d)
    }

    fn release_final(&self, f: usize) {
        if let Some(slot) = self.slots.get(&f) {
            if let Ok(mut g) = slot.lock() {
                g.remaining = g.remaining.saturating_sub(1);
                if g.remaining == 0 {
                    g.data = None;
                }
            }
        }
    }

    /// Fits cell `p`; also returns the cache key of its result, from the digests of the bytes
    /// actually loaded (cache only).
    fn fit_cell(
        &self,
        p: usize,
        report: &(dyn Fn(ProgressEvent) + Sync),
    ) -> Result<(CellResult, CellView, Option<String>), StudyError> {
        let (ds, digest) = self.load(p)?;
        let mut notes = ds.notes.clone();
        let names = ds.names();
        let n_images = ds.n_images();
        self.check_shape(p, &names, n_images)?;
        let is_final = self.finals[p] == p;
        let final_native = if is_final {
            None
        } else {
            Some(self.final_native(self.finals[p])?)
        };
        let key = self.result_key(p, &digest, final_native.as_deref(), &mut notes);
        let fit_key = Cache::fit_key(self.settings, &digest);
        let labels = ds.labels.clone();
        let mut extra: Option<(Option<f64>, Option<f64>, super::RsmTrio)> = None;
        let mut dev_note: Option<String> = None;
        let progress = Progress::new(report, self.cancel);
        let final_label = self.study.cells[self.finals[p]].label();
        let mut inspect = |t: &TestSpaces<'_>| {
            let consistency = within_rsm_consistency(t.native);
            let dev_final = final_native.as_deref().and_then(|f| {
                let v = dev_vs_final(f, t);
                if v.is_none() {
                    dev_note = Some(format!(
                        "dev_vs_final not computed: the held-out images differ from those \
                         of {final_label} (different labels split the images differently)"
                    ));
                }
                v
            });
            let sorted = labels
                .as_ref()
                .map(|l| t.test_idx.iter().map(|&j| l[j]).collect());
            let trio = rsm_trio(t.native, t.shared, t.same_width, sorted, RSM_BLOCKS);
            extra = Some((consistency, dev_final, trio));
        };
        let out = self.fit_or_reuse(p, ds, &fit_key, &progress, &mut inspect, &mut notes)?;
        let (consistency, dev_final, trio) = extra.ok_or_else(|| {
            StudyError::Invalid(format!("{}: no held-out data", self.study.cell_what(p)))
        })?;
        notes.extend(dev_note);
        notes.extend(out.notes);
        let spec = &self.study.cells[p];
        let m = out.metrics;
        let dev_same = Some(m.rsa.shared);
        let result = CellResult {
            index: p,
            arch: spec.arch.clone(),
            layer: spec.layer.clone(),
            layer_index: spec.layer_index,
            checkpoint: spec.checkpoint,
            path: spec.path.clone(),
            networks: names,
            n_images,
            n_train: out.train_idx.len(),
            n_test: out.test_idx.len(),
            k: out.k,
            within_rsm_consistency: finite(consistency),
            // The last checkpoint compares with itself: exactly its held-out RSA.
            dev_vs_final: finite(if is_final { dev_same } else { dev_final }),
            dev_vs_same: finite(dev_same),
            notes,
            metrics: m,
        };
        Ok((
            result,
            CellView {
                trio,
                scene: out.scene,
            },
            key,
        ))
    }

    /// The cache key of cell `p`'s result (cache only), from the digests of the bytes actually
    /// loaded: a file replaced during the run is cached under its own content, never under the
    /// digest taken before. Notes such a change.
    fn result_key(
        &self,
        p: usize,
        digest: &str,
        final_native: Option<&FinalData>,
        notes: &mut Vec<String>,
    ) -> Option<String> {
        let final_digest = final_native.map_or(digest, |f| f.digest.as_str());
        let key = self
            .opts
            .cache
            .map(|_| Cache::key(self.settings, digest, final_digest));
        if let (Some(k), Some(before)) = (&key, self.keys.get(&p)) {
            if k != before {
                notes.push(format!(
                    "{}: its files changed while the study ran; these numbers are for the files \
                     as they were read",
                    self.study.cell_what(p)
                ));
            }
        }
        key
    }

    /// Cell `p`'s pipeline output. A fit cached under the same fit settings is reused: only
    /// the measures run again. Else the cell is fitted, and the fit cached.
    fn fit_or_reuse(
        &self,
        p: usize,
        ds: Dataset,
        fit_key: &str,
        progress: &Progress,
        inspect: Inspect<'_>,
        notes: &mut Vec<String>,
    ) -> Result<PipelineOutput, StudyError> {
        // The cache is untrusted: a model that does not fit the cell is a miss.
        if let Some((model, secs)) = self.cache().and_then(|c| c.get_model(fit_key)) {
            match apply_model_inspect(&ds, self.settings, model, progress, Some(&mut *inspect)) {
                Ok(mut o) => {
                    o.metrics.fit_seconds = secs;
                    return Ok(o);
                }
                Err(AnalysisError::Cancelled) => return Err(StudyError::Cancelled),
                Err(e) => notes.push(format!(
                    "study cache {}: the cached model {fit_key} does not fit this cell ({e}); \
                     fitted again",
                    self.opts.cache.map_or_else(String::new, Cache::shown)
                )),
            }
        }
        let o = run_owned_inspect(ds, self.settings, progress, inspect).map_err(|e| match e {
            AnalysisError::Cancelled => StudyError::Cancelled,
            e => StudyError::Cell {
                what: self.study.cell_what(p),
                source: e,
            },
        })?;
        if let Some(c) = self.cache() {
            if let Err(e) = c.put_model(fit_key, &o.model, self.settings, o.metrics.fit_seconds) {
                self.cache_failed(&e);
            }
        }
        Ok(o)
    }

    /// The selected cells whose results the cache holds (each handed to the sink as found),
    /// and the cells left to fit; keeps every cell's key for [`Ctx::result_key`].
    fn cache_hits(
        &mut self,
        cache: &Cache,
        selected: &[usize],
        prog: &mut StudyProgress,
    ) -> Result<(BTreeMap<usize, CellResult>, Vec<usize>), StudyError> {
        let mut results = BTreeMap::new();
        let mut todo = Vec::new();
        let mut digests: BTreeMap<usize, String> = BTreeMap::new();
        for &p in selected {
            let f = self.finals[p];
            for q in [p, f] {
                if let std::collections::btree_map::Entry::Vacant(e) = digests.entry(q) {
                    e.insert(cache.cell_digest(self.study, q)?);
                }
            }
            if self.cancel.load(Ordering::Relaxed) {
                return Err(StudyError::Cancelled);
            }
            let key = Cache::key(self.settings, &digests[&p], &digests[&f]);
            match cache.get(&key).filter(|_| cache.has_view(&key)) {
                Some(r) => {
                    let r = place(r, p, &self.study.cells[p]);
                    self.sink.cell(&r, None, Some(&key));
                    results.insert(p, r);
                    prog.done += 1;
                    prog.cached += 1;
                }
                None => todo.push(p),
            }
            self.keys.insert(p, key);
        }
        let _ = cache.save_memo();
        Ok((results, todo))
    }

    /// Fits the cells of `todo` on up to `opts.workers` threads; the first error stops them.
    fn fit_all(
        &self,
        todo: &[usize],
        prog: StudyProgress,
        results: BTreeMap<usize, CellResult>,
        t0: Instant,
    ) -> Result<BTreeMap<usize, CellResult>, StudyError> {
        let pool = Pool {
            todo,
            next: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            state: Mutex::new(PoolState {
                prog,
                results,
                error: None,
            }),
            t0,
            fit_t0: Instant::now(),
            fitted: AtomicUsize::new(0),
            workers: self.opts.workers.clamp(1, todo.len().max(1)),
        };
        std::thread::scope(|scope| {
            for _ in 0..pool.workers {
                scope.spawn(|| while self.fit_next(&pool) {});
            }
        });
        let state = pool
            .state
            .into_inner()
            .map_err(|_| StudyError::Invalid("a worker failed".into()))?;
        match state.error {
            Some(e) => Err(e),
            None => Ok(state.results),
        }
    }

    /// One worker's step: fits the next cell of the pool and records it. False once there is
    /// none left or the study stops.
    fn fit_next(&self, pool: &Pool) -> bool {
        if pool.failed.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed) {
            return false;
        }
        let j = pool.next.fetch_add(1, Ordering::Relaxed);
        let Some(&p) = pool.todo.get(j) else {
            return false;
        };
        if let Ok(mut st) = pool.state.lock() {
            st.prog
                .running
                .push((p, self.study.cells[p].label(), "loading".into()));
            st.prog.elapsed = pool.t0.elapsed().as_secs_f64();
            self.sink.progress(&st.prog);
        }
        let report = |e: ProgressEvent| pool.report_stage(p, &e, self.sink);
        let res = self.fit_cell(p, &report);
        if self.finals[p] != p {
            self.release_final(self.finals[p]);
        }
        if let (Ok((r, view, Some(key))), Some(cache)) = (&res, self.cache()) {
            if let Err(e) = cache.put(key, r, view) {
                self.cache_failed(&e);
            }
        }
        let Ok(mut st) = pool.state.lock() else {
            return false;
        };
        st.prog.running.retain(|r| r.0 != p);
        match res {
            Ok((r, view, key)) => {
                self.sink.cell(&r, Some(Arc::new(view)), key.as_deref());
                st.results.insert(p, r);
                st.prog.done += 1;
                let n = pool.fitted.fetch_add(1, Ordering::Relaxed) + 1;
                let left = pool.todo.len().saturating_sub(n);
                let pace = pool.fit_t0.elapsed().as_secs_f64() / n as f64;
                st.prog.eta = Some(pace * left as f64 / pool.workers as f64);
            }
            Err(e) => {
                pool.failed.store(true, Ordering::Relaxed);
                if st.error.is_none() || matches!(st.error, Some(StudyError::Cancelled)) {
                    st.error = Some(e);
                }
            }
        }
        st.prog.elapsed = pool.t0.elapsed().as_secs_f64();
        self.sink.progress(&st.prog);
        true
    }
}

/// `dev_vs_final`: the RSA of the shared space with the last checkpoint's native data, rows
/// paired by image. None when the last checkpoint's split does not hold the same images.
fn dev_vs_final(f: &FinalData, t: &TestSpaces<'_>) -> Option<f64> {
    let fv: Vec<ArrayView2<f64>> = f.native.iter().map(|x| x.view()).collect();
    if f.test_idx.as_slice() == t.test_idx {
        return Some(rsa_loo(&fv, &[t.shared])[0]);
    }
    let at: BTreeMap<usize, usize> = f
        .test_idx
        .iter()
        .enumerate()
        .map(|(r, &i)| (i, r))
        .collect();
    let rows: Option<Vec<usize>> = t.test_idx.iter().map(|i| at.get(i).copied()).collect();
    let rows = rows.filter(|r| r.len() == f.test_idx.len())?;
    let picked: Vec<Array2<f64>> = f
        .native
        .iter()
        .map(|x| x.select(ndarray::Axis(0), &rows))
        .collect();
    let pv: Vec<ArrayView2<f64>> = picked.iter().map(|x| x.view()).collect();
    Some(rsa_loo(&pv, &[t.shared])[0])
}

/// The cells left to fit, shared out to the workers, and what they have done.
struct Pool<'t> {
    todo: &'t [usize],
    /// Position in `todo` of the next cell to take.
    next: AtomicUsize,
    failed: AtomicBool,
    state: Mutex<PoolState>,
    /// When the study and when the fits began (the pace counts fits only).
    t0: Instant,
    fit_t0: Instant,
    fitted: AtomicUsize,
    workers: usize,
}

/// The study's progress, the results so far and the first error.
struct PoolState {
    prog: StudyProgress,
    results: BTreeMap<usize, CellResult>,
    error: Option<StudyError>,
}

impl Pool<'_> {
    /// Shows the stage of cell `p`'s fit.
    fn report_stage(&self, p: usize, e: &ProgressEvent, sink: &dyn StudySink) {
        if let Ok(mut st) = self.state.lock() {
            let stage = match e.iteration {
                Some((i, n)) => format!("fit {i}/{n}"),
                None => e.stage.label().to_string(),
            };
            if let Some(r) = st.prog.running.iter_mut().find(|r| r.0 == p) {
                r.2 = stage;
            }
            st.prog.elapsed = self.t0.elapsed().as_secs_f64();
            sink.progress(&st.prog);
        }
    }
}

/// Puts a cached or fresh result at its manifest coordinates (the cache is keyed by content).
fn place(mut r: CellResult, p: usize, spec: &CellSpec) -> CellResult {
    r.index = p;
    r.arch = spec.arch.clone();
    r.layer = spec.layer.clone();
    r.layer_index = spec.layer_index;
    r.checkpoint = spec.checkpoint;
    r.path = spec.path.clone();
    r
}

/// Refuses a shard the study cannot be split into.
fn check_shard(study: &Study, shard: Option<(usize, usize)>) -> Result<(), StudyError> {
    let Some((i, n)) = shard else {
        return Ok(());
    };
    if i == 0 || i > n {
        return Err(StudyError::Invalid(format!(
            "--shard {i}/{n}: need 1 ≤ I ≤ N"
        )));
    }
    if n > study.cells.len() {
        return Err(StudyError::Invalid(format!(
            "--shard {i}/{n}: {} has {} cells; use at most {} shards",
            study.manifest,
            study.cells.len(),
            study.cells.len()
        )));
    }
    Ok(())
}

/// For each last checkpoint that cells of `todo` compare with, a slot counting those cells.
fn final_slots(todo: &[usize], finals: &[usize]) -> BTreeMap<usize, Mutex<FinalSlot>> {
    let mut slots: BTreeMap<usize, Mutex<FinalSlot>> = BTreeMap::new();
    for &p in todo {
        if finals[p] != p {
            let e = slots.entry(finals[p]).or_default();
            if let Ok(s) = e.get_mut() {
                s.remaining += 1;
            }
        }
    }
    slots
}

/// Fits the study (or one shard of it) and returns its results in manifest order.
pub fn run_study(
    study: &Study,
    settings: &impl SettingsGuard,
    opts: &RunOptions,
    sink: &dyn StudySink,
    cancel: &AtomicBool,
) -> Result<StudyResults, StudyError> {
    let settings = settings.checked().map_err(StudyError::Invalid)?;
    check_shard(study, opts.shard)?;
    let t0 = Instant::now();
    let selected = shard_cells(study.cells.len(), opts.shard);
    let mut ctx = Ctx {
        study,
        settings: &settings,
        opts,
        finals: final_cells(&study.cells),
        keys: BTreeMap::new(),
        slots: BTreeMap::new(),
        shapes: Mutex::new(Shapes {
            per_arch: BTreeMap::new(),
            images: None,
        }),
        cancel,
        sink,
        cache_off: AtomicBool::new(false),
    };
    let mut prog = StudyProgress {
        total: selected.len(),
        ..Default::default()
    };
    sink.progress(&prog);

    // Cache hits first: an unchanged study is answered without loading any activations.
    let (results, mut todo) = match opts.cache {
        Some(cache) => {
            let hits = ctx.cache_hits(cache, &selected, &mut prog)?;
            prog.elapsed = t0.elapsed().as_secs_f64();
            sink.progress(&prog);
            hits
        }
        None => (BTreeMap::new(), selected),
    };

    // The rest, grouped by layer so that a layer's last-checkpoint data is freed early.
    let finals = &ctx.finals;
    todo.sort_by_key(|&p| (finals[p], std::cmp::Reverse(study.cells[p].checkpoint), p));
    ctx.slots = final_slots(&todo, &ctx.finals);
    for r in results.values() {
        ctx.check_shape(r.index, &r.networks, r.n_images)?;
    }
    let results = ctx.fit_all(&todo, prog, results, t0)?;
    if cancel.load(Ordering::Relaxed) {
        return Err(StudyError::Cancelled);
    }
    if let Some(c) = opts.cache {
        let _ = c.save_memo();
    }
    Ok(StudyResults {
        name: study.name.clone(),
        srmscope: env!("CARGO_PKG_VERSION").to_string(),
        linalg: crate::linalg::BACKEND.to_string(),
        settings: Settings::clone(&settings),
        n_cells: study.cells.len(),
        shard: opts.shard.map(|(i, n)| [i, n]),
        manifest_sha256: Some(study.digest.clone()),
        cells: results.into_values().collect(),
    })
}
