//! Reads JSON lines (`{"id": …, "text": …}` or `{"id": …, "record": {…}}`) on stdin and writes one
//! classification per line on stdout; totals go to stderr. Used by `scripts/eval-classify` and
//! `scripts/bench-classify`.

use leakguard_domain::classify::run_jsonl;
use std::io::{BufReader, BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let input = BufReader::with_capacity(1 << 16, stdin);
    let output = BufWriter::with_capacity(1 << 16, stdout);
    match run_jsonl(input, output, &mut |_| {}) {
        Ok(stats) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(
                stderr,
                "records={} errors={} entities={} notice_triggers={} bytes={}",
                stats.records,
                stats.errors,
                stats.entities,
                stats.notice_triggers,
                stats.bytes_read
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("classify failed: {error}");
            ExitCode::FAILURE
        }
    }
}
