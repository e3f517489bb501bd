//! `srmscope._core`: the compiled half of the Python package. The typed Python layer
//! (`python/srmscope/`) turns keyword arguments into these calls; nothing here is meant to be
//! called by users directly.
//!
//! Every long call runs on a worker thread while the calling thread, with the GIL released,
//! polls Python's signal handlers every 50 ms: Ctrl-C (or Jupyter's interrupt) sets the
//! engine's cancel flag and raises `KeyboardInterrupt` as soon as the worker stops.

mod arrays;
mod errors;
mod fitted;
mod run;

use std::path::PathBuf;

use numpy::{IntoPyArray, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use srmscope::align::{self, Algo, AlignOptions, Center, Init, Precision};
use srmscope::analysis::similarity::{self as measures, Summary, MEASURES};

use arrays::{f64_matrix, F64Matrix};
use errors::Failure;
use fitted::{Fit, LoadedModel};

/// BrainIAK's `SRM.fit` / `DetSRM.fit`: `xs` are units × samples arrays (ragged units allowed).
/// Returns the model's arrays in BrainIAK's orientation.
#[pyfunction]
#[pyo3(signature = (xs, algo, features, n_iter, seed, center=false, precision="f64", progress=None))]
#[allow(clippy::too_many_arguments)]
fn srm_fit<'py>(
    py: Python<'py>,
    xs: Vec<Bound<'py, PyAny>>,
    algo: &str,
    features: usize,
    n_iter: usize,
    seed: u64,
    center: bool,
    precision: &str,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let algo = match algo {
        "prob" => Algo::Prob,
        "det" => Algo::Det,
        other => {
            return Err(errors::value(format!(
                "algo must be 'prob' or 'det', got {other:?}"
            )))
        }
    };
    let precision = parse_precision(precision)?;
    let mats: Vec<F64Matrix> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| f64_matrix(x, &format!("X[{i}]")))
        .collect::<PyResult<_>>()?;
    // BrainIAK's layout is units × samples; the engine takes samples × units: a transposed view.
    let views: Vec<ndarray::ArrayView2<f64>> =
        mats.iter().map(|m| m.view().reversed_axes()).collect();
    let names: Vec<String> = (0..views.len()).map(|i| format!("subject {i}")).collect();
    let opts = AlignOptions {
        algo,
        k: features,
        n_iter,
        tol: None,
        seed,
        init: Init::Brainiak,
        center: if center { Center::On } else { Center::Brainiak },
        precision,
    };
    let model = run::blocking(py, progress.as_ref(), |p| {
        align::fit(&names, &views, &opts, String::new(), p).map_err(Failure::from)
    })?;
    let out = PyDict::new(py);
    let w: Vec<Bound<'py, PyArray2<f64>>> =
        model.w.into_iter().map(|w| w.into_pyarray(py)).collect();
    out.set_item("w", w)?;
    out.set_item("s", model.s.into_pyarray(py))?;
    let mu: Vec<_> = model.mu.into_iter().map(|m| m.into_pyarray(py)).collect();
    out.set_item("mu", mu)?;
    out.set_item("rho2", model.rho2.map(|r| r.into_pyarray(py)))?;
    out.set_item("sigma_s", model.sigma_s.map(|s| s.into_pyarray(py)))?;
    out.set_item("objective", model.objective)?;
    Ok(out)
}

/// BrainIAK's `transform_subject`: W for a new subject (units × samples) against `s`.
#[pyfunction]
#[pyo3(signature = (x, s, center=false))]
fn transform_subject<'py>(
    py: Python<'py>,
    x: Bound<'py, PyAny>,
    s: Bound<'py, PyAny>,
    center: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let x = f64_matrix(&x, "X")?;
    let s = f64_matrix(&s, "s_")?.view().to_owned();
    let xv = x.view().reversed_axes();
    let w = run::blocking(py, None, |_| {
        align::srm::transform_subject(xv, &s, center).map_err(Failure::from)
    })?;
    Ok(w.into_pyarray(py))
}

fn parse_precision(p: &str) -> PyResult<Precision> {
    match p {
        "f64" | "float64" => Ok(Precision::F64),
        "f32" | "float32" => Ok(Precision::F32),
        other => Err(errors::value(format!(
            "precision must be 'f64' or 'f32', got {other:?}"
        ))),
    }
}

/// Every pairwise measure between two networks (images × units), keyed as METRICS.json `pairs`.
#[pyfunction]
#[pyo3(signature = (x, y, knn=10))]
fn similarity<'py>(
    py: Python<'py>,
    x: Bound<'py, PyAny>,
    y: Bound<'py, PyAny>,
    knn: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let (x, y) = (f64_matrix(&x, "x")?, f64_matrix(&y, "y")?);
    let (xv, yv) = (x.view(), y.view());
    let vals = run::blocking(py, None, |_| {
        let (a, b) = (Summary::new(xv, knn)?, Summary::new(yv, knn)?);
        Ok(measures::all_of(&a, &b)?)
    })?;
    let out = PyDict::new(py);
    for (info, v) in MEASURES.iter().zip(vals) {
        out.set_item(info.key, v)?;
    }
    Ok(out)
}

/// Every measure for every pair of networks: key → m × m matrix.
#[pyfunction]
#[pyo3(signature = (networks, knn=10, progress=None))]
fn pairwise<'py>(
    py: Python<'py>,
    networks: Vec<Bound<'py, PyAny>>,
    knn: usize,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mats: Vec<F64Matrix> = networks
        .iter()
        .enumerate()
        .map(|(i, x)| f64_matrix(x, &format!("networks[{i}]")))
        .collect::<PyResult<_>>()?;
    let views: Vec<ndarray::ArrayView2<f64>> = mats.iter().map(|m| m.view()).collect();
    let mats = run::blocking(py, progress.as_ref(), |_| {
        Ok(measures::pair_matrices(&views, knn)?)
    })?;
    let out = PyDict::new(py);
    for (key, rows) in mats {
        let m = rows.len();
        let flat: Vec<f64> = rows.into_iter().flatten().collect();
        let arr = ndarray::Array2::from_shape_vec((m, m), flat)
            .map_err(|e| errors::value(e.to_string()))?;
        out.set_item(key, arr.into_pyarray(py))?;
    }
    Ok(out)
}

/// Fits a study and returns RESULTS.json as a string.
#[pyfunction]
#[pyo3(signature = (path, settings_json, cache=None, shard=None, jobs=None, progress=None))]
fn study(
    py: Python<'_>,
    path: String,
    settings_json: &str,
    cache: Option<PathBuf>,
    shard: Option<(usize, usize)>,
    jobs: Option<usize>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    fitted::run_study(
        py,
        &path,
        settings_json,
        cache,
        shard,
        jobs,
        progress.as_ref(),
    )
}

/// Opens the native viewer in this process and returns when its window closes. The Python
/// layer calls it in a child process (`python -m srmscope._viewer`), never in a kernel.
#[pyfunction]
#[pyo3(signature = (inputs, settings_json=None, compare=Vec::new(), tail=None, images=None, class_names=None))]
fn run_viewer(
    py: Python<'_>,
    inputs: Vec<String>,
    settings_json: Option<&str>,
    compare: Vec<String>,
    tail: Option<usize>,
    images: Option<PathBuf>,
    class_names: Option<PathBuf>,
) -> PyResult<()> {
    let settings = settings_json.map(fitted::parse_settings).transpose()?;
    let settings = settings.map(srmscope::analysis::ValidSettings::into_inner);
    let opts = srmscope::app::ViewerOptions {
        inputs,
        compare,
        bench_frames: None,
        settings,
        tail,
        images,
        class_names,
    };
    py.detach(|| srmscope::app::run_viewer(opts))
        .map_err(|e| errors::runtime(format!("{e:#}")))
}

/// Whether the engine reads `x` in place (float64, any order) rather than a converted copy;
/// the tests hold the docs' "no copy" promise to this.
#[pyfunction]
fn reads_in_place(x: Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(f64_matrix(&x, "x")?.borrowed())
}

/// The settings of `--preset paper` as JSON (the Python layer's `preset="paper"`).
#[pyfunction]
fn paper_settings() -> PyResult<String> {
    serde_json::to_string(&srmscope::analysis::Settings::paper())
        .map_err(|e| errors::runtime(e.to_string()))
}

/// The embedded demo sets' names.
#[pyfunction]
fn demo_names() -> Vec<String> {
    srmscope::data::demo::names()
        .into_iter()
        .map(String::from)
        .collect()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("linalg_backend", srmscope::linalg::BACKEND)?;
    m.add_function(wrap_pyfunction!(srm_fit, m)?)?;
    m.add_function(wrap_pyfunction!(transform_subject, m)?)?;
    m.add_function(wrap_pyfunction!(similarity, m)?)?;
    m.add_function(wrap_pyfunction!(pairwise, m)?)?;
    m.add_function(wrap_pyfunction!(study, m)?)?;
    m.add_function(wrap_pyfunction!(run_viewer, m)?)?;
    m.add_function(wrap_pyfunction!(demo_names, m)?)?;
    m.add_function(wrap_pyfunction!(reads_in_place, m)?)?;
    m.add_function(wrap_pyfunction!(paper_settings, m)?)?;
    m.add_function(wrap_pyfunction!(fitted::fit, m)?)?;
    m.add_function(wrap_pyfunction!(fitted::load_model, m)?)?;
    m.add_function(wrap_pyfunction!(fitted::load_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(fitted::default_cache, m)?)?;
    m.add_class::<Fit>()?;
    m.add_class::<LoadedModel>()?;
    Ok(())
}
