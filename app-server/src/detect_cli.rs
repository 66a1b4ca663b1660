//! `leakguard detect replay`: runs the detection engine over JSON lines (agent records as
//! `leakguard-agent inspect` prints them, Magento module events, Shopify webhooks) with the
//! records' own timestamps as the clock, and prints one JSON line per alert.
//!
//! Needs no configuration and no database. By default the whole input is read and ordered by
//! time before replay (`inspect` prints SQL aggregates before security events); lines older
//! than the latest time before them are counted as out of order. `--stream` replays as it
//! reads, reordering only within a window, and processes later lines at the current clock.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use leakguard_domain::detect::alert::rfc3339;
use leakguard_domain::detect::normalize::{NormalizeError, Normalizer};
use leakguard_domain::detect::{Alert, Engine, Identity, RuleConfig, Signal};
use serde::Serialize;

/// How the replay orders its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// Read everything, then replay in time order.
    SortAll,
    /// Replay while reading, reordering within this many seconds.
    Window(i64),
}

/// Counts reported by `--summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplaySummary {
    /// Lines read (blank lines excluded).
    pub lines: u64,
    /// Signals replayed.
    pub signals: u64,
    /// Lines that were not JSON or of no known shape.
    pub malformed: u64,
    /// Lines without a usable time.
    pub without_time: u64,
    /// Lines older than a line before them.
    pub out_of_order: u64,
    /// Signals older than the replay clock when processed (stream mode only).
    pub late: u64,
    /// Findings silenced by suppressions.
    pub suppressed: u64,
    /// Alerts printed.
    pub alerts: u64,
    /// Alerts by rule.
    pub alerts_by_rule: BTreeMap<String, u64>,
    /// First and last signal time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_time: Option<String>,
    /// Last signal time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_time: Option<String>,
}

/// One printed alert.
#[derive(Debug, Serialize)]
struct AlertLine<'a> {
    rule: &'static str,
    severity: leakguard_domain::detect::Severity,
    principal: &'a Identity,
    started_at: String,
    detected_at: String,
    last_seen_at: String,
    records_estimate: u64,
    records_method: leakguard_domain::detect::alert::RecordsMethod,
    tables: Vec<&'a str>,
    categories: Vec<&'static str>,
    explanation: String,
}

fn write_alert(
    out: &mut dyn Write,
    alert: &Alert,
    summary: &mut ReplaySummary,
) -> anyhow::Result<()> {
    let line = AlertLine {
        rule: alert.rule.as_str(),
        severity: alert.severity,
        principal: &alert.principal,
        started_at: rfc3339(alert.started_at),
        detected_at: rfc3339(alert.detected_at),
        last_seen_at: rfc3339(alert.last_seen_at),
        records_estimate: alert.records_estimate,
        records_method: alert.records_method,
        tables: alert.tables.iter().map(String::as_str).collect(),
        categories: alert.categories.names(),
        explanation: alert.explanation(),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")?;
    summary.alerts += 1;
    *summary
        .alerts_by_rule
        .entry(alert.rule.as_str().to_owned())
        .or_default() += 1;
    Ok(())
}

/// Replays `reader` into `out`; returns the counts.
pub fn replay(
    reader: impl BufRead,
    out: &mut dyn Write,
    config: RuleConfig,
    ordering: Ordering,
) -> anyhow::Result<ReplaySummary> {
    let mut summary = ReplaySummary::default();
    let mut normalizer = Normalizer::default();
    let mut engine = Engine::new(config);
    let mut batch = Vec::new();
    let mut pending: Vec<Signal> = Vec::new();
    let mut window: BinaryHeap<Reverse<(i64, u64)>> = BinaryHeap::new();
    let mut held: std::collections::HashMap<u64, Signal> = std::collections::HashMap::new();
    let mut latest = i64::MIN;
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut reader = reader;
    let mut buffer = Vec::with_capacity(4096);
    loop {
        buffer.clear();
        let n = reader
            .read_until(b'\n', &mut buffer)
            .context("cannot read the input")?;
        if n == 0 {
            break;
        }
        let Ok(text) = std::str::from_utf8(&buffer) else {
            summary.lines += 1;
            summary.malformed += 1;
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        summary.lines += 1;
        batch.clear();
        match normalizer.line(text, &mut batch) {
            Ok(()) => {}
            Err(NormalizeError::Malformed(_)) => {
                summary.malformed += 1;
                continue;
            }
            Err(NormalizeError::NoTime) => {
                summary.without_time += 1;
                continue;
            }
        }
        let mut line_out_of_order = false;
        for signal in batch.drain(..) {
            if signal.at < latest {
                line_out_of_order = true;
            }
            latest = latest.max(signal.at);
            first = first.min(signal.at);
            last = last.max(signal.at);
            match ordering {
                Ordering::SortAll => pending.push(signal),
                Ordering::Window(seconds) => {
                    window.push(Reverse((signal.at, signal.id)));
                    held.insert(signal.id, signal);
                    while let Some(Reverse((at, id))) = window.peek().copied() {
                        if at > latest.saturating_sub(seconds) {
                            break;
                        }
                        window.pop();
                        if let Some(signal) = held.remove(&id) {
                            engine.ingest(&signal);
                            summary.signals += 1;
                        }
                    }
                    for alert in engine.take_closed() {
                        write_alert(out, &alert, &mut summary)?;
                    }
                }
            }
        }
        if line_out_of_order {
            summary.out_of_order += 1;
        }
    }
    if ordering == Ordering::SortAll {
        pending.sort_by_key(|s| (s.at, s.id));
        for signal in &pending {
            engine.ingest(signal);
            summary.signals += 1;
            if summary.signals.is_multiple_of(4096) {
                for alert in engine.take_closed() {
                    write_alert(out, &alert, &mut summary)?;
                }
            }
        }
    } else {
        while let Some(Reverse((_, id))) = window.pop() {
            if let Some(signal) = held.remove(&id) {
                engine.ingest(&signal);
                summary.signals += 1;
            }
        }
    }
    for alert in engine.finish() {
        write_alert(out, &alert, &mut summary)?;
    }
    summary.late = engine.state().counters.late_signals;
    summary.suppressed = engine.state().counters.suppressed_findings;
    if first <= last {
        summary.first_time = Some(rfc3339(first));
        summary.last_time = Some(rfc3339(last));
    }
    Ok(summary)
}

/// Runs `leakguard detect replay`.
pub fn run(
    input: &Path,
    summary: bool,
    stream_window_min: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn Read> = if input == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(input)
                .with_context(|| format!("cannot open {}", input.display()))?,
        )
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let ordering = match stream_window_min {
        Some(minutes) => Ordering::Window(minutes.max(0).saturating_mul(60)),
        None => Ordering::SortAll,
    };
    let counts = replay(
        BufReader::with_capacity(256 * 1024, reader),
        &mut out,
        RuleConfig::default(),
        ordering,
    )?;
    out.flush().context("cannot write the output")?;
    if summary {
        eprintln!("{}", serde_json::to_string(&counts)?);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sql(minute: &str, user: &str, tables: &str, count: u64) -> String {
        format!(
            r#"{{"type":"sql_aggregate","minute":"{minute}","principal":{{"db_user":"{user}","db_host":"10.0.0.7"}},"db_user":"{user}","query_id":"0123456789ABCDEF","tables":[{tables}],"count":{count},"masked":true}}"#
        )
    }

    fn run_lines(lines: &[String], ordering: Ordering) -> (Vec<serde_json::Value>, ReplaySummary) {
        let input = lines.join("\n");
        let mut out = Vec::new();
        let summary = replay(input.as_bytes(), &mut out, RuleConfig::default(), ordering).unwrap();
        let alerts = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (alerts, summary)
    }

    /// Two days of a storefront account, then an outfile by a new account, an event line
    /// printed after the aggregates (as `inspect` does), a broken line and a line without time.
    fn scenario() -> Vec<String> {
        let mut lines = Vec::new();
        for hour in 0..48 {
            let minute = format!("2026-11-{:02}T{:02}:00:00Z", 2 + hour / 24, hour % 24);
            lines.push(sql(&minute, "magento", r#""catalog_product_entity""#, 40));
            lines.push(sql(&minute, "magento", r#""customer_entity""#, 5));
        }
        lines.push(sql(
            "2026-11-04T01:00:00Z",
            "intruder",
            r#""customer_entity","sales_order""#,
            2,
        ));
        lines.push(r#"{"type":"security_event","kind":"db_into_outfile","ts":"2026-11-04T01:00:00Z","principal":{"db_user":"intruder","db_host":"10.0.0.66"},"tables":["customer_entity"],"count":1}"#.to_owned());
        lines.push("{not json".to_owned());
        lines.push(r#"{"type":"sql_aggregate","principal":{},"query_id":"X","tables":[],"count":1,"masked":true}"#.to_owned());
        lines.push(r#"{"type":"security_event","kind":"db_logging_disabled","ts":"2026-11-02T05:00:00Z","principal":{"db_user":"root","db_host":"localhost"},"count":1}"#.to_owned());
        lines
    }

    #[test]
    fn a_replay_prints_alerts_with_the_input_principal_and_rfc3339_times() {
        let (alerts, summary) = run_lines(&scenario(), Ordering::SortAll);
        let rules: Vec<&str> = alerts.iter().map(|a| a["rule"].as_str().unwrap()).collect();
        assert_eq!(
            rules,
            vec!["logging_disabled", "first_seen_principal", "into_outfile"],
            "{alerts:?}"
        );
        let outfile = &alerts[2];
        assert_eq!(outfile["principal"]["db_user"], "intruder");
        assert_eq!(outfile["principal"]["db_host"], "10.0.0.66");
        assert_eq!(outfile["started_at"], "2026-11-04T01:00:00Z");
        assert_eq!(outfile["detected_at"], "2026-11-04T01:00:00Z");
        assert_eq!(outfile["severity"], "high");
        assert_eq!(outfile["categories"], serde_json::json!(["customer"]));
        assert!(
            outfile["explanation"]
                .as_str()
                .unwrap()
                .contains("INTO OUTFILE")
        );
        assert_eq!(alerts[1]["records_estimate"], 2);
        assert_eq!(summary.malformed, 1);
        assert_eq!(summary.without_time, 1);
        assert_eq!(summary.out_of_order, 1);
        assert_eq!(summary.alerts, 3);
        assert_eq!(summary.signals, 99);
    }

    #[test]
    fn stream_mode_processes_late_lines_at_the_clock_and_counts_them() {
        let (alerts, summary) = run_lines(&scenario(), Ordering::Window(600));
        assert_eq!(summary.out_of_order, 1);
        assert_eq!(summary.late, 1);
        let logging = alerts
            .iter()
            .find(|a| a["rule"] == "logging_disabled")
            .unwrap();
        // Processed when it arrived: at the clock of the last replayed signal.
        assert_eq!(logging["detected_at"], "2026-11-03T23:00:00Z");
        assert_eq!(logging["started_at"], "2026-11-03T23:00:00Z");
    }

    #[test]
    fn binary_garbage_and_empty_input_do_not_stop_a_replay() {
        let mut out = Vec::new();
        let summary = replay(
            &b"\xff\xfe\n\n[1,2]\n"[..],
            &mut out,
            RuleConfig::default(),
            Ordering::SortAll,
        )
        .unwrap();
        assert_eq!(
            (summary.lines, summary.malformed, summary.alerts),
            (2, 2, 0)
        );
        let summary = replay(&b""[..], &mut out, RuleConfig::default(), Ordering::SortAll).unwrap();
        assert_eq!(summary.lines, 0);
        assert!(out.is_empty());
    }
}
