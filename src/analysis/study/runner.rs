//! Fits a study's cells in parallel. Memory stays bounded: each worker holds one cell's raw
//! activations at a time, and the last checkpoint's held-out data (for `dev_vs_final`) is kept
//! per (arch, layer) only while cells of that layer remain. A finished cell keeps its numbers
//! and its `CellView`, nothing else.

use super::cache::Cache;
use super::measures::{rsm_trio, within_rsm_consistency};
use super::{finite, CellResult, CellView, StudyError, StudyResults, RSM_BLOCKS};
use crate::analysis::metrics::rsa_loo;
use crate::analysis::pipeline::{native_test, run_owned_inspect};
use crate::analysis::{AnalysisError, Settings};
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
    /// `view` is `None` for a cell taken from the cache (read it with `Cache::get_view`).
    fn cell(&self, _r: &CellResult, _view: Option<Arc<CellView>>, _key: Option<&str>) {}
}

/// A sink that ignores everything.
pub struct Quiet;
impl StudySink for Quiet {}

/// Parses `I/N` (1 ≤ I ≤ N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let err = || format!("--shard {s}: expected I/N with 1 ≤ I ≤ N, e.g. 2/8");
    let (i, n) = s.split_once('/').ok_or_else(err)?;
    let i: usize = i.trim().parse().map_err(|_| err())?;
    let n: usize = n.trim().parse().map_err(|_| err())?;
    if n == 0 || i == 0 || i > n {
        return Err(err());
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

/// The last checkpoint's held-out native data of one (arch, layer), shared while needed.
#[derive(Default)]
struct FinalSlot {
    data: Option<Arc<Vec<Array2<f64>>>>,
    remaining: usize,
}

struct Shapes {
    per_arch: BTreeMap<String, (Vec<String>, String)>,
    images: Option<(usize, String)>,
}

struct Ctx<'a> {
    study: &'a Study,
    settings: &'a Settings,
    opts: &'a RunOptions<'a>,
    finals: Vec<usize>,
    slots: BTreeMap<usize, Mutex<FinalSlot>>,
    shapes: Mutex<Shapes>,
    cancel: &'a AtomicBool,
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

    fn load(&self, p: usize) -> Result<crate::data::Dataset, StudyError> {
        self.study
            .load_cell(p, &self.opts.load)
            .map_err(|e| StudyError::Load {
                what: self.study.cell_what(p),
                source: e,
            })
    }

    fn final_native(&self, f: usize) -> Result<Arc<Vec<Array2<f64>>>, StudyError> {
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
        let ds = self.load(f)?;
        self.check_shape(f, &ds.names(), ds.n_images())?;
        let d = Arc::new(
            native_test(&ds, self.settings).map_err(|e| StudyError::Cell {
                what: self.study.cell_what(f),
                source: e,
            })?,
        );
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

    fn fit_cell(
        &self,
        p: usize,
        report: &(dyn Fn(ProgressEvent) + Sync),
    ) -> Result<(CellResult, CellView), StudyError> {
        let spec = &self.study.cells[p];
        let what = || self.study.cell_what(p);
        let ds = self.load(p)?;
        let names = ds.names();
        let n_images = ds.n_images();
        self.check_shape(p, &names, n_images)?;
        let is_final = self.finals[p] == p;
        let final_native = if is_final {
            None
        } else {
            Some(self.final_native(self.finals[p])?)
        };
        let labels = ds.labels.clone();
        let mut extra: Option<(Option<f64>, Option<f64>, super::RsmTrio)> = None;
        let progress = Progress::new(report, self.cancel);
        let out = run_owned_inspect(ds, self.settings, &progress, &mut |t| {
            let consistency = within_rsm_consistency(t.native);
            let dev_final = final_native.as_ref().and_then(|f| {
                let fv: Vec<ArrayView2<f64>> = f.iter().map(|x| x.view()).collect();
                let same_rows =
                    fv.first().map(|x| x.nrows()) == t.shared.first().map(|x| x.nrows());
                same_rows.then(|| rsa_loo(&fv, &[t.shared])[0])
            });
            let sorted = labels
                .as_ref()
                .map(|l| t.test_idx.iter().map(|&j| l[j]).collect());
            let trio = rsm_trio(t.native, t.shared, t.same_width, sorted, RSM_BLOCKS);
            extra = Some((consistency, dev_final, trio));
        })
        .map_err(|e| match e {
            AnalysisError::Cancelled => StudyError::Cancelled,
            e => StudyError::Cell {
                what: what(),
                source: e,
            },
        })?;
        let (consistency, dev_final, trio) =
            extra.ok_or_else(|| StudyError::Invalid(format!("{}: no held-out data", what())))?;
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
            notes: out.notes,
            metrics: m,
        };
        Ok((
            result,
            CellView {
                trio,
                scene: out.scene,
            },
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
    settings: &Settings,
    opts: &RunOptions,
    sink: &dyn StudySink,
    cancel: &AtomicBool,
) -> Result<StudyResults, StudyError> {
    settings.validate().map_err(StudyError::Invalid)?;
    if let Some((i, n)) = opts.shard {
        if i == 0 || i > n {
            return Err(StudyError::Invalid(format!(
                "--shard {i}/{n}: need 1 ≤ I ≤ N"
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
            let key = Cache::key(settings, &digests[&p], &digests[&finals[p]]);
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
        settings,
        opts,
        finals: finals.clone(),
        slots,
        shapes: Mutex::new(Shapes {
            per_arch: BTreeMap::new(),
            images: None,
        }),
        cancel,
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
                let res = res.and_then(|(r, view)| {
                    if let (Some(cache), Some(key)) = (opts.cache, keys.get(&p)) {
                        cache.put(key, &r, &view)?;
                    }
                    Ok((r, view))
                });
                let Ok(mut st) = state.lock() else { return };
                st.0.running.retain(|r| r.0 != p);
                match res {
                    Ok((r, view)) => {
                        sink.cell(&r, Some(Arc::new(view)), keys.get(&p).map(String::as_str));
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
        settings: settings.clone(),
        n_cells: study.cells.len(),
        shard: opts.shard.map(|(i, n)| [i, n]),
        cells: results.into_values().collect(),
    })
}
