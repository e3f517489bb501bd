//! Fits a study's cells in parallel. Memory stays bounded: each worker holds one cell's raw
//! activations at a time, and the last checkpoint's held-out data (for `dev_vs_final`) is kept
//! per (arch, layer) only while cells of that layer remain. A finished cell keeps its numbers
//! and its `CellView`, nothing else.

use super::cache::Cache;
use super::measures::{rsm_trio, within_rsm_consistency};
use super::{finite, CellResult, CellView, StudyError, StudyResults, RSM_BLOCKS};
use crate::analysis::metrics::rsa_loo;
use crate::analysis::pipeline::{
    apply_model_inspect, native_test_split, run_owned_inspect, TestSpaces,
};
use crate::analysis::{AnalysisError, Settings, SettingsGuard, ValidSettings};
use crate::data::study::{CellSpec, Study};
use crate::data::LoadOptions;
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
    fn load(&self, p: usize) -> Result<(crate::data::Dataset, String), StudyError> {
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
        let spec = &self.study.cells[p];
        let what = || self.study.cell_what(p);
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
        // Keys from what was loaded: a file replaced during the run is cached under its own
        // content, never under the digest taken before.
        let final_digest = final_native.as_ref().map_or(&digest, |f| &f.digest);
        let key = self
            .opts
            .cache
            .map(|_| Cache::key(self.settings, &digest, final_digest));
        if let (Some(k), Some(before)) = (&key, self.keys.get(&p)) {
            if k != before {
                notes.push(format!(
                    "{}: its files changed while the study ran; these numbers are for the files \
                     as they were read",
                    what()
                ));
            }
        }
        let fit_key = Cache::fit_key(self.settings, &digest);
        let labels = ds.labels.clone();
        let mut extra: Option<(Option<f64>, Option<f64>, super::RsmTrio)> = None;
        let mut dev_note: Option<String> = None;
        let progress = Progress::new(report, self.cancel);
        let final_label = self.study.cells[self.finals[p]].label();
        let mut inspect = |t: &TestSpaces<'_>| {
            let consistency = within_rsm_consistency(t.native);
            // Rows are paired by image: the last checkpoint's split must hold the same images.
            let dev_final = final_native.as_ref().and_then(|f| {
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
                let rows: Option<Vec<usize>> =
                    t.test_idx.iter().map(|i| at.get(i).copied()).collect();
                match rows.filter(|r| r.len() == f.test_idx.len()) {
                    Some(rows) => {
                        let picked: Vec<Array2<f64>> = f
                            .native
                            .iter()
                            .map(|x| x.select(ndarray::Axis(0), &rows))
                            .collect();
                        let pv: Vec<ArrayView2<f64>> = picked.iter().map(|x| x.view()).collect();
                        Some(rsa_loo(&pv, &[t.shared])[0])
                    }
                    None => {
                        dev_note = Some(format!(
                            "dev_vs_final not computed: the held-out images differ from those \
                             of {final_label} (different labels split the images differently)"
                        ));
                        None
                    }
                }
            });
            let sorted = labels
                .as_ref()
                .map(|l| t.test_idx.iter().map(|&j| l[j]).collect());
            let trio = rsm_trio(t.native, t.shared, t.same_width, sorted, RSM_BLOCKS);
            extra = Some((consistency, dev_final, trio));
        };
        let err = |e| match e {
            AnalysisError::Cancelled => StudyError::Cancelled,
            e => StudyError::Cell {
                what: what(),
                source: e,
            },
        };
        // A fit cached under the same fit settings is reused: only the measures run again. The
        // cache is untrusted: a model that does not fit the cell is a miss.
        let cached = self.cache().and_then(|c| c.get_model(&fit_key));
        let mut reused = None;
        if let Some((model, secs)) = cached {
            match apply_model_inspect(&ds, self.settings, model, &progress, Some(&mut inspect)) {
                Ok(mut o) => {
                    o.metrics.fit_seconds = secs;
                    reused = Some(o);
                }
                Err(AnalysisError::Cancelled) => return Err(StudyError::Cancelled),
                Err(e) => notes.push(format!(
                    "study cache {}: the cached model {fit_key} does not fit this cell ({e}); \
                     fitted again",
                    self.opts.cache.map_or_else(String::new, Cache::shown)
                )),
            }
        }
        let out = match reused {
            Some(o) => o,
            None => {
                let o =
                    run_owned_inspect(ds, self.settings, &progress, &mut inspect).map_err(err)?;
                if let Some(c) = self.cache() {
                    if let Err(e) =
                        c.put_model(&fit_key, &o.model, self.settings, o.metrics.fit_seconds)
                    {
                        self.cache_failed(&e);
                    }
                }
                o
            }
        };
        let (consistency, dev_final, trio) =
            extra.ok_or_else(|| StudyError::Invalid(format!("{}: no held-out data", what())))?;
        notes.extend(dev_note);
        notes.extend(out.notes);
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

/// Fits the study (or one shard of it) and returns its results in manifest order.
pub fn run_study(
    study: &Study,
    settings: &impl SettingsGuard,
    opts: &RunOptions,
    sink: &dyn StudySink,
    cancel: &AtomicBool,
) -> Result<StudyResults, StudyError> {
    let settings = settings.checked().map_err(StudyError::Invalid)?;
    if let Some((i, n)) = opts.shard {
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
    }
    let t0 = Instant::now();
    let selected = shard_cells(study.cells.len(), opts.shard);
    let finals = final_cells(&study.cells);
    let mut results: BTreeMap<usize, CellResult> = BTreeMap::new();
    let mut prog = StudyProgress {
        total: selected.len(),
        ..Default::default()
    };
    sink.progress(&prog);

    // Cache hits first: an unchanged study is answered without loading any activations.
    let mut keys: BTreeMap<usize, String> = BTreeMap::new();
    let mut todo = Vec::new();
    if let Some(cache) = opts.cache {
        let mut digests: BTreeMap<usize, String> = BTreeMap::new();
        for &p in &selected {
            for q in [p, finals[p]] {
                if let std::collections::btree_map::Entry::Vacant(e) = digests.entry(q) {
                    e.insert(cache.cell_digest(study, q)?);
                }
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(StudyError::Cancelled);
            }
            let key = Cache::key(&settings, &digests[&p], &digests[&finals[p]]);
            match cache.get(&key).filter(|_| cache.has_view(&key)) {
                Some(r) => {
                    let r = place(r, p, &study.cells[p]);
                    sink.cell(&r, None, Some(&key));
                    results.insert(p, r);
                    prog.done += 1;
                    prog.cached += 1;
                }
                None => todo.push(p),
            }
            keys.insert(p, key);
        }
        let _ = cache.save_memo();
        prog.elapsed = t0.elapsed().as_secs_f64();
        sink.progress(&prog);
    } else {
        todo = selected.clone();
    }

    // The rest, grouped by layer so that a layer's last-checkpoint data is freed early.
    todo.sort_by_key(|&p| (finals[p], std::cmp::Reverse(study.cells[p].checkpoint), p));
    let mut slots: BTreeMap<usize, Mutex<FinalSlot>> = BTreeMap::new();
    for &p in &todo {
        if finals[p] != p {
            let e = slots.entry(finals[p]).or_default();
            if let Ok(s) = e.get_mut() {
                s.remaining += 1;
            }
        }
    }
    let ctx = Ctx {
        study,
        settings: &settings,
        opts,
        finals: finals.clone(),
        keys,
        slots,
        shapes: Mutex::new(Shapes {
            per_arch: BTreeMap::new(),
            images: None,
        }),
        cancel,
        sink,
        cache_off: AtomicBool::new(false),
    };
    for r in results.values() {
        ctx.check_shape(r.index, &r.networks, r.n_images)?;
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let state = Mutex::new((prog, results, None::<StudyError>));
    let fit_t0 = Instant::now();
    let fitted = AtomicUsize::new(0);
    let workers = opts.workers.clamp(1, todo.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                if failed.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                    return;
                }
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some(&p) = todo.get(j) else { return };
                let label = study.cells[p].label();
                if let Ok(mut st) = state.lock() {
                    st.0.running.push((p, label.clone(), "loading".into()));
                    st.0.elapsed = t0.elapsed().as_secs_f64();
                    sink.progress(&st.0);
                }
                let report = |e: ProgressEvent| {
                    if let Ok(mut st) = state.lock() {
                        let stage = match e.iteration {
                            Some((i, n)) => format!("fit {i}/{n}"),
                            None => e.stage.label().to_string(),
                        };
                        if let Some(r) = st.0.running.iter_mut().find(|r| r.0 == p) {
                            r.2 = stage;
                        }
                        st.0.elapsed = t0.elapsed().as_secs_f64();
                        sink.progress(&st.0);
                    }
                };
                let res = ctx.fit_cell(p, &report);
                if finals[p] != p {
                    ctx.release_final(finals[p]);
                }
                if let (Ok((r, view, Some(key))), Some(cache)) = (&res, ctx.cache()) {
                    if let Err(e) = cache.put(key, r, view) {
                        ctx.cache_failed(&e);
                    }
                }
                let Ok(mut st) = state.lock() else { return };
                st.0.running.retain(|r| r.0 != p);
                match res {
                    Ok((r, view, key)) => {
                        sink.cell(&r, Some(Arc::new(view)), key.as_deref());
                        st.1.insert(p, r);
                        st.0.done += 1;
                        let n = fitted.fetch_add(1, Ordering::Relaxed) + 1;
                        let left = todo.len().saturating_sub(n);
                        let pace = fit_t0.elapsed().as_secs_f64() / n as f64;
                        st.0.eta = Some(pace * left as f64 / workers as f64);
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        if st.2.is_none() || matches!(st.2, Some(StudyError::Cancelled)) {
                            st.2 = Some(e);
                        }
                    }
                }
                st.0.elapsed = t0.elapsed().as_secs_f64();
                sink.progress(&st.0);
            });
        }
    });
    let (_, results, err) = state
        .into_inner()
        .map_err(|_| StudyError::Invalid("a worker failed".into()))?;
    if let Some(e) = err {
        return Err(e);
    }
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
