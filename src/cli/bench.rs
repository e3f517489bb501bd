use anyhow::{bail, Result};
use clap::Args;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use srmscope::align::init::brainiak_init;
use srmscope::align::srm::{fit_det, fit_prob, FitOptions, TraceMode};
use srmscope::analysis::{MAX_COUNT, MAX_ITERS};
use srmscope::progress::silent;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 10)]
    pub m: usize,
    #[arg(long, default_value_t = 512)]
    pub v: usize,
    #[arg(long = "t", default_value_t = 2000)]
    pub t: usize,
    #[arg(long, default_value_t = 50)]
    pub k: usize,
    #[arg(long, default_value_t = 10)]
    pub iters: usize,
    #[arg(long, default_value_t = 7)]
    pub repeat: usize,
    /// Also write the synthetic networks as DIR/net<i>.npy (samples × units) to run a reference
    /// implementation on the same data.
    #[arg(long)]
    pub write_data: Option<PathBuf>,
}

fn gaussian(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// X_i = S Q_iᵀ + offsets + noise (samples × units), like ref_srm.py's `synth`.
fn synth(m: usize, v: usize, k: usize, t: usize) -> Vec<Array2<f64>> {
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

fn stats(mut t: Vec<f64>) -> (f64, f64) {
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0])
}

/// Refuses sizes that would overflow or not fit in memory, before anything is allocated.
fn check(a: &BenchArgs) -> Result<()> {
    let range = |name: &str, v: usize, lo: usize, hi: usize| -> Result<()> {
        if !(lo..=hi).contains(&v) {
            bail!("--{name} must be between {lo} and {hi}, got {v}");
        }
        Ok(())
    };
    range("m", a.m, 2, 10_000)?;
    range("v", a.v, 1, MAX_COUNT)?;
    range("t", a.t, 1, MAX_COUNT)?;
    range("k", a.k, 1, a.v.min(a.t))?;
    range("iters", a.iters, 1, MAX_ITERS)?;
    range("repeat", a.repeat, 1, 10_000)?;
    let bytes = (a.m as u64)
        .checked_mul(a.v as u64)
        .and_then(|x| x.checked_mul(a.t as u64))
        .and_then(|x| x.checked_mul(8));
    let limit = srmscope::data::memory_limit();
    match bytes {
        Some(b) if b <= limit => Ok(()),
        _ => bail!(
            "m × v × T = {} × {} × {} float64 values do not fit in the {} this machine can spare",
            a.m,
            a.v,
            a.t,
            srmscope::data::fmt_bytes(limit)
        ),
    }
}

pub fn run(a: BenchArgs) -> Result<()> {
    check(&a)?;
    let xs = synth(a.m, a.v, a.k, a.t);
    if let Some(dir) = &a.write_data {
        std::fs::create_dir_all(dir)?;
        for (i, x) in xs.iter().enumerate() {
            srmscope::data::write_npy_atomic(&dir.join(format!("net{i}.npy")), x)?;
        }
    }
    let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
    let units = vec![a.v; a.m];
    let opts = FitOptions {
        k: a.k,
        n_iter: a.iters,
        tol: None,
    };
    println!(
        "bench: m={} v={} T={} k={} iters={} (float64, backend {}, {} threads)",
        a.m,
        a.v,
        a.t,
        a.k,
        a.iters,
        srmscope::linalg::BACKEND,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut prob = Vec::new();
    let mut last_ll = 0.0;
    for _ in 0..a.repeat.max(1) {
        let w = brainiak_init(&units, a.k, 0);
        let t0 = Instant::now();
        let fit = silent(|p| fit_prob(&views, w, &opts, TraceMode::Raw, p))?;
        prob.push(t0.elapsed().as_secs_f64());
        // The value BrainIAK logs last: the log-likelihood at the start of the last iteration.
        last_ll = fit
            .loglik
            .get(a.iters.saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN);
    }
    let mut det = Vec::new();
    let mut last_obj = 0.0;
    for _ in 0..a.repeat.max(1) {
        let w = brainiak_init(&units, a.k, 0);
        let t0 = Instant::now();
        let fit = silent(|p| fit_det(&views, w, &opts, true, p))?;
        det.push(t0.elapsed().as_secs_f64());
        last_obj = fit.objective.last().copied().unwrap_or(f64::NAN);
    }
    let (pm, pmin) = stats(prob);
    let (dm, dmin) = stats(det);
    println!("  prob fit: median {pm:.3} s, min {pmin:.3} s over {} runs (last logged log-likelihood {last_ll:.9e})", a.repeat);
    println!("  det  fit: median {dm:.3} s, min {dmin:.3} s over {} runs (final objective {last_obj:.9e})", a.repeat);
    Ok(())
}
