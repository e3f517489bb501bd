//! What the benchmarks share: synthetic networks, child processes measured with their own
//! peak RSS, and float32 `.npy` files for the Python side.

use anyhow::{bail, Context, Result};
use ndarray::{Array2, ArrayView2};
use npyz::WriterBuilder;
use rand::SeedableRng;
use srmscope::linalg::gaussian;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// X_i = S Q_iᵀ + offsets + noise (samples × units), like ref_srm.py's `synth`.
pub fn synth(m: usize, v: usize, k: usize, t: usize) -> Vec<Array2<f64>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let s = Array2::from_shape_fn((t, k), |(_, j)| {
        gaussian(&mut rng) * (3.0 - 2.0 * j as f64 / k as f64)
    });
    (0..m)
        .map(|_| {
            let g = Array2::from_shape_simple_fn((v, k), || gaussian(&mut rng));
            let q = srmscope::linalg::householder_qr(g.view()).0;
            let off: Vec<f64> = (0..v).map(|_| 2.0 * gaussian(&mut rng)).collect();
            let mut x = srmscope::linalg::matmul(s.view(), q.t());
            for mut row in x.rows_mut() {
                for (xj, o) in row.iter_mut().zip(&off) {
                    *xj += o + gaussian(&mut rng);
                }
            }
            x
        })
        .collect()
}

/// Wall time and peak RSS of one child process.
pub struct Run {
    pub seconds: f64,
    pub peak_rss_mb: f64,
    pub stdout: String,
}

/// Runs `cmd` to completion and reads its own peak RSS with wait4 (not the whole process tree).
pub fn measure(mut cmd: Command) -> Result<Run> {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    let t0 = Instant::now();
    let child = cmd.spawn().context("starting the benchmark process")?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout;
    // Read stdout on a thread so a chatty child cannot block on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(out) = stdout.as_mut() {
            let _ = std::io::Read::read_to_string(out, &mut s);
        }
        s
    });
    let mut status = 0;
    // SAFETY: rusage is plain old data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain FFI call on our own child; `status` and `usage` are valid and writable.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = t0.elapsed().as_secs_f64();
    let stdout = reader.join().unwrap_or_default();
    if r != pid {
        bail!("waiting for the benchmark process failed");
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("the benchmark process failed ({stdout})");
    }
    Ok(Run {
        seconds,
        // ru_maxrss is in KiB; reported in MB (10⁶ bytes) like the data sizes beside it.
        peak_rss_mb: usage.ru_maxrss as f64 * 1024.0 / 1e6,
        stdout,
    })
}

/// A float32 `.npy` file, written through the one atomic writer.
pub fn write_f32_npy(path: &Path, x: &ArrayView2<f32>) -> Result<()> {
    srmscope::data::write_atomic(path, |file| {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(file);
        let mut w = npyz::WriteOptions::<f32>::new()
            .default_dtype()
            .shape(&[x.nrows() as u64, x.ncols() as u64])
            .writer(&mut f)
            .begin_nd()?;
        for v in x.iter() {
            w.push(v)?;
        }
        w.finish()?;
        f.flush()
    })?;
    Ok(())
}
