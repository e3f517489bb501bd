use anyhow::{bail, Context, Result};
use clap::Args;
use ndarray::Array2;
use srmscope::analysis::model_file;
use srmscope::analysis::pca::{fit_joint, moving_average};
use srmscope::analysis::MAX_COUNT;
use srmscope::data::{write_npz_atomic, NpyArray};
use std::path::PathBuf;

#[derive(Args)]
pub struct TransformArgs {
    /// The fitted model (.npz from `srmscope fit`).
    pub model: PathBuf,
    /// Activations of the same networks, matched to the model by name (.npy files, one .npz, a
    /// folder...); in the given order when no name matches.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Where to write the aligned arrays (.npz, one array per network, images × k).
    #[arg(long)]
    pub out: PathBuf,
    /// Moving-average window over images ('valid' mode).
    #[arg(long, default_value_t = 1)]
    pub smooth: usize,
    /// Write a joint PCA of the aligned data with this many components instead.
    #[arg(long)]
    pub pca: Option<usize>,
    #[arg(long)]
    pub labels: Option<PathBuf>,
}

pub fn run(a: TransformArgs) -> Result<()> {
    if a.smooth == 0 || a.smooth > MAX_COUNT {
        bail!(
            "--smooth must be between 1 and {MAX_COUNT}, got {}",
            a.smooth
        );
    }
    if let Some(n) = a.pca {
        if n == 0 || n > MAX_COUNT {
            bail!("--pca must be between 1 and {MAX_COUNT} components, got {n}");
        }
    }
    let inputs = super::input_paths(&a.files, &[Some(a.model.as_path()), a.labels.as_deref()]);
    super::check_output("--out", &a.out, &inputs, Some("npz"))?;
    let mf = model_file::load(&a.model)?;
    for note in &mf.notes {
        eprintln!("note: {note}");
    }
    if let Some(n) = a.pca {
        if n > mf.model.k() {
            bail!(
                "--pca {n}: the model's shared space has only k = {} dimensions",
                mf.model.k()
            );
        }
    }
    let ds = super::load(&a.files, a.labels.as_deref())?;
    let (aligned, notes) = model_file::transform_dataset(&mf, &ds)
        .with_context(|| format!("applying {}", a.model.display()))?;
    for note in &notes {
        eprintln!("note: {note}");
    }
    let n_images = ds.n_images();
    // The same window for the data and the labels, clipped to the images there are.
    let w = a.smooth.min(n_images).max(1);
    if w < a.smooth {
        eprintln!(
            "note: smoothing window clipped from {} to {w} ({n_images} images)",
            a.smooth
        );
    }
    let aligned: Vec<Array2<f64>> = aligned
        .iter()
        .map(|y| moving_average(&y.view(), w))
        .collect();
    let out: Vec<Array2<f64>> = match a.pca {
        Some(n) => {
            let views: Vec<_> = aligned.iter().map(|y| y.view()).collect();
            let pca = fit_joint(&views, n).context("PCA")?;
            let evr: Vec<String> = pca
                .explained_variance_ratio
                .iter()
                .map(|v| format!("{:.1}%", v * 100.0))
                .collect();
            println!("joint PCA explained variance: {}", evr.join(" "));
            aligned.iter().map(|y| pca.transform(&y.view())).collect()
        }
        None => aligned,
    };
    let mut arrays: Vec<(String, NpyArray)> = mf
        .model
        .networks
        .iter()
        .cloned()
        .zip(out.iter().map(NpyArray::from_f64))
        .collect();
    if let Some(l) = &ds.labels {
        let n = out.first().map_or(0, |y| y.nrows());
        let last = l.len().saturating_sub(1);
        let lab: ndarray::Array1<i64> = (0..n).map(|t| l[(t + w / 2).min(last)]).collect();
        arrays.push(("labels".into(), NpyArray::from_i64(&lab)));
    }
    write_npz_atomic(&a.out, &arrays)?;
    println!(
        "wrote {}: {} networks × {} images × {} dims",
        a.out.display(),
        out.len(),
        out.first().map_or(0, |y| y.nrows()),
        out.first().map_or(0, |y| y.ncols())
    );
    Ok(())
}
