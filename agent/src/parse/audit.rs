//! MariaDB `server_audit` CSV: connection, query and table events with escaped query text.

use std::collections::BTreeMap;

use leakguard_domain::agent_wire::{Principal, SecurityEvent, SecurityEventKind};

use super::{Carry, LineParser, ParserOptions, account_token, lossy};
use crate::records::{Processor, Statement, safe_token};
use crate::timefmt;

/// MariaDB `server_audit` CSV.
pub struct AuditLog {
    utc_offset_s: i64,
    carry: Carry,
    unescaped: Vec<u8>,
}

impl AuditLog {
    pub(super) fn new(options: &ParserOptions) -> Self {
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
                result: Some(safe_token(&lossy(retcode.trim_ascii()), 8)),
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
