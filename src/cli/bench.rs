use super::bench_common::synth;
use anyhow::{bail, Result};
use clap::Args;
use ndarray::Array2;
use srmscope::align::init::brainiak_init;
use srmscope::align::srm::{fit_det, fit_prob, FitOptions, TraceMode};
use srmscope::align::Precision;
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
    /// The paper's workloads instead (k = all units, 8000 images), against BrainIAK if installed.
    #[arg(long)]
    pub paper: bool,
    /// The Python that has BrainIAK (with --paper) or numpy (the BLAS floor of the default run).
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Only workload A (with --paper).
    #[arg(long)]
    pub skip_b: bool,
    /// Keep the generated data and outputs in DIR (with --paper or --study).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Time the metrics instead of the fit: every pairwise measure native and shared, the
    /// headline ISC/RSA/VE and their bootstrap, chance and leave-one-network-out (--v units,
    /// --t held-out images; try --v 1000).
    #[arg(long)]
    pub similarity: bool,
    /// With --similarity: time the same measures in numpy, scipy (netrep's Procrustes) and
    /// rsatoolbox 0.3.2 on the same data (--python), and print srmscope/peer per measure.
    #[arg(long)]
    pub against_python: bool,
    /// The synthetic study instead (72 cells, k = all units): from scratch and cached,
    /// wall time and peak RSS of each run (--keep DIR keeps the data for the next run).
    #[arg(long)]
    pub study: bool,
    /// Bootstrap resamples for --similarity and --study.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
}

fn stats(mut t: Vec<f64>) -> (f64, f64) {
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0])
}

/// The metrics stage of `pipeline::finish` on synthetic held-out data: "native" is the data,
/// "shared" its image of a random rotation per network (what a square SRM produces).
fn similarity(a: &BenchArgs, xs: &[Array2<f64>]) -> Result<()> {
    use srmscope::analysis::{metrics, similarity, uncertainty};
    let q = srmscope::linalg::householder_qr(synth(1, a.v, a.v, a.v.max(2))[0].view()).0;
    let ys: Vec<Array2<f64>> = xs
        .iter()
        .map(|x| srmscope::linalg::matmul(x.view(), q.view()))
        .collect();
    let centre = |x: &Array2<f64>| {
        let m = x
            .mean_axis(ndarray::Axis(0))
            .unwrap_or_else(|| ndarray::Array1::zeros(x.ncols()));
        x - &m
    };
    let nc: Vec<Array2<f64>> = xs.iter().map(centre).collect();
    let nv: Vec<_> = nc.iter().map(|x| x.view()).collect();
    let yv: Vec<_> = ys.iter().map(|x| x.view()).collect();
    let raw: Vec<_> = xs.iter().map(|x| x.view()).collect();
    let raw_means: Vec<ndarray::Array1<f64>> = xs
        .iter()
        .map(|x| {
            x.mean_axis(ndarray::Axis(0))
                .unwrap_or_else(|| ndarray::Array1::zeros(x.ncols()))
        })
        .collect();
    let raw_mu: Vec<Option<&ndarray::Array1<f64>>> = raw_means.iter().map(Some).collect();
    println!(
        "bench --similarity: m={} units={} held-out images={} bootstrap={} knn=10 (float64, {} threads)",
        a.m,
        a.v,
        a.t,
        a.bootstrap,
        rayon::current_num_threads()
    );
    let mut totals = Vec::new();
    for rep in 0..a.repeat.max(1) {
        let t0 = Instant::now();
        let isc = metrics::isc_loo(&nv) + metrics::isc_loo(&yv);
        let within = metrics::mean_within_rsm(&nv);
        let inter_n = metrics::inter_rsm_loo(&nv);
        let inter_s = metrics::inter_rsm_loo(&yv);
        let rsa =
            metrics::lower_tri_corr(&inter_n, &within) + metrics::lower_tri_corr(&inter_s, &within);
        let t_point = t0.elapsed().as_secs_f64();
        // Chance and leave-one-network-out with one resample, then the bootstrap pieces alone.
        let t1 = Instant::now();
        let (mut is, mut rs) = (
            metrics::NativeShared::default(),
            metrics::NativeShared::default(),
        );
        uncertainty::headline(
            &uncertainty::Headline {
                native: Some(&nv),
                native_all: &nv,
                shared: &yv,
                test: &raw,
                test_mu: &raw_mu,
                within: &within,
                inter_native: Some(&inter_n),
                inter_shared: &inter_s,
                resamples: 1,
                seed: 0,
            },
            &mut is,
            &mut rs,
        );
        let t_lono = t1.elapsed().as_secs_f64();
        let tb = Instant::now();
        let counts = uncertainty::bootstrap_counts(a.t, a.bootstrap, 0);
        let bi = uncertainty::isc_loo_weighted(&nv, counts.view()).len()
            + uncertainty::isc_loo_weighted(&yv, counts.view()).len();
        let t_boot_isc = tb.elapsed().as_secs_f64();
        let tb = Instant::now();
        let br = uncertainty::lower_tri_corr_weighted(&inter_n, &within, counts.view()).len()
            + uncertainty::lower_tri_corr_weighted(&inter_s, &within, counts.view()).len();
        let t_boot_rsa = tb.elapsed().as_secs_f64();
        let tb = Instant::now();
        let ve = uncertainty::variance_explained_weighted(&raw, &raw_mu, &yv, counts.view());
        let t_boot_ve = tb.elapsed().as_secs_f64();
        drop((within, inter_n, inter_s, counts));
        let t_unc = t1.elapsed().as_secs_f64();
        println!(
            "    chance + leave-one-network-out {t_lono:.2} s; bootstrap ISC {t_boot_isc:.2} s, RSA {t_boot_rsa:.2} s, VE {t_boot_ve:.2} s ({} resamples)",
            (bi + br) / 4
        );
        let ve = Some(ve);
        let t2 = Instant::now();
        let pn = similarity::pair_matrices(&nv, 10)?;
        let t_native = t2.elapsed().as_secs_f64();
        // Square W: the pipeline copies the native Procrustes distances (see pipeline.rs).
        let t3 = Instant::now();
        let ps = similarity::pair_matrices_with(&yv, 10, false)?;
        let t_shared = t3.elapsed().as_secs_f64();
        let total = t0.elapsed().as_secs_f64();
        totals.push(total);
        println!(
            "  run {rep}: total {total:.2} s = headline point values {t_point:.2} s + intervals/chance/leave-one-out {t_unc:.2} s + pairs native {t_native:.2} s + pairs shared (square W) {t_shared:.2} s  (isc+rsa {:.3}, cka[0][1] {:.4}/{:.4}, ve intervals {})",
            isc + rsa,
            pn["cka_linear"][0][1],
            ps["cka_linear"][0][1],
            ve.map_or(0, |v| v.first().map_or(0, |r| r.len()))
        );
    }
    let (med, min) = stats(totals);
    println!(
        "  metrics stage: median {med:.2} s, min {min:.2} s over {} runs",
        a.repeat.max(1)
    );
    Ok(())
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
    if a.paper {
        return super::bench_paper::run(a.repeat.min(3), &a.python, a.skip_b, a.keep);
    }
    if a.study {
        return super::bench_study::run(a.keep, a.bootstrap);
    }
    check(&a)?;
    let xs = synth(a.m, a.v, a.k, a.t);
    if a.similarity {
        if a.against_python {
            return super::bench_peers::run(
                &super::bench_peers::PeerArgs {
                    python: &a.python,
                    m: a.m,
                    v: a.v,
                    t: a.t,
                    repeat: a.repeat,
                },
                &xs,
            );
        }
        return similarity(&a, &xs);
    }
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
        route: Default::default(),
        precision: Default::default(),
    };
    println!(
        "bench: m={} v={} T={} k={} iters={} (float64, backend {}, {} threads, SIMD {})",
        a.m,
        a.v,
        a.t,
        a.k,
        a.iters,
        srmscope::linalg::BACKEND,
        rayon::current_num_threads(),
        srmscope::linalg::simd_level()
    );
    let prob_fits = |precision: Precision| -> Result<(Vec<f64>, f64)> {
        let opts = FitOptions {
            precision,
            ..opts.clone()
        };
        let mut times = Vec::new();
        let mut last_ll = 0.0;
        for _ in 0..a.repeat.max(1) {
            let w = brainiak_init(&units, a.k, 0);
            let t0 = Instant::now();
            let fit = silent(|p| fit_prob(&views, w, &opts, TraceMode::Raw, p))?;
            times.push(t0.elapsed().as_secs_f64());
            // The value BrainIAK logs last: the log-likelihood at the start of the last iteration.
            last_ll = fit
                .loglik
                .get(a.iters.saturating_sub(1))
                .copied()
                .unwrap_or(f64::NAN);
        }
        Ok((times, last_ll))
    };
    let (prob, last_ll) = prob_fits(Precision::F64)?;
    let (prob32, last_ll32) = prob_fits(Precision::F32)?;
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
    let (pm32, pmin32) = stats(prob32);
    let (dm, dmin) = stats(det);
    println!("  prob fit: median {pm:.3} s, min {pmin:.3} s over {} runs (last logged log-likelihood {last_ll:.9e})", a.repeat);
    println!(
        "  prob fit --precision f32: median {pm32:.3} s, min {pmin32:.3} s; f32/f64 = {:.2} (log-likelihood {last_ll32:.9e}, relative change {:.1e})",
        pm32 / pm,
        ((last_ll32 - last_ll) / last_ll).abs()
    );
    println!("  det  fit: median {dm:.3} s, min {dmin:.3} s over {} runs (final objective {last_obj:.9e})", a.repeat);
    super::bench_floor::report(&a.python, a.m, a.v, a.t, a.k, a.iters, a.repeat, pm, pm32);
    Ok(())
}
