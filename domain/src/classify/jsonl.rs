//! Streaming JSON-lines runner: one input object per line in, one result object per line out.
//!
//! Input lines are `{"id": …, "text": "…"}` or `{"id": …, "record": {…}}`. Memory stays bounded:
//! one line is held at a time, and a line longer than [`MAX_LINE_BYTES`] is skipped (read
//! through to its newline without being stored) and answered with an error object. A bad line
//! never stops the stream; only failing to read the input or write the output does.

use super::{Classification, classify_record, classify_text};
use serde::Serialize;
use serde_json::Value;
use std::io::{BufRead, Write};

/// Lines longer than this many bytes are answered with a `line_too_long` error.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// How often (in lines) the progress callback is called; it is also called once at the end.
const PROGRESS_EVERY: u64 = 64;

/// Progress so far, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub bytes_read: u64,
    pub records: u64,
}

/// Totals for a finished run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RunStats {
    pub bytes_read: u64,
    /// Lines answered (blank lines are skipped and not counted).
    pub records: u64,
    /// Lines answered with an error object.
    pub errors: u64,
    pub entities: u64,
    /// Records whose notice trigger was met.
    pub notice_triggers: u64,
}

/// The run stopped because the input could not be read or the output not written.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyIoError {
    #[error("failed to read the input")]
    Read(#[source] std::io::Error),
    #[error("failed to write the output")]
    Write(#[source] std::io::Error),
    #[error("failed to encode a result")]
    Encode(#[source] serde_json::Error),
}

#[derive(Serialize)]
struct Output<'a> {
    id: &'a Value,
    #[serde(flatten)]
    classification: &'a Classification,
}

#[derive(Serialize)]
struct LineError {
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct ErrorOutput<'a> {
    id: &'a Value,
    line: u64,
    error: LineError,
}

enum Line {
    Complete,
    TooLong,
    Eof,
}

/// Reads one line into `buf` (without the newline), storing at most `MAX_LINE_BYTES`.
fn read_line<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    bytes_read: &mut u64,
) -> Result<Line, ClassifyIoError> {
    buf.clear();
    let mut too_long = false;
    let mut saw_any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(ClassifyIoError::Read(error)),
        };
        if available.is_empty() {
            return Ok(if !saw_any {
                Line::Eof
            } else if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
        saw_any = true;
        let (chunk, consumed, done) = match available.iter().position(|&b| b == b'\n') {
            Some(newline) => (&available[..newline], newline + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                buf.clear();
                buf.shrink_to(64 * 1024);
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        input.consume(consumed);
        *bytes_read += consumed as u64;
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

fn write_json<W: Write, T: Serialize>(output: &mut W, value: &T) -> Result<(), ClassifyIoError> {
    serde_json::to_writer(&mut *output, value).map_err(|error| {
        if error.is_io() {
            ClassifyIoError::Write(std::io::Error::other(error))
        } else {
            ClassifyIoError::Encode(error)
        }
    })?;
    output.write_all(b"\n").map_err(ClassifyIoError::Write)
}

fn line_error<W: Write>(
    output: &mut W,
    id: &Value,
    line: u64,
    code: &'static str,
    message: String,
) -> Result<(), ClassifyIoError> {
    write_json(
        output,
        &ErrorOutput {
            id,
            line,
            error: LineError { code, message },
        },
    )
}

/// Classifies every line of `input` and writes one JSON line per input line to `output`.
pub fn run_jsonl<R: BufRead, W: Write>(
    mut input: R,
    mut output: W,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunStats, ClassifyIoError> {
    let mut stats = RunStats::default();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let null = Value::Null;
    loop {
        let line = read_line(&mut input, &mut buf, &mut stats.bytes_read)?;
        if matches!(line, Line::Eof) {
            break;
        }
        line_no += 1;
        if matches!(line, Line::Complete) && buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        stats.records += 1;
        match line {
            Line::TooLong => {
                stats.errors += 1;
                line_error(
                    &mut output,
                    &null,
                    line_no,
                    "line_too_long",
                    format!("line is longer than {MAX_LINE_BYTES} bytes"),
                )?;
            }
            Line::Complete => match serde_json::from_slice::<Value>(&buf) {
                Err(error) => {
                    stats.errors += 1;
                    let code = if std::str::from_utf8(&buf).is_err() {
                        "invalid_utf8"
                    } else {
                        "invalid_json"
                    };
                    let message = format!(
                        "line is not a JSON object ({} at column {})",
                        error.classify_name(),
                        error.column()
                    );
                    line_error(&mut output, &null, line_no, code, message)?;
                }
                Ok(value) => {
                    let id = value.get("id").unwrap_or(&null);
                    let classification = match (value.get("text"), value.get("record")) {
                        (Some(Value::String(text)), _) => Some(classify_text(text)),
                        (_, Some(record @ (Value::Object(_) | Value::Array(_)))) => {
                            Some(classify_record(record))
                        }
                        _ => None,
                    };
                    match classification {
                        Some(classification) => {
                            stats.entities += classification.entities.len() as u64;
                            stats.notice_triggers += u64::from(classification.notice_trigger.met);
                            write_json(
                                &mut output,
                                &Output {
                                    id,
                                    classification: &classification,
                                },
                            )?;
                        }
                        None => {
                            stats.errors += 1;
                            let message =
                                "expected an object with a string \"text\" or an object \"record\""
                                    .to_owned();
                            line_error(&mut output, id, line_no, "invalid_input", message)?;
                        }
                    }
                }
            },
            Line::Eof => {}
        }
        if stats.records % PROGRESS_EVERY == 0 {
            progress(Progress {
                bytes_read: stats.bytes_read,
                records: stats.records,
            });
        }
    }
    output.flush().map_err(ClassifyIoError::Write)?;
    progress(Progress {
        bytes_read: stats.bytes_read,
        records: stats.records,
    });
    Ok(stats)
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "i/o error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "data error",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::strategy::Strategy;

    fn run(input: &[u8]) -> (Vec<Value>, RunStats, Vec<Progress>) {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let stats = run_jsonl(input, &mut out, &mut |p| seen.push(p)).unwrap();
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines, stats, seen)
    }

    #[test]
    fn each_input_line_gets_one_output_line() {
        let input = br#"{"id": 1, "text": "mail jo@example.com"}
{"id": "r2", "record": {"email": "ann@example.com", "cc_number": "4111111111111111"}}

{"id": 3, "text": "nothing here"}
"#;
        let (lines, stats, progress) = run(input);
        assert_eq!(lines.len(), 3);
        assert_eq!(stats.records, 3);
        assert_eq!(stats.errors, 0);
        assert_eq!(lines[0]["id"], 1);
        assert_eq!(lines[0]["entities"][0]["type"], "EMAIL");
        assert_eq!(lines[0]["entities"][0]["start"], 5);
        assert_eq!(lines[0]["entities"][0]["end"], 19);
        let fields: Vec<&str> = lines[1]["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["/cc_number", "/email"]);
        assert_eq!(lines[1]["notice_trigger"]["met"], false);
        assert_eq!(lines[2]["entities"].as_array().unwrap().len(), 0);
        assert_eq!(progress.last().unwrap().bytes_read, input.len() as u64);
    }

    #[test]
    fn bad_lines_get_error_objects_and_the_stream_goes_on() {
        let mut input = Vec::new();
        input.extend_from_slice(b"not json\n");
        input.extend_from_slice(b"{\"id\": 7, \"other\": 1}\n");
        input.extend_from_slice(b"\xff\xfe\n");
        input.extend_from_slice(b"{\"id\": 8, \"text\": \"");
        input.extend(std::iter::repeat_n(b'a', MAX_LINE_BYTES + 10));
        input.extend_from_slice(b"\"}\n");
        input.extend_from_slice(b"{\"id\": 9, \"text\": \"ip 203.0.113.9\"}");
        let (lines, stats, _) = run(&input);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0]["error"]["code"], "invalid_json");
        assert_eq!(lines[1]["error"]["code"], "invalid_input");
        assert_eq!(lines[1]["id"], 7);
        assert_eq!(lines[2]["error"]["code"], "invalid_utf8");
        assert_eq!(lines[3]["error"]["code"], "line_too_long");
        assert_eq!(lines[3]["line"], 4);
        assert_eq!(lines[4]["entities"][0]["type"], "IP_ADDRESS");
        assert_eq!(stats.errors, 4);
        assert_eq!(stats.records, 5);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_give_one_answer_per_non_blank_line(
            lines in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
                    "[a-z0-9 @.:=\"{}-]{0,60}".prop_map(String::into_bytes),
                    "[a-zA-Z0-9 @.:=-]{0,60}".prop_map(|t| format!("{{\"id\":1,\"text\":\"{t}\"}}").into_bytes()),
                ],
                0..12,
            )
        ) {
            let mut input = Vec::new();
            let mut expected = 0u64;
            for line in &lines {
                let line: Vec<u8> = line.iter().copied().filter(|b| *b != b'\n').collect();
                if !line.iter().all(u8::is_ascii_whitespace) {
                    expected += 1;
                }
                input.extend_from_slice(&line);
                input.push(b'\n');
            }
            let mut out = Vec::new();
            let stats = run_jsonl(&input[..], &mut out, &mut |_| {}).unwrap();
            proptest::prop_assert_eq!(stats.records, expected);
            let text = String::from_utf8(out).unwrap();
            proptest::prop_assert_eq!(text.lines().count() as u64, expected);
            for line in text.lines() {
                let value: Value = serde_json::from_str(line).unwrap();
                proptest::prop_assert!(value.get("entities").is_some() || value.get("error").is_some());
            }
        }
    }

    #[test]
    fn write_failures_stop_the_run() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let result = run_jsonl(&b"{\"id\":1,\"text\":\"x\"}\n"[..], Broken, &mut |_| {});
        assert!(matches!(result, Err(ClassifyIoError::Write(_))));
    }
}
