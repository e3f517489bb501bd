//! Normalisation, seeded unit subsampling and the stratified train/test split.

use super::settings::{Normalize, SplitMethod};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// z-score each row (one image's pattern across units), as sklearn's StandardScaler on the
/// transposed matrix: population std, constant rows only centred.
pub fn zscore_rows(x: &mut Array2<f64>) {
    for mut row in x.rows_mut() {
        let n = row.len().max(1) as f64;
        let mean = row.sum() / n;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        row.mapv_inplace(|v| (v - mean) / sd);
    }
}

/// `x` with each column's mean over rows subtracted (each network centred with its own means).
pub fn centred_columns(x: &ArrayView2<f64>) -> Array2<f64> {
    let m = x
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    x - &m
}

/// Per-unit mean and std over the rows of `x` (constant units get std 1).
pub fn unit_stats(x: &ArrayView2<f64>) -> (Array1<f64>, Array1<f64>) {
    let mean = x
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    let mut sd = Array1::<f64>::zeros(x.ncols());
    for row in x.rows() {
        for ((s, v), m) in sd.iter_mut().zip(row.iter()).zip(mean.iter()) {
            *s += (v - m) * (v - m);
        }
    }
    let n = x.nrows().max(1) as f64;
    sd.mapv_inplace(|s| if s > 0.0 { (s / n).sqrt() } else { 1.0 });
    (mean, sd)
}

/// Normalises train and test parts of one network. Unit statistics come from the train part so
/// that nothing about the held-out images leaks into the fit.
pub fn normalize(train: &mut Array2<f64>, test: &mut Array2<f64>, how: Normalize) {
    match how {
        Normalize::None => {}
        Normalize::Row => {
            zscore_rows(train);
            zscore_rows(test);
        }
        Normalize::Unit => {
            let (mean, sd) = unit_stats(&train.view());
            for x in [train, test] {
                *x -= &mean;
                *x /= &sd;
            }
        }
    }
}

/// Sorted indices of at most `max` units out of `n`, drawn with a seeded RNG per network.
pub fn subsample_units(
    n: usize,
    max: Option<usize>,
    seed: u64,
    network: usize,
) -> Option<Vec<usize>> {
    let max = max?;
    if max == 0 || n <= max {
        return None;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(
        seed ^ (0xA076_1D64_78BD_642F_u64.wrapping_mul(network as u64 + 1)),
    );
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rng);
    idx.truncate(max);
    idx.sort_unstable();
    Some(idx)
}

/// Train and test image indices by `method`; test in display order. scikit-learn's split keeps
/// its training order and sorts its held-out images by class, stably (the paper's code sorted
/// them with numpy's unstable `argsort`), or by index without labels.
pub fn split_with(
    n: usize,
    labels: Option<&[i64]>,
    fraction: f64,
    seed: u64,
    method: SplitMethod,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    if method == SplitMethod::Srmscope || fraction <= 0.0 || n < 2 {
        return Ok(split(n, labels, fraction, seed));
    }
    let seed = u32::try_from(seed)
        .map_err(|_| format!("--split sklearn needs a seed below 2^32, got {seed}"))?;
    let (train, mut test) = super::sklearn_split::train_test_split(n, labels, fraction, seed)?;
    match labels {
        Some(l) => test.sort_by_key(|&i| l[i]),
        None => test.sort_unstable(),
    }
    Ok((train, test))
}

/// Train and test image indices. With labels the split is stratified and the test images are
/// sorted by class (stable within a class), as in the paper; without labels the test images keep
/// their original order. A fraction of 0 uses every image for both.
pub fn split(
    n: usize,
    labels: Option<&[i64]>,
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    if fraction <= 0.0 || n < 2 {
        let all: Vec<usize> = (0..n).collect();
        let mut test = all.clone();
        if let Some(l) = labels {
            test.sort_by_key(|&i| l[i]);
        }
        return (all, test);
    }
    let n_test = ((fraction * n as f64).ceil() as usize).clamp(1, n - 1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut test: Vec<usize> = match labels {
        Some(l) => {
            // Group by class, then give each class its share by largest remainder.
            let mut classes: Vec<i64> = l.to_vec();
            classes.sort_unstable();
            classes.dedup();
            let mut groups: Vec<Vec<usize>> = classes
                .iter()
                .map(|c| (0..n).filter(|&i| l[i] == *c).collect())
                .collect();
            let exact: Vec<f64> = groups
                .iter()
                .map(|g| g.len() as f64 * n_test as f64 / n as f64)
                .collect();
            let mut take: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
            let mut left = n_test - take.iter().sum::<usize>();
            let mut order: Vec<usize> = (0..groups.len()).collect();
            order.sort_by(|&a, &b| {
                (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor()))
            });
            for &g in order.iter().cycle().take(order.len() * 2) {
                if left == 0 {
                    break;
                }
                if take[g] < groups[g].len() {
                    take[g] += 1;
                    left -= 1;
                }
            }
            let mut out = Vec::with_capacity(n_test);
            for (g, t) in groups.iter_mut().zip(take) {
                g.shuffle(&mut rng);
                out.extend_from_slice(&g[..t.min(g.len())]);
            }
            out
        }
        None => {
            let mut idx: Vec<usize> = (0..n).collect();
            idx.shuffle(&mut rng);
            idx.truncate(n_test);
            idx
        }
    };
    let mut is_test = vec![false; n];
    for &i in &test {
        is_test[i] = true;
    }
    let train: Vec<usize> = (0..n).filter(|&i| !is_test[i]).collect();
    test.sort_unstable();
    if let Some(l) = labels {
        test.sort_by_key(|&i| l[i]);
    }
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_sorted_and_disjoint() {
        let labels: Vec<i64> = (0..100).map(|i| (i % 4) as i64).collect();
        let (train, test) = split(100, Some(&labels), 0.2, 0);
        assert_eq!(test.len(), 20);
        assert_eq!(train.len(), 80);
        for c in 0..4 {
            assert_eq!(test.iter().filter(|&&i| labels[i] == c).count(), 5);
        }
        assert!(test.windows(2).all(|w| labels[w[0]] <= labels[w[1]]));
        assert!(train.iter().all(|i| !test.contains(i)));
        assert_eq!(split(100, Some(&labels), 0.2, 0), (train, test), "seeded");
    }

    #[test]
    fn zero_fraction_uses_everything() {
        let (train, test) = split(10, None, 0.0, 0);
        assert_eq!(train, (0..10).collect::<Vec<_>>());
        assert_eq!(test, train);
    }

    #[test]
    fn row_zscore_has_zero_mean_unit_sd() {
        let mut x = Array2::from_shape_fn((3, 5), |(i, j)| (i * 5 + j * j) as f64);
        zscore_rows(&mut x);
        for r in x.rows() {
            assert!(r.mean().unwrap().abs() < 1e-12);
            assert!((r.mapv(|v| v * v).mean().unwrap() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn subsample_is_seeded_sorted_and_bounded() {
        assert_eq!(subsample_units(10, Some(20), 0, 0), None);
        let a = subsample_units(100, Some(10), 3, 1).unwrap();
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Some(a.clone()), subsample_units(100, Some(10), 3, 1));
        assert_ne!(
            Some(a),
            subsample_units(100, Some(10), 3, 2),
            "a different subset per network"
        );
    }
}
