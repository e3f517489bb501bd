use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct InfoArgs {
    /// .npy files, one .npz, a folder, or demo:<name>.
    #[arg(required = true)]
    pub files: Vec<String>,
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Also print every pairwise similarity measure between the networks (native space, no fit).
    #[arg(long)]
    pub similarity: bool,
    /// Neighbours per image for the mutual k-NN measure.
    #[arg(long, default_value_t = 10)]
    pub knn: usize,
    /// With --similarity: the held-out fraction measured, split as `fit` splits (0 = every image).
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// With --similarity: the seed of the split and of the unit subsample, as in `fit`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(a: InfoArgs) -> Result<()> {
    let ds = super::load(&a.files, a.labels.as_deref())?;
    println!(
        "dataset {}: {} networks, {} images",
        ds.name,
        ds.networks.len(),
        ds.n_images()
    );
    println!(
        "  {:<16} {:>14} {:>7} {:>11} {:>11} {:>11} {:>11}  source",
        "network", "shape", "dtype", "min", "max", "mean", "std"
    );
    for n in &ds.networks {
        let count = n.data.len().max(1) as f64;
        let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
        for v in n.data.values() {
            lo = lo.min(v);
            hi = hi.max(v);
            sum += v;
        }
        let mean = sum / count;
        let sd = (n
            .data
            .values()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f64>()
            / count)
            .sqrt();
        let shape = format!("{}×{}", n.data.nrows(), n.data.ncols());
        println!(
            "  {:<16} {:>14} {:>7} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e}  {}",
            n.name, shape, n.dtype, lo, hi, mean, sd, n.source
        );
        if n.original_shape.len() > 2 {
            println!(
                "  {:<16} stored as {:?}, flattened to 2-D",
                "", n.original_shape
            );
        }
    }
    match &ds.labels {
        Some(l) => {
            let mut classes: Vec<i64> = l.clone();
            classes.sort_unstable();
            classes.dedup();
            let counts: Vec<String> = classes
                .iter()
                .map(|c| {
                    format!(
                        "{}:{}",
                        ds.class_name(*c),
                        l.iter().filter(|&&x| x == *c).count()
                    )
                })
                .collect();
            println!("labels: {} classes ({})", classes.len(), counts.join(" "));
        }
        None => println!("labels: none (the split is not stratified and images keep their order)"),
    }
    if let Some(im) = &ds.images {
        println!(
            "images: {} of {}x{} (shown on hover and beside the scrubber)",
            im.n, im.width, im.height
        );
    }
    let units: Vec<usize> = ds.networks.iter().map(|n| n.data.ncols()).collect();
    if units.iter().any(|&u| u != units[0]) {
        println!(
            "note: unit counts differ ({units:?}); SRM handles it, the \"before\" view zero-pads"
        );
    }
    if a.similarity {
        similarity(&ds, a.knn, a.test_fraction, a.seed)?;
    }
    Ok(())
}

/// Native m × m matrices after `fit`'s default preprocessing and split: with the same seed and
/// fraction they are `fit`'s `pairs.*.native`.
fn similarity(
    ds: &srmscope::data::Dataset,
    knn: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<()> {
    use srmscope::analysis::similarity::{pair_matrices, MEASURES};
    let s = srmscope::analysis::Settings {
        test_fraction,
        seed,
        ..Default::default()
    };
    let prep = srmscope::analysis::pipeline::prepare(ds, &s)?;
    let views: Vec<_> = prep.test.iter().map(|x| x.view()).collect();
    let pairs = pair_matrices(&views, knn)?;
    let names = ds.names();
    let which = if test_fraction > 0.0 {
        format!(
            "the {} held-out images of fit's split (--test-fraction {test_fraction}, --seed {seed})",
            prep.test_idx.len()
        )
    } else {
        format!("all {} images", ds.n_images())
    };
    println!();
    println!(
        "pairwise similarity, native space (no fit), on {which}; each image z-scored across units, at most {} units per network, each unit centred; mutual k-NN with k = {knn}",
        s.max_units.unwrap_or(0)
    );
    for m in MEASURES {
        println!();
        println!(
            "{} ({}): {}, range {}, self {}, invariant to {}",
            m.key,
            m.label,
            m.kind.label(),
            m.range_text,
            m.self_value,
            m.invariant_to
        );
        print!("  {:<16}", "");
        for n in &names {
            print!(" {:>9.9}", n);
        }
        println!();
        for (n, row) in names.iter().zip(&pairs[m.key]) {
            print!("  {:<16.16}", n);
            for v in row {
                if v.is_finite() {
                    print!(" {v:>9.4}");
                } else {
                    print!(" {:>9}", "n/a");
                }
            }
            println!();
        }
    }
    Ok(())
}
