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
        for &v in n.data.iter() {
            lo = lo.min(v);
            hi = hi.max(v);
            sum += v;
        }
        let mean = sum / count;
        let sd = (n.data.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count).sqrt();
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
    Ok(())
}
