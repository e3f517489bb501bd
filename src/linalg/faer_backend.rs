//! Pure-Rust backend (faer): no system library needed.

use super::{LinalgError, Svd};
use faer::linalg::matmul::matmul as faer_matmul;
use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
use faer::linalg::solvers::DenseSolveCore;
use faer::{Accum, Mat, MatRef, Par, Side};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

fn view<'a, T>(a: &ArrayView2<'a, T>) -> MatRef<'a, T> {
    let s = a.strides();
    // SAFETY: the pointer, shape and element strides come from a live ndarray view that
    // outlives the returned reference.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), a.nrows(), a.ncols(), s[0], s[1]) }
}

/// A row-major copy of a column-major matrix, in tiles so both sides stay in cache.
fn to_ndarray(m: MatRef<'_, f64>) -> Array2<f64> {
    const TILE: usize = 32;
    let (r, c) = (m.nrows(), m.ncols());
    let mut out = Array2::<f64>::zeros((r, c));
    for j0 in (0..c).step_by(TILE) {
        for i0 in (0..r).step_by(TILE) {
            for i in i0..(i0 + TILE).min(r) {
                for j in j0..(j0 + TILE).min(c) {
                    out[[i, j]] = m[(i, j)];
                }
            }
        }
    }
    out
}

fn matmul_with<T: faer::traits::ComplexField + ndarray::LinalgScalar>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    par: Par,
) -> Array2<T> {
    // A row-major r × c result is, read transposed, a column-major c × r matrix, the layout
    // faer writes fastest: computing outᵀ = bᵀaᵀ into it needs no copy out.
    let mut out = Array2::<T>::zeros((a.nrows(), b.ncols()));
    if a.ncols() > 0 && !out.is_empty() {
        let (r, c) = out.dim();
        // SAFETY: `out` is a fresh standard-layout r × c array, exclusively borrowed here;
        // element (j, i) of the c × r view with strides (1, c) is out[[i, j]].
        let dst =
            unsafe { faer::MatMut::from_raw_parts_mut(out.as_mut_ptr(), c, r, 1, c as isize) };
        let (at, bt) = (a.t(), b.t());
        faer_matmul(dst, Accum::Replace, view(&bt), view(&at), T::one(), par);
    }
    out
}

/// `a · b` in single precision, on every core or on the calling thread.
pub fn matmul_f32(a: ArrayView2<f32>, b: ArrayView2<f32>, parallel: bool) -> Array2<f32> {
    let par = if parallel { Par::rayon(0) } else { Par::Seq };
    matmul_with(a, b, par)
}

pub fn matmul_add(c: &mut Array2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>, alpha: f64) {
    assert_eq!(
        (c.nrows(), c.ncols(), a.ncols()),
        (a.nrows(), b.ncols(), b.nrows()),
        "matmul_add shapes"
    );
    if c.is_empty() || a.ncols() == 0 {
        return;
    }
    if !c.is_standard_layout() {
        c.scaled_add(alpha, &matmul(a, b));
        return;
    }
    // faer's own parallel Accum::Add ran at 45 GFlop/s on 2 cores where one core alone did
    // 70: each thread takes its own block of columns of c instead, serially.
    let (at, bt) = (a.t(), b.t());
    let mut cv = c.view_mut();
    let blocks = column_blocks(&mut cv);
    rayon::scope(|scope| {
        for (j0, mut blk) in blocks {
            scope.spawn(move |_| {
                let (r, len) = blk.dim();
                let rs = blk.strides()[0];
                // SAFETY: `blk` is an exclusively borrowed r × len block of a standard-layout
                // array, row stride `rs`, unit column stride; element (j, i) of the len × r
                // view with strides (1, rs) is blk[[i, j]] (blkᵀ += alpha·bᵀaᵀ).
                let dst =
                    unsafe { faer::MatMut::from_raw_parts_mut(blk.as_mut_ptr(), len, r, 1, rs) };
                let btj = bt.slice(ndarray::s![j0..j0 + len, ..]);
                faer_matmul(dst, Accum::Add, view(&btj), view(&at), alpha, Par::Seq);
            });
        }
    });
}

pub fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let par = par_for(a.nrows() * a.ncols() * b.ncols());
    matmul_with(a, b, par)
}

/// Products below this many multiply-adds run on the calling thread: waking the pool cost more
/// than it saved (a 512 × 50 × 50 product took 0.098 ms on two threads, 0.070 ms on one), and
/// inside a per-network task the other threads are busy anyway.
const PAR_MIN_MULS: usize = 8 << 20;

fn par_for(muls: usize) -> Par {
    if muls < PAR_MIN_MULS {
        Par::Seq
    } else {
        Par::rayon(0)
    }
}

/// `a · b` on the calling thread, written column-major (Fortran order). When `a` is the
/// transpose of a row-major matrix, faer then streams both operands without packing the large
/// one: Xᵀ Sᵀ for a T × v X ran at 34 GFlop/s a core against 29 written row-major.
pub fn matmul_serial_f<T: faer::traits::ComplexField + ndarray::LinalgScalar>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Array2<T> {
    use ndarray::ShapeBuilder;
    let mut out = Array2::<T>::zeros((a.nrows(), b.ncols()).f());
    if a.ncols() == 0 || out.is_empty() {
        return out;
    }
    let (r, c) = out.dim();
    if avx2_without_avx512() {
        let (sa, sb) = (a.strides(), b.strides());
        // SAFETY: `out` is a fresh column-major r × c array (column stride r), exclusively
        // borrowed; `a` (r × depth) and `b` (depth × c) are live views whose pointers and
        // element strides (column stride first, as gemm takes them) are their own. With
        // `read_dst` false the destination is only written.
        unsafe {
            gemm::gemm(
                r,
                c,
                a.ncols(),
                out.as_mut_ptr(),
                r as isize,
                1,
                false,
                a.as_ptr(),
                sa[1],
                sa[0],
                b.as_ptr(),
                sb[1],
                sb[0],
                T::zero(),
                T::one(),
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        return out;
    }
    // SAFETY: `out` is a fresh column-major r × c array, exclusively borrowed here.
    let dst = unsafe { faer::MatMut::from_raw_parts_mut(out.as_mut_ptr(), r, c, 1, r as isize) };
    faer_matmul(dst, Accum::Replace, view(&a), view(&b), T::one(), Par::Seq);
    out
}

/// Whether [`matmul_serial_f`] runs on the gemm crate's kernels: on a CPU with AVX2 and FMA but
/// no AVX-512 they take X_iSᵀ (a long inner dimension, 50 columns) 15–25 % faster than faer's
/// own (ten 512 × 2000 × 50 products on 2 cores of an AMD EPYC Zen 2: 17 ms against 20–24 ms;
/// float32 8–9.5 ms against 9.9 ms). On AVX-512, faer's AVX-512 kernels.
fn avx2_without_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Splits the columns of `c` into one block per thread.
fn column_blocks<'a>(c: &'a mut ArrayViewMut2<f64>) -> Vec<(usize, ArrayViewMut2<'a, f64>)> {
    let t = c.ncols();
    let threads = rayon::current_num_threads().max(1);
    let chunk = t.div_ceil(threads).max(1);
    let mut blocks = Vec::new();
    let mut rest = c.view_mut();
    let mut start = 0;
    while start < t {
        let len = chunk.min(t - start);
        let (head, tail) = rest.split_at(ndarray::Axis(1), len);
        blocks.push((start, head));
        rest = tail;
        start += len;
    }
    blocks
}

/// [`project_sum`] with float32 operands: each product runs in single precision into a
/// per-thread buffer, and the sum over networks is kept in float64.
pub fn project_sum_f32(
    c: &mut ArrayViewMut2<f64>,
    terms: &[(ArrayView2<f32>, ArrayView2<f32>, f64)],
) {
    let k = c.nrows();
    let shapes = terms
        .iter()
        .map(|(w, x, _)| (w.nrows(), w.ncols(), x.dim()));
    each_column_block(c, shapes, |t0, mut blk| {
        let len = blk.ncols();
        let mut tmp = Mat::<f32>::zeros(k, len);
        for (w, x, alpha) in terms {
            let wt = w.t();
            let xt = x.slice(ndarray::s![t0..t0 + len, ..]).reversed_axes();
            faer_matmul(
                tmp.as_mut(),
                Accum::Replace,
                view(&wt),
                view(&xt),
                1.0f32,
                Par::Seq,
            );
            // Column by column: `tmp`'s columns are slices, and Zip takes `blk`'s as slices
            // too where they are contiguous.
            for (j, col) in blk.columns_mut().into_iter().enumerate() {
                ndarray::Zip::from(col)
                    .and(tmp.col_as_slice(j))
                    .for_each(|d, &s| *d += alpha * f64::from(s));
            }
        }
    });
}

/// Checks every term's shapes (v × k weights, T × v data) against the k × T `c`, then runs
/// `f(first column, block)` on one block of c's columns per thread.
fn each_column_block(
    c: &mut ArrayViewMut2<f64>,
    shapes: impl Iterator<Item = (usize, usize, (usize, usize))>,
    f: impl Fn(usize, ArrayViewMut2<f64>) + Sync,
) {
    let (k, t) = c.dim();
    for (v, wk, (xt, xv)) in shapes {
        assert_eq!((wk, xt, xv), (k, t, v), "project_sum shapes");
    }
    if c.is_empty() {
        return;
    }
    let blocks = column_blocks(c);
    let f = &f;
    rayon::scope(|scope| {
        for (t0, blk) in blocks {
            scope.spawn(move |_| f(t0, blk));
        }
    });
}

/// `c += Σ_i alpha_i · w_iᵀ x_iᵀ` for k × T `c`, v_i × k `w_i` and T × v_i `x_i`: each thread
/// takes one block of c's columns (images) through every network in turn, so a sum costs one
/// synchronisation and its order does not depend on the number of threads. With `c`
/// column-major and `x_i` row-major, faer's kernels read both without packing (42 GFlop/s a
/// core on the small benchmark's shapes, against 32 for the transposed orientation).
pub fn project_sum(c: &mut ArrayViewMut2<f64>, terms: &[(ArrayView2<f64>, ArrayView2<f64>, f64)]) {
    let shapes = terms
        .iter()
        .map(|(w, x, _)| (w.nrows(), w.ncols(), x.dim()));
    each_column_block(c, shapes, |t0, mut blk| {
        let (r, len) = blk.dim();
        let s = blk.strides().to_vec();
        // SAFETY: `blk` is an exclusively borrowed r × len block of `c` with its own
        // strides; no other task touches these columns.
        let mut dst =
            unsafe { faer::MatMut::from_raw_parts_mut(blk.as_mut_ptr(), r, len, s[0], s[1]) };
        for (w, x, alpha) in terms {
            let wt = w.t();
            let xt = x.slice(ndarray::s![t0..t0 + len, ..]).reversed_axes();
            faer_matmul(
                dst.as_mut(),
                Accum::Add,
                view(&wt),
                view(&xt),
                *alpha,
                Par::Seq,
            );
        }
    });
}

pub fn matmul_serial(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    matmul_with(a, b, Par::Seq)
}

/// Lower triangle (diagonal included) of `c += aᵀb`; the upper triangle is left untouched.
pub fn tn_lower_add(c: &mut ArrayViewMut2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>) {
    let s = c.strides().to_vec();
    // SAFETY: a live, exclusively borrowed view; shape and strides are its own.
    let dst = unsafe {
        faer::MatMut::from_raw_parts_mut(c.as_mut_ptr(), c.nrows(), c.ncols(), s[0], s[1])
    };
    let at = a.t();
    let par = par_for(a.nrows() * a.ncols() * b.ncols() / 2);
    tri_matmul(
        dst,
        BlockStructure::TriangularLower,
        Accum::Add,
        view(&at),
        BlockStructure::Rectangular,
        view(&b),
        BlockStructure::Rectangular,
        1.0,
        par,
    );
}

pub fn thin_svd(a: ArrayView2<f64>) -> Result<Svd, LinalgError> {
    let svd = view(&a)
        .thin_svd()
        .map_err(|_| LinalgError::NoConvergence("SVD"))?;
    let s = svd.S().column_vector();
    let s = Array1::from_iter((0..s.nrows()).map(|i| s[i]));
    Ok((to_ndarray(svd.U()), s, to_ndarray(svd.V().transpose())))
}

pub fn singular_values(a: ArrayView2<f64>) -> Result<Array1<f64>, LinalgError> {
    if a.is_empty() {
        return Ok(Array1::zeros(0));
    }
    let s = view(&a)
        .singular_values()
        .map_err(|_| LinalgError::NoConvergence("SVD"))?;
    Ok(Array1::from(s))
}

pub fn sym_eigh(a: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>), LinalgError> {
    // faer 0.24's divide and conquer loses accuracy on large-magnitude input (residual 5e-5 ·
    // λmax at 4e9 on a matrix it solves to 7e-15 at unit scale; tests/data/linalg): solve the
    // matrix scaled to unit largest entry, then scale the eigenvalues back.
    let top = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let scale = if top.is_finite() && top > 0.0 {
        top
    } else {
        1.0
    };
    let scaled;
    let input = if scale == 1.0 {
        view(&a)
    } else {
        scaled = a.mapv(|v| v / scale);
        view(&scaled.view())
    };
    let evd = input
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| LinalgError::NoConvergence("symmetric eigendecomposition"))?;
    let s = evd.S().column_vector();
    let vals = Array1::from_iter((0..s.nrows()).map(|i| s[i] * scale));
    Ok((vals, to_ndarray(evd.U())))
}

pub fn cholesky(a: ArrayView2<f64>) -> Result<Array2<f64>, LinalgError> {
    let llt = view(&a)
        .llt(Side::Lower)
        .map_err(|_| LinalgError::NotPositiveDefinite)?;
    Ok(to_ndarray(llt.L()))
}

/// Inverse and log-determinant through one Cholesky factorisation.
pub fn spd_inverse(a: ArrayView2<f64>) -> Result<(Array2<f64>, f64), LinalgError> {
    let llt = view(&a)
        .llt(Side::Lower)
        .map_err(|_| LinalgError::NotPositiveDefinite)?;
    let l = llt.L();
    let mut logdet = 0.0;
    for i in 0..l.nrows() {
        let d = l[(i, i)];
        // Also catches NaN.
        if d.is_nan() || d <= 0.0 {
            return Err(LinalgError::NotPositiveDefinite);
        }
        logdet += 2.0 * d.ln();
    }
    Ok((to_ndarray(llt.inverse().as_ref()), logdet))
}

/// Q of a blocked Householder QR. faer's reflectors follow LAPACK's sign rule (β = −sign(α)‖x‖),
/// so Q equals numpy's `linalg.qr` to rounding.
pub fn thin_q(a: ArrayView2<f64>) -> Array2<f64> {
    to_ndarray(view(&a).qr().compute_thin_Q().as_ref())
}
