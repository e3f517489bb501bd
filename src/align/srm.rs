//! Probabilistic SRM (EM) and deterministic SRM, following BrainIAK 0.12's update order and
//! quirks exactly (../shared/docs/srm.md §5–§7).
//!
//! Inputs are per-network activation matrices in the dump orientation, samples × units (T × v_i);
//! BrainIAK's X_i (v_i × T) is their transpose, taken as a view. Centred copies are never made:
//! W_iᵀX̃_i and X̃_iSᵀ are formed from raw products minus rank-one mean corrections.

use super::{AlignError, Precision};
use crate::linalg::{
    centred_sum_sq as sum_sq, map_networks, matmul, matmul_f32, matmul_serial, procrustes,
    spd_inverse,
};
use crate::progress::Progress;
use ndarray::{s, Array1, Array2, ArrayView2, Axis, Zip};

/// BrainIAK's fixed perturbation on the (j, j) entries before every Procrustes SVD in fit.
pub const PERTURBATION: f64 = 1e-3;

/// How the data means enter the fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceMode {
    /// BrainIAK: ρ² and the log-likelihood use ‖X_i‖² of the raw, un-centred data.
    Raw,
    /// Use the centred ‖X̃_i‖² (the model's actual likelihood).
    Centered,
}

/// Where the iterations run. Both routes give the same results to rounding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Route {
    /// The cheaper of the two by operation count, Gram space only while its V × V matrix stays
    /// under [`GRAM_MAX_BYTES`].
    #[default]
    Auto,
    /// Products with the data every iteration (O(VTk) each).
    Direct,
    /// Cross-Gram blocks once, then O(V²k) per iteration (`super::gram`).
    Gram,
}

/// The largest Gram matrix the automatic route builds.
pub const GRAM_MAX_BYTES: u64 = 512 << 20;

/// Options shared by both SRM variants.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub k: usize,
    pub n_iter: usize,
    /// Stop early when the relative change of the objective falls below this.
    pub tol: Option<f64>,
    pub route: Route,
    /// Of the products with the data on the direct routes (the Gram route forms its products
    /// once, in float64).
    pub precision: Precision,
}

impl FitOptions {
    /// Whether this fit runs in Gram space.
    pub fn uses_gram(&self, xs: &[ArrayView2<f64>]) -> bool {
        match self.route {
            Route::Direct => false,
            Route::Gram => true,
            Route::Auto => {
                let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
                let t = xs.first().map_or(0, |x| x.nrows());
                super::gram::gram_pays(&units, t, self.k, self.n_iter, GRAM_MAX_BYTES)
            }
        }
    }
}

/// Result of a probabilistic fit.
#[derive(Clone, Debug)]
pub struct ProbFit {
    pub w: Vec<Array2<f64>>,
    /// k × T, from the last E-step (it lags W by half a step, as in BrainIAK).
    pub s: Array2<f64>,
    pub mu: Vec<Array1<f64>>,
    pub rho2: Array1<f64>,
    pub sigma_s: Array2<f64>,
    /// Log-likelihood (no 2π constant) at the start of each iteration, as BrainIAK logs it,
    /// then at the returned parameters.
    pub loglik: Vec<f64>,
    pub iterations: usize,
}

/// Result of a deterministic fit.
#[derive(Clone, Debug)]
pub struct DetFit {
    pub w: Vec<Array2<f64>>,
    /// k × T, consistent with the final W.
    pub s: Array2<f64>,
    /// (0.5/T)·Σ‖X_i − W_iS‖² after init, then after each iteration.
    pub objective: Vec<f64>,
    pub iterations: usize,
}

/// Checks shared by the fits: at least two networks, equal T, k ≤ T, k ≤ every v_i, finite.
pub fn validate(xs: &[ArrayView2<f64>], k: usize) -> Result<usize, AlignError> {
    if xs.len() < 2 {
        return Err(AlignError::Invalid(format!(
            "SRM needs at least 2 networks, got {}",
            xs.len()
        )));
    }
    let t = xs[0].nrows();
    if let Some((i, x)) = xs.iter().enumerate().find(|(_, x)| x.nrows() != t) {
        return Err(AlignError::Invalid(format!(
            "network {i} has {} samples but network 0 has {t}",
            x.nrows()
        )));
    }
    if k == 0 {
        return Err(AlignError::Invalid("k must be at least 1".into()));
    }
    if k > t {
        return Err(AlignError::Invalid(format!(
            "k = {k} is larger than the {t} training images; choose k ≤ {t}"
        )));
    }
    if let Some((i, x)) = xs.iter().enumerate().find(|(_, x)| x.ncols() < k) {
        let min = xs.iter().map(|x| x.ncols()).min().unwrap_or(0);
        return Err(AlignError::Invalid(format!(
            "k = {k} is larger than the {} units of network {i}; choose k ≤ {min}",
            x.ncols()
        )));
    }
    if let Some(i) = xs.iter().position(|x| x.iter().any(|v| !v.is_finite())) {
        return Err(AlignError::Invalid(format!(
            "network {i} contains NaN or Inf"
        )));
    }
    Ok(t)
}

pub(super) fn add_perturbation(mut a: Array2<f64>) -> Array2<f64> {
    let n = a.nrows().min(a.ncols());
    for j in 0..n {
        a[[j, j]] += PERTURBATION;
    }
    a
}

pub fn column_means(x: &ArrayView2<f64>) -> Array1<f64> {
    x.mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()))
}

/// W_iᵀ(X_i − μ_i1ᵀ) as a k × T matrix, from the T × v dump orientation.
pub(super) fn project_centered(
    x: &ArrayView2<f64>,
    w: &Array2<f64>,
    mu: Option<&Array1<f64>>,
    precision: Precision,
) -> Array2<f64> {
    let mut p = match precision {
        Precision::F64 => matmul_serial(w.t(), x.t()), // k × T
        Precision::F32 => {
            let mut p = Array2::<f64>::zeros((w.ncols(), x.nrows()));
            project_add_f32(&mut p, w, x, 1.0, false);
            p
        }
    };
    if let Some(mu) = mu {
        let shift = w.t().dot(mu);
        for (mut row, s) in p.rows_mut().into_iter().zip(shift.iter()) {
            row -= *s;
        }
    }
    p
}

/// X̃_iSᵀ (v × k) = X_iSᵀ − μ_i(S1)ᵀ.
pub(super) fn cross(
    x: &ArrayView2<f64>,
    s: &Array2<f64>,
    mu: Option<&Array1<f64>>,
    precision: Precision,
) -> Array2<f64> {
    let mut c = match precision {
        Precision::F64 => matmul_serial(x.t(), s.t()),
        Precision::F32 => cross_f32(x, s),
    };
    if let Some(mu) = mu {
        let ssum = s.sum_axis(Axis(1));
        for (mut row, m) in c.rows_mut().into_iter().zip(mu.iter()) {
            row.scaled_add(-*m, &ssum);
        }
    }
    c
}

/// Images converted to float32 at a time for a single-precision product: the buffers stay a
/// few MB, and the partial products are summed in float64.
const F32_ROWS: usize = 2048;

fn rows_f32(x: &ArrayView2<f64>, r: std::ops::Range<usize>) -> Array2<f32> {
    x.slice(s![r, ..]).mapv(|v| v as f32)
}

/// c += alpha · Wᵀ Xᵀ (k × T) from float32 products over blocks of images.
fn project_add_f32(
    c: &mut Array2<f64>,
    w: &Array2<f64>,
    x: &ArrayView2<f64>,
    alpha: f64,
    parallel: bool,
) {
    let wt = w.t().mapv(|v| v as f32);
    let t = x.nrows();
    for t0 in (0..t).step_by(F32_ROWS) {
        let t1 = (t0 + F32_ROWS).min(t);
        let p = matmul_f32(wt.view(), rows_f32(x, t0..t1).t(), parallel);
        Zip::from(c.slice_mut(s![.., t0..t1]))
            .and(&p)
            .for_each(|c, &p| *c += alpha * f64::from(p));
    }
}

/// Xᵀ Sᵀ (v × k): float32 products over blocks of images, summed in float64.
fn cross_f32(x: &ArrayView2<f64>, s: &Array2<f64>) -> Array2<f64> {
    let mut c = Array2::<f64>::zeros((x.ncols(), s.nrows()));
    let t = x.nrows();
    for t0 in (0..t).step_by(F32_ROWS) {
        let t1 = (t0 + F32_ROWS).min(t);
        let sb = s.slice(s![.., t0..t1]).mapv(|v| v as f32);
        let p = matmul_f32(rows_f32(x, t0..t1).t(), sb.t(), false);
        Zip::from(&mut c)
            .and(&p)
            .for_each(|c, &p| *c += f64::from(p));
    }
    c
}

pub(super) fn frob_dot(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

pub(super) fn converged(prev: f64, cur: f64, tol: Option<f64>) -> bool {
    tol.is_some_and(|t| (cur - prev).abs() <= t * prev.abs().max(f64::MIN_POSITIVE))
}

/// Probabilistic SRM from given initial W (BrainIAK's EM, §5), on the route `opts` chooses.
pub fn fit_prob(
    xs: &[ArrayView2<f64>],
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    trace: TraceMode,
    progress: &Progress,
) -> Result<ProbFit, AlignError> {
    if opts.uses_gram(xs) {
        super::gram::fit_prob_gram(xs, w_init, opts, trace, progress)
    } else {
        fit_prob_direct(xs, w_init, opts, trace, progress)
    }
}

/// Probabilistic SRM with products over the data in every iteration.
pub fn fit_prob_direct(
    xs: &[ArrayView2<f64>],
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    trace: TraceMode,
    progress: &Progress,
) -> Result<ProbFit, AlignError> {
    let k = opts.k;
    let t = validate(xs, k)?;
    let m = xs.len();
    let tf = t as f64;
    let v: Vec<f64> = xs.iter().map(|x| x.ncols() as f64).collect();
    let mu: Vec<Array1<f64>> = xs.iter().map(column_means).collect();
    let sq: Vec<f64> = xs
        .iter()
        .zip(&mu)
        .map(|(x, m)| sum_sq(x, (trace == TraceMode::Centered).then_some(m)))
        .collect();
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
        let e = e_step(xs, &w, &mu, &rho2, &sigma_s, &sq, &v, tf, opts.precision)?;
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
        // M-step.
        sigma_s = &a_inv + &(symmetric(sst) / tf);
        let tau = tf * sigma_s.diag().sum();
        // Networks are independent given S: one task each.
        let updates = map_networks(m, |i| -> Result<(Array2<f64>, f64), AlignError> {
            let c = cross(&xs[i], &s, Some(&mu[i]), opts.precision);
            let wi = procrustes(add_perturbation(c.clone()).view())
                .map_err(|e| AlignError::Linalg(e.to_string()))?;
            let r = (sq[i] - 2.0 * frob_dot(&wi, &c) + tau) / (tf * v[i]);
            Ok((wi, r))
        });
        for (i, u) in updates.into_iter().enumerate() {
            let (wi, r) = u?;
            w[i] = wi;
            rho2[i] = r;
        }
        iterations = it + 1;
        progress.iteration(iterations, opts.n_iter, Some(ll));
        if it > 0 && converged(loglik[it - 1], ll, opts.tol) {
            break;
        }
    }
    loglik.push(e_step(xs, &w, &mu, &rho2, &sigma_s, &sq, &v, tf, opts.precision)?.ll);
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

/// The lower triangle mirrored onto the upper, so rounding cannot make Σ_s asymmetric.
fn symmetric(mut a: Array2<f64>) -> Array2<f64> {
    for i in 0..a.nrows() {
        for j in 0..i {
            let v = 0.5 * (a[[i, j]] + a[[j, i]]);
            a[[i, j]] = v;
            a[[j, i]] = v;
        }
    }
    a
}

/// B, BBᵀ, A⁻¹ and the log-likelihood at the given parameters (§5 steps 1–5, §6).
#[allow(clippy::too_many_arguments)]
fn e_step(
    xs: &[ArrayView2<f64>],
    w: &[Array2<f64>],
    mu: &[Array1<f64>],
    rho2: &Array1<f64>,
    sigma_s: &Array2<f64>,
    sq: &[f64],
    v: &[f64],
    tf: f64,
    precision: Precision,
) -> Result<EStep, AlignError> {
    let lin = |e: crate::linalg::LinalgError| AlignError::Linalg(e.to_string());
    let k = sigma_s.nrows();
    let rho0: f64 = rho2.iter().map(|r| 1.0 / r).sum();
    let (sigma_inv, logdet_sigma) = spd_inverse(sigma_s.view()).map_err(lin)?;
    let a = &sigma_inv + &(Array2::<f64>::eye(k) * rho0);
    let (a_inv, logdet_a) = spd_inverse(a.view()).map_err(lin)?;
    // Accumulated in place, network by network, each product on every core: one k × T
    // matrix alive instead of one per thread (and the order of the sum is fixed). The
    // centring, Σ W_iᵀμ_i/ρ_i², comes off every column at the end.
    let mut b = Array2::<f64>::zeros((k, xs.first().map_or(0, |x| x.nrows())));
    let mut shift = Array1::<f64>::zeros(k);
    for (((x, wi), mi), r) in xs.iter().zip(w).zip(mu).zip(rho2) {
        match precision {
            Precision::F64 => crate::linalg::matmul_add(&mut b, wi.t(), x.t(), 1.0 / r),
            Precision::F32 => project_add_f32(&mut b, wi, x, 1.0 / r, true),
        }
        shift.scaled_add(1.0 / r, &wi.t().dot(mi));
    }
    for (mut row, s) in b.rows_mut().into_iter().zip(shift.iter()) {
        row -= *s;
    }
    let trace_x: f64 = sq.iter().zip(rho2).map(|(q, r)| q / r).sum();
    let logdet_psi: f64 = rho2.iter().zip(v).map(|(r, vi)| vi * r.ln()).sum();
    let logdet = logdet_a + logdet_psi + logdet_sigma;
    // tr(BᵀA⁻¹B) = ⟨A⁻¹, BBᵀ⟩: BBᵀ (a symmetric rank-k update, half a product) also gives
    // the M-step its SSᵀ, where A⁻¹B would be a k × T product and matrix of its own.
    let bbt = crate::linalg::gram(b.t());
    let quad = frob_dot(&bbt, &a_inv);
    let ll = -0.5 * tf * logdet - 0.5 * trace_x + 0.5 * quad;
    Ok(EStep { b, bbt, a_inv, ll })
}

/// Deterministic SRM from given initial W (§7), on the route `opts` chooses. `center` subtracts
/// each unit's mean first; BrainIAK's DetSRM does not.
pub fn fit_det(
    xs: &[ArrayView2<f64>],
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    center: bool,
    progress: &Progress,
) -> Result<DetFit, AlignError> {
    if opts.uses_gram(xs) {
        super::gram::fit_det_gram(xs, w_init, opts, center, progress)
    } else {
        fit_det_direct(xs, w_init, opts, center, progress)
    }
}

/// Deterministic SRM with products over the data in every iteration.
pub fn fit_det_direct(
    xs: &[ArrayView2<f64>],
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    center: bool,
    progress: &Progress,
) -> Result<DetFit, AlignError> {
    let k = opts.k;
    let t = validate(xs, k)?;
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

/// BrainIAK's `transform_subject`: W for a new network recorded on the same samples as `s`,
/// one Procrustes step without perturbation. `center` subtracts the network's unit means first
/// (BrainIAK does not).
pub fn transform_subject(
    x: ArrayView2<f64>,
    s: &Array2<f64>,
    center: bool,
) -> Result<Array2<f64>, AlignError> {
    if x.nrows() != s.ncols() {
        return Err(AlignError::Invalid(format!(
            "the new network has {} samples but the shared response has {}",
            x.nrows(),
            s.ncols()
        )));
    }
    if x.ncols() < s.nrows() {
        return Err(AlignError::Invalid(format!(
            "the new network has {} units, fewer than k = {}",
            x.ncols(),
            s.nrows()
        )));
    }
    let mu = center.then(|| column_means(&x));
    let c = cross(&x, s, mu.as_ref(), Precision::F64);
    procrustes(c.view()).map_err(|e| AlignError::Linalg(e.to_string()))
}
