//! `leakguard`: the server binary and operator tools.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    app_server::install_crypto_provider();
    let cli = app_server::cli::Cli::parse();
    match app_server::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
