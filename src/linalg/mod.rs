//! The small linear-algebra surface srmscope needs: matrix products, thin SVD, symmetric
//! eigendecomposition and Cholesky, behind the backend feature (faer by default, LAPACK/OpenBLAS
//! with `--features lapack`), plus a Householder QR with LAPACK's sign rule that both share.

use ndarray::{Array1, Array2, ArrayView2};

#[cfg(not(feature = "lapack"))]
mod faer_backend;
#[cfg(not(feature = "lapack"))]
use faer_backend as backend;
#[cfg(feature = "lapack")]
mod lapack_backend;
#[cfg(feature = "lapack")]
use lapack_backend as backend;

mod qr;
mod random;
pub use qr::householder_qr;
pub use random::gaussian;

/// A thin SVD: U (m × r), singular values (r, descending), Vᵀ (r × n).
pub type Svd = (Array2<f64>, Array1<f64>, Array2<f64>);

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LinalgError {
    #[error("matrix is not positive definite (Cholesky failed)")]
    NotPositiveDefinite,
    #[error("{0} did not converge")]
    NoConvergence(&'static str),
}

/// Which backend this build uses, for messages and benchmarks.
pub const BACKEND: &str = if cfg!(feature = "lapack") {
    "lapack (OpenBLAS)"
} else {
    "faer"
};

/// The widest SIMD instructions this CPU offers the matrix products (faer picks AVX-512 when
/// the CPU has it, else AVX2 with FMA; neither faer nor pulp has a switch to cap it).
pub fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            "AVX-512"
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            "AVX2+FMA (no AVX-512)"
        } else {
            "SSE2 only"
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        "not x86-64"
    }
}

/// `a · b`, parallel where the backend allows it.
pub fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    backend::matmul(a, b)
}

/// `c += alpha · a · b` in place, on every core: sums of products need no temporaries.
pub fn matmul_add(c: &mut Array2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>, alpha: f64) {
    backend::matmul_add(c, a, b, alpha)
}

/// `a · b` on the calling thread only, for use inside per-network parallel loops.
pub fn matmul_serial(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    backend::matmul_serial(a, b)
}

/// `a · b` on the calling thread, the result in column-major (Fortran) order: the fastest
/// orientation for a product whose left factor is a transposed row-major matrix.
pub fn matmul_serial_f(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    backend::matmul_serial_f(a, b)
}

/// [`matmul_serial_f`] in single precision.
pub fn matmul_f32_serial_f(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    backend::matmul_serial_f(a, b)
}

/// [`project_sum`] with float32 products (`--precision f32`), the sum kept in float64.
pub fn project_sum_f32(
    c: &mut ndarray::ArrayViewMut2<f64>,
    terms: &[(ArrayView2<f32>, ArrayView2<f32>, f64)],
) {
    backend::project_sum_f32(c, terms)
}

/// `c += Σ_i alpha_i · w_iᵀ x_iᵀ` (c k × T, w_i v_i × k, x_i T × v_i), on every core; each
/// entry's terms are added in network order whatever the number of threads. Fastest with `c`
/// column-major and every `x_i` row-major.
pub fn project_sum(
    c: &mut ndarray::ArrayViewMut2<f64>,
    terms: &[(ArrayView2<f64>, ArrayView2<f64>, f64)],
) {
    backend::project_sum(c, terms)
}

/// `a · b` in single precision (`--precision f32`), on every core or on the calling thread.
pub fn matmul_f32(a: ArrayView2<f32>, b: ArrayView2<f32>, parallel: bool) -> Array2<f32> {
    backend::matmul_f32(a, b, parallel)
}

/// The lower triangle (diagonal included) of `a · aᵀ`, packed row by row (row i's i + 1
/// entries from offset i(i + 1)/2), on the calling thread. Made in blocks of rows, each the
/// product with the rows up to its own: about half the work of the full product, and no n × n
/// matrix (the summaries' 2000 × 2000 kernels: 0.46 → 0.3 s for ten on 2 cores).
pub fn gram_lower_packed(a: ArrayView2<f64>) -> Vec<f64> {
    const BLOCK: usize = 128;
    let n = a.nrows();
    let mut packed = Vec::with_capacity(n * (n + 1) / 2);
    for i0 in (0..n).step_by(BLOCK) {
        let i1 = (i0 + BLOCK).min(n);
        let rows = a.slice(ndarray::s![i0..i1, ..]);
        let prefix = a.slice(ndarray::s![..i1, ..]);
        let blk = matmul_serial(rows, prefix.t());
        for (r, row) in blk.rows().into_iter().enumerate() {
            packed.extend(row.iter().take(i0 + r + 1));
        }
    }
    packed
}

/// Maps `f` over `0..n` (one item per network), in parallel where the backend's kernels are
/// single-threaded inside the loop; OpenBLAS threads itself, so the LAPACK build stays serial.
pub fn map_networks<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(not(feature = "lapack"))]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(feature = "lapack")]
    {
        (0..n).map(f).collect()
    }
}

/// The Q factor (m × min(m, n)) of a reduced QR with LAPACK's sign rule, as numpy's
/// `linalg.qr` gives it (blocked on the faer backend; [`householder_qr`] is the reference).
pub fn thin_q(a: ArrayView2<f64>) -> Array2<f64> {
    backend::thin_q(a)
}

/// Thin SVD of an m × n matrix: `(U m×r, s r, Vᵀ r×n)` with r = min(m, n), s descending.
pub fn thin_svd(a: ArrayView2<f64>) -> Result<Svd, LinalgError> {
    backend::thin_svd(a)
}

/// Singular values only (descending), cheaper than [`thin_svd`] when the vectors are not needed.
pub fn singular_values(a: ArrayView2<f64>) -> Result<Array1<f64>, LinalgError> {
    backend::singular_values(a)
}

/// Symmetric eigendecomposition: eigenvalues ascending, eigenvectors in the columns.
pub fn sym_eigh(a: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>), LinalgError> {
    backend::sym_eigh(a)
}

/// Lower Cholesky factor L with a = L Lᵀ.
pub fn cholesky(a: ArrayView2<f64>) -> Result<Array2<f64>, LinalgError> {
    backend::cholesky(a)
}

/// The orthogonal polar factor `U Vᵀ` of `a` (m × n, m ≥ n): the W with WᵀW = I maximising
/// tr(Wᵀa). Unique when `a` has full column rank, so every backend gives the same W.
pub fn procrustes(a: ArrayView2<f64>) -> Result<Array2<f64>, LinalgError> {
    if a.ncols() >= POLAR_EIGH_MIN_COLS && a.nrows() >= a.ncols() {
        if let Some(w) = polar_by_eigh(a)? {
            return Ok(w);
        }
    }
    let (u, _s, vt) = thin_svd(a)?;
    Ok(matmul_serial(u.view(), vt.view()))
}

/// From this many columns the polar factor goes through the eigendecomposition of aᵀa: about
/// twice as fast as an SVD at the paper's sizes (512², 1000²), and 4× on the small benchmark's
/// 512 × 50 (0.4 ms against 1.7 ms, a tenth of its fit); below it the SVD is cheap anyway.
const POLAR_EIGH_MIN_COLS: usize = 16;

/// Eigenvalues of aᵀa below this × the largest are "small": their directions get a separate
/// SVD. Above it, the eigen route's error is ≤ ε·κ² ≈ 1e-10 (κ ≤ 10³ on those directions).
const POLAR_EIGH_SMALL_RATIO: f64 = 1e-6;

/// The largest small eigenvalue must be below this × the smallest large one.
const POLAR_EIGH_SPLIT_GAP: f64 = 1e-2;

/// At most this many small directions (row z-scoring makes one per network; BrainIAK's
/// perturbation keeps it nonzero); more and the whole SVD is the simpler route.
fn polar_eigh_max_small(n: usize) -> usize {
    (n / 32).max(4)
}

/// The polar factor from aᵀa = VΛVᵀ: a M with M = V_b Λ_b^(-1/2) V_bᵀ on the well-conditioned
/// directions, plus polar(P a V_s) V_sᵀ on the few small ones, where P projects out the columns
/// a V_b Λ_b^(-1/2) already found (V_s spans the small directions accurately even when each
/// vector in it does not). None when there are too many small directions or they are
/// degenerate: the caller then takes the SVD of a.
///
/// M is formed first (n × n, a symmetric rank update) so `a` meets one product, not two: on
/// 512 × 50 that is a fifth of the work, on the paper's 512 × 512 a third of the products.
fn polar_by_eigh(a: ArrayView2<f64>) -> Result<Option<Array2<f64>>, LinalgError> {
    let g = gram(a);
    let (lam, v) = sym_eigh(g.view())?;
    let n = lam.len();
    let Some(&hi) = lam.last() else {
        return Ok(None);
    };
    if hi <= 0.0 || lam.iter().any(|l| l.is_nan()) {
        return Ok(None);
    }
    // Ascending, so the small ones come first.
    let below = lam
        .iter()
        .take_while(|&&l| l < hi * POLAR_EIGH_SMALL_RATIO)
        .count();
    // The split is accurate only across a clear gap (eigenvectors on either side mix by
    // ε·λ_max/gap), so it moves up to the first one; a spectrum that runs smoothly through
    // the threshold and beyond takes the SVD.
    let Some(r) = (below..=polar_eigh_max_small(n).min(n - 1))
        .find(|&r| r == 0 || lam[r - 1] <= lam[r] * POLAR_EIGH_SPLIT_GAP)
    else {
        return Ok(None);
    };
    let (v_small, v_big) = v.view().split_at(ndarray::Axis(1), r);
    let lam_big = lam.slice(ndarray::s![r..]);
    // M = F Fᵀ with F = V_b Λ_b^(-1/4): symmetric by construction.
    let f = &v_big * &lam_big.mapv(|l| l.powf(-0.25));
    let mut w = matmul(a, gram(f.t()).view());
    if r > 0 {
        let mut b = matmul(a, v_small);
        // U_b U_bᵀ b with U_b = a V_b Λ_b^(-1/2) is a V_b Λ_b⁻¹ V_bᵀ aᵀ b: thin products only.
        let mut y = matmul(v_big.t(), matmul(a.t(), b.view()).view());
        y /= &lam_big.insert_axis(ndarray::Axis(1));
        b -= &matmul(a, matmul(v_big, y.view()).view());
        let (u, s, vt) = thin_svd(b.view())?;
        // A degenerate small block has no unique polar factor; its SVD's U need not be
        // orthogonal to the big block's columns then.
        if s.iter()
            .any(|&x| x.is_nan() || x <= hi.sqrt() * f64::EPSILON * n as f64 * 16.0)
        {
            return Ok(None);
        }
        w += &matmul(matmul(u.view(), vt.view()).view(), v_small.t());
    }
    Ok(Some(w))
}

/// Inverse and log-determinant of a symmetric positive-definite matrix through Cholesky, as
/// BrainIAK's `cho_factor`/`cho_solve` pair does.
pub fn spd_inverse(a: ArrayView2<f64>) -> Result<(Array2<f64>, f64), LinalgError> {
    backend::spd_inverse(a)
}

/// `aᵀa` (n × n for an m × n `a`), accumulated over row blocks of at most `block` rows that
/// `rows(start, end)` produces on demand, so no m × n copy is ever needed.
pub fn gram_by_blocks(
    n: usize,
    m: usize,
    block: usize,
    mut rows: impl FnMut(usize, usize) -> Array2<f64>,
) -> Array2<f64> {
    let mut g = Array2::<f64>::zeros((n, n));
    let mut start = 0;
    while start < m {
        let end = (start + block.max(1)).min(m);
        let chunk = rows(start, end);
        backend::tn_lower_add(&mut g.view_mut(), chunk.view(), chunk.view());
        start = end;
    }
    mirror_lower(&mut g);
    g
}

/// `aᵀa` as a full symmetric matrix, from one symmetric rank update (half a product).
pub fn gram(a: ArrayView2<f64>) -> Array2<f64> {
    symmetric_product(a, a)
}

/// `aᵀb` for a product known to be symmetric (wᵀGw with b = Gw, G symmetric): only its lower
/// triangle is computed and then mirrored, half the work, and the result is exactly symmetric.
pub fn symmetric_product(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let mut g = Array2::<f64>::zeros((a.ncols(), b.ncols()));
    if a.nrows() > 0 {
        backend::tn_lower_add(&mut g.view_mut(), a, b);
    }
    mirror_lower(&mut g);
    g
}

/// Lower triangle (diagonal included) of `c += aᵀa`; the upper triangle is left untouched.
pub fn syrk_lower_add(c: &mut ndarray::ArrayViewMut2<f64>, a: ArrayView2<f64>) {
    backend::tn_lower_add(c, a, a)
}

/// Copies the lower triangle onto the upper.
pub fn mirror_lower(g: &mut Array2<f64>) {
    for i in 0..g.nrows() {
        for j in 0..i {
            g[[j, i]] = g[[i, j]];
        }
    }
}

/// Sums `f(i)` over `0..n` (one term per network) with `add`, in parallel like
/// [`map_networks`] but holding at most one term per thread besides the sum: the networks run
/// in batches of one per thread and are added in index order, so the result does not depend
/// on scheduling. (A rayon reduction tree keeps one partial sum per level waiting: 1.7 GB peak
/// on 10 networks' k × T terms at paper scale, against 0.85 GB for the data.)
pub fn sum_networks<T: Send>(
    n: usize,
    f: impl Fn(usize) -> T + Sync + Send,
    add: impl Fn(T, T) -> T + Sync + Send,
) -> Option<T> {
    #[cfg(not(feature = "lapack"))]
    let batch = rayon::current_num_threads().max(1);
    #[cfg(feature = "lapack")]
    let batch = 1;
    let mut acc: Option<T> = None;
    for start in (0..n).step_by(batch) {
        let end = (start + batch).min(n);
        #[cfg(not(feature = "lapack"))]
        let terms: Vec<T> = {
            use rayon::prelude::*;
            (start..end).into_par_iter().map(&f).collect()
        };
        #[cfg(feature = "lapack")]
        let terms: Vec<T> = (start..end).map(&f).collect();
        for term in terms {
            acc = Some(match acc {
                Some(a) => add(a, term),
                None => term,
            });
        }
    }
    acc
}

/// ‖X − 1μᵀ‖², or ‖X‖² when `mu` is None, without a centred copy.
pub fn centred_sum_sq(x: &ArrayView2<f64>, mu: Option<&Array1<f64>>) -> f64 {
    let zeros;
    let mu = match mu {
        Some(mu) => mu.view(),
        None => {
            zeros = Array1::<f64>::zeros(x.ncols());
            zeros.view()
        }
    };
    x.rows()
        .into_iter()
        .map(|row| match (row.as_slice(), mu.as_slice()) {
            (Some(r), Some(m)) => lane_sum(r, m, |v, m| (v - m) * (v - m)),
            _ => row.iter().zip(&mu).map(|(v, m)| (v - m) * (v - m)).sum(),
        })
        .sum()
}

/// Whether every entry is finite.
pub fn all_finite(x: &ArrayView2<f64>) -> bool {
    match x.as_slice_memory_order() {
        // v·0 is 0 for every finite v and NaN otherwise.
        Some(s) => lane_sum(s, s, |v, _| v * 0.0) == 0.0,
        None => x.iter().all(|v| v.is_finite()),
    }
}

/// Σ f(a_j, b_j) with eight running sums: one running sum is a chain of dependent additions
/// the compiler may not reorder, eight vectorise (the small benchmark's ‖X̃_i‖²: 10 ms → 3 ms).
fn lane_sum(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    const LANES: usize = 8;
    let mut acc = [0.0f64; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(&x, &y)| f(x, y))
        .sum();
    for (x, y) in ac.zip(bc) {
        for j in 0..LANES {
            acc[j] += f(x[j], y[j]);
        }
    }
    acc.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn matmul_matches_ndarray_for_strided_views() {
        let a = Array2::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f64 * 0.1 - 1.0);
        let b = Array2::from_shape_fn((7, 3), |(i, j)| ((i + 2 * j) % 5) as f64 - 2.0);
        // aᵀ·b with a transposed (column-major) view exercises the stride handling.
        let got = matmul(a.t(), b.view());
        assert_abs_diff_eq!(got, a.t().dot(&b), epsilon = 1e-12);
        // c += alpha·aᵀb, into a standard-layout c and into a transposed (column-major) one.
        let start = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64) - 0.5 * j as f64);
        let want = &start + &(a.t().dot(&b) * 0.25);
        let mut c = start.clone();
        matmul_add(&mut c, a.t(), b.view(), 0.25);
        assert_abs_diff_eq!(c, want, epsilon = 1e-12);
        let mut ct = start.t().as_standard_layout().into_owned().reversed_axes();
        assert!(!ct.is_standard_layout());
        matmul_add(&mut ct, a.t(), b.view(), 0.25);
        assert_abs_diff_eq!(ct, want, epsilon = 1e-12);
    }

    #[test]
    fn thin_svd_reconstructs() {
        let a = Array2::from_shape_fn((9, 4), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let (u, s, vt) = thin_svd(a.view()).expect("svd");
        assert_eq!(u.dim(), (9, 4));
        assert_eq!(vt.dim(), (4, 4));
        let rec = u.dot(&Array2::from_diag(&s)).dot(&vt);
        assert_abs_diff_eq!(rec, a, epsilon = 1e-10);
        assert!(s.windows(2).into_iter().all(|w| w[0] >= w[1]));
    }

    #[test]
    fn procrustes_is_orthonormal_and_recovers_rotation() {
        let (q, _) = householder_qr(
            Array2::from_shape_fn((6, 6), |(i, j)| ((i * 13 + j * 7) % 17) as f64 / 17.0).view(),
        );
        let w = procrustes(q.view()).expect("procrustes");
        assert_abs_diff_eq!(w, q, epsilon = 1e-10);
        assert_abs_diff_eq!(w.t().dot(&w), Array2::<f64>::eye(6), epsilon = 1e-12);
    }

    /// a = U diag(s) Vᵀ with known factors, so its polar factor U Vᵀ is known exactly.
    fn with_singular_values(m: usize, s: &[f64], seed: u64) -> (Array2<f64>, Array2<f64>) {
        use rand::SeedableRng;
        let n = s.len();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (u, _) =
            householder_qr(Array2::from_shape_simple_fn((m, n), || gaussian(&mut rng)).view());
        let (v, _) =
            householder_qr(Array2::from_shape_simple_fn((n, n), || gaussian(&mut rng)).view());
        let a = u
            .dot(&Array2::from_diag(&Array1::from(s.to_vec())))
            .dot(&v.t());
        (a, u.dot(&v.t()))
    }

    fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
    }

    #[test]
    fn procrustes_eigen_route_is_exact_and_falls_back_when_ill_conditioned() {
        let n = POLAR_EIGH_MIN_COLS + 16;
        let log_spaced = |decades: f64| -> Vec<f64> {
            (0..n)
                .map(|i| 10f64.powf(-decades * i as f64 / (n - 1) as f64) * 3.0)
                .collect()
        };
        // κ = 10: the eigen route; κ just under 10³: its limit (at exactly 10³ the smallest
        // eigenvalue sits on the threshold and rounding decides); κ = 10⁶ and 10⁹: the SVD.
        for (decades, tol) in [(1.0, 1e-12), (2.9, 1e-10), (6.0, 1e-8), (9.0, 1e-5)] {
            let (a, truth) = with_singular_values(n + 40, &log_spaced(decades), decades as u64);
            let w = procrustes(a.view()).expect("procrustes");
            let err = max_abs_diff(&w, &truth);
            assert!(err < tol, "κ = 1e{decades}: |W − UVᵀ| = {err:e}");
            let gram = w.t().dot(&w);
            let orth = max_abs_diff(&gram, &Array2::eye(n));
            assert!(orth < 1e-10, "κ = 1e{decades}: |WᵀW − I| = {orth:e}");
            // Log-spaced: beyond κ = 10³ too many small directions for the eigen route.
            let used_eigen = polar_by_eigh(a.view()).expect("eigh").is_some();
            assert_eq!(used_eigen, decades <= 3.0, "κ = 1e{decades}");
        }
        // Square, as with k = all units.
        let (a, truth) = with_singular_values(n, &log_spaced(2.0), 7);
        assert!(max_abs_diff(&procrustes(a.view()).expect("square"), &truth) < 1e-11);
        // A few tiny singular values (row z-scoring with k = all units, plus BrainIAK's 0.001
        // perturbation): the eigen route with its small block, square and tall.
        for (m, seed) in [(n, 9), (n + 30, 10)] {
            let mut s = log_spaced(2.0);
            s.iter_mut().for_each(|x| *x *= 1e4);
            s[n - 1] = 1e-3;
            s[n - 2] = 3e-3;
            let (a, truth) = with_singular_values(m, &s, seed);
            assert!(polar_by_eigh(a.view()).expect("eigh").is_some());
            let w = procrustes(a.view()).expect("small block");
            let err = max_abs_diff(&w, &truth);
            assert!(err < 1e-8, "m = {m}: |W − UVᵀ| = {err:e}");
            assert!(max_abs_diff(&w.t().dot(&w), &Array2::eye(n)) < 1e-10);
        }
        // A spectrum running smoothly through the threshold: no clean split, so the SVD.
        let mut s = log_spaced(3.0);
        s[n - 2] = s[n - 3] * 0.7;
        s[n - 1] = s[n - 2] * 0.7;
        let (a, truth) = with_singular_values(n + 10, &s, 11);
        assert!(polar_by_eigh(a.view()).expect("eigh").is_none());
        assert!(max_abs_diff(&procrustes(a.view()).expect("no gap"), &truth) < 1e-9);
        // Small values running smoothly across the threshold, then a clear gap above it: the
        // split moves up to the gap and the eigen route stays exact.
        let mut s: Vec<f64> = log_spaced(1.5).iter().map(|x| x * 1e4).collect();
        s[n - 3] = s[0] * 1.3e-3;
        s[n - 2] = s[0] * 0.9e-3;
        s[n - 1] = s[0] * 0.6e-3;
        let (a, truth) = with_singular_values(n + 3, &s, 12);
        assert!(polar_by_eigh(a.view()).expect("eigh").is_some());
        assert!(max_abs_diff(&procrustes(a.view()).expect("gap above"), &truth) < 1e-9);
        // Exactly rank-deficient input has no unique polar factor: the SVD gives one.
        let mut s = log_spaced(1.0);
        s[n - 1] = 0.0;
        let (a, _) = with_singular_values(n + 5, &s, 8);
        assert!(polar_by_eigh(a.view()).expect("eigh").is_none());
        let w = procrustes(a.view()).expect("rank-deficient");
        assert!(max_abs_diff(&w.t().dot(&w), &Array2::eye(n)) < 1e-12);
    }

    #[test]
    fn blocked_q_equals_the_reference_householder_q() {
        // Full rank, all entries positive like BrainIAK's U[0, 1) draws.
        let mut state = 12345u64;
        let a = Array2::from_shape_simple_fn((300, 120), || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        });
        let (q_ref, _) = householder_qr(a.view());
        assert_abs_diff_eq!(thin_q(a.view()), q_ref, epsilon = 1e-12);
    }

    #[test]
    fn eigh_and_cholesky_and_inverse() {
        let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let (vals, vecs) = sym_eigh(a.view()).expect("eigh");
        assert!(vals[0] <= vals[1] && vals[1] <= vals[2]);
        let rec = vecs.dot(&Array2::from_diag(&vals)).dot(&vecs.t());
        assert_abs_diff_eq!(rec, a, epsilon = 1e-12);
        let l = cholesky(a.view()).expect("chol");
        assert_abs_diff_eq!(l.dot(&l.t()), a, epsilon = 1e-12);
        let (inv, logdet) = spd_inverse(a.view()).expect("inv");
        assert_abs_diff_eq!(inv.dot(&a), Array2::<f64>::eye(3), epsilon = 1e-12);
        assert!((logdet - vals.iter().map(|v| v.ln()).sum::<f64>()).abs() < 1e-12);
        let bad = array![[1.0, 2.0], [2.0, 1.0]];
        assert_eq!(
            spd_inverse(bad.view()).unwrap_err(),
            LinalgError::NotPositiveDefinite
        );
    }
}
