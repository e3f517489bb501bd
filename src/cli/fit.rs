use super::{Bar, FitArgs};
use anyhow::{bail, Context, Result};
use clap::Args;
use srmscope::analysis::model_file;
use srmscope::progress::Progress;
use std::path::PathBuf;

#[derive(Args)]
pub struct FitCmdArgs {
    /// .npy files, one .npz, a folder, or demo:<name>.
    #[arg(required = true)]
    pub files: Vec<String>,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Moving-average window used for the trajectories' PCA (reported in the metrics).
    #[arg(long, default_value_t = 10)]
    pub smooth: usize,
    /// Where to write the model (.npz).
    #[arg(long)]
    pub out: PathBuf,
    /// Where to write the metrics (.json).
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Print the wall time of each step (loading, fitting, each metrics step, writing) and the
    /// peak RSS at its end.
    #[arg(long)]
    pub timings: bool,
}

pub fn run(a: FitCmdArgs) -> Result<()> {
    // Every option and output path is checked before anything is loaded.
    let settings = a.fit.settings(a.smooth);
    let settings = settings.check().map_err(anyhow::Error::msg)?;
    let inputs = super::input_paths(&a.files, &[a.fit.labels.as_deref()]);
    super::check_output("--out", &a.out, &inputs, Some("npz"))?;
    if let Some(m) = &a.metrics {
        super::check_output("--metrics", m, &inputs, None)?;
        if srmscope::data::output_target(m)? == srmscope::data::output_target(&a.out)? {
            bail!("--metrics and --out name the same file");
        }
    }
    let t_load = std::time::Instant::now();
    let ds = super::load_fit(&a.files, &a.fit, &settings)?;
    let (load_seconds, load_rss) = (t_load.elapsed().as_secs_f64(), super::peak_rss_mb());
    let bar = Bar::new();
    let report = |e| bar.report(e);
    let (name, n_networks) = (ds.name.clone(), ds.networks.len());
    // The raw activations are freed as they are prepared: one copy of the data at a time.
    let out = srmscope::analysis::pipeline::run_owned(
        ds,
        &settings,
        &Progress::new(&report, srmscope::interrupt::flag()),
    )
    .with_context(|| format!("fitting {name}"));
    bar.finish();
    let out = out?;
    let pipeline_timings = bar.timings();
    let t_write = std::time::Instant::now();
    model_file::save(&a.out, &out.model, &settings)?;
    let json = serde_json::to_string_pretty(&out.metrics)?;
    if let Some(path) = &a.metrics {
        super::write_text_atomic(path, &json)?;
    }
    if a.timings {
        eprintln!(
            "timings: loading {load_seconds:.2} s (peak {load_rss:.0} MB), {pipeline_timings}, \
             writing {:.2} s (peak {:.0} MB)",
            t_write.elapsed().as_secs_f64(),
            super::peak_rss_mb()
        );
    }
    for note in &out.notes {
        eprintln!("note: {note}");
    }
    let m = &out.metrics;
    let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "{}: {}{} on {} networks, k = {}, {} train / {} test images, {:.2} s",
        name,
        settings.algo.label(),
        if settings.is_paper() {
            " (preset paper)"
        } else {
            ""
        },
        n_networks,
        out.k,
        out.train_idx.len(),
        out.test_idx.len(),
        m.fit_seconds
    );
    println!(
        "  held-out ISC  native {} → shared {:.3}",
        fmt(m.isc.native),
        m.isc.shared
    );
    println!(
        "  held-out RSA  native {} → shared {:.3}",
        fmt(m.rsa.native),
        m.rsa.shared
    );
    println!(
        "  variance explained (mean over networks)  train {:.3}  test {:.3}",
        mean(&m.variance_explained.train),
        mean(&m.variance_explained.test)
    );
    let pct = |v: [f64; 3]| {
        format!(
            "{:.1}% {:.1}% {:.1}%",
            v[0] * 100.0,
            v[1] * 100.0,
            v[2] * 100.0
        )
    };
    println!(
        "  3D PCA variance  before {}  after {}",
        pct(m.pca_explained_variance.before),
        pct(m.pca_explained_variance.after)
    );
    println!("wrote {}", a.out.display());
    if let Some(p) = &a.metrics {
        println!("wrote {}", p.display());
    }
    Ok(())
}
