//! Hyperalignment-style Procrustes template (HyperTools `align='hyper'`, after Haxby 2011), in
//! the same W_i (units_i × k) form as SRM so the rest of the pipeline treats both alike.

use super::em::{column_means, cross, frob_dot, project_centered as project, validate, DetFit};
use super::error::{AlignError, Precision};
use crate::linalg::centred_sum_sq as sum_sq;
use crate::linalg::{map_networks, procrustes, thin_svd};
use crate::progress::Progress;
use ndarray::{Array1, Array2, ArrayView2};

/// The orthonormal W (v × k) that best maps network x onto `template` (k × T).
fn align_to(
    x: &ArrayView2<f64>,
    template: &Array2<f64>,
    mu: Option<&Array1<f64>>,
) -> Result<Array2<f64>, AlignError> {
    procrustes(cross(x, template, mu, Precision::F64).view())
        .map_err(|e| AlignError::Linalg(e.to_string()))
}

/// Three passes, as HyperTools: a running template built network by network, a second template
/// from aligning every network to it, then every network aligned to that one. The template space
/// starts as network 0's top-k principal axes. Objective: (0.5/T)·Σ‖X̃_i − W_iS‖² after each pass.
pub fn fit_hyper(
    xs: &[ArrayView2<f64>],
    k: usize,
    center: bool,
    progress: &Progress,
) -> Result<DetFit, AlignError> {
    let t = validate(xs, k)?;
    let m = xs.len();
    let mu: Vec<Option<Array1<f64>>> = xs.iter().map(|x| center.then(|| column_means(x))).collect();
    let lin = |e: crate::linalg::LinalgError| AlignError::Linalg(e.to_string());

    // Network 0's principal axes give the template its first k dimensions.
    let mut x0 = xs[0].to_owned();
    if let Some(mu0) = &mu[0] {
        x0 -= mu0;
    }
    let (_u, _s, vt) = thin_svd(x0.view()).map_err(lin)?;
    let mut w: Vec<Array2<f64>> = Vec::with_capacity(m);
    let w0 = vt.slice(ndarray::s![..k, ..]).t().to_owned();
    let mut template = project(&xs[0], &w0, mu[0].as_ref(), Precision::F64);
    w.push(w0);
    for i in 1..m {
        let wi = align_to(&xs[i], &(&template / i as f64), mu[i].as_ref())?;
        template += &project(&xs[i], &wi, mu[i].as_ref(), Precision::F64);
        w.push(wi);
    }
    template /= m as f64;
    let sq: Vec<f64> = xs
        .iter()
        .zip(&mu)
        .map(|(x, mu)| sum_sq(x, mu.as_ref()))
        .collect();
    let objective_of = |w: &[Array2<f64>], s: &Array2<f64>| -> f64 {
        let s2 = frob_dot(s, s);
        let mut tot = 0.0;
        for ((x, wi), (mu, q)) in xs.iter().zip(w).zip(mu.iter().zip(&sq)) {
            tot += q - 2.0 * frob_dot(&project(x, wi, mu.as_ref(), Precision::F64), s) + s2;
        }
        0.5 * tot / t as f64
    };
    let mut objective = vec![objective_of(&w, &template)];
    progress.iteration(1, 3, objective.last().copied());
    for pass in 2..=3 {
        if progress.cancelled() {
            return Err(AlignError::Cancelled);
        }
        // Every network against the same template: independent, so in parallel.
        let aligned = map_networks(m, |i| -> Result<(Array2<f64>, Array2<f64>), AlignError> {
            let wi = align_to(&xs[i], &template, mu[i].as_ref())?;
            let p = project(&xs[i], &wi, mu[i].as_ref(), Precision::F64);
            Ok((wi, p))
        });
        let mut next = Array2::<f64>::zeros((k, t));
        for (i, a) in aligned.into_iter().enumerate() {
            let (wi, p) = a?;
            next += &p;
            w[i] = wi;
        }
        next /= m as f64;
        template = next;
        objective.push(objective_of(&w, &template));
        progress.iteration(pass, 3, objective.last().copied());
    }
    Ok(DetFit {
        w,
        s: template,
        objective,
        iterations: 3,
    })
}
