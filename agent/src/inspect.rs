//! `leakguard-agent inspect`: what would be shipped for a file, without a network.
//!
//! Reads the whole file through the same parser, fingerprinting, masking and aggregation as
//! the agent (as one batch), and writes one JSON record per line, exactly as it would appear
//! in a batch's `records`.

use std::io::{self, Write};
use std::path::Path;

use leakguard_domain::agent_wire::{Record, SourceKind};

use crate::parse::{ParserOptions, parser_for};
use crate::records::Processor;
use crate::tail::Framer;

/// Records for the bytes of a log file of `kind`.
pub fn records_for(
    kind: SourceKind,
    bytes: &[u8],
    options: &ParserOptions,
    max_line_bytes: usize,
) -> Vec<Record> {
    let mut parser = parser_for(kind, options);
    let mut processor = Processor::new();
    let mut framer = Framer::default();
    framer.push(bytes, 0, max_line_bytes, &mut |line, offset, truncated| {
        parser.line(line, offset, truncated, &mut processor);
    });
    parser.flush(&mut processor);
    processor.take_records()
}

/// Writes the records of `path` as JSON lines to `out`.
pub fn inspect(kind: SourceKind, path: &Path, out: &mut dyn Write) -> io::Result<usize> {
    let bytes = std::fs::read(path)?;
    let records = records_for(kind, &bytes, &ParserOptions::default(), 1024 * 1024);
    for record in &records {
        serde_json::to_writer(&mut *out, record).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(records.len())
}
