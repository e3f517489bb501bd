use anyhow::Result;
use clap::Args;
use srmscope::data::fmt_bytes;

#[derive(Args)]
pub struct DemoArgs {
    /// List the embedded sets (open one with `srmscope demo:<name>` or use it as FILE anywhere).
    #[arg(long)]
    pub list: bool,
}

pub fn run(_a: DemoArgs) -> Result<()> {
    for (name, bytes, about) in srmscope::data::DEMOS {
        println!(
            "demo:{name:<20} {:>9}  {about}",
            fmt_bytes(bytes.len() as u64)
        );
    }
    for (name, bytes, about) in srmscope::data::demo::STUDIES {
        println!(
            "demo:{name:<20} {:>9}  study: {about}",
            fmt_bytes(bytes.len() as u64)
        );
    }
    Ok(())
}
