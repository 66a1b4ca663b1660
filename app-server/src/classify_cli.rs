//! `leakguard classify`: streams JSON lines through the classifier
//! (`leakguard_domain::classify::run_jsonl`), with a progress bar on standard error when it is
//! a terminal. Memory stays bounded whatever the input size.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leakguard_domain::classify::{Progress, run_jsonl};
use std::io::{BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

/// Runs the command.
pub fn run(input: &Path, summary: bool) -> anyhow::Result<ExitCode> {
    let (reader, total): (Box<dyn Read>, Option<u64>) = if input == Path::new("-") {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot open {}", input.display()))?;
        let len = file.metadata().ok().map(|m| m.len());
        (Box::new(file), len)
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg} records",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        Some(bar)
    } else {
        None
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_position(p.bytes_read);
            bar.set_message(p.records.to_string());
        }
    };
    let stats = run_jsonl(
        BufReader::with_capacity(256 * 1024, reader),
        &mut out,
        &mut on_progress,
    )
    .context("classification stopped")?;
    out.flush().context("cannot write the output")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if summary {
        eprintln!("{}", serde_json::to_string(&stats)?);
    }
    Ok(ExitCode::SUCCESS)
}
