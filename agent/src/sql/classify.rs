//! Security classes of a statement (dumps, `INTO OUTFILE`, logging switched off, account
//! changes), the credential tables whose reads are events, and cutting account statements
//! after their credential.

use memchr::memmem;

use super::bytes::{FIND_INTO_DUMPFILE, FIND_INTO_OUTFILE, find_ci, is_word, starts_with_ci};

/// Credential tables whose reads are security events.
pub const SENSITIVE_TABLES: &[&str] = &[
    "admin_user",
    "admin_passwords",
    "admin_user_session",
    "oauth_token",
    "oauth_consumer",
    "core_config_data",
    "integration",
];

/// Whether a table name (possibly `db.table`, possibly prefixed `mg_admin_user`) is a
/// credential table.
pub fn is_sensitive_table(table: &str) -> bool {
    let bare = table.rsplit('.').next().unwrap_or(table);
    SENSITIVE_TABLES.iter().any(|t| {
        bare == *t
            || (bare.ends_with(t) && bare.as_bytes().get(bare.len() - t.len() - 1) == Some(&b'_'))
    })
}

/// Security-relevant shapes of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementClass {
    /// Nothing special.
    Plain,
    /// `… INTO OUTFILE|DUMPFILE`.
    IntoOutfile,
    /// Turns database logging off.
    LoggingDisabled,
    /// Creates, changes or drops an account or its grants.
    AccountChange,
    /// mysqldump's whole-table read.
    Dump,
}

/// Classifies a statement from its raw bytes and its fingerprint.
pub fn classify(raw: &[u8], fingerprint: &[u8]) -> StatementClass {
    if starts_with_ci(raw.trim_ascii(), b"SELECT /*!40001 SQL_NO_CACHE */") {
        return StatementClass::Dump;
    }
    if FIND_INTO_OUTFILE.find(fingerprint).is_some()
        || FIND_INTO_DUMPFILE.find(fingerprint).is_some()
    {
        return StatementClass::IntoOutfile;
    }
    let starts = |prefix: &[u8]| fingerprint.starts_with(prefix);
    if starts(b"create user")
        || starts(b"alter user")
        || starts(b"drop user")
        || starts(b"rename user")
        || starts(b"grant ")
        || starts(b"revoke ")
        || starts(b"set password")
        || starts(b"create role")
    {
        return StatementClass::AccountChange;
    }
    if disables_logging(raw) {
        return StatementClass::LoggingDisabled;
    }
    StatementClass::Plain
}

fn disables_logging(raw: &[u8]) -> bool {
    let raw = raw.trim_ascii();
    if starts_with_ci(raw, b"uninstall") {
        return find_ci(raw, b"server_audit").is_some();
    }
    if !starts_with_ci(raw, b"set") {
        return false;
    }
    for (variable, off_values) in [
        (
            &b"server_audit_logging"[..],
            &[&b"off"[..], b"0", b"'off'", b"false"][..],
        ),
        (b"general_log", &[b"off", b"0", b"'off'", b"false"]),
        (b"slow_query_log", &[b"off", b"0", b"'off'", b"false"]),
        (b"log_slow_query", &[b"off", b"0", b"'off'", b"false"]),
        (b"sql_log_off", &[b"on", b"1", b"'on'", b"true"]),
    ] {
        let mut from = 0;
        while let Some(pos) = find_ci(&raw[from..], variable) {
            let at = from + pos;
            let mut j = at + variable.len();
            // `general_log_file` is a different variable.
            if raw.get(j).is_some_and(|&b| is_word(b)) {
                from = at + 1;
                continue;
            }
            while j < raw.len() && raw[j] == b' ' {
                j += 1;
            }
            if raw.get(j) == Some(&b'=') {
                j += 1;
                while j < raw.len() && raw[j] == b' ' {
                    j += 1;
                }
                let value = &raw[j..];
                if off_values.iter().any(|v| {
                    starts_with_ci(value, v) && value.get(v.len()).is_none_or(|&b| !is_word(b))
                }) {
                    return true;
                }
            }
            from = at + 1;
        }
    }
    false
}

/// Cuts an account statement's fingerprint after `identified`/`password` so no credential
/// shape (hash or plugin string) survives, even as a placeholder.
pub fn redact_account_fingerprint(fingerprint: &mut Vec<u8>) {
    for keyword in [&b" identified"[..], b" password"] {
        if let Some(pos) = memmem::find(fingerprint, keyword) {
            fingerprint.truncate(pos + keyword.len());
            fingerprint.extend_from_slice(b" ?");
        }
    }
}
