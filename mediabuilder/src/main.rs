//! lifeboat-media: builds bootable WinPE media carrying the Lifeboat agent.
//! The pipeline is base → edit → emit; its commands arrive with the media issue.

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "lifeboat-media",
    version,
    about = "Build bootable WinPE media carrying the Lifeboat agent"
)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!("lifeboat-media: no commands yet (inspect and build are planned); see README.md");
    std::process::exit(2);
}
