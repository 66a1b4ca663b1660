//! Log parsers: one per source format, fed complete lines as bytes.
//!
//! A parser turns lines into calls on the [`Processor`]; it never sees a file or a clock.
//! Multi-line records (general-log statements, slow-log entries, Monolog stack traces) stay
//! pending until the next record starts or [`LineParser::flush`] is called, and
//! [`LineParser::pending_start`] tells the tailer where the pending record began, so a
//! checkpoint never points inside a record. Formats that omit a timestamp get the last one
//! carried forward, and the carried state survives restarts and rotations through
//! [`LineParser::carry`].

use std::collections::BTreeMap;

use leakguard_domain::agent_wire::{Principal, SecurityEvent, SecurityEventKind, SourceKind};
use serde::{Deserialize, Serialize};

use crate::records::{HttpRequest, Processor, Statement, mask_detail, safe_token};
use crate::timefmt;

/// What a parser remembers between records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Carry {
    /// Last timestamp seen (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,
    /// General log: connection id → `user@host`, for statements of connections opened earlier.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connections: BTreeMap<u64, (String, String)>,
}

const MAX_CONNECTIONS: usize = 4096;

/// A line-oriented parser.
pub trait LineParser: Send {
    /// One complete line without its `\n`; `offset` is where it starts in the file and
    /// `truncated` says it was cut at the line cap.
    fn line(&mut self, line: &[u8], offset: u64, truncated: bool, out: &mut Processor);
    /// Emits the pending record, if any.
    fn flush(&mut self, out: &mut Processor);
    /// File offset where the pending record starts.
    fn pending_start(&self) -> Option<u64>;
    /// State to persist with a checkpoint.
    fn carry(&self) -> Carry;
    /// Restores persisted state.
    fn restore(&mut self, carry: Carry);
}

/// Options common to parsers.
#[derive(Debug, Clone)]
pub struct ParserOptions {
    /// Seconds east of UTC of timestamps written without a zone.
    pub utc_offset_s: i64,
    /// Path prefixes of the Magento admin area in access logs.
    pub admin_paths: Vec<String>,
}

impl Default for ParserOptions {
    fn default() -> Self {
        Self {
            utc_offset_s: 0,
            admin_paths: vec!["/admin".to_owned()],
        }
    }
}

/// A parser for a source kind (not for `magento-export`, which is not line based).
pub fn parser_for(kind: SourceKind, options: &ParserOptions) -> Box<dyn LineParser> {
    match kind {
        SourceKind::MariadbSlow => Box::new(SlowLog::new(options)),
        SourceKind::MariadbGeneral => Box::new(GeneralLog::new(options)),
        SourceKind::MariadbAudit => Box::new(AuditLog::new(options)),
        SourceKind::MagentoAdmin => Box::new(AdminLog::default()),
        SourceKind::Monolog => Box::new(Monolog::new(options)),
        SourceKind::Nginx | SourceKind::MagentoExport => Box::new(AccessLog::new(options)),
    }
}

fn is_server_header(line: &[u8]) -> bool {
    // `/usr/sbin/mariadbd, Version: …`: the cheap first-byte test keeps this off the hot path.
    (line.first() == Some(&b'/') && memchr::memmem::find(line, b", Version: ").is_some())
        || line.starts_with(b"Tcp port: ")
        || line.starts_with(b"Time ")
        || line.starts_with(b"Time\t")
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &bytes[start..end]
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Account names: short, printable, no quotes.
fn account_token(bytes: &[u8]) -> Option<String> {
    let text = trim(bytes);
    if text.is_empty() || text.len() > 80 || !text.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    if text.iter().any(|b| matches!(b, b'\'' | b'"' | b'`')) {
        return None;
    }
    Some(lossy(text))
}

// ---------------------------------------------------------------- general log

/// MariaDB/MySQL general query log.
pub struct GeneralLog {
    utc_offset_s: i64,
    carry: Carry,
    pending: Option<PendingEntry>,
    statement: Vec<u8>,
}

struct PendingEntry {
    start: u64,
    ts: Option<i64>,
    connection: u64,
    command: Command,
    truncated: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Command {
    Connect,
    Query,
    Quit,
    Other,
}

impl GeneralLog {
    fn new(options: &ParserOptions) -> Self {
        Self {
            utc_offset_s: options.utc_offset_s,
            carry: Carry::default(),
            pending: None,
            statement: Vec::new(),
        }
    }

    /// Parses `[ts]\t<id> <Command>\t<arg>`; returns (ts, id, command, argument).
    fn entry(&self, line: &[u8]) -> Option<(Option<i64>, u64, Command, usize)> {
        let (ts, rest_at) = if line.starts_with(b"\t\t") {
            (None, 2)
        } else if line.len() > 15 && line[..6].iter().all(u8::is_ascii_digit) && line[6] == b' ' {
            let tab = memchr::memchr(b'\t', line)?;
            (
                Some(timefmt::parse_mariadb_short(
                    &line[..tab],
                    self.utc_offset_s,
                )?),
                tab + 1,
            )
        } else if line.len() > 20 && line[4] == b'-' && line[10] == b'T' {
            let tab = memchr::memchr(b'\t', line)?;
            (
                Some(timefmt::parse_iso(&line[..tab], self.utc_offset_s)?),
                tab + 1,
            )
        } else {
            return None;
        };
        let rest = &line[rest_at..];
        let mut i = 0;
        while i < rest.len() && rest[i] == b' ' {
            i += 1;
        }
        let id_start = i;
        while i < rest.len() && rest[i].is_ascii_digit() {
            i += 1;
        }
        if i == id_start || rest.get(i) != Some(&b' ') {
            return None;
        }
        let id: u64 = std::str::from_utf8(&rest[id_start..i]).ok()?.parse().ok()?;
        let command_start = i + 1;
        let tab = memchr::memchr(b'\t', &rest[command_start..]).map(|p| command_start + p);
        let command_end = tab.unwrap_or(rest.len());
        let command_text = &rest[command_start..command_end];
        if command_text.is_empty()
            || command_text.len() > 24
            || !command_text
                .iter()
                .all(|b| b.is_ascii_alphabetic() || *b == b' ')
        {
            return None;
        }
        let command = match command_text {
            b"Query" | b"Execute" => Command::Query,
            b"Connect" => Command::Connect,
            b"Quit" => Command::Quit,
            _ => Command::Other,
        };
        let argument_at = rest_at + tab.map_or(rest.len(), |t| t + 1);
        Some((ts, id, command, argument_at))
    }

    fn emit(&mut self, out: &mut Processor) {
        let Some(entry) = self.pending.take() else {
            return;
        };
        match entry.command {
            Command::Query => {
                let (user, host) = match self.carry.connections.get(&entry.connection) {
                    Some((user, host)) => (Some(user.as_str()), Some(host.as_str())),
                    None => (None, None),
                };
                out.statement(&Statement {
                    ts: entry.ts,
                    db_user: user,
                    db_host: host,
                    query: &self.statement,
                    truncated: entry.truncated,
                    ..Statement::default()
                });
            }
            Command::Connect => {
                let argument = trim(&self.statement);
                if let Some(rest) = argument.strip_prefix(b"Access denied for user ") {
                    // `'magento'@'127.0.0.1' (using password: YES)`
                    let mut parts = rest.split(|&b| b == b'\'');
                    let _ = parts.next();
                    let user = parts.next().and_then(account_token);
                    let _ = parts.next();
                    let host = parts.next().and_then(account_token);
                    out.security_event(SecurityEvent {
                        kind: SecurityEventKind::DbLoginFailure,
                        ts: entry.ts.map(timefmt::rfc3339),
                        principal: Principal {
                            db_user: user,
                            db_host: host.clone(),
                            ..Principal::default()
                        },
                        ip: host,
                        forwarded_ip: None,
                        query_id: None,
                        fingerprint: None,
                        tables: Vec::new(),
                        entity_type: None,
                        entity_ids: Vec::new(),
                        count: Some(1),
                        result: Some("access_denied".to_owned()),
                        request_id: None,
                        details: BTreeMap::new(),
                    });
                } else if let Some(at) = memchr::memchr(b'@', argument) {
                    // `magento@127.0.0.1 on magento using TCP/IP`
                    let user = account_token(&argument[..at]);
                    let host_end = memchr::memchr(b' ', &argument[at + 1..])
                        .map_or(argument.len(), |p| at + 1 + p);
                    let host = account_token(&argument[at + 1..host_end]);
                    if let (Some(user), Some(host)) = (user, host) {
                        if self.carry.connections.len() >= MAX_CONNECTIONS {
                            self.carry.connections.pop_first();
                        }
                        self.carry
                            .connections
                            .insert(entry.connection, (user, host));
                    }
                }
            }
            Command::Quit => {
                self.carry.connections.remove(&entry.connection);
            }
            Command::Other => {}
        }
    }
}

impl LineParser for GeneralLog {
    fn line(&mut self, line: &[u8], offset: u64, truncated: bool, out: &mut Processor) {
        if let Some((ts, connection, command, argument_at)) = self.entry(line) {
            self.emit(out);
            if ts.is_some() {
                self.carry.ts = ts;
            }
            self.statement.clear();
            self.statement
                .extend_from_slice(&line[argument_at.min(line.len())..]);
            self.pending = Some(PendingEntry {
                start: offset,
                ts: self.carry.ts,
                connection,
                command,
                truncated,
            });
        } else if is_server_header(line) {
            self.emit(out);
        } else if let Some(entry) = self.pending.as_mut() {
            entry.truncated |= truncated;
            if self.statement.len() < crate::tail::MAX_RECORD_BYTES {
                self.statement.push(b'\n');
                self.statement.extend_from_slice(line);
            } else {
                entry.truncated = true;
            }
        }
    }

    fn flush(&mut self, out: &mut Processor) {
        self.emit(out);
    }

    fn pending_start(&self) -> Option<u64> {
        self.pending.as_ref().map(|p| p.start)
    }

    fn carry(&self) -> Carry {
        self.carry.clone()
    }

    fn restore(&mut self, carry: Carry) {
        self.carry = carry;
    }
}

// ---------------------------------------------------------------- slow log

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
    fn new(options: &ParserOptions) -> Self {
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
        let mut query = trim(&self.statement);
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

fn parse_number<T: std::str::FromStr>(bytes: &[u8]) -> Option<T> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

impl LineParser for SlowLog {
    fn line(&mut self, line: &[u8], offset: u64, truncated: bool, out: &mut Processor) {
        if let Some(rest) = line.strip_prefix(b"# Time: ") {
            self.emit(out);
            let rest = trim(rest);
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
                    b"Query_time" => record.query_time_s = parse_number(value),
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

// ---------------------------------------------------------------- server_audit

/// MariaDB `server_audit` CSV.
pub struct AuditLog {
    utc_offset_s: i64,
    carry: Carry,
    unescaped: Vec<u8>,
}

impl AuditLog {
    fn new(options: &ParserOptions) -> Self {
        Self {
            utc_offset_s: options.utc_offset_s,
            carry: Carry::default(),
            unescaped: Vec::new(),
        }
    }
}

fn unescape_audit(object: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let inner = object
        .strip_prefix(b"'")
        .and_then(|o| o.strip_suffix(b"'"))
        .unwrap_or(object);
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == b'\\' && i + 1 < inner.len() {
            out.push(match inner[i + 1] {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                other => other,
            });
            i += 2;
        } else {
            out.push(inner[i]);
            i += 1;
        }
    }
}

impl LineParser for AuditLog {
    fn line(&mut self, line: &[u8], _offset: u64, truncated: bool, out: &mut Processor) {
        // ts,serverhost,user,host,connid,queryid,op,db,object,retcode
        let mut fields: [&[u8]; 8] = [b""; 8];
        let mut at = 0;
        for field in &mut fields {
            let Some(comma) = memchr::memchr(b',', &line[at.min(line.len())..]) else {
                return;
            };
            *field = &line[at..at + comma];
            at += comma + 1;
        }
        let rest = &line[at.min(line.len())..];
        let (object, retcode) = match memchr::memrchr(b',', rest) {
            Some(comma) => (&rest[..comma], &rest[comma + 1..]),
            None => (rest, &b""[..]),
        };
        let Some(ts) = timefmt::parse_audit(fields[0], self.utc_offset_s) else {
            return;
        };
        self.carry.ts = Some(ts);
        let user = account_token(fields[2]);
        let host = account_token(fields[3]);
        match fields[6] {
            b"QUERY" => {
                unescape_audit(object, &mut self.unescaped);
                out.statement(&Statement {
                    ts: Some(ts),
                    db_user: user.as_deref(),
                    db_host: host.as_deref(),
                    query: &self.unescaped,
                    truncated,
                    ..Statement::default()
                });
            }
            b"FAILED_CONNECT" => out.security_event(SecurityEvent {
                kind: SecurityEventKind::DbLoginFailure,
                ts: Some(timefmt::rfc3339(ts)),
                principal: Principal {
                    db_user: user,
                    db_host: host.clone(),
                    ..Principal::default()
                },
                ip: host,
                forwarded_ip: None,
                query_id: None,
                fingerprint: None,
                tables: Vec::new(),
                entity_type: None,
                entity_ids: Vec::new(),
                count: Some(1),
                result: Some(safe_token(&lossy(trim(retcode)), 8)),
                request_id: None,
                details: BTreeMap::new(),
            }),
            _ => {}
        }
    }

    fn flush(&mut self, _out: &mut Processor) {}

    fn pending_start(&self) -> Option<u64> {
        None
    }

    fn carry(&self) -> Carry {
        self.carry.clone()
    }

    fn restore(&mut self, carry: Carry) {
        self.carry = carry;
    }
}

// ---------------------------------------------------------------- Magento admin log

/// The Magento module's admin-action JSON-lines log.
#[derive(Default)]
pub struct AdminLog {
    carry: Carry,
}

/// One line of the admin-action log, as the Magento module writes it.
#[derive(Debug, Deserialize)]
struct AdminLine {
    ts: Option<serde_json::Value>,
    admin_user_id: Option<serde_json::Value>,
    admin_username: Option<String>,
    ip: Option<String>,
    forwarded_ip: Option<String>,
    #[allow(dead_code)]
    action: Option<String>,
    event: String,
    entity_type: Option<String>,
    #[serde(default)]
    entity_ids: Vec<serde_json::Value>,
    count: Option<u64>,
    result: Option<String>,
    request_id: Option<String>,
    #[serde(default)]
    details: serde_json::Map<String, serde_json::Value>,
}

fn ip_token(value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    (!value.is_empty()
        && value.len() <= 45
        && value
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':'))
    .then(|| value.to_owned())
}

impl LineParser for AdminLog {
    fn line(&mut self, line: &[u8], _offset: u64, _truncated: bool, out: &mut Processor) {
        let Ok(parsed) = serde_json::from_slice::<AdminLine>(trim(line)) else {
            return;
        };
        let kind = match parsed.event.as_str() {
            "admin_login_success" => SecurityEventKind::AdminLoginSuccess,
            "admin_login_failure" => SecurityEventKind::AdminLoginFailure,
            "logout" => SecurityEventKind::AdminLogout,
            "record_view" => SecurityEventKind::AdminRecordView,
            "grid_export" => SecurityEventKind::AdminGridExport,
            "data_transfer_export" => SecurityEventKind::AdminDataTransferExport,
            "export_download" => SecurityEventKind::AdminExportDownload,
            "report_export" => SecurityEventKind::AdminReportExport,
            "mass_action" => SecurityEventKind::AdminMassAction,
            "admin_user_change" => SecurityEventKind::AdminUserChange,
            "role_change" => SecurityEventKind::AdminRoleChange,
            "integration_change" => SecurityEventKind::IntegrationChange,
            "config_change" => SecurityEventKind::ConfigChange,
            _ => return,
        };
        let ts = match &parsed.ts {
            Some(serde_json::Value::String(text)) => timefmt::parse_iso(text.as_bytes(), 0),
            Some(serde_json::Value::Number(number)) => number.as_i64(),
            _ => None,
        };
        if ts.is_some() {
            self.carry.ts = ts;
        }
        let admin_user_id = match &parsed.admin_user_id {
            Some(serde_json::Value::Number(number)) => Some(number.to_string()),
            Some(serde_json::Value::String(text))
                if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() =>
            {
                Some(text.clone())
            }
            _ => None,
        };
        // A failed login's "username" is whatever was typed (an e-mail, a customer's name, a
        // password typed into the wrong box): it is kept only when the module matched it to an
        // existing admin account (`admin_user_id` set), and only as a clean login name.
        let typed_only = admin_user_id.is_none() && kind == SecurityEventKind::AdminLoginFailure;
        let admin_username = parsed
            .admin_username
            .as_deref()
            .filter(|_| !typed_only)
            .filter(|name| crate::sql::passes_mask(name.as_bytes()) && !name.contains('@'))
            .map(|name| safe_token(name, 40))
            .filter(|name| name != "?");
        let entity_ids = parsed
            .entity_ids
            .iter()
            .filter_map(|id| match id {
                serde_json::Value::Number(number)
                    if number.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)) =>
                {
                    Some(number.to_string())
                }
                serde_json::Value::String(text)
                    if !text.is_empty()
                        && text.len() <= 10
                        && text.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Some(text.clone())
                }
                _ => None,
            })
            .take(1000)
            .collect();
        let details = parsed
            .details
            .iter()
            .take(50)
            .map(|(key, value)| (safe_token(key, 64), mask_detail(key, value)))
            .collect();
        out.security_event(SecurityEvent {
            kind,
            ts: ts.or(self.carry.ts).map(timefmt::rfc3339),
            principal: Principal {
                admin_user_id,
                admin_username,
                ..Principal::default()
            },
            ip: ip_token(parsed.ip.as_deref()),
            forwarded_ip: ip_token(parsed.forwarded_ip.as_deref()),
            query_id: None,
            fingerprint: None,
            tables: Vec::new(),
            entity_type: parsed.entity_type.as_deref().map(|t| safe_token(t, 64)),
            entity_ids,
            count: parsed.count,
            result: parsed.result.as_deref().map(|r| safe_token(r, 16)),
            request_id: parsed.request_id.as_deref().map(|r| safe_token(r, 64)),
            details,
        });
    }

    fn flush(&mut self, _out: &mut Processor) {}

    fn pending_start(&self) -> Option<u64> {
        None
    }

    fn carry(&self) -> Carry {
        self.carry.clone()
    }

    fn restore(&mut self, carry: Carry) {
        self.carry = carry;
    }
}

// ---------------------------------------------------------------- Monolog

/// Magento `var/log/*.log`.
pub struct Monolog {
    utc_offset_s: i64,
    carry: Carry,
    pending: Option<(u64, Option<i64>, String, String)>,
    first_line: Vec<u8>,
}

impl Monolog {
    fn new(options: &ParserOptions) -> Self {
        Self {
            utc_offset_s: options.utc_offset_s,
            carry: Carry::default(),
            pending: None,
            first_line: Vec::new(),
        }
    }

    fn emit(&mut self, out: &mut Processor) {
        if let Some((_, ts, channel, level)) = self.pending.take() {
            out.app_log(ts, &channel, &level, &self.first_line);
        }
    }
}

impl LineParser for Monolog {
    fn line(&mut self, line: &[u8], offset: u64, _truncated: bool, out: &mut Processor) {
        // `[2026-11-28T08:21:12.330974+00:00] main.INFO: message {context} []`
        let header = (|| {
            if line.first() != Some(&b'[') {
                return None;
            }
            let close = memchr::memchr(b']', line)?;
            let ts = timefmt::parse_iso(&line[1..close], self.utc_offset_s)?;
            let rest = line.get(close + 2..)?;
            let colon = memchr::memmem::find(rest, b": ")?;
            let (channel, level) = rest[..colon].split_at(memchr::memrchr(b'.', &rest[..colon])?);
            Some((
                ts,
                lossy(channel),
                lossy(&level[1..]),
                close + 2 + colon + 2,
            ))
        })();
        match header {
            Some((ts, channel, level, message_at)) => {
                self.emit(out);
                self.carry.ts = Some(ts);
                self.first_line.clear();
                self.first_line
                    .extend_from_slice(&line[message_at.min(line.len())..]);
                self.pending = Some((offset, Some(ts), channel, level));
            }
            None => {
                // continuation (stack trace): counted with its record, not shipped
            }
        }
    }

    fn flush(&mut self, out: &mut Processor) {
        self.emit(out);
    }

    fn pending_start(&self) -> Option<u64> {
        self.pending.as_ref().map(|p| p.0)
    }

    fn carry(&self) -> Carry {
        self.carry.clone()
    }

    fn restore(&mut self, carry: Carry) {
        self.carry = carry;
    }
}

// ---------------------------------------------------------------- access log

/// nginx/Apache `combined` access log: admin and REST requests only.
pub struct AccessLog {
    admin_paths: Vec<String>,
    carry: Carry,
}

impl AccessLog {
    fn new(options: &ParserOptions) -> Self {
        Self {
            admin_paths: options.admin_paths.clone(),
            carry: Carry::default(),
        }
    }
}

/// Path with ids, keys and anything number-like replaced by `?`.
pub fn mask_route(path: &str) -> String {
    let mut route = String::with_capacity(path.len());
    let mut previous = "";
    for (index, segment) in path.split('/').enumerate() {
        if index > 0 {
            route.push('/');
        }
        let masked = !segment.is_empty()
            && (segment.bytes().any(|b| b.is_ascii_digit())
                || segment.len() > 40
                || matches!(previous, "key" | "id" | "form_key" | "filename" | "file")
                || !segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                || segment.contains('@'));
        if masked {
            route.push('?');
        } else {
            route.push_str(segment);
        }
        previous = segment;
    }
    route
}

fn page_size(query: &str) -> Option<u64> {
    let mut largest = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=')?;
        let name = name.replace("%5B", "[").replace("%5D", "]");
        let is_page_size = name.ends_with("pageSize]")
            || name == "pageSize"
            || name == "limit"
            || name.ends_with("[limit]");
        if is_page_size && let Ok(size) = value.parse::<u64>() {
            largest = Some(largest.map_or(size, |l: u64| l.max(size)));
        }
    }
    largest
}

fn is_sensitive_route(route: &str) -> bool {
    const MARKERS: &[&str] = &[
        "/mui/export/",
        "/export/export",
        "/export/",
        "exportcsv",
        "exportxml",
        "exportexcel",
        "/integration/admin/token",
        "/integration/customer/token",
        "/backup/",
        "/download",
    ];
    let lower = route.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

impl LineParser for AccessLog {
    fn line(&mut self, line: &[u8], _offset: u64, _truncated: bool, out: &mut Processor) {
        let parsed = (|| {
            let text = std::str::from_utf8(line).ok()?;
            let (ip, rest) = text.split_once(' ')?;
            let open = rest.find('[')?;
            let close = rest[open..].find(']')? + open;
            let ts = timefmt::parse_clf(&rest.as_bytes()[open + 1..close]);
            let rest = &rest[close + 1..];
            let quote = rest.find('"')?;
            let request_end = rest[quote + 1..].find('"')? + quote + 1;
            let request = &rest[quote + 1..request_end];
            let mut parts = request.split(' ');
            let method = parts.next()?;
            let target = parts.next()?;
            let mut after = rest[request_end + 1..].split_whitespace();
            let status: u16 = after.next()?.parse().ok()?;
            let bytes: u64 = after.next().and_then(|b| b.parse().ok()).unwrap_or(0);
            Some((ip, ts, method, target, status, bytes))
        })();
        let Some((ip, ts, method, target, status, bytes)) = parsed else {
            return;
        };
        if ts.is_some() {
            self.carry.ts = ts;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let path = path.strip_prefix("/index.php").unwrap_or(path);
        let area = if self.admin_paths.iter().any(|prefix| {
            path == prefix || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
        }) {
            "admin"
        } else if path.starts_with("/rest/") || path.starts_with("/soap/") {
            "rest"
        } else {
            return;
        };
        let route = mask_route(path);
        let route = if crate::sql::passes_mask(route.as_bytes()) {
            route
        } else {
            "?".to_owned()
        };
        out.http_request(HttpRequest {
            ts,
            area,
            method: safe_token(method, 10),
            sensitive: is_sensitive_route(&route),
            route,
            ip: ip_token(Some(ip)).unwrap_or_else(|| "?".to_owned()),
            status,
            bytes,
            page_size: page_size(query),
        });
    }

    fn flush(&mut self, _out: &mut Processor) {}

    fn pending_start(&self) -> Option<u64> {
        None
    }

    fn carry(&self) -> Carry {
        self.carry.clone()
    }

    fn restore(&mut self, carry: Carry) {
        self.carry = carry;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use leakguard_domain::agent_wire::Record;

    fn run(kind: SourceKind, text: &str) -> Vec<Record> {
        let mut parser = parser_for(kind, &ParserOptions::default());
        let mut processor = Processor::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            parser.line(
                line.trim_end_matches('\n').as_bytes(),
                offset,
                false,
                &mut processor,
            );
            offset += line.len() as u64;
        }
        parser.flush(&mut processor);
        processor.take_records()
    }

    const GENERAL: &str = "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:\nTcp port: 33306  Unix socket: /run/mysqld/mysqld.sock\nTime\t\t    Id Command\tArgument\n261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n\t\t    10 Query\tSELECT entity_id, email, firstname, lastname FROM customer_entity WHERE entity_id = 1\n\t\t    10 Query\tSELECT e.email, a.city\nFROM customer_entity e JOIN customer_address_entity a ON a.parent_id = e.entity_id WHERE a.region = 'California'\n\t\t    10 Quit\t\n\t\t    11 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n\t\t    11 Connect\tAccess denied for user 'magento'@'127.0.0.1' (using password: YES)\n";

    #[test]
    fn the_general_log_keeps_users_timestamps_and_multi_line_statements() {
        let records = run(SourceKind::MariadbGeneral, GENERAL);
        let aggregates: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                Record::SqlAggregate(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(aggregates.len(), 2);
        assert_eq!(aggregates[0].db_user.as_deref(), Some("magento"));
        assert_eq!(
            aggregates[0].minute.as_deref(),
            Some("2026-11-28T08:18:00Z")
        );
        assert_eq!(
            aggregates[1].fingerprint.as_deref(),
            Some(
                "select e.email, a.city from customer_entity e join customer_address_entity a on a.parent_id = e.entity_id where a.region = ?"
            )
        );
        assert!(records.iter().any(
            |r| matches!(r, Record::SecurityEvent(e) if e.kind == SecurityEventKind::DbLoginFailure)
        ));
    }

    const SLOW: &str = "# Time: 261128  8:18:01\n# User@Host: magento[magento] @  [127.0.0.1]\n# Thread_id: 10  Schema: magento  QC_hit: No\n# Query_time: 0.000267  Lock_time: 0.000148  Rows_sent: 1  Rows_examined: 1\n# Rows_affected: 0  Bytes_sent: 373\n#\nSET timestamp=1795853881;\nSELECT entity_id, email FROM customer_entity WHERE entity_id = 1;\n# User@Host: magento[magento] @  [127.0.0.1]\n# Query_time: 0.000095  Lock_time: 0.000035  Rows_sent: 3  Rows_examined: 3\nuse magento;\nSET timestamp=1795853881;\nSELECT * FROM customer_entity;\n";

    #[test]
    fn the_slow_log_sums_rows_per_shape() {
        let records = run(SourceKind::MariadbSlow, SLOW);
        let Record::SqlAggregate(first) = &records[0] else {
            panic!("{records:?}")
        };
        assert_eq!(first.rows_sent, Some(1));
        assert_eq!(first.principal.db_host.as_deref(), Some("127.0.0.1"));
        let Record::SqlAggregate(second) = &records[1] else {
            panic!("{records:?}")
        };
        assert_eq!(
            second.fingerprint.as_deref(),
            Some("select * from customer_entity")
        );
        assert_eq!(second.rows_examined, Some(3));
    }

    #[test]
    fn the_audit_log_unescapes_queries_and_reports_failed_logins() {
        let text = "20261128 08:18:01,vm,magento,127.0.0.1,10,37,QUERY,magento,'SELECT e.email FROM customer_entity e WHERE a.region = \\'California\\'',0\n20261128 08:18:01,vm,magento,127.0.0.1,11,0,FAILED_CONNECT,,,1045\n20261128 08:18:01,vm,root,localhost,12,41,QUERY,mysql,'SET GLOBAL server_audit_logging=OFF',0\n";
        let records = run(SourceKind::MariadbAudit, text);
        let json = serde_json::to_string(&records).unwrap();
        assert!(!json.contains("California"), "{json}");
        assert!(json.contains("db_login_failure"));
        assert!(json.contains("db_logging_disabled"));
    }

    #[test]
    fn access_logs_keep_admin_and_rest_shapes_only() {
        let text = "127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /admin/mui/export/gridToCsv/key/5f1c0d9e2b7a4c3d8e6f/?namespace=customer_listing HTTP/1.1\" 200 3 \"-\" \"Mozilla\"\n127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /rest/V1/customers/search?searchCriteria%5BpageSize%5D=1000 HTTP/1.1\" 200 3 \"-\" \"python\"\n127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /checkout/cart HTTP/1.1\" 200 3 \"-\" \"x\"\n";
        let records = run(SourceKind::Nginx, text);
        let json = serde_json::to_string(&records).unwrap();
        assert!(
            json.contains("/admin/mui/export/gridToCsv/key/?/"),
            "{json}"
        );
        assert!(json.contains("\"max_page_size\":1000"), "{json}");
        assert!(!json.contains("checkout"));
        assert!(json.contains("http_sensitive_request"));
    }

    #[test]
    fn monolog_records_span_lines_and_withhold_names() {
        let text = "[2026-11-28T08:21:12.331631+00:00] main.CRITICAL: RuntimeException: No such entity with customerId = 42 in /srv/x.php:17\nStack trace:\n#0 {main} [] []\n[2026-11-28T08:21:13.000000+00:00] main.INFO: Customer Jane Roe logged in [] []\n";
        let records = run(SourceKind::Monolog, text);
        assert_eq!(records.len(), 2);
        let json = serde_json::to_string(&records).unwrap();
        assert!(!json.contains("Jane") && !json.contains("jane"), "{json}");
        assert!(json.contains("CRITICAL"));
    }

    #[test]
    fn admin_log_lines_become_security_events() {
        let text = r#"{"ts":"2026-11-28T08:21:12+00:00","admin_user_id":12,"admin_username":"jdoe","ip":"10.0.0.5","forwarded_ip":null,"action":"mui_export_gridToCsv","event":"grid_export","entity_type":"customer","entity_ids":[1,2,"3"],"count":3,"result":"success","request_id":"abc","details":{"namespace":"customer_listing","search":"jane@example.com"}}
{"ts":"2026-11-28T08:21:13+00:00","admin_username":"jane@example.com","ip":"10.0.0.6","event":"admin_login_failure","result":"failure"}
"#;
        let records = run(SourceKind::MagentoAdmin, text);
        assert_eq!(records.len(), 2);
        let json = serde_json::to_string(&records).unwrap();
        assert!(!json.contains("jane@example.com"), "{json}");
        assert!(json.contains("\"entity_ids\":[\"1\",\"2\",\"3\"]"));
        assert!(json.contains("admin_login_failure"));
    }
}
