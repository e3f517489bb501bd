//! Pairwise representational similarity between networks: linear CKA (biased and debiased HSIC),
//! Procrustes shape distances, second-order RSA (Pearson, Spearman), per-pair ISC and mutual
//! k-nearest neighbours. Every measure takes images × units matrices and first centres each unit
//! over the images it is given. References: ../../tools/similarity_reference.py.
//!
//! Cost: each network is summarised once (its centred n × n linear kernel, packed; its RSM ranks;
//! its neighbour lists; a factor for the Procrustes SVD), then every pair needs O(n²) work plus
//! one SVD of at most min(n, p_i) × min(n, p_j).

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, thiserror::Error)]
pub enum SimilarityError {
    #[error("networks must share their images: {0} vs {1} rows")]
    Rows(usize, usize),
    #[error("need at least 4 images for the similarity measures, got {0}")]
    TooFewImages(usize),
    #[error("{0} images is beyond the pairwise measures' n × n kernels (at most {MAX_IMAGES})")]
    TooManyImages(usize),
    #[error(transparent)]
    Linalg(#[from] crate::linalg::LinalgError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Similarity,
    Distance,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Similarity => "similarity (higher = more alike)",
            Kind::Distance => "distance (lower = more alike)",
        }
    }
}

/// What a measure means; the README table, the tooltips and the self-comparison test read this.
#[derive(Clone, Copy, Debug)]
pub struct MeasureInfo {
    /// The key in METRICS.json `pairs`.
    pub key: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    /// Bounds of the value (inclusive).
    pub range: (f64, f64),
    pub range_text: &'static str,
    /// Value for a network against itself (or against a transform it is invariant to).
    pub self_value: f64,
    /// Among permutation of units, rotation, isotropic scaling, invertible linear maps.
    pub invariant_to: &'static str,
    /// Compares unit d with unit d, so needs equal widths.
    pub needs_equal_widths: bool,
    pub about: &'static str,
}

pub const MEASURES: [MeasureInfo; 8] = [
    MeasureInfo {
        key: "cka_linear",
        label: "linear CKA",
        kind: Kind::Similarity,
        range: (0.0, 1.0),
        range_text: "[0, 1]",
        self_value: 1.0,
        invariant_to: "permutation, rotation, isotropic scaling",
        needs_equal_widths: false,
        about: "Centred kernel alignment with linear kernels, biased HSIC estimator (Kornblith et al. 2019). Biased upwards when units are many and images few.",
    },
    MeasureInfo {
        key: "cka_linear_debiased",
        label: "linear CKA (debiased)",
        kind: Kind::Similarity,
        range: (-1.0, 1.0),
        range_text: "[−1, 1]",
        self_value: 1.0,
        invariant_to: "permutation, rotation, isotropic scaling",
        needs_equal_widths: false,
        about: "Linear CKA with the unbiased HSIC estimator (Song et al. 2012); near 0 for unrelated networks even with few images. Computed in float64, finite for any non-constant network with ≥ 4 images.",
    },
    MeasureInfo {
        key: "procrustes_angular",
        label: "Procrustes angular distance",
        kind: Kind::Distance,
        range: (0.0, std::f64::consts::FRAC_PI_2),
        range_text: "[0, π/2]",
        self_value: 0.0,
        invariant_to: "permutation, rotation, isotropic scaling",
        needs_equal_widths: false,
        about: "arccos of the nuclear norm of X̃ᵀỸ after centring and scaling to unit norm; the narrower network is zero-padded (netrep LinearMetric(alpha=1, score_method=\"angular\"); Williams et al. 2021). Self value is 0 to about 1e-8: arccos is ill-conditioned at 1.",
    },
    MeasureInfo {
        key: "procrustes_euclidean",
        label: "Procrustes Euclidean distance",
        kind: Kind::Distance,
        range: (0.0, std::f64::consts::SQRT_2),
        range_text: "[0, √2]",
        self_value: 0.0,
        invariant_to: "permutation, rotation, isotropic scaling",
        needs_equal_widths: false,
        about: "min over rotations Q of ‖X̃Q − Ỹ‖ with both centred and scaled to unit norm = √(2 − 2 cos θ) of the angular distance θ (netrep's Euclidean score on unit-norm inputs).",
    },
    MeasureInfo {
        key: "rsa_pearson",
        label: "RSA (Pearson)",
        kind: Kind::Similarity,
        range: (-1.0, 1.0),
        range_text: "[−1, 1]",
        self_value: 1.0,
        invariant_to: "permutation, isotropic scaling",
        needs_equal_widths: false,
        about: "Pearson r between the lower triangles of the two networks' RSMs (image × image Pearson r across units), as rsatoolbox compare 'corr'. Not rotation-invariant: the RSM centres each image across units.",
    },
    MeasureInfo {
        key: "rsa_spearman",
        label: "RSA (Spearman)",
        kind: Kind::Similarity,
        range: (-1.0, 1.0),
        range_text: "[−1, 1]",
        self_value: 1.0,
        invariant_to: "permutation, isotropic scaling",
        needs_equal_widths: false,
        about: "Spearman ρ between the RSMs' lower triangles (average ranks for ties), as rsatoolbox compare 'spearman'.",
    },
    MeasureInfo {
        key: "isc",
        label: "ISC (per pair)",
        kind: Kind::Similarity,
        range: (-1.0, 1.0),
        range_text: "[−1, 1]",
        self_value: 1.0,
        invariant_to: "isotropic scaling",
        needs_equal_widths: true,
        about: "Mean over units d of Pearson r between unit d of one network and unit d of the other. Meaningful in the shared space; in native space it asks whether unit d means the same in both, which needs equal widths.",
    },
    MeasureInfo {
        key: "mutual_knn",
        label: "mutual k-NN",
        kind: Kind::Similarity,
        range: (0.0, 1.0),
        range_text: "[0, 1]",
        self_value: 1.0,
        invariant_to: "permutation, rotation, isotropic scaling",
        needs_equal_widths: false,
        about: "Mean over images of the fraction of their k nearest images (cosine, after centring units) that both networks share (Huh et al. 2024).",
    },
];

pub fn info(key: &str) -> Option<&'static MeasureInfo> {
    MEASURES.iter().find(|m| m.key == key)
}

/// One network's precomputed pieces.
pub struct Summary {
    n: usize,
    p: usize,
    /// Unit-centred data.
    xc: Array2<f64>,
    /// Lower triangle, diagonal included, of K = X̃X̃ᵀ, row by row.
    kernel: Vec<f64>,
    k_diag: Vec<f64>,
    k_fro: f64,
    /// Row sums of K with its diagonal zeroed, their total, and the unbiased HSIC with itself.
    k_rows: Vec<f64>,
    k_total: f64,
    hsic1_self: f64,
    /// ‖X̃‖_F and, when p > n, a B (n × n) with X̃ = B Vᵀ, Vᵀ with orthonormal rows.
    norm: f64,
    factor: Option<Array2<f64>>,
    /// RSM pieces: row sums of X̃ over √p, 1/√ of the row-centred kernel's diagonal (0 for a
    /// constant image).
    row_sums: Vec<f64>,
    rsm_inv: Vec<f64>,
    /// The pieces only some measures need, made on first use (a measure asked for alone
    /// costs only its own): the RSM triangle's mean and centred norm; twice the average rank
    /// of each strictly lower RSM cell with Σ(2r − N − 1)²; each image's k nearest other
    /// images, sorted.
    rsm_stats: OnceLock<(f64, f64)>,
    ranks: OnceLock<(Vec<u32>, f64)>,
    knn: OnceLock<Vec<u32>>,
    k: usize,
}

/// A network's summary takes about 6n² bytes (packed kernel and ranks): 2.4 GB at this n.
pub const MAX_IMAGES: usize = 20_000;

fn tri(i: usize) -> usize {
    i * (i + 1) / 2
}

impl Summary {
    pub fn new(x: ArrayView2<f64>, knn: usize) -> Result<Self, SimilarityError> {
        let (n, p) = x.dim();
        if n < 4 {
            return Err(SimilarityError::TooFewImages(n));
        }
        if n > MAX_IMAGES {
            return Err(SimilarityError::TooManyImages(n));
        }
        let mean = x
            .mean_axis(Axis(0))
            .unwrap_or_else(|| ndarray::Array1::zeros(p));
        let mut xc = &x - &mean;
        // Every measure is scale-invariant; unit max-abs keeps the kernels clear of under/overflow.
        let top = xc.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if top > 0.0 && top.is_finite() {
            xc /= top;
        }
        let kernel = crate::linalg::gram_lower_packed(xc.view());
        let k_diag: Vec<f64> = (0..n).map(|i| kernel[tri(i) + i]).collect();
        let mut k_rows = vec![0.0; n];
        let mut fro = 0.0;
        for i in 0..n {
            let row = &kernel[tri(i)..tri(i) + i];
            for (j, &v) in row.iter().enumerate() {
                k_rows[i] += v;
                k_rows[j] += v;
                fro += 2.0 * v * v;
            }
            fro += k_diag[i] * k_diag[i];
        }
        let k_total: f64 = k_rows.iter().sum();
        let norm = k_diag.iter().sum::<f64>().max(0.0).sqrt();
        let factor = if p <= n {
            None
        } else {
            let (u, sv, _) = crate::linalg::thin_svd(xc.view())?;
            Some(u * &sv)
        };
        let root_p = (p.max(1) as f64).sqrt();
        let row_sums: Vec<f64> = xc.rows().into_iter().map(|r| r.sum() / root_p).collect();
        let rsm_inv: Vec<f64> = (0..n)
            .map(|i| {
                let d = (k_diag[i] - row_sums[i] * row_sums[i]).max(0.0).sqrt();
                if d > 0.0 {
                    1.0 / d
                } else {
                    0.0
                }
            })
            .collect();
        let mut s = Summary {
            n,
            p,
            xc,
            kernel,
            k_diag,
            k_fro: fro.sqrt(),
            k_rows,
            k_total,
            hsic1_self: 0.0,
            norm,
            factor,
            row_sums,
            rsm_inv,
            rsm_stats: OnceLock::new(),
            ranks: OnceLock::new(),
            knn: OnceLock::new(),
            k: knn.clamp(1, n - 1),
        };
        s.hsic1_self = hsic1(&s, &s);
        Ok(s)
    }

    /// The RSM triangle's mean and centred norm.
    fn rsm_stats(&self) -> (f64, f64) {
        *self.rsm_stats.get_or_init(|| {
            let cells = self.rsm_cells();
            let mean = cells.iter().sum::<f64>() / cells.len() as f64;
            let norm = cells
                .iter()
                .map(|v| (v - mean) * (v - mean))
                .sum::<f64>()
                .sqrt();
            (mean, norm)
        })
    }

    /// Twice the average rank of each RSM cell, and Σ(2r − N − 1)².
    fn ranks(&self) -> (&[u32], f64) {
        let (r, norm) = self.ranks.get_or_init(|| {
            let cells = self.rsm_cells();
            let ranks2 = average_ranks2(&cells);
            let centre = cells.len() as f64 + 1.0;
            let norm = ranks2
                .iter()
                .map(|&r| (r as f64 - centre).powi(2))
                .sum::<f64>()
                .sqrt();
            (ranks2, norm)
        });
        (r, *norm)
    }

    fn knn(&self) -> &[u32] {
        self.knn.get_or_init(|| self.neighbours())
    }

    /// With every on-demand piece made, for callers that run every measure.
    pub fn complete(self) -> Self {
        self.rsm_stats();
        self.ranks();
        self.knn();
        self
    }

    pub fn n_units(&self) -> usize {
        self.p
    }

    /// Same nuclear norms against any other network as X̃ itself.
    fn factor(&self) -> ArrayView2<'_, f64> {
        self.factor.as_ref().map_or(self.xc.view(), |f| f.view())
    }

    fn kern(&self, i: usize, j: usize) -> f64 {
        let (a, b) = if i >= j { (i, j) } else { (j, i) };
        self.kernel[tri(a) + b]
    }

    /// Row i of the RSM's strict lower triangle (Pearson r across units of images i and j < i;
    /// 0 with a constant image): the row-centred kernel K − uuᵀ, scaled by its diagonal.
    fn rsm_row(&self, i: usize, out: &mut [f64]) {
        let k = &self.kernel[tri(i)..tri(i) + i];
        let (ui, si) = (self.row_sums[i], self.rsm_inv[i]);
        for (((o, &kv), &uj), &sj) in out.iter_mut().zip(k).zip(&self.row_sums).zip(&self.rsm_inv) {
            *o = (kv - ui * uj) * si * sj;
        }
    }

    /// Strictly lower RSM cells, row by row.
    fn rsm_cells(&self) -> Vec<f64> {
        let mut v = vec![0.0; self.n * (self.n - 1) / 2];
        for i in 1..self.n {
            self.rsm_row(i, &mut v[tri(i - 1)..tri(i)]);
        }
        v
    }

    /// Cosine neighbours; equal similarities go to the lower index.
    fn neighbours(&self) -> Vec<u32> {
        let (n, k) = (self.n, self.k);
        let norms: Vec<f64> = self.k_diag.iter().map(|d| d.max(0.0).sqrt()).collect();
        let mut out = Vec::with_capacity(n * k);
        let mut row: Vec<(f64, u32)> = Vec::with_capacity(n - 1);
        for i in 0..n {
            row.clear();
            for j in (0..n).filter(|&j| j != i) {
                let d = norms[i] * norms[j];
                let c = if d > 0.0 { self.kern(i, j) / d } else { 0.0 };
                row.push((c, j as u32));
            }
            let cmp = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            row.select_nth_unstable_by(k - 1, cmp);
            let mut top: Vec<u32> = row[..k].iter().map(|e| e.1).collect();
            top.sort_unstable();
            out.extend(top);
        }
        out
    }
}

/// An integer whose unsigned order is the order of the (non-NaN) floats.
fn order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Twice the average rank (1-based) of each value; ties share their mean rank.
fn average_ranks2(v: &[f64]) -> Vec<u32> {
    // Sort (order-preserving integer key, index) pairs: contiguous, so cache-friendly.
    let mut idx: Vec<(u64, u32)> = v
        .iter()
        .enumerate()
        .map(|(i, &x)| (order_key(x), i as u32))
        .collect();
    radix_sort(&mut idx);
    let mut out = vec![0u32; v.len()];
    let mut start = 0;
    while start < idx.len() {
        let first = v[idx[start].1 as usize];
        let mut end = start + 1;
        // Equal values (0.0 and −0.0 included) sit next to each other.
        while end < idx.len() && v[idx[end].1 as usize] == first {
            end += 1;
        }
        // Ranks start+1 ..= end; twice their mean is start + 1 + end.
        let r2 = (start + 1 + end) as u32;
        for &(_, i) in &idx[start..end] {
            out[i as usize] = r2;
        }
        start = end;
    }
    out
}

/// Sorts by key (stable; LSD radix, 8 bits a pass). About 4 times faster than a comparison
/// sort on the n(n − 1)/2 RSM cells, which every network's Spearman ranks need; passes in which
/// every key has the same byte are skipped.
fn radix_sort(v: &mut Vec<(u64, u32)>) {
    let mut buf = vec![(0u64, 0u32); v.len()];
    for pass in 0..8 {
        let shift = pass * 8;
        let mut counts = [0usize; 256];
        for &(k, _) in v.iter() {
            counts[((k >> shift) & 0xff) as usize] += 1;
        }
        if counts.contains(&v.len()) {
            continue;
        }
        let mut start = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = start;
            start += n;
        }
        for &e in v.iter() {
            let b = ((e.0 >> shift) & 0xff) as usize;
            buf[counts[b]] = e;
            counts[b] += 1;
        }
        std::mem::swap(v, &mut buf);
    }
}

/// Σ over all cells of K_a ∘ K_b, from the packed triangles.
fn kernel_dot(a: &Summary, b: &Summary) -> f64 {
    let mut off = 0.0;
    let mut diag = 0.0;
    for i in 0..a.n {
        let (ra, rb) = (&a.kernel[tri(i)..tri(i) + i], &b.kernel[tri(i)..tri(i) + i]);
        off += ra.iter().zip(rb).map(|(x, y)| x * y).sum::<f64>();
        diag += a.k_diag[i] * b.k_diag[i];
    }
    2.0 * off + diag
}

/// Unbiased HSIC (Song et al. 2012) without its 1/(n(n−3)) factor, which cancels in CKA.
fn hsic1(a: &Summary, b: &Summary) -> f64 {
    let n = a.n as f64;
    let off = kernel_dot(a, b)
        - a.k_diag
            .iter()
            .zip(&b.k_diag)
            .map(|(x, y)| x * y)
            .sum::<f64>();
    let rows: f64 = a.k_rows.iter().zip(&b.k_rows).map(|(x, y)| x * y).sum();
    off + a.k_total * b.k_total / ((n - 1.0) * (n - 2.0)) - 2.0 / (n - 2.0) * rows
}

fn check(a: &Summary, b: &Summary) -> Result<(), SimilarityError> {
    if a.n != b.n {
        return Err(SimilarityError::Rows(a.n, b.n));
    }
    Ok(())
}

pub fn cka_linear_of(a: &Summary, b: &Summary) -> f64 {
    let d = a.k_fro * b.k_fro;
    if d > 0.0 {
        // Cauchy–Schwarz bounds it; the clamp only trims rounding.
        (kernel_dot(a, b) / d).clamp(0.0, 1.0)
    } else {
        f64::NAN
    }
}

/// NaN only when a network is constant over the images (its U-centred kernel is zero).
pub fn cka_linear_debiased_of(a: &Summary, b: &Summary) -> f64 {
    let d = a.hsic1_self * b.hsic1_self;
    if d > 0.0 {
        (hsic1(a, b) / d.sqrt()).clamp(-1.0, 1.0)
    } else {
        f64::NAN
    }
}

/// Cosine of the Procrustes angle: ‖X̃ᵀỸ‖_* / (‖X̃‖ ‖Ỹ‖).
fn procrustes_cos(a: &Summary, b: &Summary) -> Result<f64, SimilarityError> {
    let d = a.norm * b.norm;
    if d <= 0.0 {
        return Ok(f64::NAN);
    }
    if std::ptr::eq(a, b) {
        // X̃ᵀX̃ is symmetric PSD: its singular values are its eigenvalues, summing to ‖X̃‖².
        return Ok(1.0);
    }
    let m = crate::linalg::matmul_serial(a.factor().t(), b.factor());
    let nuc: f64 = crate::linalg::singular_values(m.view())?.sum();
    Ok((nuc / d).clamp(-1.0, 1.0))
}

pub fn procrustes_of(a: &Summary, b: &Summary) -> Result<(f64, f64), SimilarityError> {
    let c = procrustes_cos(a, b)?;
    Ok((c.acos(), (2.0 - 2.0 * c).max(0.0).sqrt()))
}

pub fn rsa_pearson_of(a: &Summary, b: &Summary) -> f64 {
    let (mut ra, mut rb) = (vec![0.0; a.n], vec![0.0; a.n]);
    let ((a_mean, a_norm), (b_mean, b_norm)) = (a.rsm_stats(), b.rsm_stats());
    let mut acc = 0.0;
    for i in 1..a.n {
        a.rsm_row(i, &mut ra[..i]);
        b.rsm_row(i, &mut rb[..i]);
        acc += ra[..i]
            .iter()
            .zip(&rb[..i])
            .map(|(x, y)| (x - a_mean) * (y - b_mean))
            .sum::<f64>();
    }
    let d = a_norm * b_norm;
    if d > 0.0 {
        (acc / d).clamp(-1.0, 1.0)
    } else {
        f64::NAN
    }
}

pub fn rsa_spearman_of(a: &Summary, b: &Summary) -> f64 {
    let ((ra, a_norm), (rb, b_norm)) = (a.ranks(), b.ranks());
    let centre = ra.len() as f64 + 1.0;
    let acc: f64 = ra
        .iter()
        .zip(rb)
        .map(|(&x, &y)| (x as f64 - centre) * (y as f64 - centre))
        .sum();
    let d = a_norm * b_norm;
    if d > 0.0 {
        (acc / d).clamp(-1.0, 1.0)
    } else {
        f64::NAN
    }
}

/// Mean over units of r(unit d of a, unit d of b), skipping constant units; NaN for unequal widths.
pub fn isc_pair_of(a: &Summary, b: &Summary) -> f64 {
    if a.p != b.p {
        return f64::NAN;
    }
    // Row by row: the data are row-major.
    let p = a.p;
    let (mut xy, mut xx, mut yy) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    for (ra, rb) in a.xc.rows().into_iter().zip(b.xc.rows()) {
        let sums = xy.iter_mut().zip(xx.iter_mut()).zip(yy.iter_mut());
        for (((s, q), r), (&u, &v)) in sums.zip(ra.iter().zip(rb.iter())) {
            *s += u * v;
            *q += u * u;
            *r += v * v;
        }
    }
    let (mut sum, mut cnt) = (0.0, 0usize);
    for d in 0..p {
        if xx[d] > 0.0 && yy[d] > 0.0 {
            sum += (xy[d] / (xx[d] * yy[d]).sqrt()).clamp(-1.0, 1.0);
            cnt += 1;
        }
    }
    if cnt > 0 {
        sum / cnt as f64
    } else {
        f64::NAN
    }
}

pub fn mutual_knn_of(a: &Summary, b: &Summary) -> f64 {
    let k = a.k.min(b.k);
    let (ka, kb) = (a.knn(), b.knn());
    let mut shared = 0usize;
    for i in 0..a.n {
        let (x, y) = (&ka[i * a.k..i * a.k + k], &kb[i * b.k..i * b.k + k]);
        let (mut p, mut q) = (0, 0);
        while p < x.len() && q < y.len() {
            match x[p].cmp(&y[q]) {
                std::cmp::Ordering::Less => p += 1,
                std::cmp::Ordering::Greater => q += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    p += 1;
                    q += 1;
                }
            }
        }
    }
    shared as f64 / (a.n * k) as f64
}

/// Every measure for one pair, in [`MEASURES`] order.
pub fn all_of(a: &Summary, b: &Summary) -> Result<[f64; 8], SimilarityError> {
    all_with(a, b, true)
}

/// As [`all_of`]; `procrustes: false` leaves the two Procrustes distances NaN (their SVD is
/// most of the cost).
pub fn all_with(a: &Summary, b: &Summary, procrustes: bool) -> Result<[f64; 8], SimilarityError> {
    check(a, b)?;
    let (ang, euc) = if procrustes {
        procrustes_of(a, b)?
    } else {
        (f64::NAN, f64::NAN)
    };
    Ok([
        cka_linear_of(a, b),
        cka_linear_debiased_of(a, b),
        ang,
        euc,
        rsa_pearson_of(a, b),
        rsa_spearman_of(a, b),
        isc_pair_of(a, b),
        mutual_knn_of(a, b),
    ])
}

macro_rules! pure {
    ($(#[$doc:meta])* $name:ident, $of:ident) => {
        $(#[$doc])*
        pub fn $name(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<f64, SimilarityError> {
            let (a, b) = (Summary::new(x, 1)?, Summary::new(y, 1)?);
            check(&a, &b)?;
            Ok($of(&a, &b))
        }
    };
}

pure!(
    /// Linear CKA, biased HSIC estimator.
    cka_linear,
    cka_linear_of
);
pure!(
    /// Linear CKA, unbiased HSIC estimator.
    cka_linear_debiased,
    cka_linear_debiased_of
);
pure!(
    /// Pearson r between the RSMs' lower triangles.
    rsa_pearson,
    rsa_pearson_of
);
pure!(
    /// Spearman ρ between the RSMs' lower triangles.
    rsa_spearman,
    rsa_spearman_of
);
pure!(
    /// Mean per-unit correlation (equal widths).
    isc_pair,
    isc_pair_of
);

/// Procrustes (angular, Euclidean) shape distances.
pub fn procrustes(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<(f64, f64), SimilarityError> {
    let (a, b) = (Summary::new(x, 1)?, Summary::new(y, 1)?);
    check(&a, &b)?;
    procrustes_of(&a, &b)
}

/// Mutual k-nearest-neighbour overlap.
pub fn mutual_knn(
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    k: usize,
) -> Result<f64, SimilarityError> {
    let (a, b) = (Summary::new(x, k)?, Summary::new(y, k)?);
    check(&a, &b)?;
    Ok(mutual_knn_of(&a, &b))
}

/// An m × m matrix per measure key (NaN where undefined).
pub type PairMatrices = BTreeMap<String, Vec<Vec<f64>>>;

/// Every measure for every pair of networks (symmetric; the diagonal is each network against
/// itself). Networks are summarised in parallel, then pairs in parallel.
pub fn pair_matrices(xs: &[ArrayView2<f64>], knn: usize) -> Result<PairMatrices, SimilarityError> {
    pair_matrices_with(xs, knn, true)
}

/// As [`pair_matrices`]; see [`all_with`] for `procrustes`.
pub fn pair_matrices_with(
    xs: &[ArrayView2<f64>],
    knn: usize,
    procrustes: bool,
) -> Result<PairMatrices, SimilarityError> {
    // Every measure runs: make each network's ranks and neighbours here, in parallel, rather
    // than in whichever pair first asks.
    let sums: Vec<Summary> = xs
        .par_iter()
        .map(|x| Summary::new(*x, knn).map(Summary::complete))
        .collect::<Result<_, _>>()?;
    pair_matrices_of(&sums, procrustes)
}

pub fn pair_matrices_of(
    sums: &[Summary],
    procrustes: bool,
) -> Result<PairMatrices, SimilarityError> {
    let m = sums.len();
    let pairs: Vec<(usize, usize)> = (0..m).flat_map(|i| (i..m).map(move |j| (i, j))).collect();
    let vals: Vec<[f64; 8]> = pairs
        .par_iter()
        .map(|&(i, j)| all_with(&sums[i], &sums[j], procrustes))
        .collect::<Result<_, _>>()?;
    let mut out = PairMatrices::new();
    for (q, info) in MEASURES.iter().enumerate() {
        let mut mat = vec![vec![f64::NAN; m]; m];
        for (&(i, j), v) in pairs.iter().zip(&vals) {
            mat[i][j] = v[q];
            mat[j][i] = v[q];
        }
        out.insert(info.key.to_string(), mat);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(average_ranks2(&[3.0, 1.0, 3.0, 2.0]), vec![7, 2, 7, 4]);
    }

    #[test]
    fn radix_sort_orders_like_a_comparison_sort() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        // Negative, positive, ±0, repeated and widely spread keys.
        let vals: Vec<f64> = (0..5000)
            .map(|i| match i % 7 {
                0 => 0.0,
                1 => -0.0,
                2 => (rng.random_range(0..5) as f64) - 2.0,
                3 => rng.random_range(-1e300..1e300),
                _ => rng.random_range(-1.0..1.0),
            })
            .collect();
        let mut a: Vec<(u64, u32)> = vals
            .iter()
            .enumerate()
            .map(|(i, &x)| (order_key(x), i as u32))
            .collect();
        let mut b = a.clone();
        radix_sort(&mut a);
        b.sort_unstable();
        assert_eq!(
            a, b,
            "stable on (key, index) pairs that start in index order"
        );
        let ranks = average_ranks2(&vals);
        let mut sorted = vals.clone();
        sorted.sort_by(f64::total_cmp);
        // The smallest value's rank: the mean of 1..=(its count), doubled.
        let lowest = sorted[0];
        let count = vals.iter().filter(|&&x| x == lowest).count();
        let i = vals.iter().position(|&x| x == lowest).unwrap();
        assert_eq!(ranks[i] as usize, count + 1);
    }

    #[test]
    fn metadata_keys_are_unique() {
        for (i, a) in MEASURES.iter().enumerate() {
            assert!(MEASURES[i + 1..].iter().all(|b| b.key != a.key));
            assert!(a.range.0 <= a.self_value && a.self_value <= a.range.1);
        }
    }
}
