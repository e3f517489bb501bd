//! What both SRM routes share (BrainIAK 0.12's update order and quirks,
//! ../shared/docs/srm.md §5–§7): the options and results, the checks, the products with a
//! network's data (raw products minus rank-one mean corrections, never a centred copy), the
//! E-step's posterior algebra and log-likelihood, the one M-step of probabilistic SRM, and the
//! cost model that picks a route. `direct.rs` and `gram.rs` hold the two routes, `srm.rs`
//! dispatches between them.

use super::error::{AlignError, Precision};
use crate::linalg::{
    map_networks, matmul_f32, matmul_serial, matmul_serial_f, procrustes, spd_inverse,
};
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
                gram_pays(&units, t, self.k, self.n_iter, GRAM_MAX_BYTES)
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
    let finite = map_networks(xs.len(), |i| crate::linalg::all_finite(&xs[i]));
    if let Some(i) = finite.iter().position(|ok| !ok) {
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

/// B = Σ W_iᵀX̃_i/ρ_i² (k × T), column-major (the orientation faer multiplies fastest): every
/// thread takes its block of images through all networks in order, so the sum's order does not
/// depend on the number of threads (`linalg::project_sum`). The centring comes off at the end.
pub(super) fn projected_sum(
    xs: &[ArrayView2<f64>],
    w: &[Array2<f64>],
    mu: &[Array1<f64>],
    rho2: &Array1<f64>,
) -> Array2<f64> {
    let k = w.first().map_or(0, |wi| wi.ncols());
    let t = xs.first().map_or(0, |x| x.nrows());
    let mut b = Array2::<f64>::zeros((t, k)).reversed_axes();
    let terms: Vec<_> = xs
        .iter()
        .zip(w)
        .zip(rho2)
        .map(|((x, wi), r)| (wi.view(), x.view(), 1.0 / r))
        .collect();
    crate::linalg::project_sum(&mut b.view_mut(), &terms);
    subtract_mean_projection(&mut b, w, mu, rho2);
    b
}

/// Σ W_iᵀX_i/ρ_i² → Σ W_iᵀX̃_i/ρ_i²: Σ W_iᵀμ_i/ρ_i² off every column.
pub(super) fn subtract_mean_projection(
    b: &mut Array2<f64>,
    w: &[Array2<f64>],
    mu: &[Array1<f64>],
    rho2: &Array1<f64>,
) {
    let mut shift = Array1::<f64>::zeros(b.nrows());
    for ((wi, mi), r) in w.iter().zip(mu).zip(rho2) {
        shift.scaled_add(1.0 / r, &wi.t().dot(mi));
    }
    // B is column-major: Zip walks it in memory order.
    ndarray::Zip::from(b)
        .and_broadcast(shift.view().insert_axis(Axis(1)))
        .for_each(|b, &s| *b -= s);
}

/// X̃_iSᵀ (v × k) = X_iSᵀ − μ_i(S1)ᵀ.
pub(super) fn cross(
    x: &ArrayView2<f64>,
    s: &Array2<f64>,
    mu: Option<&Array1<f64>>,
    precision: Precision,
) -> Array2<f64> {
    let mut c = match precision {
        Precision::F64 => matmul_serial_f(x.t(), s.t()),
        Precision::F32 => cross_f32(x, s),
    };
    if let Some(mu) = mu {
        centre_cross(&mut c, s, mu);
    }
    c
}

/// X_iSᵀ → X̃_iSᵀ: subtracts μ_i(S1)ᵀ, the rank-one mean correction.
pub(super) fn centre_cross(c: &mut Array2<f64>, s: &Array2<f64>, mu: &Array1<f64>) {
    let ssum = s.sum_axis(Axis(1));
    // Zip walks `c` in its memory order: the products write it column-major, where a loop over
    // rows strode across every column (4 % of the benchmark's time).
    ndarray::Zip::from(c)
        .and_broadcast(mu.view().insert_axis(Axis(1)))
        .and_broadcast(ssum.view().insert_axis(Axis(0)))
        .for_each(|c, &m, &s| *c -= m * s);
}

/// Images converted to float32 at a time for a single-precision product: the buffers stay a
/// few MB, and the partial products are summed in float64.
const F32_ROWS: usize = 2048;

fn rows_f32(x: &ArrayView2<f64>, r: std::ops::Range<usize>) -> Array2<f32> {
    x.slice(s![r, ..]).mapv(|v| v as f32)
}

/// c += alpha · Wᵀ Xᵀ (k × T) from float32 products over blocks of images.
pub(super) fn project_add_f32(
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

/// Floating-point operations of each route, to pick the cheaper one: the direct path's two
/// v_i × T × k products per network and iteration, against the Gram once plus a V × V × k
/// product per iteration (the k × k algebra and the SVDs are the same on both).
pub fn gram_pays(units: &[usize], t: usize, k: usize, n_iter: usize, max_bytes: u64) -> bool {
    let v: f64 = units.iter().sum::<usize>() as f64;
    let (t, k, it) = (t as f64, k as f64, n_iter as f64);
    let direct = it * 4.0 * v * t * k;
    let gram = v * v * t + (it + 1.0) * 2.0 * v * v * k + 2.0 * v * t * k;
    gram < direct && v * v * 8.0 <= max_bytes as f64
}

/// A⁻¹ = (Σ_s⁻¹ + ρ₀I)⁻¹ with ρ₀ = Σ 1/ρ_i², and log|A| + log|Σ_s| (§5 steps 1–3).
pub(super) fn posterior(
    sigma_s: &Array2<f64>,
    rho2: &Array1<f64>,
) -> Result<(Array2<f64>, f64), AlignError> {
    let lin = |e: crate::linalg::LinalgError| AlignError::Linalg(e.to_string());
    let k = sigma_s.nrows();
    let rho0: f64 = rho2.iter().map(|r| 1.0 / r).sum();
    let (sigma_inv, logdet_sigma) = spd_inverse(sigma_s.view()).map_err(lin)?;
    let a = &sigma_inv + &(Array2::<f64>::eye(k) * rho0);
    let (a_inv, logdet_a) = spd_inverse(a.view()).map_err(lin)?;
    Ok((a_inv, logdet_a + logdet_sigma))
}

/// The log-likelihood without the 2π constant (§6), from the posterior's log-determinants,
/// ‖X_i‖² (as the trace mode counts it) and BBᵀ: tr(BᵀA⁻¹B) = ⟨A⁻¹, BBᵀ⟩.
pub(super) fn log_likelihood(
    tf: f64,
    logdet_a_sigma: f64,
    rho2: &Array1<f64>,
    v: &[f64],
    sq: &[f64],
    a_inv: &Array2<f64>,
    bbt: &Array2<f64>,
) -> f64 {
    let trace_x: f64 = sq.iter().zip(rho2).map(|(q, r)| q / r).sum();
    let logdet_psi: f64 = rho2.iter().zip(v).map(|(r, vi)| vi * r.ln()).sum();
    -0.5 * tf * (logdet_a_sigma + logdet_psi) - 0.5 * trace_x + 0.5 * frob_dot(a_inv, bbt)
}

/// What the M-step of probabilistic SRM gives: Σ_s, W and ρ².
pub(super) struct MStep {
    pub sigma_s: Array2<f64>,
    pub w: Vec<Array2<f64>>,
    pub rho2: Array1<f64>,
}

/// The M-step of probabilistic SRM, on both routes (§5 steps 6–8): Σ_s = A⁻¹ + SSᵀ/T (SSᵀ
/// symmetrised, so rounding cannot make Σ_s asymmetric), then per network W_i from the
/// Procrustes problem of its perturbed X̃_iSᵀ (`cross(i)`) and ρ_i² from the residual
/// (‖X̃_i‖² − 2⟨W_i, X̃_iSᵀ⟩ + T·tr Σ_s) / (T·v_i). Networks are independent given S: one task
/// each.
pub(super) fn prob_m_step(
    a_inv: &Array2<f64>,
    sst: Array2<f64>,
    tf: f64,
    sq: &[f64],
    v: &[f64],
    cross: impl Fn(usize) -> Array2<f64> + Sync + Send,
) -> Result<MStep, AlignError> {
    let sigma_s = a_inv + &(symmetric(sst) / tf);
    let tau = tf * sigma_s.diag().sum();
    let updates = map_networks(sq.len(), |i| -> Result<(Array2<f64>, f64), AlignError> {
        let c = cross(i);
        let wi = procrustes(add_perturbation(c.clone()).view())
            .map_err(|e| AlignError::Linalg(e.to_string()))?;
        let r = (sq[i] - 2.0 * frob_dot(&wi, &c) + tau) / (tf * v[i]);
        Ok((wi, r))
    });
    let mut w = Vec::with_capacity(sq.len());
    let mut rho2 = Array1::<f64>::zeros(sq.len());
    for (i, u) in updates.into_iter().enumerate() {
        let (wi, r) = u?;
        w.push(wi);
        rho2[i] = r;
    }
    Ok(MStep { sigma_s, w, rho2 })
}
