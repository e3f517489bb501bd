use super::FitArgs;
use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct ViewArgs {
    /// .npy files, one .npz, a folder, or demo:<name> (default: demo:convnet).
    pub files: Vec<String>,
    /// A second dataset shown beside the first, with synced time and camera.
    #[arg(long, num_args = 1..)]
    pub compare: Vec<String>,
    /// Render N frames while playing, print median and p95 frame times, and exit.
    #[arg(long)]
    pub bench_frames: Option<usize>,
    /// Images in the bright head of each trajectory (default: the remembered one, else 60).
    #[arg(long)]
    pub tail: Option<usize>,
    /// Moving-average window over images.
    #[arg(long, default_value_t = 10)]
    pub smooth: usize,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Use the settings remembered from the last session instead of the options above.
    #[arg(skip)]
    pub remembered_settings: bool,
}

impl ViewArgs {
    /// `srmscope FILE...`: the view command's defaults, with the remembered settings.
    pub fn with_files(files: Vec<String>) -> Result<Self> {
        use clap::FromArgMatches;
        let mut cmd = <Self as clap::Args>::augment_args(clap::Command::new("view"));
        cmd = cmd.no_binary_name(true);
        let matches = cmd.try_get_matches_from(Vec::<String>::new())?;
        let mut a = <Self as FromArgMatches>::from_arg_matches(&matches)?;
        a.files = files;
        a.remembered_settings = true;
        Ok(a)
    }
}

pub fn run(a: ViewArgs) -> Result<()> {
    let settings = (!a.remembered_settings).then(|| a.fit.settings(a.smooth));
    // Checked before a window opens, like every other command's options.
    if let Some(s) = &settings {
        s.clone().check().map_err(anyhow::Error::msg)?;
    }
    if a.bench_frames.is_some_and(|n| n == 0 || n > 1_000_000) {
        anyhow::bail!("--bench-frames must be between 1 and 1000000");
    }
    if a.tail.is_some_and(|n| n > srmscope::analysis::MAX_COUNT) {
        anyhow::bail!("--tail must be at most {}", srmscope::analysis::MAX_COUNT);
    }
    srmscope::app::run_viewer(srmscope::app::ViewerOptions {
        inputs: a.files,
        compare: a.compare,
        bench_frames: a.bench_frames,
        settings,
        tail: a.tail,
        images: a.fit.images,
        class_names: a.fit.class_names,
    })
}
