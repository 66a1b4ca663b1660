//! MariaDB/MySQL slow query log: `#` header blocks, `SET timestamp`, statements ending in `;`.

use std::collections::BTreeMap;

use super::{Carry, LineParser, ParserOptions, account_token, is_server_header};
use crate::records::{Processor, Statement};
use crate::timefmt;

/// MariaDB/MySQL slow query log.
pub struct SlowLog {
    utc_offset_s: i64,
    carry: Carry,
    record: Option<SlowRecord>,
    statement: Vec<u8>,
}

#[derive(Default)]
struct SlowRecord {
    start: u64,
    ts: Option<i64>,
    user: Option<String>,
    host: Option<String>,
    rows_sent: Option<u64>,
    rows_examined: Option<u64>,
    query_time_s: Option<f64>,
    has_statement: bool,
    truncated: bool,
}

impl SlowLog {
    pub(super) fn new(options: &ParserOptions) -> Self {
        Self {
            utc_offset_s: options.utc_offset_s,
            carry: Carry::default(),
            record: None,
            statement: Vec::new(),
        }
    }

    fn emit(&mut self, out: &mut Processor) {
        let Some(record) = self.record.take() else {
            return;
        };
        if !record.has_statement {
            return;
        }
        let mut query = self.statement.trim_ascii();
        if let Some(stripped) = query.strip_suffix(b";") {
            query = stripped;
        }
        out.statement(&Statement {
            ts: record.ts.or(self.carry.ts),
            db_user: record.user.as_deref(),
            db_host: record.host.as_deref(),
            query,
            rows_sent: record.rows_sent,
            rows_examined: record.rows_examined,
            query_time_s: record.query_time_s,
            truncated: record.truncated,
        });
        self.statement.clear();
    }

    fn start_record(&mut self, offset: u64) -> &mut SlowRecord {
        self.statement.clear();
        self.record.insert(SlowRecord {
            start: offset,
            ts: self.carry.ts,
            ..SlowRecord::default()
        })
    }
}

/// `Name: value` pairs of a `#` header line.
fn header_pairs(line: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let body = line.strip_prefix(b"#").unwrap_or(line);
    let mut tokens = body
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty())
        .peekable();
    std::iter::from_fn(move || {
        loop {
            let token = tokens.next()?;
            if let Some(name) = token.strip_suffix(b":") {
                let value = tokens.peek().copied().unwrap_or(b"");
                return Some((name, value));
            }
        }
    })
}

/// Longest query time kept (about 115 days). A larger value is no duration MariaDB wrote, and
/// bounding it keeps the microsecond-rounded sums exact through the wire's JSON.
const MAX_QUERY_TIME_S: f64 = 1e7;

fn parse_number<T: std::str::FromStr>(bytes: &[u8]) -> Option<T> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

impl LineParser for SlowLog {
    fn line(&mut self, line: &[u8], offset: u64, truncated: bool, out: &mut Processor) {
        if let Some(rest) = line.strip_prefix(b"# Time: ") {
            self.emit(out);
            let rest = rest.trim_ascii();
            let ts = timefmt::parse_iso(rest, self.utc_offset_s)
                .or_else(|| timefmt::parse_mariadb_short(rest, self.utc_offset_s));
            if ts.is_some() {
                self.carry.ts = ts;
            }
            self.start_record(offset);
            return;
        }
        if let Some(rest) = line.strip_prefix(b"# User@Host: ") {
            let continues = self.record.as_ref().is_some_and(|r| !r.has_statement);
            if !continues {
                self.emit(out);
                self.start_record(offset);
            }
            // `magento[magento] @  [127.0.0.1]` or `root[root] @ localhost []  Id: 9`
            let user = memchr::memchr(b'[', rest).and_then(|p| account_token(&rest[..p]));
            let host = memchr::memmem::find(rest, b" @ ").and_then(|at| {
                let after = &rest[at + 3..];
                let open = memchr::memchr(b'[', after)?;
                let close = memchr::memchr(b']', &after[open..])? + open;
                account_token(&after[open + 1..close]).or_else(|| account_token(&after[..open]))
            });
            if let Some(record) = self.record.as_mut() {
                record.user = user;
                record.host = host;
            }
            return;
        }
        if is_server_header(line) {
            self.emit(out);
            return;
        }
        let Some(record) = self.record.as_mut() else {
            return;
        };
        if line.starts_with(b"#") && !record.has_statement {
            for (name, value) in header_pairs(line) {
                match name {
                    b"Query_time" => {
                        record.query_time_s = parse_number::<f64>(value)
                            .filter(|seconds| (0.0..=MAX_QUERY_TIME_S).contains(seconds));
                    }
                    b"Rows_sent" => record.rows_sent = parse_number(value),
                    b"Rows_examined" => record.rows_examined = parse_number(value),
                    _ => {}
                }
            }
            return;
        }
        if !record.has_statement {
            if let Some(rest) = line.strip_prefix(b"SET timestamp=") {
                if let Some(ts) = rest.strip_suffix(b";").and_then(parse_number::<i64>) {
                    record.ts = Some(ts);
                    self.carry.ts = Some(ts);
                }
                return;
            }
            if line.starts_with(b"use ")
                && line.ends_with(b";")
                && memchr::memchr(b' ', &line[4..]).is_none()
            {
                return;
            }
        }
        record.truncated |= truncated;
        if record.has_statement {
            if self.statement.len() < crate::tail::MAX_RECORD_BYTES {
                self.statement.push(b'\n');
                self.statement.extend_from_slice(line);
            } else {
                record.truncated = true;
            }
        } else {
            self.statement.extend_from_slice(line);
            record.has_statement = true;
        }
    }

    fn flush(&mut self, out: &mut Processor) {
        self.emit(out);
    }

    fn pending_start(&self) -> Option<u64> {
        self.record.as_ref().map(|r| r.start)
    }

    fn carry(&self) -> Carry {
        Carry {
            ts: self.carry.ts,
            connections: BTreeMap::new(),
        }
    }

    fn restore(&mut self, carry: Carry) {
        self.carry.ts = carry.ts;
    }
}
