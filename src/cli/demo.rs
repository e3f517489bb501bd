use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct DemoArgs {
    /// List the embedded sets (open one with `srmscope demo:<name>` or use it as FILE anywhere).
    #[arg(long)]
    pub list: bool,
}

pub fn run(_a: DemoArgs) -> Result<()> {
    for (name, bytes, about) in srmscope::data::DEMOS {
        println!("demo:{name:<20} {:>6} KiB  {about}", bytes.len() / 1024);
    }
    for (name, bytes, about) in srmscope::data::demo::STUDIES {
        println!(
            "demo:{name:<20} {:>6} KiB  study: {about}",
            bytes.len() / 1024
        );
    }
    Ok(())
}
