use anyhow::{bail, Context, Result};
use clap::Args;
use ndarray::{Array2, Axis};
use srmscope::align::model_io::load_model;
use srmscope::analysis::pca::{fit_joint, moving_average};
use srmscope::analysis::preprocess::{unit_stats, zscore_rows};
use srmscope::analysis::{Normalize, Settings};
use srmscope::data::{write_npz_atomic, NpyArray};
use std::path::PathBuf;

#[derive(Args)]
pub struct TransformArgs {
    /// The fitted model (.npz from `srmscope fit`).
    pub model: PathBuf,
    /// Activations of the same networks, in the same order (.npy files, one .npz, a folder...).
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
    let model = load_model(&a.model)?;
    let ds = super::load(&a.files, a.labels.as_deref())?;
    if ds.networks.len() != model.w.len() {
        bail!(
            "{} holds {} networks but the model {} was fitted on {}",
            ds.name,
            ds.networks.len(),
            a.model.display(),
            model.w.len()
        );
    }
    // Preprocess as at fit time: the same units, the same normalisation.
    let settings: Settings = serde_json::from_str::<serde_json::Value>(&model.params)
        .ok()
        .and_then(|p| serde_json::from_value(p["settings"].clone()).ok())
        .unwrap_or_default();
    let mut aligned = Vec::new();
    for (i, net) in ds.networks.iter().enumerate() {
        let mut x: Array2<f64> = match model.units_kept.get(i).and_then(|u| u.as_ref()) {
            Some(cols) => {
                if let Some(&bad) = cols.iter().find(|&&c| c >= net.data.ncols()) {
                    bail!(
                        "{}: the model uses unit {bad} but the network has {} units",
                        net.source,
                        net.data.ncols()
                    );
                }
                net.data.select(Axis(1), cols)
            }
            None => net.data.clone(),
        };
        match settings.normalize {
            Normalize::None => {}
            Normalize::Row => zscore_rows(&mut x),
            Normalize::Unit => {
                // Training statistics are not stored in the model; use the data's own.
                let (mean, sd) = unit_stats(&x.view());
                x -= &mean;
                x /= &sd;
            }
        }
        let y = model
            .transform(i, x.view())
            .with_context(|| net.source.clone())?;
        aligned.push(moving_average(&y.view(), a.smooth));
    }
    let names = ds.names();
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
    let mut arrays: Vec<(String, NpyArray)> = names
        .iter()
        .cloned()
        .zip(out.iter().map(NpyArray::from_f64))
        .collect();
    if let Some(l) = &ds.labels {
        let w = a.smooth.max(1);
        let n = out.first().map_or(0, |y| y.nrows());
        let lab: ndarray::Array1<i64> = (0..n).map(|t| l[(t + w / 2).min(l.len() - 1)]).collect();
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
