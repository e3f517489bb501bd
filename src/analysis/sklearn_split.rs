//! scikit-learn's `train_test_split(test_size=f, random_state=seed, stratify=labels)` bit for
//! bit, as the paper's analysis split its images: numpy's legacy `RandomState` (MT19937, masked
//! rejection for bounded integers, Fisher–Yates from the end) and `StratifiedShuffleSplit`'s
//! class allocation (`_approximate_mode`). Checked against scikit-learn's own splits in
//! `tests/paper_preset.rs`.

use rand_mt::Mt;

/// numpy's `random_interval`: an integer in [0, max], drawing 32-bit outputs (64-bit above
/// 2³²) masked to the smallest covering power of two until one is ≤ max.
fn interval(mt: &mut Mt, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mut mask = max;
    for shift in [1, 2, 4, 8, 16, 32] {
        mask |= mask >> shift;
    }
    loop {
        let v = if max <= u64::from(u32::MAX) {
            u64::from(mt.next_u32()) & mask
        } else {
            // numpy's legacy 64-bit draw: the first output is the high word.
            ((u64::from(mt.next_u32()) << 32) | u64::from(mt.next_u32())) & mask
        };
        if v <= max {
            return v;
        }
    }
}

/// `RandomState.shuffle` of a 1-D array.
fn shuffle<T>(mt: &mut Mt, x: &mut [T]) {
    for i in (1..x.len()).rev() {
        let j = interval(mt, i as u64) as usize;
        x.swap(i, j);
    }
}

/// `RandomState.permutation(n)`.
fn permutation(mt: &mut Mt, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    shuffle(mt, &mut p);
    p
}

/// scikit-learn's `_approximate_mode`: floor each class's share of `n_draws`, then hand the
/// rest out by decreasing remainder, ties broken by `rng.choice(..., replace=False)` (the first
/// entries of a permutation).
fn approximate_mode(counts: &[usize], n_draws: usize, mt: &mut Mt) -> Vec<usize> {
    let total = counts.iter().sum::<usize>() as f64;
    // Same operation order as numpy: counts / counts.sum() * n_draws.
    let continuous: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 / total * n_draws as f64)
        .collect();
    let mut floored: Vec<f64> = continuous.iter().map(|c| c.floor()).collect();
    let mut need = (n_draws as f64 - floored.iter().sum::<f64>()) as i64;
    if need > 0 {
        let remainder: Vec<f64> = continuous
            .iter()
            .zip(&floored)
            .map(|(c, f)| c - f)
            .collect();
        let mut values = remainder.clone();
        values.sort_by(|a, b| b.total_cmp(a));
        values.dedup();
        for value in values {
            let inds: Vec<usize> = (0..remainder.len())
                .filter(|&i| remainder[i] == value)
                .collect();
            let add_now = inds.len().min(need as usize);
            for &p in &permutation(mt, inds.len())[..add_now] {
                floored[inds[p]] += 1.0;
            }
            need -= add_now as i64;
            if need == 0 {
                break;
            }
        }
    }
    floored.iter().map(|&f| f as usize).collect()
}

/// Train and test indices in scikit-learn's order (both shuffled), as `train_test_split`
/// returns them. Stratified by `labels` when given (`StratifiedShuffleSplit`), else
/// `ShuffleSplit`. Errors are scikit-learn's refusals, worded for srmscope.
pub fn train_test_split(
    n: usize,
    labels: Option<&[i64]>,
    test_fraction: f64,
    seed: u32,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(format!(
            "scikit-learn's split needs a held-out fraction in (0, 1), got {test_fraction}"
        ));
    }
    // _validate_shuffle_split: n_test = ceil(test_size · n), the rest trains.
    let n_test = (test_fraction * n as f64).ceil() as usize;
    let n_train = n.saturating_sub(n_test);
    if n_train == 0 || n_test == 0 {
        return Err(format!(
            "scikit-learn's split of {n} images with --test-fraction {test_fraction} leaves an \
             empty train or test set"
        ));
    }
    let mut mt = Mt::new(seed);
    let Some(labels) = labels else {
        let p = permutation(&mut mt, n);
        return Ok((p[n_test..].to_vec(), p[..n_test].to_vec()));
    };
    if labels.len() != n {
        return Err(format!("{} labels for {n} images", labels.len()));
    }
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    // Each class's images in increasing order (a stable argsort of the class indices).
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    for (i, l) in labels.iter().enumerate() {
        if let Ok(c) = classes.binary_search(l) {
            members[c].push(i);
        }
    }
    let counts: Vec<usize> = members.iter().map(Vec::len).collect();
    if let Some(c) = counts.iter().position(|&c| c < 2) {
        return Err(format!(
            "class {} has only {} image; scikit-learn's stratified split needs at least 2 per \
             class",
            classes[c], counts[c]
        ));
    }
    if n_train < classes.len() || n_test < classes.len() {
        return Err(format!(
            "scikit-learn's stratified split of {n} images into {n_train} train and {n_test} \
             test needs at least one image of each of the {} classes on each side",
            classes.len()
        ));
    }
    let n_i = approximate_mode(&counts, n_train, &mut mt);
    let left: Vec<usize> = counts.iter().zip(&n_i).map(|(c, t)| c - t).collect();
    let t_i = approximate_mode(&left, n_test, &mut mt);
    let (mut train, mut test) = (Vec::with_capacity(n_train), Vec::with_capacity(n_test));
    for ((m, &a), &b) in members.iter().zip(&n_i).zip(&t_i) {
        let p = permutation(&mut mt, m.len());
        let shuffled: Vec<usize> = p.iter().map(|&j| m[j]).collect();
        train.extend_from_slice(&shuffled[..a]);
        test.extend_from_slice(&shuffled[a..a + b]);
    }
    shuffle(&mut mt, &mut train);
    shuffle(&mut mt, &mut test);
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_matches_numpy() {
        // numpy: np.random.RandomState(0).permutation(10)
        let mut mt = Mt::new(0);
        assert_eq!(permutation(&mut mt, 10), vec![2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    }

    #[test]
    fn approximate_mode_matches_sklearn_docstring() {
        // scikit-learn's own examples (sklearn.utils.extmath._approximate_mode).
        let mode = |c: &[usize], n, seed| approximate_mode(c, n, &mut Mt::new(seed));
        assert_eq!(mode(&[4, 2], 3, 0), vec![2, 1]);
        assert_eq!(mode(&[5, 2], 4, 0), vec![3, 1]);
        assert_eq!(mode(&[2, 2, 2, 1], 2, 0), vec![0, 1, 1, 0]);
        assert_eq!(mode(&[2, 2, 2, 1], 2, 42), vec![1, 1, 0, 0]);
    }

    #[test]
    fn refuses_what_sklearn_refuses() {
        let one = [0, 0, 0, 1, 2, 2];
        assert!(train_test_split(6, Some(&one), 0.5, 0).is_err());
        let many: Vec<i64> = (0..20).map(|i| i % 10).collect();
        assert!(train_test_split(20, Some(&many), 0.2, 0).is_err());
        assert!(train_test_split(20, None, 0.0, 0).is_err());
    }
}
