//! `fit()` and the `Fit` it returns, saved models, datasets from files, and studies.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::Array3;
use numpy::{
    IntoPyArray, PyArray2, PyArray3, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray4,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use srmscope::align::Model;
use srmscope::analysis::model_file::{self, ModelFile};
use srmscope::analysis::pipeline::{self, PipelineOutput};
use srmscope::analysis::study::cache::{self, Cache};
use srmscope::analysis::study::runner::{self, RunOptions, StudyProgress, StudySink};
use srmscope::analysis::{Settings, ValidSettings};
use srmscope::data::{Activations, Dataset, ImageSet, Network};
use srmscope::progress::{ProgressEvent, Stage};

use crate::errors::{self, Failure};
use crate::run;

/// Settings from the Python layer's JSON (the CLI's options, already mapped), checked.
pub fn parse_settings(json: &str) -> PyResult<ValidSettings> {
    let s: Settings =
        serde_json::from_str(json).map_err(|e| errors::value(format!("settings: {e}")))?;
    s.check().map_err(errors::value)
}

/// A network's activations as the engine stores them: float32 stays float32.
fn activations(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Activations, String)> {
    if let Ok(a) = obj.extract::<PyReadonlyArray2<'_, f32>>() {
        let a = a.as_array();
        if let Some(((i, j), _)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(errors::value(format!(
                "{what}: contains NaN/Inf values; the first is at image {i}, unit {j}"
            )));
        }
        return Ok((Activations::F32(a.to_owned()), "<f4".into()));
    }
    let m = crate::arrays::f64_matrix(obj, what)?;
    Ok((Activations::F64(m.view().to_owned()), "<f8".into()))
}

/// RGBA8 images from an `(n, H, W, C)` uint8 array, C in {1, 3, 4}.
fn image_set(a: PyReadonlyArray4<'_, u8>) -> PyResult<ImageSet> {
    let a = a.as_array();
    let (n, h, w, c) = a.dim();
    if !matches!(c, 1 | 3 | 4) {
        return Err(errors::value(format!(
            "images: expected 1, 3 or 4 channels, got {c}"
        )));
    }
    let mut rgba = Vec::with_capacity(n * h * w * 4);
    for px in a.as_standard_layout().as_slice().unwrap_or(&[]).chunks(c) {
        match c {
            1 => rgba.extend_from_slice(&[px[0], px[0], px[0], 255]),
            3 => rgba.extend_from_slice(&[px[0], px[1], px[2], 255]),
            _ => rgba.extend_from_slice(px),
        }
    }
    if rgba.len() != n * h * w * 4 {
        return Err(errors::value("images: could not read the pixels"));
    }
    Ok(ImageSet {
        n,
        width: w,
        height: h,
        rgba,
        source: "images".into(),
    })
}

/// A dataset from `(name, array)` pairs (images × units) and the optional side arrays.
fn dataset(
    name: &str,
    networks: &[(String, Bound<'_, PyAny>)],
    labels: Option<PyReadonlyArray1<'_, i64>>,
    images: Option<PyReadonlyArray4<'_, u8>>,
    class_names: Option<Vec<String>>,
) -> PyResult<Dataset> {
    let mut nets = Vec::with_capacity(networks.len());
    for (net_name, arr) in networks {
        let what = format!("networks[{net_name:?}]");
        let (data, dtype) = activations(arr, &what)?;
        let shape = vec![data.nrows(), data.ncols()];
        nets.push(Network {
            name: net_name.clone(),
            data,
            source: what,
            dtype,
            original_shape: shape,
            units: None,
        });
    }
    let images = images.map(image_set).transpose()?;
    let n = nets.first().map_or(0, |n: &Network| n.data.nrows());
    if let Some(set) = &images {
        set.check_count(n)
            .map_err(|e| errors::value(e.to_string()))?;
    }
    Ok(Dataset {
        name: name.to_string(),
        networks: nets,
        labels: labels.map(|l| l.as_array().to_vec()),
        images: images.map(Arc::new),
        class_names,
        notes: Vec::new(),
    })
}

/// A finished fit: the model, METRICS.json, the scene and what is needed to export it.
#[pyclass(module = "srmscope._core", frozen)]
pub struct Fit {
    out: PipelineOutput,
    settings: Settings,
    name: String,
    images: Option<Arc<ImageSet>>,
    class_names: Option<Vec<String>>,
    labels: Option<Vec<i64>>,
}

/// Runs the whole pipeline (the CLI's `fit`) on arrays.
// The Python layer passes every keyword through; a struct would only move the list.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (name, networks, settings_json, labels=None, images=None, class_names=None, progress=None))]
pub fn fit(
    py: Python<'_>,
    name: &str,
    networks: Vec<(String, Bound<'_, PyAny>)>,
    settings_json: &str,
    labels: Option<PyReadonlyArray1<'_, i64>>,
    images: Option<PyReadonlyArray4<'_, u8>>,
    class_names: Option<Vec<String>>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Fit> {
    let settings = parse_settings(settings_json)?;
    let ds = dataset(name, &networks, labels, images, class_names)?;
    drop(networks);
    let (images, class_names, labels) =
        (ds.images.clone(), ds.class_names.clone(), ds.labels.clone());
    let s = settings.clone();
    let out = run::blocking(py, progress.as_ref(), move |p| {
        pipeline::run_owned(ds, &s, p).map_err(Failure::from)
    })?;
    Ok(Fit {
        out,
        settings: settings.into_inner(),
        name: name.to_string(),
        images,
        class_names,
        labels,
    })
}

/// The model's arrays as a dict (copies: the `Fit` keeps its own).
fn model_dict<'py>(py: Python<'py>, m: &Model) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("networks", m.networks.clone())?;
    let w: Vec<_> = m.w.iter().map(|w| w.clone().into_pyarray(py)).collect();
    d.set_item("w", w)?;
    let mu: Vec<_> = m.mu.iter().map(|x| x.clone().into_pyarray(py)).collect();
    d.set_item("mu", mu)?;
    d.set_item("s", m.s.clone().into_pyarray(py))?;
    d.set_item("rho2", m.rho2.clone().map(|r| r.into_pyarray(py)))?;
    d.set_item("sigma_s", m.sigma_s.clone().map(|s| s.into_pyarray(py)))?;
    d.set_item("objective", m.objective.clone())?;
    d.set_item("center_transform", m.center_transform)?;
    let kept: Vec<Option<Vec<usize>>> = m.units_kept.clone();
    d.set_item("units_kept", kept)?;
    Ok(d)
}

/// Networks given as `(name, images × units)` mapped into the model's shared space.
fn transform_with(
    py: Python<'_>,
    mf: &ModelFile,
    networks: Vec<(String, Bound<'_, PyAny>)>,
) -> PyResult<Vec<Py<PyArray2<f64>>>> {
    let ds = dataset("input", &networks, None, None, None)?;
    let shared = run::blocking(py, None, |_| {
        model_file::transform_dataset(mf, &ds)
            .map(|(xs, _)| xs)
            .map_err(Failure::from)
    })?;
    Ok(shared
        .into_iter()
        .map(|x| x.into_pyarray(py).unbind())
        .collect())
}

fn check_out(path: &Path, ext: &str) -> PyResult<()> {
    let ok = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if !ok {
        return Err(errors::value(format!(
            "{}: the output is written as .{ext}; give a file name ending in .{ext}",
            path.display()
        )));
    }
    srmscope::data::check_output::<PathBuf>(path, &[])
        .map_err(|e| PyErr::from(Failure::from(e)))?;
    Ok(())
}

#[pymethods]
impl Fit {
    /// METRICS.json as a string.
    fn metrics_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.out.metrics).map_err(|e| errors::runtime(e.to_string()))
    }

    /// The settings as JSON (the model file's `settings`).
    fn settings_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.settings).map_err(|e| errors::runtime(e.to_string()))
    }

    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        model_dict(py, &self.out.model)
    }

    #[getter]
    fn name(&self) -> String {
        self.name.clone()
    }

    #[getter]
    fn k(&self) -> usize {
        self.out.k
    }

    /// Original indices of the training images and of the held-out images in frame order.
    #[getter]
    fn split(&self) -> (Vec<usize>, Vec<usize>) {
        (self.out.train_idx.clone(), self.out.test_idx.clone())
    }

    #[getter]
    fn notes(&self) -> Vec<String> {
        self.out.notes.clone()
    }

    /// networks × frames × 3 float32: what the viewer draws, after (`shared`) or before
    /// (`native`) alignment.
    fn trajectories<'py>(
        &self,
        py: Python<'py>,
        space: &str,
    ) -> PyResult<Bound<'py, PyArray3<f32>>> {
        let after = match space {
            "shared" | "after" => true,
            "native" | "before" => false,
            other => {
                return Err(errors::value(format!(
                    "space must be 'shared' or 'native', got {other:?}"
                )))
            }
        };
        let scene = &self.out.scene;
        let (m, f) = (scene.n_networks(), scene.n_frames());
        let mut a = Array3::<f32>::zeros((m, f, 3));
        for (i, t) in scene.trajectories.iter().enumerate() {
            let pts = if after { &t.after } else { &t.before };
            for (j, p) in pts.iter().enumerate().take(f) {
                for c in 0..3 {
                    a[[i, j, c]] = p[c];
                }
            }
        }
        Ok(a.into_pyarray(py))
    }

    /// Frame → original image index and class label of the trajectories.
    fn frames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("image_index", self.out.scene.image_index.clone())?;
        d.set_item("labels", self.out.scene.labels.clone())?;
        d.set_item(
            "disagreement_before",
            self.out.scene.disagreement_before.clone(),
        )?;
        d.set_item(
            "disagreement_after",
            self.out.scene.disagreement_after.clone(),
        )?;
        Ok(d)
    }

    fn transform(
        &self,
        py: Python<'_>,
        networks: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<Vec<Py<PyArray2<f64>>>> {
        let mf = ModelFile {
            model: self.out.model.clone(),
            settings: self.settings.clone(),
            dataset: Some(self.name.clone()),
            notes: Vec::new(),
        };
        transform_with(py, &mf, networks)
    }

    /// Writes MODEL.npz (the CLI's and the viewer's format), atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        check_out(&path, "npz")?;
        let (model, settings) = (&self.out.model, &self.settings);
        run::blocking(py, None, |_| {
            model_file::save(&path, model, settings).map_err(Failure::from)
        })
    }

    /// An animated GIF or PNG; `options_json` is `render::ExportOptions` as JSON.
    #[pyo3(signature = (path, options_json, progress=None))]
    fn to_gif(
        &self,
        py: Python<'_>,
        path: PathBuf,
        options_json: &str,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        use srmscope::render::export::{export, ExportOptions};
        let mut opts: ExportOptions = serde_json::from_str(options_json)
            .map_err(|e| errors::value(format!("export options: {e}")))?;
        srmscope::data::check_output::<PathBuf>(&path, &[])
            .map_err(|e| PyErr::from(Failure::from(e)))?;
        if opts.show_image {
            opts.images = srmscope::render::inset::FrameImages::new(
                self.images.clone(),
                &self.out.test_idx,
                self.settings.smooth,
                self.out.scene.n_frames(),
                self.labels.as_deref(),
                self.class_names.as_deref(),
            )
            .map(Arc::new);
        }
        let scene = &self.out.scene;
        run::blocking(py, progress.as_ref(), |p| {
            export(scene, &opts, &path, p)
                .map(|s| s.bytes)
                .map_err(|e| match e {
                    srmscope::render::RenderError::Cancelled => Failure::Cancelled,
                    srmscope::render::RenderError::Io { .. } => Failure::Os(e.to_string()),
                    other => Failure::Value(other.to_string()),
                })
        })
    }

    /// The interactive page as a string; `options_json` is `render::html::HtmlOptions`.
    fn html(&self, options_json: &str) -> PyResult<String> {
        let opts: srmscope::render::html::HtmlOptions = serde_json::from_str(options_json)
            .map_err(|e| errors::value(format!("html options: {e}")))?;
        Ok(srmscope::render::html::figure_page(&self.figure(), &opts))
    }

    /// Writes the interactive page atomically; returns its size in bytes.
    fn to_html(&self, path: PathBuf, options_json: &str) -> PyResult<u64> {
        check_out(&path, "html")?;
        let page = self.html(options_json)?;
        srmscope::render::html::write(&path, &page).map_err(|e| PyErr::from(Failure::from(e)))
    }
}

impl Fit {
    fn figure(&self) -> srmscope::render::html::Figure<'_> {
        srmscope::render::html::Figure {
            scene: &self.out.scene,
            metrics: Some(&self.out.metrics),
            test_idx: &self.out.test_idx,
            smooth: self.settings.smooth,
            images: self.images.as_deref(),
            class_names: self.class_names.as_deref(),
            algo: self.settings.algo.label().to_string(),
            k: self.out.k,
            n_train: self.out.train_idx.len(),
            n_test: self.out.test_idx.len(),
        }
    }
}

/// A MODEL.npz read back.
#[pyclass(module = "srmscope._core", frozen)]
pub struct LoadedModel {
    file: ModelFile,
}

#[pyfunction]
pub fn load_model(py: Python<'_>, path: PathBuf) -> PyResult<LoadedModel> {
    let file = run::blocking(py, None, |_| model_file::load(&path).map_err(Failure::from))?;
    Ok(LoadedModel { file })
}

#[pymethods]
impl LoadedModel {
    fn model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        model_dict(py, &self.file.model)
    }

    fn settings_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.file.settings).map_err(|e| errors::runtime(e.to_string()))
    }

    #[getter]
    fn dataset(&self) -> Option<String> {
        self.file.dataset.clone()
    }

    #[getter]
    fn notes(&self) -> Vec<String> {
        self.file.notes.clone()
    }

    fn transform(
        &self,
        py: Python<'_>,
        networks: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<Vec<Py<PyArray2<f64>>>> {
        transform_with(py, &self.file, networks)
    }
}

/// Files, folders or `demo:<name>` read as the CLI reads them: names, arrays (float32 stay
/// float32), labels, images (n × H × W × 4 uint8) and class names.
#[pyfunction]
#[pyo3(signature = (inputs, labels=None))]
pub fn load_dataset<'py>(
    py: Python<'py>,
    inputs: Vec<String>,
    labels: Option<PathBuf>,
) -> PyResult<Bound<'py, PyDict>> {
    let ds = run::blocking(py, None, |_| {
        let mut ds = srmscope::data::load(&inputs, labels.as_deref())?;
        srmscope::data::attach(&mut ds, None, None);
        Ok(ds)
    })?;
    let d = PyDict::new(py);
    d.set_item("name", ds.name.clone())?;
    let nets = pyo3::types::PyList::empty(py);
    for n in ds.networks {
        let arr: Bound<'py, PyAny> = match n.data {
            Activations::F32(a) => a.into_pyarray(py).into_any(),
            Activations::F64(a) => a.into_pyarray(py).into_any(),
        };
        nets.append((n.name, arr))?;
    }
    d.set_item("networks", nets)?;
    d.set_item("labels", ds.labels.map(|l| l.into_pyarray(py)))?;
    let images = ds.images.and_then(|set| {
        ndarray::Array4::from_shape_vec((set.n, set.height, set.width, 4), set.rgba.clone()).ok()
    });
    d.set_item("images", images.map(|a| a.into_pyarray(py)))?;
    d.set_item("class_names", ds.class_names)?;
    d.set_item("notes", ds.notes)?;
    Ok(d)
}

/// Study progress as pipeline events (fraction of cells done), for the Python progress bar.
struct Sink<'a> {
    report: &'a (dyn Fn(ProgressEvent) + Sync),
}

impl StudySink for Sink<'_> {
    fn progress(&self, p: &StudyProgress) {
        (self.report)(ProgressEvent {
            stage: Stage::Fit,
            fraction: p.done as f32 / p.total.max(1) as f32,
            iteration: Some((p.done, p.total)),
            objective: None,
        });
    }
}

#[allow(clippy::too_many_arguments)]
pub fn run_study(
    py: Python<'_>,
    path: &str,
    settings_json: &str,
    cache_dir: Option<PathBuf>,
    shard: Option<(usize, usize)>,
    jobs: Option<usize>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let settings = parse_settings(settings_json)?;
    if jobs == Some(0) {
        return Err(errors::value("jobs must be at least 1"));
    }
    if let Some((i, n)) = shard {
        if i == 0 || i > n {
            return Err(errors::value(format!("shard {i}/{n}: need 1 ≤ I ≤ N")));
        }
    }
    let study =
        srmscope::data::study::Study::open(path).map_err(|e| PyErr::from(Failure::from(e)))?;
    let cache = match cache_dir {
        Some(d) => Some(
            Cache::open(&d)
                .map_err(|e| PyErr::from(Failure::Os(format!("cache {}: {e}", d.display()))))?,
        ),
        None => None,
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let opts = RunOptions {
        shard,
        cache: cache.as_ref(),
        workers: jobs.unwrap_or(cores.min(4)),
        load: srmscope::data::LoadOptions::default(),
    };
    let results = run::blocking(py, progress, |p| {
        let sink = Sink { report: p.report };
        runner::run_study(&study, &settings, &opts, &sink, p.cancel).map_err(Failure::from)
    })?;
    serde_json::to_string(&results).map_err(|e| errors::runtime(e.to_string()))
}

/// The default study cache folder (`~/.cache/srmscope/studies`), if there is one.
#[pyfunction]
pub fn default_cache() -> Option<PathBuf> {
    cache::default_dir()
}
