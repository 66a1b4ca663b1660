//! MariaDB/MySQL general query log: connections, multi-line statements, failed logins.

use std::collections::BTreeMap;

use leakguard_domain::agent_wire::{Principal, SecurityEvent, SecurityEventKind};

use super::{
    Carry, LineParser, MAX_CONNECTIONS, ParserOptions, account_token, client_host_token,
    is_server_header,
};
use crate::records::{Processor, Statement};
use crate::timefmt;

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
    pub(super) fn new(options: &ParserOptions) -> Self {
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
                let argument = self.statement.trim_ascii();
                if let Some(rest) = argument.strip_prefix(b"Access denied for user ") {
                    // `'magento'@'127.0.0.1' (using password: YES)`
                    let mut parts = rest.split(|&b| b == b'\'');
                    let _ = parts.next();
                    let user = parts.next().and_then(account_token);
                    let _ = parts.next();
                    let host = parts.next().and_then(client_host_token);
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
                    let host = client_host_token(&argument[at + 1..host_end]);
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
