//! The direct route: products with every network's data in every iteration (O(VTk) each),
//! for tall data (many images per unit) and for `--precision f32`.

use super::em::{
    add_perturbation, centre_cross, column_means, converged, cross, frob_dot, log_likelihood,
    posterior, prob_m_step, project_centered, projected_sum, subtract_mean_projection, DetFit,
    FitOptions, ProbFit, TraceMode,
};
use super::error::{AlignError, Precision};
use crate::linalg::{
    centred_sum_sq as sum_sq, map_networks, matmul, matmul_f32_serial_f, procrustes,
};
use crate::progress::Progress;
use ndarray::{Array1, Array2, ArrayView2};

/// Probabilistic SRM on data `validate` has checked (`t` images).
pub(super) fn fit_prob(
    xs: &[ArrayView2<f64>],
    t: usize,
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    trace: TraceMode,
    progress: &Progress,
) -> Result<ProbFit, AlignError> {
    let k = opts.k;
    let m = xs.len();
    let tf = t as f64;
    let v: Vec<f64> = xs.iter().map(|x| x.ncols() as f64).collect();
    // One task per network, so each network's second pass finds its data in cache.
    let (mu, sq): (Vec<Array1<f64>>, Vec<f64>) = map_networks(m, |i| {
        let mu = column_means(&xs[i]);
        let sq = sum_sq(&xs[i], (trace == TraceMode::Centered).then_some(&mu));
        (mu, sq)
    })
    .into_iter()
    .unzip();
    let singles = single_precision_copies(xs, opts.precision);
    let e_step_at = |w: &[Array2<f64>], rho2: &Array1<f64>, sigma_s: &Array2<f64>| {
        e_step(xs, singles.as_deref(), w, &mu, rho2, sigma_s, &sq, &v, tf)
    };
    let mut w = w_init;
    let mut rho2 = Array1::<f64>::ones(m);
    let mut sigma_s = Array2::<f64>::eye(k);
    let mut s = Array2::<f64>::zeros((k, t));
    let eye = Array2::<f64>::eye(k);
    // Grows as it goes: n_iter is a cap, and early stopping usually ends well before it.
    let mut loglik = Vec::new();
    let mut iterations = 0;

    for it in 0..opts.n_iter {
        if progress.cancelled() {
            return Err(AlignError::Cancelled);
        }
        // The previous S is not needed again: freeing it first keeps one k × T fewer alive
        // through the E-step.
        drop(std::mem::take(&mut s));
        crate::memory::release_free();
        // E-step, with the parameters of the previous iteration.
        let e = e_step_at(&w, &rho2, &sigma_s)?;
        let ll = e.ll;
        loglik.push(ll);
        let rho0: f64 = rho2.iter().map(|r| 1.0 / r).sum();
        let post = &eye - &(&e.a_inv * rho0);
        let to_s = matmul(sigma_s.view(), post.view());
        s = matmul(to_s.view(), e.b.view());
        // SSᵀ = M(BBᵀ)Mᵀ with S = MB: two k³ products instead of a k × T × k one.
        let sst = matmul(matmul(to_s.view(), e.bbt.view()).view(), to_s.t());
        let a_inv = e.a_inv;
        drop(e.b);
        crate::memory::release_free();
        let s32 = singles.as_ref().map(|_| s.mapv(|v| v as f32));
        let step = prob_m_step(&a_inv, sst, tf, &sq, &v, |i| match (&singles, &s32) {
            (Some(x32), Some(s32)) => cross_single(&x32[i], s32, &s, &mu[i]),
            _ => cross(&xs[i], &s, Some(&mu[i]), Precision::F64),
        })?;
        (sigma_s, w, rho2) = (step.sigma_s, step.w, step.rho2);
        iterations = it + 1;
        progress.iteration(iterations, opts.n_iter, Some(ll));
        if it > 0 && converged(loglik[it - 1], ll, opts.tol) {
            break;
        }
    }
    loglik.push(e_step_at(&w, &rho2, &sigma_s)?.ll);
    Ok(ProbFit {
        w,
        s,
        mu,
        rho2,
        sigma_s,
        loglik,
        iterations,
    })
}

/// With `--precision f32`, the networks in float32, made once per fit (half the float64 data's
/// size): converting them block by block in every product cost as much as the single-precision
/// products saved.
fn single_precision_copies(
    xs: &[ArrayView2<f64>],
    precision: Precision,
) -> Option<Vec<Array2<f32>>> {
    (precision == Precision::F32).then(|| map_networks(xs.len(), |i| xs[i].mapv(|v| v as f32)))
}

/// X̃_iSᵀ (v × k) from float32 products, then in float64: X_iSᵀ − μ_i(S1)ᵀ.
fn cross_single(
    x32: &Array2<f32>,
    s32: &Array2<f32>,
    s: &Array2<f64>,
    mu: &Array1<f64>,
) -> Array2<f64> {
    let mut c = matmul_f32_serial_f(x32.t(), s32.t()).mapv(f64::from);
    centre_cross(&mut c, s, mu);
    c
}

/// What the E-step hands the M-step.
struct EStep {
    /// B = Σ W_iᵀX̃_i/ρ_i² (k × T).
    b: Array2<f64>,
    /// BBᵀ (k × k), symmetric.
    bbt: Array2<f64>,
    a_inv: Array2<f64>,
    /// Log-likelihood at the parameters the step was given.
    ll: f64,
}

/// B, BBᵀ, A⁻¹ and the log-likelihood at the given parameters (§5 steps 1–5, §6).
#[allow(clippy::too_many_arguments)]
fn e_step(
    xs: &[ArrayView2<f64>],
    singles: Option<&[Array2<f32>]>,
    w: &[Array2<f64>],
    mu: &[Array1<f64>],
    rho2: &Array1<f64>,
    sigma_s: &Array2<f64>,
    sq: &[f64],
    v: &[f64],
    tf: f64,
) -> Result<EStep, AlignError> {
    let k = sigma_s.nrows();
    let (a_inv, logdet) = posterior(sigma_s, rho2)?;
    // One k × T sum over the networks (`em::projected_sum`), its float32 twin here.
    let b = match singles {
        None => projected_sum(xs, w, mu, rho2),
        Some(x32) => {
            let t = xs.first().map_or(0, |x| x.nrows());
            let mut b = Array2::<f64>::zeros((t, k)).reversed_axes();
            let w32: Vec<Array2<f32>> = w.iter().map(|wi| wi.mapv(|v| v as f32)).collect();
            let terms: Vec<_> = x32
                .iter()
                .zip(&w32)
                .zip(rho2)
                .map(|((x, wi), r)| (wi.view(), x.view(), 1.0 / r))
                .collect();
            crate::linalg::project_sum_f32(&mut b.view_mut(), &terms);
            subtract_mean_projection(&mut b, w, mu, rho2);
            b
        }
    };
    // BBᵀ (a symmetric rank-k update, half a product) gives the log-likelihood its
    // tr(BᵀA⁻¹B) and the M-step its SSᵀ, where A⁻¹B would be a k × T product of its own.
    let bbt = crate::linalg::gram(b.t());
    let ll = log_likelihood(tf, logdet, rho2, v, sq, &a_inv, &bbt);
    Ok(EStep { b, bbt, a_inv, ll })
}

/// Deterministic SRM on checked data; `center` subtracts each unit's mean first (BrainIAK's
/// DetSRM does not).
pub(super) fn fit_det(
    xs: &[ArrayView2<f64>],
    t: usize,
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    center: bool,
    progress: &Progress,
) -> Result<DetFit, AlignError> {
    let k = opts.k;
    let m = xs.len() as f64;
    let tf = t as f64;
    let mu: Vec<Option<Array1<f64>>> = xs.iter().map(|x| center.then(|| column_means(x))).collect();
    let sq: Vec<f64> = xs
        .iter()
        .zip(&mu)
        .map(|(x, mu)| sum_sq(x, mu.as_ref()))
        .collect();
    let mut w = w_init;
    let shared = |w: &[Array2<f64>]| -> (Vec<Array2<f64>>, Array2<f64>) {
        let p: Vec<Array2<f64>> = map_networks(xs.len(), |i| {
            project_centered(&xs[i], &w[i], mu[i].as_ref(), opts.precision)
        });
        let mut s = Array2::<f64>::zeros((k, t));
        for pi in &p {
            s += pi;
        }
        s /= m;
        (p, s)
    };
    // Without v × T residuals: ‖X − WS‖² = ‖X‖² − 2⟨WᵀX, S⟩ + ‖S‖² since WᵀW = I.
    let objective_of = |p: &[Array2<f64>], s: &Array2<f64>| -> f64 {
        let s2 = frob_dot(s, s);
        0.5 * p
            .iter()
            .zip(&sq)
            .map(|(pi, q)| q - 2.0 * frob_dot(pi, s) + s2)
            .sum::<f64>()
            / tf
    };
    let (p, mut s) = shared(&w);
    let mut objective = vec![objective_of(&p, &s)];
    let mut iterations = 0;
    for it in 0..opts.n_iter {
        if progress.cancelled() {
            return Err(AlignError::Cancelled);
        }
        // Jacobi-style: every W_i against the same S, so the networks run in parallel.
        w = map_networks(xs.len(), |i| {
            let c = cross(&xs[i], &s, mu[i].as_ref(), opts.precision);
            procrustes(add_perturbation(c).view()).map_err(|e| AlignError::Linalg(e.to_string()))
        })
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let (p, s_new) = shared(&w);
        s = s_new;
        let obj = objective_of(&p, &s);
        objective.push(obj);
        iterations = it + 1;
        progress.iteration(iterations, opts.n_iter, Some(obj));
        if converged(objective[it], obj, opts.tol) {
            break;
        }
    }
    Ok(DetFit {
        w,
        s,
        objective,
        iterations,
    })
}
