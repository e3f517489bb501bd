//! The BLAS floor beside `srmscope bench`: numpy/OpenBLAS doing only the fit's own products
//! (`tools/blas_floor.py`), in the same run, so the ratio is measured on one machine.

use std::process::Command;

const FLOOR_SCRIPT: &str = include_str!("../../tools/blas_floor.py");

/// Medians of the floor in float64 and float32, with the numpy that ran them.
struct Floor {
    f64_median: f64,
    f32_median: f64,
    numpy: String,
}

fn run_floor(python: &str, dims: [usize; 6], threads: usize) -> Result<Floor, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
    let script = dir.path().join("blas_floor.py");
    std::fs::write(&script, FLOOR_SCRIPT).map_err(|e| format!("writing the script: {e}"))?;
    let out = Command::new(python)
        .arg(&script)
        .args(dims.iter().map(|d| d.to_string()))
        .arg(threads.to_string())
        .env("OPENBLAS_NUM_THREADS", threads.to_string())
        .env("OMP_NUM_THREADS", threads.to_string())
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim().to_string();
        return Err(format!(
            "{python} failed: {last} (pip install numpy threadpoolctl)"
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| "the floor script printed no result".to_string())?;
    let num = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_f64())
            .ok_or(format!("no {k} in its output"))
    };
    Ok(Floor {
        f64_median: num("f64_median")?,
        f32_median: num("f32_median")?,
        numpy: v
            .get("numpy")
            .and_then(|x| x.as_str())
            .unwrap_or("?")
            .to_string(),
    })
}

/// Prints the floor and srmscope's ratios to it, or one line saying why there is none.
#[allow(clippy::too_many_arguments)]
pub fn report(
    python: &str,
    m: usize,
    v: usize,
    t: usize,
    k: usize,
    iters: usize,
    repeat: usize,
    fit_f64: f64,
    fit_f32: f64,
) {
    let threads = rayon::current_num_threads();
    match run_floor(python, [m, v, t, k, iters, repeat.max(1)], threads) {
        Ok(f) => {
            println!(
                "  BLAS floor (numpy {} / its BLAS, {threads} threads, W_iᵀX_i and X_iSᵀ only): float64 {:.3} s, float32 {:.3} s",
                f.numpy, f.f64_median, f.f32_median
            );
            println!(
                "  floor ratio: prob fit / floor = {:.2} (float64), {:.2} (float32)",
                fit_f64 / f.f64_median,
                fit_f32 / f.f32_median
            );
        }
        Err(e) => println!("  BLAS floor not measured: {e}"),
    }
}
