//! Probabilistic and deterministic SRM in *Gram space* (../shared/reference/gram_srm.py): every
//! quantity an iteration needs comes from the cross-Gram blocks G_ij = X̃_iX̃_jᵀ (V × V in all,
//! V = Σ units), computed once. An iteration then costs O(V²k) whatever the number of images T,
//! instead of O(VTk); only the returned S (k × T) takes one more pass over the data.
//!
//! In BrainIAK's notation (X_i is units × T; here the dumps are T × units, so X_i = x_iᵀ):
//!   D_i = X̃_iBᵀ = Σ_j G_ij W_j/ρ_j²,   BBᵀ = Σ_i W_iᵀD_i/ρ_i²,   X̃_iSᵀ = D_iA⁻¹,
//!   SSᵀ = A⁻¹BBᵀA⁻¹,   tr(BᵀA⁻¹B) = ⟨A⁻¹, BBᵀ⟩,   ‖X̃_i‖² = tr(G_ii).
//! The results equal the direct path's to rounding (tests/srm_routes.rs checks 1e-9).

pub use super::em::gram_pays;
use super::em::{
    add_perturbation, column_means, converged, log_likelihood, posterior, prob_m_step,
    project_centered, projected_sum, DetFit, FitOptions, ProbFit, TraceMode,
};
use super::error::{AlignError, Precision};
use crate::linalg::{
    gram_by_blocks, map_networks, matmul, procrustes, symmetric_product, LinalgError,
};
use crate::progress::Progress;
use ndarray::{s, Array1, Array2, ArrayView2};

/// Rows of the stacked data formed at a time while accumulating the Gram matrix.
const GRAM_BLOCK_ROWS: usize = 256;

/// Start of each network's block on the stacked unit axis, plus the total V at the end.
pub(super) fn offsets(units: &[usize]) -> Vec<usize> {
    let mut o = Vec::with_capacity(units.len() + 1);
    o.push(0);
    for u in units {
        o.push(o[o.len() - 1] + u);
    }
    o
}

/// G = X̃ᵀX̃ (V × V) for all networks side by side, X̃_i = x_i − 1μ_iᵀ (raw where μ_i is None).
/// Built from blocks of rows, so no centred copy of the data is made.
pub fn stacked_gram(xs: &[ArrayView2<f64>], mu: &[Option<&Array1<f64>>]) -> Array2<f64> {
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let off = offsets(&units);
    let v = off[off.len() - 1];
    let t = xs.first().map_or(0, |x| x.nrows());
    gram_by_blocks(v, t, GRAM_BLOCK_ROWS, |a, b| {
        let mut chunk = Array2::<f64>::zeros((b - a, v));
        for (i, x) in xs.iter().enumerate() {
            let mut dst = chunk.slice_mut(s![.., off[i]..off[i + 1]]);
            dst.assign(&x.slice(s![a..b, ..]));
            if let Some(m) = mu[i] {
                dst -= m;
            }
        }
        chunk
    })
}

fn lin(e: LinalgError) -> AlignError {
    AlignError::Linalg(e.to_string())
}

/// W_j/ρ_j² stacked (V × k).
fn scaled_stack(w: &[Array2<f64>], rho2: &Array1<f64>, off: &[usize], k: usize) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((off[off.len() - 1], k));
    for (i, wi) in w.iter().enumerate() {
        let mut dst = out.slice_mut(s![off[i]..off[i + 1], ..]);
        dst.assign(wi);
        dst /= rho2[i];
    }
    out
}

/// Posterior quantities of one E-step in Gram space: D (V × k), A⁻¹ and the log-likelihood at
/// the given parameters.
struct GramEStep {
    d: Array2<f64>,
    a_inv: Array2<f64>,
    bbt: Array2<f64>,
    ll: f64,
}

#[allow(clippy::too_many_arguments)]
fn e_step(
    g: &Array2<f64>,
    w: &[Array2<f64>],
    rho2: &Array1<f64>,
    sigma_s: &Array2<f64>,
    sq: &[f64],
    v: &[f64],
    off: &[usize],
    tf: f64,
) -> Result<GramEStep, AlignError> {
    let k = sigma_s.nrows();
    let (a_inv, logdet) = posterior(sigma_s, rho2)?;
    let wst = scaled_stack(w, rho2, off, k);
    let d = matmul(g.view(), wst.view());
    // Σ_i (W_i/ρ_i²)ᵀ D_i = W̃ᵀGW̃ in one product, symmetric: its lower half only.
    let bbt = symmetric_product(wst.view(), d.view());
    let ll = log_likelihood(tf, logdet, rho2, v, sq, &a_inv, &bbt);
    Ok(GramEStep { d, a_inv, bbt, ll })
}

/// The last E-step's A⁻¹ with the W and ρ² it used: all the returned S needs.
struct LastEStep {
    a_inv: Array2<f64>,
    w: Vec<Array2<f64>>,
    rho2: Array1<f64>,
}

/// Probabilistic SRM in Gram space on checked data (`t` images); the same results as the
/// direct route.
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
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let v: Vec<f64> = units.iter().map(|&u| u as f64).collect();
    let off = offsets(&units);
    let mu: Vec<Array1<f64>> = map_networks(m, |i| column_means(&xs[i]));
    let mu_refs: Vec<Option<&Array1<f64>>> = mu.iter().map(Some).collect();
    let g = stacked_gram(xs, &mu_refs);
    if progress.cancelled() {
        return Err(AlignError::Cancelled);
    }
    // ‖X̃_i‖² from the diagonal blocks; BrainIAK's raw norm adds back T‖μ_i‖².
    let sq: Vec<f64> = (0..m)
        .map(|i| {
            let centred: f64 = (off[i]..off[i + 1]).map(|u| g[[u, u]]).sum();
            match trace {
                TraceMode::Centered => centred,
                TraceMode::Raw => centred + tf * mu[i].dot(&mu[i]),
            }
        })
        .collect();
    let mut w = w_init;
    let mut rho2 = Array1::<f64>::ones(m);
    let mut sigma_s = Array2::<f64>::eye(k);
    let mut loglik = Vec::with_capacity(opts.n_iter.saturating_add(1).min(1 << 16));
    let mut iterations = 0;
    // What the returned S needs: the last E-step's A⁻¹ with the W and ρ² it used.
    let mut last: Option<LastEStep> = None;

    for it in 0..opts.n_iter {
        if progress.cancelled() {
            return Err(AlignError::Cancelled);
        }
        let e = e_step(&g, &w, &rho2, &sigma_s, &sq, &v, &off, tf)?;
        loglik.push(e.ll);
        let a_inv = e.a_inv;
        // SSᵀ = A⁻¹(BBᵀA⁻¹), symmetric since A⁻¹ is: its lower half only.
        let sst = symmetric_product(a_inv.view(), matmul(e.bbt.view(), a_inv.view()).view());
        let d = &e.d;
        // X̃_iSᵀ = D_iA⁻¹.
        let step = prob_m_step(&a_inv, sst, tf, &sq, &v, |i| {
            matmul(d.slice(s![off[i]..off[i + 1], ..]), a_inv.view())
        })?;
        sigma_s = step.sigma_s;
        let rp = std::mem::replace(&mut rho2, step.rho2);
        let wp = std::mem::replace(&mut w, step.w);
        last = Some(LastEStep {
            a_inv,
            w: wp,
            rho2: rp,
        });
        iterations = it + 1;
        progress.iteration(iterations, opts.n_iter, Some(e.ll));
        if it > 0 && converged(loglik[it - 1], e.ll, opts.tol) {
            break;
        }
    }
    let final_e = e_step(&g, &w, &rho2, &sigma_s, &sq, &v, &off, tf)?;
    loglik.push(final_e.ll);
    drop(g);
    let s = match last {
        // S = A⁻¹B, B = Σ W_iᵀX̃_i/ρ_i²: one pass over the data.
        Some(LastEStep {
            a_inv,
            w: wp,
            rho2: rp,
        }) => {
            let b = projected_sum(xs, &wp, &mu, &rp);
            matmul(a_inv.view(), b.view())
        }
        None => Array2::zeros((k, t)),
    };
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

/// Deterministic SRM in Gram space on checked data; the same results as the direct route.
pub(super) fn fit_det(
    xs: &[ArrayView2<f64>],
    t: usize,
    w_init: Vec<Array2<f64>>,
    opts: &FitOptions,
    center: bool,
    progress: &Progress,
) -> Result<DetFit, AlignError> {
    let k = opts.k;
    let m = xs.len();
    let mf = m as f64;
    let tf = t as f64;
    let units: Vec<usize> = xs.iter().map(|x| x.ncols()).collect();
    let off = offsets(&units);
    let mu: Vec<Option<Array1<f64>>> = xs.iter().map(|x| center.then(|| column_means(x))).collect();
    let mu_refs: Vec<Option<&Array1<f64>>> = mu.iter().map(|m| m.as_ref()).collect();
    let g = stacked_gram(xs, &mu_refs);
    let sq: Vec<f64> = (0..m)
        .map(|i| (off[i]..off[i + 1]).map(|u| g[[u, u]]).sum())
        .collect();
    // D_i = X_iSᵀ = (1/m) Σ_j G_ij W_j; ⟨W_iᵀX_i, S⟩ = ⟨W_i, D_i⟩; ‖S‖² = (1/m) Σ_i ⟨W_i, D_i⟩.
    let objective_of = |w: &[Array2<f64>]| -> (f64, Array2<f64>) {
        let mut stack = Array2::<f64>::zeros((off[m], k));
        for (i, wi) in w.iter().enumerate() {
            stack.slice_mut(s![off[i]..off[i + 1], ..]).assign(wi);
        }
        let d = matmul(g.view(), stack.view()) / mf;
        let cross: Vec<f64> = (0..m)
            .map(|i| {
                let di = d.slice(s![off[i]..off[i + 1], ..]);
                w[i].iter().zip(di.iter()).map(|(a, b)| a * b).sum()
            })
            .collect();
        let s2 = cross.iter().sum::<f64>() / mf;
        let obj = 0.5 * (0..m).map(|i| sq[i] - 2.0 * cross[i] + s2).sum::<f64>() / tf;
        (obj, d)
    };
    let mut w = w_init;
    let (obj, mut d) = objective_of(&w);
    let mut objective = vec![obj];
    let mut iterations = 0;
    for it in 0..opts.n_iter {
        if progress.cancelled() {
            return Err(AlignError::Cancelled);
        }
        w = map_networks(m, |i| {
            let di = d.slice(s![off[i]..off[i + 1], ..]).to_owned();
            procrustes(add_perturbation(di).view()).map_err(lin)
        })
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let (obj, d_new) = objective_of(&w);
        d = d_new;
        objective.push(obj);
        iterations = it + 1;
        progress.iteration(iterations, opts.n_iter, Some(obj));
        if converged(objective[it], obj, opts.tol) {
            break;
        }
    }
    drop(g);
    let s = crate::linalg::sum_networks(
        m,
        |i| project_centered(&xs[i], &w[i], mu[i].as_ref(), Precision::F64),
        |a, b| a + b,
    )
    .map(|b| b / mf)
    .unwrap_or_else(|| Array2::zeros((k, t)));
    Ok(DetFit {
        w,
        s,
        objective,
        iterations,
    })
}
