//! Before/after alignment metrics (docs/paper_parity.md: how each differs from the paper's).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainTest {
    pub train: Vec<f64>,
    pub test: Vec<f64>,
    /// 95 % bootstrap interval of each network's held-out value (images resampled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95: Option<Vec<Option<[f64; 2]>>>,
}

/// An interval per space; `None` where the value is undefined.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalPair {
    pub native: Option<[f64; 2]>,
    pub shared: Option<[f64; 2]>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NativeShared {
    /// `None` when native space has no meaning across networks (differing unit counts).
    pub native: Option<f64>,
    pub shared: f64,
    /// 95 % percentile bootstrap interval over held-out images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95: Option<IntervalPair>,
    /// The shared-space value when each network's image order is shuffled independently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chance: Option<f64>,
    /// [min, max] over the values with one network left out (RSA: shared only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_one_network_out: Option<IntervalPair>,
}

/// An m × m matrix per space; undefined cells (NaN) are `null` in JSON.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PairMatrix {
    #[serde(deserialize_with = "nan_matrix")]
    pub native: Vec<Vec<f64>>,
    #[serde(deserialize_with = "nan_matrix")]
    pub shared: Vec<Vec<f64>>,
}

fn nan_matrix<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
    let m: Vec<Vec<Option<f64>>> = Deserialize::deserialize(d)?;
    Ok(m.into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .collect())
}

/// How the intervals, chance levels and pair measures were computed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UncertaintyInfo {
    /// Bootstrap resamples of the held-out images (0 = no intervals).
    pub bootstrap: usize,
    pub seed: u64,
    pub level: f64,
    /// Shuffles averaged for the ISC chance level, and for the RSA one.
    pub chance_shuffles_isc: usize,
    pub chance_shuffles_rsa: usize,
    /// Neighbours for `mutual_knn`.
    pub knn: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BeforeAfter {
    pub before: [f64; 3],
    pub after: [f64; 3],
}

/// The METRICS.json schema.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Per-iteration objective: log-likelihood (prob), or the objective (det, procrustes).
    pub objective: Vec<f64>,
    pub variance_explained: TrainTest,
    pub isc: NativeShared,
    pub rsa: NativeShared,
    /// Pairwise Procrustes variance explained on held-out images, row-major m × m.
    pub procrustes_ve: Vec<Vec<f64>>,
    pub pca_explained_variance: BeforeAfter,
    pub fit_seconds: f64,
    /// Per-pair measures on held-out images, keyed as `analysis::similarity::MEASURES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs: Option<std::collections::BTreeMap<String, PairMatrix>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<UncertaintyInfo>,
    /// Image indices into the input: `train` as fitted, `test` in the order of the frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<crate::align::ImageSplit>,
}

use ndarray::{Array2, ArrayView2, Axis};

/// Mean and inverse centred norm of one pattern (two passes, so no cancellation); the inverse
/// is 0 for a constant row, which then correlates 0 with everything.
fn row_stats(r: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (mut n, mut sum) = (0usize, 0.0);
    for v in r.clone() {
        n += 1;
        sum += v;
    }
    let m = sum / n.max(1) as f64;
    let ss: f64 = r.map(|v| (v - m) * (v - m)).sum();
    let inv = if ss > 0.0 { 1.0 / ss.sqrt() } else { 0.0 };
    (m, inv)
}

/// Centres each row and scales it to unit norm (Pearson correlation across columns).
pub(crate) fn zrows(x: &ArrayView2<f64>) -> Array2<f64> {
    let mut z = Array2::<f64>::zeros(x.raw_dim());
    for (src, mut dst) in x.rows().into_iter().zip(z.rows_mut()) {
        let (m, inv) = row_stats(src.iter().copied());
        dst.zip_mut_with(&src, |d, &v| *d = (v - m) * inv);
    }
    z
}

/// Image × image Pearson correlation of the patterns of `a` and `b` (rows are images).
pub fn rsm(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> Array2<f64> {
    crate::linalg::matmul(zrows(a).view(), zrows(b).t())
}

fn mean_of_others(xs: &[ArrayView2<f64>], total: &Array2<f64>, i: usize) -> Array2<f64> {
    (total - &xs[i]) / (xs.len() - 1) as f64
}

fn sum_all(xs: &[ArrayView2<f64>]) -> Array2<f64> {
    let mut t = Array2::<f64>::zeros(xs[0].raw_dim());
    for x in xs {
        t += x;
    }
    t
}

/// Mean within-network RSM: one symmetric rank update per network (half a product each).
pub fn mean_within_rsm(xs: &[ArrayView2<f64>]) -> Array2<f64> {
    let n = xs[0].nrows();
    let mut acc = Array2::<f64>::zeros((n, n));
    for x in xs {
        crate::linalg::syrk_lower_add(&mut acc.view_mut(), zrows(x).t());
    }
    crate::linalg::mirror_lower(&mut acc);
    acc / xs.len() as f64
}

/// Leave-one-out inter-network RSM: each network's patterns against the mean pattern of the
/// others, averaged over networks (the paper's code). Needs equal widths. Summed in place.
pub fn inter_rsm_loo(xs: &[ArrayView2<f64>]) -> Array2<f64> {
    let total = sum_all(xs);
    let n = xs[0].nrows();
    let mut acc = Array2::<f64>::zeros((n, n));
    for (i, x) in xs.iter().enumerate() {
        let others = zrows(&mean_of_others(xs, &total, i).view());
        crate::linalg::matmul_add(&mut acc, zrows(x).view(), others.t(), 1.0);
    }
    acc / xs.len() as f64
}

/// Pearson r of the strictly lower-triangular entries of two square matrices.
pub fn lower_tri_corr(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let n = a.nrows();
    PairSums::of(|| (0..n).flat_map(move |i| (0..i).map(move |j| (a[[i, j]], b[[i, j]])))).pearson()
}

/// Rows per tile in [`rsa_loo`]: tiles of T × T matrices are formed and summed one at a time.
const RSM_TILE: usize = 256;

/// Means and centred co-moments of pairs of matrix entries, for a Pearson r. Centred, not raw
/// sums: uncentred RSMs share a large mean (0.99 ± 0.002 within the untrained demo ConvNets),
/// and Σab − ΣaΣb/n then lost 5e-10 of RSA to cancellation.
#[derive(Clone, Default)]
struct PairSums {
    n: f64,
    ma: f64,
    mb: f64,
    aa: f64,
    bb: f64,
    ab: f64,
}

impl PairSums {
    /// Two passes over the pairs: their means, then the centred sums.
    fn of<I: Iterator<Item = (f64, f64)>>(pairs: impl Fn() -> I) -> Self {
        let (mut n, mut sa, mut sb) = (0.0, 0.0, 0.0);
        for (x, y) in pairs() {
            n += 1.0;
            sa += x;
            sb += y;
        }
        if n == 0.0 {
            return Self::default();
        }
        let (ma, mb) = (sa / n, sb / n);
        let (mut aa, mut bb, mut ab) = (0.0, 0.0, 0.0);
        for (x, y) in pairs() {
            let (dx, dy) = (x - ma, y - mb);
            aa += dx * dx;
            bb += dy * dy;
            ab += dx * dy;
        }
        Self {
            n,
            ma,
            mb,
            aa,
            bb,
            ab,
        }
    }

    /// The union of two sets of pairs (Chan, Golub & LeVeque's pairwise update).
    fn add(self, o: &PairSums) -> Self {
        if o.n == 0.0 {
            return self;
        }
        if self.n == 0.0 {
            return o.clone();
        }
        let n = self.n + o.n;
        let (da, db) = (o.ma - self.ma, o.mb - self.mb);
        let f = self.n * o.n / n;
        Self {
            n,
            ma: self.ma + da * o.n / n,
            mb: self.mb + db * o.n / n,
            aa: self.aa + o.aa + da * da * f,
            bb: self.bb + o.bb + db * db * f,
            ab: self.ab + o.ab + da * db * f,
        }
    }

    fn pearson(&self) -> f64 {
        if self.n < 2.0 {
            return f64::NAN;
        }
        let den = (self.aa * self.bb).sqrt();
        if den > 0.0 {
            self.ab / den
        } else {
            f64::NAN
        }
    }
}

/// One set of networks prepared for tiled RSMs: every row's mean and inverse centred norm,
/// for the networks themselves and (leave-one-out sets) for the sum of the others, computed
/// once, so a tile's z-scored rows are one fused pass over the data.
struct TileSet<'a, 'b> {
    xs: &'b [ArrayView2<'a, f64>],
    /// Row r of network i is its row `orders[i][r]` (a shuffled image order), when given.
    orders: Option<&'b [Vec<usize>]>,
    own: Vec<(Vec<f64>, Vec<f64>)>,
    /// Sum over networks (in tile row order), and each network's others' row stats (`loo`
    /// sets only).
    total: Option<Array2<f64>>,
    others: Vec<(Vec<f64>, Vec<f64>)>,
}

impl<'a, 'b> TileSet<'a, 'b> {
    fn new(xs: &'b [ArrayView2<'a, f64>], loo: bool) -> Self {
        Self::ordered(xs, None, loo)
    }

    fn ordered(xs: &'b [ArrayView2<'a, f64>], orders: Option<&'b [Vec<usize>]>, loo: bool) -> Self {
        use rayon::prelude::*;
        let src = |i: usize, r: usize| orders.map_or(r, |o| o[i][r]);
        let n = xs.first().map_or(0, |x| x.nrows());
        let own = (0..xs.len())
            .into_par_iter()
            .map(|i| {
                (0..n)
                    .map(|r| row_stats(xs[i].row(src(i, r)).iter().copied()))
                    .unzip()
            })
            .collect();
        let (total, others) = if loo && !xs.is_empty() {
            let mut total = Array2::<f64>::zeros(xs[0].raw_dim());
            for (i, x) in xs.iter().enumerate() {
                for (r, mut t) in total.rows_mut().into_iter().enumerate() {
                    t += &x.row(src(i, r));
                }
            }
            // zrows is scale-free, so the others' sum stands for their mean.
            let others = (0..xs.len())
                .into_par_iter()
                .map(|i| {
                    total
                        .rows()
                        .into_iter()
                        .enumerate()
                        .map(|(r, t)| {
                            let x = xs[i].row(src(i, r));
                            row_stats(t.iter().zip(x.iter()).map(|(a, b)| a - b))
                        })
                        .unzip()
                })
                .collect();
            (Some(total), others)
        } else {
            (None, Vec::new())
        };
        TileSet {
            xs,
            orders,
            own,
            total,
            others,
        }
    }

    /// Σ_i z(x_i[ra]) · z(y_i[rb])ᵀ / m, where y_i is x_i itself or the sum of the others.
    fn tile(&self, ra: std::ops::Range<usize>, rb: std::ops::Range<usize>) -> Array2<f64> {
        let mut acc = Array2::<f64>::zeros((ra.len(), rb.len()));
        for (i, x) in self.xs.iter().enumerate() {
            let src = |r: usize| self.orders.map_or(r, |o| o[i][r]);
            // Widths may differ between networks (the within-network set).
            let mut za = Array2::<f64>::zeros((ra.len(), x.ncols()));
            let mut zb = Array2::<f64>::zeros((rb.len(), x.ncols()));
            let (mean, inv) = &self.own[i];
            for (r, mut dst) in ra.clone().zip(za.rows_mut()) {
                let (m, k) = (mean[r], inv[r]);
                dst.zip_mut_with(&x.row(src(r)), |d, &v| *d = (v - m) * k);
            }
            match &self.total {
                Some(t) => {
                    let (mean, inv) = &self.others[i];
                    for (r, mut dst) in rb.clone().zip(zb.rows_mut()) {
                        let (m, k) = (mean[r], inv[r]);
                        ndarray::Zip::from(&mut dst)
                            .and(&t.row(r))
                            .and(&x.row(src(r)))
                            .for_each(|d, &a, &b| *d = (a - b - m) * k);
                    }
                }
                None => {
                    for (r, mut dst) in rb.clone().zip(zb.rows_mut()) {
                        let (m, k) = (mean[r], inv[r]);
                        dst.zip_mut_with(&x.row(src(r)), |d, &v| *d = (v - m) * k);
                    }
                }
            }
            acc += &crate::linalg::matmul_serial(za.view(), zb.t());
        }
        acc / self.xs.len() as f64
    }
}

/// The paper's second-order RSA without any T × T matrix: Pearson r between the strictly
/// lower triangles of the mean within-network RSM of `within` and the leave-one-out
/// inter-network RSM ([`inter_rsm_loo`]) of each set in `inter`. Equals
/// `lower_tri_corr(&inter_rsm_loo(set), &mean_within_rsm(within))` to rounding; memory is
/// O(tile² + tile·units) per thread plus the networks' sum, and the tiles run in parallel.
pub fn rsa_loo(within: &[ArrayView2<f64>], inter: &[&[ArrayView2<f64>]]) -> Vec<f64> {
    let t = within.first().map_or(0, |x| x.nrows());
    let within_set = TileSet::new(within, false);
    let inter_sets: Vec<TileSet> = inter.iter().map(|xs| TileSet::new(xs, true)).collect();
    rsa_tiled(t, &|ra, rb| within_set.tile(ra, rb), &inter_sets)
}

/// [`rsa_loo`] of one inter set after reordering every network's images, network i by
/// `orders[i]` in both sets (the chance level), without copying any network.
pub fn rsa_loo_reordered(
    within: &[ArrayView2<f64>],
    inter: &[ArrayView2<f64>],
    orders: &[Vec<usize>],
) -> f64 {
    let t = within.first().map_or(0, |x| x.nrows());
    let within_set = TileSet::ordered(within, Some(orders), false);
    let inter_set = [TileSet::ordered(inter, Some(orders), true)];
    rsa_tiled(t, &|ra, rb| within_set.tile(ra, rb), &inter_set)[0]
}

/// [`rsa_loo`] with network `drop` left out of a mean within-network RSM already computed over
/// `m` networks: (m·W − RSM(drop))/(m − 1), tile by tile. The leave-one-network-out RSA then
/// costs one RSM of its own instead of m − 1, and only lower-triangle tiles are formed.
pub fn rsa_loo_without(
    within_all: &Array2<f64>,
    m: usize,
    drop: ArrayView2<f64>,
    inter: &[&[ArrayView2<f64>]],
) -> Vec<f64> {
    let dropped = [drop];
    let own = TileSet::new(&dropped, false);
    let (mf, rest) = (m as f64, (m.max(2) - 1) as f64);
    let inter_sets: Vec<TileSet> = inter.iter().map(|xs| TileSet::new(xs, true)).collect();
    rsa_tiled(
        within_all.nrows(),
        &|ra: std::ops::Range<usize>, rb: std::ops::Range<usize>| {
            let mut w = within_all
                .slice(ndarray::s![ra.clone(), rb.clone()])
                .to_owned()
                * mf;
            w -= &own.tile(ra, rb);
            w / rest
        },
        &inter_sets,
    )
}

type TileFn<'f> = dyn Fn(std::ops::Range<usize>, std::ops::Range<usize>) -> Array2<f64> + Sync + 'f;

/// Pearson r between the strictly lower triangles of the within-network tiles `within_tile`
/// gives and the leave-one-out inter-network RSM of each set in `inter`, over t × t.
fn rsa_tiled(t: usize, within_tile: &TileFn<'_>, inter_sets: &[TileSet]) -> Vec<f64> {
    use rayon::prelude::*;
    let blocks: Vec<std::ops::Range<usize>> = (0..t)
        .step_by(RSM_TILE)
        .map(|a| a..(a + RSM_TILE).min(t))
        .collect();
    let pairs: Vec<(usize, usize)> = (0..blocks.len())
        .flat_map(|a| (0..=a).map(move |b| (a, b)))
        .collect();
    let zero = || vec![PairSums::default(); inter_sets.len()];
    let sums = pairs
        .par_iter()
        .map(|&(a, b)| {
            let (ra, rb) = (blocks[a].clone(), blocks[b].clone());
            let w = within_tile(ra.clone(), rb.clone());
            let qs: Vec<Array2<f64>> = inter_sets
                .iter()
                .map(|set| set.tile(ra.clone(), rb.clone()))
                .collect();
            // The tile's strictly lower cells, as (row, column) within the tile.
            let cells = || {
                ra.clone().enumerate().flat_map(|(r, row)| {
                    rb.clone()
                        .enumerate()
                        .take_while(move |&(_, col)| col < row)
                        .map(move |(c, _)| (r, c))
                })
            };
            qs.iter()
                .map(|q| PairSums::of(|| cells().map(|(r, c)| (q[[r, c]], w[[r, c]]))))
                .collect::<Vec<_>>()
        })
        .reduce(zero, |a, b| {
            a.into_iter().zip(&b).map(|(x, y)| x.add(y)).collect()
        });
    sums.iter().map(PairSums::pearson).collect()
}

/// Mean leave-one-out inter-network correlation per dimension (column), over networks.
///
/// Row-major passes over the data (columns of a row-major array are strided): the column means
/// first, then the centred sums, with the others' mean taken as the sum of all networks minus
/// this one (correlation is scale-free). No per-network copy of the others is made.
pub fn isc_loo(xs: &[ArrayView2<f64>]) -> f64 {
    use rayon::prelude::*;
    if xs.is_empty() {
        return f64::NAN;
    }
    let total = sum_all(xs);
    let n = total.nrows().max(1) as f64;
    let total_mean = total.sum_axis(Axis(0)) / n;
    let per_net: Vec<f64> = xs
        .par_iter()
        .filter_map(|x| {
            let p = x.ncols();
            let mean = x.sum_axis(Axis(0)) / n;
            let (mut ab, mut aa, mut bb) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
            for (xr, tr) in x.rows().into_iter().zip(total.rows()) {
                for c in 0..p {
                    let a = xr[c] - mean[c];
                    let b = (tr[c] - xr[c]) - (total_mean[c] - mean[c]);
                    ab[c] += a * b;
                    aa[c] += a * a;
                    bb[c] += b * b;
                }
            }
            let vals: Vec<f64> = (0..p)
                .filter(|&c| aa[c] > 0.0 && bb[c] > 0.0)
                .map(|c| ab[c] / (aa[c] * bb[c]).sqrt())
                .collect();
            (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
        })
        .collect();
    if per_net.is_empty() {
        f64::NAN
    } else {
        per_net.iter().sum::<f64>() / per_net.len() as f64
    }
}

fn dot(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

/// Frobenius inner product ⟨a, b⟩.
pub fn frob(a: &ArrayView2<f64>, b: &ArrayView2<f64>) -> f64 {
    dot(a, b)
}

/// Number of entries and their variance (over all entries), the denominator of the paper's VE.
pub fn entry_variance(x: &ArrayView2<f64>) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.sum() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (n, var)
}

/// The paper's variance explained: reconstruct each network from the MEAN shared response,
/// VE_i = 1 − mean((S̄W_iᵀ − H̃_i)²) / var(H_i). `h` is the native data, `h_sq` = ‖H̃_i‖² of the
/// data as projected, `ys` the projections H̃_iW_i. Uses WᵀW = I to avoid forming S̄W_iᵀ.
pub fn variance_explained(h: &[ArrayView2<f64>], h_sq: &[f64], ys: &[ArrayView2<f64>]) -> Vec<f64> {
    let sbar = sum_all(ys) / ys.len() as f64;
    let dots: Vec<f64> = ys.iter().map(|y| dot(&sbar.view(), y)).collect();
    let stats: Vec<(f64, f64)> = h.iter().map(entry_variance).collect();
    variance_explained_from(&stats, h_sq, &dots, dot(&sbar.view(), &sbar.view()))
}

/// [`variance_explained`] from its parts: each network's (entries, variance), ‖H̃_i‖²,
/// ⟨S̄, Y_i⟩ and ‖S̄‖², so callers can stream the networks.
pub fn variance_explained_from(
    stats: &[(f64, f64)],
    h_sq: &[f64],
    sbar_dot_y: &[f64],
    sbar_sq: f64,
) -> Vec<f64> {
    stats
        .iter()
        .zip(h_sq)
        .zip(sbar_dot_y)
        .map(|((&(n, var), &q), &d)| {
            let sse = q - 2.0 * d + sbar_sq;
            if var > 0.0 {
                1.0 - sse / n / var
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// Pairwise Procrustes variance explained through the fitted orthogonal maps: the share of
/// network i's held-out variance that network j reproduces when mapped by W_iW_jᵀ,
/// 1 − ‖H̃_i − Y_jW_iᵀ‖²/‖H̃_i‖². Fitted on train, measured on test.
pub fn pairwise_procrustes_ve(h_sq: &[f64], ys: &[ArrayView2<f64>]) -> Vec<Vec<f64>> {
    let m = ys.len();
    let y_sq: Vec<f64> = ys.iter().map(|y| dot(y, y)).collect();
    (0..m)
        .map(|i| {
            (0..m)
                .map(|j| {
                    if h_sq[i] > 0.0 {
                        1.0 - (h_sq[i] - 2.0 * dot(&ys[i], &ys[j]) + y_sq[j]) / h_sq[i]
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        })
        .collect()
}

/// Per frame, the mean distance between every pair of networks' points.
pub fn disagreement(points: &[&[[f32; 3]]]) -> Vec<f32> {
    let n = points.first().map_or(0, |p| p.len());
    let m = points.len();
    (0..n)
        .map(|t| {
            let mut acc = 0.0f32;
            let mut cnt = 0;
            for i in 0..m {
                for j in i + 1..m {
                    let (a, b) = (points[i][t], points[j][t]);
                    acc += ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2))
                        .sqrt();
                    cnt += 1;
                }
            }
            if cnt > 0 {
                acc / cnt as f32
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_networks_have_perfect_scores() {
        let x = Array2::from_shape_fn((30, 4), |(i, j)| ((i * 7 + j * 13) % 11) as f64 + j as f64);
        let xs = [x.view(), x.view(), x.view()];
        assert!((isc_loo(&xs) - 1.0).abs() < 1e-12);
        let r = lower_tri_corr(&inter_rsm_loo(&xs), &mean_within_rsm(&xs));
        assert!((r - 1.0).abs() < 1e-12);
    }

    #[test]
    fn tiled_rsa_equals_dense_rsms() {
        // Several tiles, a ragged last tile, and unequal widths for the within set.
        let t = 2 * RSM_TILE + 37;
        let mk = |seed: usize, p: usize| {
            Array2::from_shape_fn((t, p), |(i, j)| {
                (((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0).sin() + (i % 10) as f64 * 0.1
            })
        };
        let a = [mk(1, 6), mk(2, 6), mk(3, 6)];
        let b = [mk(4, 4), mk(5, 4), mk(6, 4)];
        let av: Vec<_> = a.iter().map(|x| x.view()).collect();
        let bv: Vec<_> = b.iter().map(|x| x.view()).collect();
        let within = mean_within_rsm(&av);
        let got = rsa_loo(&av, &[&av, &bv]);
        let want = [
            lower_tri_corr(&inter_rsm_loo(&av), &within),
            lower_tri_corr(&inter_rsm_loo(&bv), &within),
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-10, "{g} vs {w}");
        }
        // Leaving network 1 out of the within mean, tile by tile.
        let got = rsa_loo_without(&within, 3, av[1], &[&bv[..2]]);
        let want = lower_tri_corr(&inter_rsm_loo(&bv[..2]), &mean_within_rsm(&[av[0], av[2]]));
        assert!((got[0] - want).abs() < 1e-10, "{} vs {want}", got[0]);
    }

    #[test]
    fn disagreement_is_mean_pairwise_distance() {
        let a = vec![[0.0, 0.0, 0.0]];
        let b = vec![[3.0, 4.0, 0.0]];
        assert_eq!(disagreement(&[&a, &b]), vec![5.0]);
    }
}
