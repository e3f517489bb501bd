//! Uncertainty of the headline numbers: percentile bootstrap over held-out images,
//! leave-one-network-out ranges and a chance level from shuffling each network's image order.
//!
//! Images, not networks, are resampled: the leave-one-out values of different networks share
//! data and are not independent (BrainIAK #466), so they are never treated as samples. A
//! resample is a vector of counts c (how often each image was drawn), and every statistic is
//! recomputed as a c-weighted one, which is the statistic on the resampled rows. That turns the
//! whole bootstrap into a few matrix products with the B × n count matrix.

use super::metrics;
use super::preprocess::centred_columns;
use ndarray::{Array1, Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// Percentile interval level.
pub const LEVEL: f64 = 0.95;
/// Shuffles averaged for the chance levels. An RSA shuffle costs a full inter-network RSM,
/// an ISC one almost nothing.
pub const CHANCE_SHUFFLES_ISC: usize = 20;
pub const CHANCE_SHUFFLES_RSA: usize = 1;

/// What the headline intervals are computed from (the held-out data as the pipeline has it).
pub struct Headline<'a, 'b> {
    /// Unit-centred native data, when widths are equal.
    pub native: Option<&'b [ArrayView2<'a, f64>]>,
    /// The same for every network regardless of width (the within-network RSMs).
    pub native_all: &'b [ArrayView2<'a, f64>],
    pub shared: &'b [ArrayView2<'a, f64>],
    /// Native data as given, and the means the projection centred them with (None: not
    /// centred); no centred copy is needed.
    pub test: &'b [ArrayView2<'a, f64>],
    pub test_mu: &'b [Option<&'b Array1<f64>>],
    /// Mean within-network RSM and the inter-network RSMs of the point estimates.
    pub within: &'b Array2<f64>,
    pub inter_native: Option<&'b Array2<f64>>,
    pub inter_shared: &'b Array2<f64>,
    pub resamples: usize,
    pub seed: u64,
}

/// Fills the intervals, chance levels and leave-one-network-out ranges of `isc` and `rsa`, and
/// returns the variance-explained intervals. `resamples == 0` turns all of it off: the
/// leave-one-network-out RSA alone costs m(m − 1) n × n RSM products.
pub fn headline(
    h: &Headline,
    isc: &mut metrics::NativeShared,
    rsa: &mut metrics::NativeShared,
) -> Option<Vec<Option<[f64; 2]>>> {
    if h.resamples == 0 {
        return None;
    }
    let m = h.shared.len();
    // Chance: the shared-space value with every network's image order shuffled (seeded).
    let mean = |v: Vec<f64>| {
        let f: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
        (!f.is_empty()).then(|| f.iter().sum::<f64>() / f.len() as f64)
    };
    let shared_c: Vec<Array2<f64>> = h.shared.iter().map(centred_columns).collect();
    let sc = views(&shared_c);
    let n = h.shared.first().map_or(0, |x| x.nrows());
    isc.chance = mean(
        (0..CHANCE_SHUFFLES_ISC as u64)
            .into_par_iter()
            .map(|k| {
                let perms = permutations(m, n, h.seed.wrapping_add(k));
                isc_loo_centred(&sc, Some(&perms))
            })
            .collect(),
    );
    rsa.chance = mean(
        (0..CHANCE_SHUFFLES_RSA as u64)
            .map(|k| {
                // Each network's images in one shuffled order, native and shared alike.
                let orders = permutations(m, n, h.seed.wrapping_add(k));
                metrics::rsa_loo_reordered(h.native_all, h.shared, &orders)
            })
            .collect(),
    );
    // Leave one network out.
    let lono = |xs: &[ArrayView2<f64>]| {
        range(&leave_one_network_out(m, |_, keep| {
            isc_loo_centred(&pick(xs, keep), None)
        }))
    };
    // `native` is unit-centred already (its contract); no copy.
    isc.leave_one_network_out = Some(metrics::IntervalPair {
        native: h.native.and_then(lono),
        shared: lono(&sc),
    });
    drop(shared_c);
    // Without network l the mean within-network RSM is (m·W − W_l)/(m − 1): one RSM, not m − 1.
    // Shared space only: each left-out value costs the lower-triangle tiles of m − 1 RSM
    // products, and native RSA (an average of unaligned units) is the control, not the claim.
    let rsa_lono = leave_one_network_out(m, |l, keep| {
        metrics::rsa_loo_without(h.within, m, h.native_all[l], &[&pick(h.shared, keep)])[0]
    });
    rsa.leave_one_network_out = Some(metrics::IntervalPair {
        native: None,
        shared: range(&rsa_lono),
    });
    let counts = bootstrap_counts(n, h.resamples, h.seed);
    isc.ci95 = Some(metrics::IntervalPair {
        native: h
            .native
            .and_then(|xs| percentile_interval(&isc_loo_weighted(xs, counts.view()))),
        shared: percentile_interval(&isc_loo_weighted(h.shared, counts.view())),
    });
    rsa.ci95 = Some(metrics::IntervalPair {
        native: h.inter_native.and_then(|a| {
            percentile_interval(&lower_tri_corr_weighted(a, h.within, counts.view()))
        }),
        shared: percentile_interval(&lower_tri_corr_weighted(
            h.inter_shared,
            h.within,
            counts.view(),
        )),
    });
    let ve = variance_explained_weighted(h.test, h.test_mu, h.shared, counts.view());
    Some(
        (0..m)
            .map(|i| percentile_interval(&ve.iter().map(|r| r[i]).collect::<Vec<_>>()))
            .collect(),
    )
}

/// B × n counts: row b says how often resample b drew each of the n images. Seeded.
pub fn bootstrap_counts(n: usize, resamples: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed_b007);
    let mut c = Array2::<f64>::zeros((resamples, n));
    for mut row in c.rows_mut() {
        for _ in 0..n {
            row[rng.random_range(0..n)] += 1.0;
        }
    }
    c
}

/// The central `LEVEL` percentile interval of the finite values (linear interpolation, as
/// numpy's default quantile); None when fewer than two are finite.
pub fn percentile_interval(vals: &[f64]) -> Option<[f64; 2]> {
    let mut v: Vec<f64> = vals.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        v[lo] + (h - lo as f64) * (v[hi] - v[lo])
    };
    let tail = (1.0 - LEVEL) / 2.0;
    Some([q(tail), q(1.0 - tail)])
}

/// [min, max] of the finite values.
pub fn range(vals: &[f64]) -> Option<[f64; 2]> {
    let f: Vec<f64> = vals.iter().copied().filter(|x| x.is_finite()).collect();
    (!f.is_empty()).then(|| {
        [
            f.iter().copied().fold(f64::INFINITY, f64::min),
            f.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ]
    })
}

fn views(xs: &[Array2<f64>]) -> Vec<ArrayView2<'_, f64>> {
    xs.iter().map(|x| x.view()).collect()
}

/// [`metrics::isc_loo`] on every resample of `counts` (B × n). Needs equal widths.
pub fn isc_loo_weighted(xs: &[ArrayView2<f64>], counts: ArrayView2<f64>) -> Vec<f64> {
    let b = counts.nrows();
    let m = xs.len();
    if m < 2 || xs.iter().any(|x| x.ncols() != xs[0].ncols()) {
        return vec![f64::NAN; b];
    }
    let p = xs[0].ncols();
    let n_tot: Vec<f64> = counts.rows().into_iter().map(|r| r.sum()).collect();
    // Centring first keeps the moment formulas free of cancellation.
    let xc: Vec<Array2<f64>> = xs.iter().map(centred_columns).collect();
    let mut t = Array2::<f64>::zeros((xs[0].nrows(), p));
    for x in &xc {
        t += x;
    }
    let mut g = Array2::<f64>::zeros((t.nrows(), 2 * p));
    g.slice_mut(ndarray::s![.., ..p]).assign(&t);
    g.slice_mut(ndarray::s![.., p..]).assign(&t.mapv(|v| v * v));
    let gt = crate::linalg::matmul(counts, g.view());
    let k = (m - 1) as f64;
    let mut sums = vec![0.0; b];
    let mut nets = vec![0usize; b];
    for x in &xc {
        let mut blk = Array2::<f64>::zeros((x.nrows(), 3 * p));
        blk.slice_mut(ndarray::s![.., ..p]).assign(x);
        blk.slice_mut(ndarray::s![.., p..2 * p])
            .assign(&x.mapv(|v| v * v));
        blk.slice_mut(ndarray::s![.., 2 * p..]).assign(&(x * &t));
        let mo = crate::linalg::matmul(counts, blk.view());
        let per: Vec<(f64, usize)> = (0..b)
            .into_par_iter()
            .map(|r| {
                let nn = n_tot[r];
                let (mut s, mut c) = (0.0, 0usize);
                for d in 0..p {
                    let mx = mo[[r, d]] / nn;
                    let mt = gt[[r, d]] / nn;
                    let vx = mo[[r, p + d]] / nn - mx * mx;
                    let cxt = mo[[r, 2 * p + d]] / nn - mx * mt;
                    let vt = gt[[r, p + d]] / nn - mt * mt;
                    // o = (t − x)/(m − 1): the others' mean.
                    let cxo = (cxt - vx) / k;
                    let vo = (vt - 2.0 * cxt + vx) / (k * k);
                    let tiny = 1e-12 * (mo[[r, p + d]] / nn).max(f64::MIN_POSITIVE);
                    if vx > tiny && vo > 0.0 {
                        s += cxo / (vx * vo).sqrt();
                        c += 1;
                    }
                }
                (s, c)
            })
            .collect();
        for (r, (s, c)) in per.into_iter().enumerate() {
            if c > 0 {
                sums[r] += s / c as f64;
                nets[r] += 1;
            }
        }
    }
    sums.iter()
        .zip(&nets)
        .map(|(&s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect()
}

/// [`metrics::isc_loo`] of unit-centred networks whose rows are read in the order `perms[i]`
/// (identity when None), from per-unit moments accumulated row by row: the statistic for
/// shuffles and left-out networks without copying the data.
pub fn isc_loo_centred(xs: &[ArrayView2<f64>], perms: Option<&[Vec<usize>]>) -> f64 {
    let m = xs.len();
    if m < 2 || xs.iter().any(|x| x.ncols() != xs[0].ncols()) {
        return f64::NAN;
    }
    let (n, p) = xs[0].dim();
    let row = |i: usize, s: usize| xs[i].row(perms.map_or(s, |q| q[i][s]));
    let mut t = Array2::<f64>::zeros((n, p));
    for s in 0..n {
        let mut ts = t.row_mut(s);
        for i in 0..m {
            ts += &row(i, s);
        }
    }
    let mut tt = Array1::<f64>::zeros(p);
    for ts in t.rows() {
        tt.zip_mut_with(&ts, |a, &b| *a += b * b);
    }
    let k = (m - 1) as f64;
    let mut total = 0.0;
    let mut nets = 0usize;
    for i in 0..m {
        let (mut xx, mut xt) = (Array1::<f64>::zeros(p), Array1::<f64>::zeros(p));
        for s in 0..n {
            ndarray::Zip::from(&mut xx)
                .and(&mut xt)
                .and(&row(i, s))
                .and(&t.row(s))
                .for_each(|a, b, &u, &v| {
                    *a += u * u;
                    *b += u * v;
                });
        }
        let (mut sum, mut cnt) = (0.0, 0usize);
        for d in 0..p {
            let cxo = (xt[d] - xx[d]) / k;
            let vo = (tt[d] - 2.0 * xt[d] + xx[d]) / (k * k);
            if xx[d] > 0.0 && vo > 0.0 {
                sum += cxo / (xx[d] * vo).sqrt();
                cnt += 1;
            }
        }
        if cnt > 0 {
            total += sum / cnt as f64;
            nets += 1;
        }
    }
    if nets > 0 {
        total / nets as f64
    } else {
        f64::NAN
    }
}

/// Seeded independent row orders, one per network.
fn permutations(m: usize, n: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xc4a2_ce11);
    (0..m)
        .map(|_| {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            order
        })
        .collect()
}

/// cᵀLc for each row c of `counts` and each strictly lower-triangular matrix L in `ls`.
fn lower_sums(ls: &[Array2<f64>], counts: ArrayView2<f64>) -> Vec<Vec<f64>> {
    ls.iter()
        .map(|l| {
            let lc = crate::linalg::matmul(l.view(), counts.t());
            counts
                .rows()
                .into_iter()
                .enumerate()
                .map(|(r, c)| c.iter().zip(lc.column(r)).map(|(a, b)| a * b).sum())
                .collect()
        })
        .collect()
}

/// The strictly lower triangle of f(a, w), zero elsewhere.
fn lower_of(a: &Array2<f64>, w: &Array2<f64>, f: impl Fn(f64, f64) -> f64) -> Array2<f64> {
    Array2::from_shape_fn(a.raw_dim(), |(i, j)| {
        if j < i {
            f(a[[i, j]], w[[i, j]])
        } else {
            0.0
        }
    })
}

/// [`metrics::lower_tri_corr`]`(a, w)` on every resample. The resampled images keep their
/// order (indices ascending, as the held-out images are), so the resample's lower triangle is
/// the cells (s, t), s > t, of the original lower triangle, each drawn c_s·c_t times. A drawn
/// image paired with a copy of itself lands on the diagonal, which is not an image pair, so
/// those cells are dropped.
pub fn lower_tri_corr_weighted(
    a: &Array2<f64>,
    w: &Array2<f64>,
    counts: ArrayView2<f64>,
) -> Vec<f64> {
    // Shifted by the unweighted means (r does not change): a resample's sums then stay near
    // centred, so uncentred RSMs (entries 0.99 ± 0.002) lose nothing to cancellation.
    let n = a.nrows();
    let cells = || (0..n).flat_map(move |i| (0..i).map(move |j| (a[[i, j]], w[[i, j]])));
    let count = (n * n.saturating_sub(1) / 2).max(1) as f64;
    let (ma, mw) = cells().fold((0.0, 0.0), |(p, q), (x, y)| (p + x, q + y));
    let (ma, mw) = (ma / count, mw / count);
    let ls = [
        lower_of(a, w, |x, _| x - ma),
        lower_of(a, w, |_, y| y - mw),
        lower_of(a, w, |x, _| (x - ma) * (x - ma)),
        lower_of(a, w, |_, y| (y - mw) * (y - mw)),
        lower_of(a, w, |x, y| (x - ma) * (y - mw)),
    ];
    let sums = lower_sums(&ls, counts);
    counts
        .rows()
        .into_iter()
        .enumerate()
        .map(|(r, c)| {
            let n: f64 = (c.sum().powi(2) - c.iter().map(|v| v * v).sum::<f64>()) / 2.0;
            let (sa, sw, saa, sww, saw) =
                (sums[0][r], sums[1][r], sums[2][r], sums[3][r], sums[4][r]);
            let cov = saw - sa * sw / n;
            let den = ((saa - sa * sa / n) * (sww - sw * sw / n)).sqrt();
            if n >= 2.0 && den > 0.0 {
                cov / den
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// [`metrics::variance_explained`] on every resample: B rows of m values. `h` is the native
/// held-out data, `hc` the same data as projected (centred or not), `ys` the projections.
pub fn variance_explained_weighted(
    h: &[ArrayView2<f64>],
    mus: &[Option<&Array1<f64>>],
    ys: &[ArrayView2<f64>],
    counts: ArrayView2<f64>,
) -> Vec<Vec<f64>> {
    let m = ys.len();
    let n = counts.ncols();
    let mut sbar = Array2::<f64>::zeros(ys[0].raw_dim());
    for y in ys {
        sbar += y;
    }
    sbar /= m as f64;
    let sbar_sq: Array1<f64> = sbar.rows().into_iter().map(|r| r.dot(&r)).collect();
    // Per image and network: squared error, row sum and row sum of squares of the native data.
    let mut per = Array2::<f64>::zeros((n, 3 * m));
    for i in 0..m {
        for t in 0..n {
            let row = h[i].row(t);
            let q = match mus.get(i).copied().flatten() {
                Some(mu) => row.iter().zip(mu).map(|(v, m)| (v - m) * (v - m)).sum(),
                None => row.dot(&row),
            };
            per[[t, 3 * i]] = q - 2.0 * sbar.row(t).dot(&ys[i].row(t)) + sbar_sq[t];
            per[[t, 3 * i + 1]] = h[i].row(t).sum();
            per[[t, 3 * i + 2]] = h[i].row(t).dot(&h[i].row(t));
        }
    }
    let w = crate::linalg::matmul(counts, per.view());
    (0..counts.nrows())
        .map(|r| {
            let rows = counts.row(r).sum();
            (0..m)
                .map(|i| {
                    let cnt = rows * h[i].ncols() as f64;
                    let mean = w[[r, 3 * i + 1]] / cnt;
                    let var = w[[r, 3 * i + 2]] / cnt - mean * mean;
                    if var > 0.0 {
                        1.0 - w[[r, 3 * i]] / cnt / var
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        })
        .collect()
}

/// `stat(l, others)` with each network l left out in turn (needs ≥ 3 networks).
pub fn leave_one_network_out<T: Send>(
    m: usize,
    stat: impl Fn(usize, &[usize]) -> T + Sync,
) -> Vec<T> {
    if m < 3 {
        return Vec::new();
    }
    (0..m)
        .into_par_iter()
        .map(|l| {
            let keep: Vec<usize> = (0..m).filter(|&i| i != l).collect();
            stat(l, &keep)
        })
        .collect()
}

pub fn pick<'a>(xs: &[ArrayView2<'a, f64>], keep: &[usize]) -> Vec<ArrayView2<'a, f64>> {
    keep.iter().map(|&i| xs[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Axis;

    fn data(n: usize, p: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, p), |(i, j)| {
            (((i * 31 + j * 17 + seed * 7) % 23) as f64).sin() + 0.1 * (i as f64)
        })
    }

    /// Expands a count vector into the resampled row list.
    fn rows_of(c: ndarray::ArrayView1<f64>) -> Vec<usize> {
        c.iter()
            .enumerate()
            .flat_map(|(i, &k)| std::iter::repeat_n(i, k as usize))
            .collect()
    }

    #[test]
    fn weighted_isc_is_isc_on_resampled_rows() {
        let xs: Vec<Array2<f64>> = (0..3).map(|s| data(20, 4, s)).collect();
        let v: Vec<_> = xs.iter().map(|x| x.view()).collect();
        let counts = bootstrap_counts(20, 5, 3);
        let got = isc_loo_weighted(&v, counts.view());
        for (r, c) in counts.rows().into_iter().enumerate() {
            let rows = rows_of(c);
            let rs: Vec<Array2<f64>> = xs.iter().map(|x| x.select(Axis(0), &rows)).collect();
            let rv: Vec<_> = rs.iter().map(|x| x.view()).collect();
            assert!((got[r] - metrics::isc_loo(&rv)).abs() < 1e-12, "{r}");
        }
        let ones = Array2::<f64>::ones((1, 20));
        let all = isc_loo_weighted(&v, ones.view());
        assert!((all[0] - metrics::isc_loo(&v)).abs() < 1e-12);
    }

    #[test]
    fn weighted_rsa_drops_self_pairs() {
        // An inter-network RSM is not symmetric: only its lower triangle counts.
        let a = metrics::rsm(&data(12, 5, 1).view(), &data(12, 5, 2).view());
        let w = metrics::rsm(&data(12, 5, 3).view(), &data(12, 5, 3).view());
        let counts = bootstrap_counts(12, 4, 9);
        let got = lower_tri_corr_weighted(&a, &w, counts.view());
        for (r, c) in counts.rows().into_iter().enumerate() {
            let rows = rows_of(c);
            let (mut xa, mut xw) = (Vec::new(), Vec::new());
            for i in 0..rows.len() {
                for j in 0..i {
                    if rows[i] != rows[j] {
                        xa.push(a[[rows[i], rows[j]]]);
                        xw.push(w[[rows[i], rows[j]]]);
                    }
                }
            }
            let k = xa.len() as f64;
            let (ma, mw) = (xa.iter().sum::<f64>() / k, xw.iter().sum::<f64>() / k);
            let cov: f64 = xa.iter().zip(&xw).map(|(x, y)| (x - ma) * (y - mw)).sum();
            let va: f64 = xa.iter().map(|x| (x - ma).powi(2)).sum();
            let vw: f64 = xw.iter().map(|y| (y - mw).powi(2)).sum();
            assert!((got[r] - cov / (va * vw).sqrt()).abs() < 1e-12, "{r}");
        }
        let ones = Array2::<f64>::ones((1, 12));
        let all = lower_tri_corr_weighted(&a, &w, ones.view());
        assert!((all[0] - metrics::lower_tri_corr(&a, &w)).abs() < 1e-12);
    }

    #[test]
    fn weighted_ve_matches_unweighted() {
        let h: Vec<Array2<f64>> = (0..3).map(|s| data(15, 4, s)).collect();
        let y: Vec<Array2<f64>> = (0..3).map(|s| data(15, 4, s + 5)).collect();
        let hv: Vec<_> = h.iter().map(|x| x.view()).collect();
        let yv: Vec<_> = y.iter().map(|x| x.view()).collect();
        let sq: Vec<f64> = h.iter().map(|x| x.iter().map(|v| v * v).sum()).collect();
        let want = metrics::variance_explained(&hv, &sq, &yv);
        let ones = Array2::<f64>::ones((1, 15));
        let got = variance_explained_weighted(&hv, &vec![None; hv.len()], &yv, ones.view());
        for (g, w) in got[0].iter().zip(&want) {
            assert!((g - w).abs() < 1e-12);
        }
    }

    #[test]
    fn leave_one_network_out_matches_recomputing() {
        let nat: Vec<Array2<f64>> = (0..4).map(|s| data(14, 5, s)).collect();
        let sh: Vec<Array2<f64>> = (0..4).map(|s| data(14, 5, s + 9)).collect();
        let (nv, sv) = (views(&nat), views(&sh));
        let within = metrics::mean_within_rsm(&nv);
        let (inter_n, inter_s) = (metrics::inter_rsm_loo(&nv), metrics::inter_rsm_loo(&sv));
        let (mut isc, mut rsa) = Default::default();
        headline(
            &Headline {
                native: Some(&nv),
                native_all: &nv,
                shared: &sv,
                test: &nv,
                test_mu: &vec![None; nv.len()],
                within: &within,
                inter_native: Some(&inter_n),
                inter_shared: &inter_s,
                resamples: 5,
                seed: 1,
            },
            &mut isc,
            &mut rsa,
        );
        let direct: Vec<f64> = (0..4)
            .map(|l| {
                let keep: Vec<usize> = (0..4).filter(|&i| i != l).collect();
                // The full-matrix definition, independent of the tiled code.
                metrics::lower_tri_corr(
                    &metrics::inter_rsm_loo(&pick(&sv, &keep)),
                    &metrics::mean_within_rsm(&pick(&nv, &keep)),
                )
            })
            .collect();
        let got = rsa
            .leave_one_network_out
            .and_then(|r| r.shared)
            .expect("range");
        let want = range(&direct).expect("range");
        assert!((got[0] - want[0]).abs() < 1e-12 && (got[1] - want[1]).abs() < 1e-12);
        assert!(isc.ci95.is_some() && isc.chance.is_some());
    }

    #[test]
    fn reordered_rsa_equals_the_dense_rsa_of_shuffled_copies() {
        // More images than one tile, so the orders cross tile boundaries.
        let nat: Vec<Array2<f64>> = (0..3).map(|s| data(300, 6, s)).collect();
        let sh: Vec<Array2<f64>> = (0..3).map(|s| data(300, 4, s + 5)).collect();
        let orders = permutations(3, 300, 11);
        let reorder = |xs: &[Array2<f64>]| -> Vec<Array2<f64>> {
            xs.iter()
                .zip(&orders)
                .map(|(x, o)| x.select(Axis(0), o))
                .collect()
        };
        let (nat_s, sh_s) = (reorder(&nat), reorder(&sh));
        let want = metrics::lower_tri_corr(
            &metrics::inter_rsm_loo(&views(&sh_s)),
            &metrics::mean_within_rsm(&views(&nat_s)),
        );
        let got = metrics::rsa_loo_reordered(&views(&nat), &views(&sh), &orders);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn centred_isc_matches_isc_loo_with_and_without_shuffles() {
        let xs: Vec<Array2<f64>> = (0..3)
            .map(|s| centred_columns(&data(25, 4, s).view()))
            .collect();
        let v = views(&xs);
        assert!((isc_loo_centred(&v, None) - metrics::isc_loo(&v)).abs() < 1e-12);
        let perms = permutations(3, 25, 4);
        let sh: Vec<Array2<f64>> = xs
            .iter()
            .zip(&perms)
            .map(|(x, o)| x.select(Axis(0), o))
            .collect();
        let want = metrics::isc_loo(&views(&sh));
        assert!((isc_loo_centred(&v, Some(&perms)) - want).abs() < 1e-12);
    }

    #[test]
    fn percentile_interval_interpolates() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        let [lo, hi] = percentile_interval(&v).expect("interval");
        assert!((lo - 2.5).abs() < 1e-9 && (hi - 97.5).abs() < 1e-9);
        assert_eq!(percentile_interval(&[1.0]), None);
    }
}
