//! `leakguard-agent`: command-line entry point.

use clap::Parser;

/// LeakGuard host agent.
#[derive(Parser)]
#[command(name = "leakguard-agent", version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
