//! Log parsers: one per source format, fed complete lines as bytes.
//!
//! A parser turns lines into calls on the [`Processor`]; it never sees a file or a clock.
//! Multi-line records (general-log statements, slow-log entries, Monolog stack traces) stay
//! pending until the next record starts or [`LineParser::flush`] is called, and
//! [`LineParser::pending_start`] tells the tailer where the pending record began, so a
//! checkpoint never points inside a record. Formats that omit a timestamp get the last one
//! carried forward, and the carried state survives restarts and rotations through
//! [`LineParser::carry`].
//!
//! One module per format: `general`, `slow`, `audit` (MariaDB `server_audit`), `admin` (the
//! Magento module's admin-action log), `monolog`, `access` (nginx/Apache).

use std::collections::BTreeMap;

use leakguard_domain::agent_wire::SourceKind;
use serde::{Deserialize, Serialize};

use crate::records::Processor;

mod access;
mod admin;
mod audit;
mod general;
mod monolog;
mod slow;

pub use access::{AccessLog, mask_route};
pub use admin::AdminLog;
pub use audit::AuditLog;
pub use general::GeneralLog;
pub use monolog::Monolog;
pub use slow::SlowLog;

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

pub(super) const MAX_CONNECTIONS: usize = 4096;

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

pub(super) fn is_server_header(line: &[u8]) -> bool {
    // `/usr/sbin/mariadbd, Version: …`: the cheap first-byte test keeps this off the hot path.
    (line.first() == Some(&b'/') && memchr::memmem::find(line, b", Version: ").is_some())
        || line.starts_with(b"Tcp port: ")
        || line.starts_with(b"Time ")
        || line.starts_with(b"Time\t")
}

pub(super) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Account names: short, printable, no quotes.
pub(super) fn account_token(bytes: &[u8]) -> Option<String> {
    let text = bytes.trim_ascii();
    if text.is_empty() || text.len() > 80 || !text.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    if text.iter().any(|b| matches!(b, b'\'' | b'"' | b'`')) {
        return None;
    }
    Some(lossy(text))
}

/// The client host of a `user@host` account: an IP address or a name without a dot
/// (`localhost`). A dotted host name is refused: with the user name before the `@` it would
/// make an e-mail address, and a query's continuation line can forge a `Connect` entry.
pub(super) fn client_host_token(bytes: &[u8]) -> Option<String> {
    let host = account_token(bytes)?;
    (host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.')).then_some(host)
}

#[cfg(test)]
mod tests;
