//! The srmscope command line: the viewer (default), `info`, `fit`, `transform`, `export`,
//! `study`, `demo` and `bench`.

mod cli;

/// Large matrices on transparent huge pages (see `memory::HugePageAlloc`).
#[global_allocator]
static ALLOC: srmscope::memory::HugePageAlloc = srmscope::memory::HugePageAlloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "srmscope",
    version,
    about = "Do independently trained networks learn the same representation, up to a rotation?\n\
             Align their activations with the Shared Response Model and watch 3D trajectories.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Files to open in the viewer (.npy, .npz, a folder, or demo:<name>); none opens the demo.
    files: Vec<String>,
    /// Most memory the loaded arrays may take as float64, e.g. 2G or 500M (default: 75 % of RAM).
    #[arg(long, global = true, value_parser = cli::parse_memory)]
    max_memory: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the viewer (the default).
    View(cli::view::ViewArgs),
    /// Networks, shapes, dtypes, labels and value ranges of the inputs.
    Info(cli::info::InfoArgs),
    /// Fit an alignment and write MODEL.npz (and METRICS.json).
    Fit(cli::fit::FitCmdArgs),
    /// Map activations into a fitted shared space (optionally smoothed and reduced by PCA).
    Transform(cli::transform::TransformArgs),
    /// Render the trajectories to an animated GIF or PNG frames, without a window.
    Export(cli::export::ExportArgs),
    /// Fit every layer and checkpoint of a study (study.json) and write RESULTS.json.
    Study(cli::study::StudyArgs),
    /// List the embedded demo datasets.
    Demo(cli::demo::DemoArgs),
    /// Time probabilistic SRM on synthetic data (m=10, v=512, T=2000, k=50, 10 iterations).
    Bench(cli::bench::BenchArgs),
}

/// One line: the error and each cause that adds something (an I/O error's text is often part
/// of the message above it already).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn main() {
    let cli = Cli::parse();
    if let Some(m) = cli.max_memory {
        let _ = cli::MAX_MEMORY.set(m);
        srmscope::data::set_max_memory(m);
    }
    // The viewer keeps the default Ctrl-C; commands stop cleanly at the next cancel check.
    if cli
        .command
        .as_ref()
        .is_some_and(|c| !matches!(c, Command::View(_)))
    {
        if let Err(e) = srmscope::interrupt::install() {
            eprintln!("warning: cannot install the Ctrl-C handler: {e}");
        }
    }
    let result = match cli.command {
        None => cli::view::ViewArgs::with_files(cli.files).and_then(cli::view::run),
        Some(Command::View(a)) => cli::view::run(a),
        Some(Command::Info(a)) => cli::info::run(a),
        Some(Command::Fit(a)) => cli::fit::run(a),
        Some(Command::Transform(a)) => cli::transform::run(a),
        Some(Command::Export(a)) => cli::export::run(a),
        Some(Command::Study(a)) => cli::study::run(a),
        Some(Command::Demo(a)) => cli::demo::run(a),
        Some(Command::Bench(a)) => cli::bench::run(a),
    };
    if let Err(e) = result {
        // Ctrl-C (or SIGTERM) ends a command with the shell's code for it, not a failure's.
        if srmscope::interrupt::interrupted() {
            eprintln!("stopped: {}", one_line(&e));
            std::process::exit(srmscope::interrupt::exit_code());
        }
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}
