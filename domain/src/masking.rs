//! The masking rules an agent record must pass before it may be stored.
//!
//! The agent masks what it ships (fingerprints, routes, templates, details); the server runs
//! [`check_record`] again on every record it receives, so a buggy or hostile agent cannot
//! store personal data or secrets. The rules look for the shapes that must never reach the
//! server: an e-mail address, a card number (13 to 19 digits, optionally grouped by single
//! spaces or dashes, passing the Luhn check), a US social security number (`ddd-dd-dddd`), and
//! a secret in query-string or `name=value` form (`?password=hunter2`, `&token=abc`).
//! A masked value (`?`, `*`, `[masked]`) passes.
//!
//! Pure: no I/O. A refusal names the record's field ([`Field`], a closed set, so it can be a
//! metric label) and what was found ([`Finding`]), never the offending text.

use crate::agent_wire::{Principal, Record};

/// The record field a refusal is about (a closed set: usable as a metric label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// SQL fingerprint.
    Fingerprint,
    /// Table names.
    Tables,
    /// Query or template id.
    QueryId,
    /// The principal (database user and host, admin, integration, route).
    Principal,
    /// HTTP route.
    Route,
    /// HTTP method or area, log channel or level.
    Label,
    /// Client IP.
    Ip,
    /// Log message template.
    Template,
    /// Event details.
    Details,
    /// Entity type or ids.
    Entities,
    /// Event result or request id.
    Result,
}

impl Field {
    /// The field's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Fingerprint => "fingerprint",
            Field::Tables => "tables",
            Field::QueryId => "query_id",
            Field::Principal => "principal",
            Field::Route => "route",
            Field::Label => "label",
            Field::Ip => "ip",
            Field::Template => "template",
            Field::Details => "details",
            Field::Entities => "entities",
            Field::Result => "result",
        }
    }
}

/// What was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Finding {
    /// `local@domain.tld`.
    Email,
    /// A Luhn-valid number of 13 to 19 digits.
    CardNumber,
    /// `ddd-dd-dddd`.
    Ssn,
    /// A password, token or key in `name=value` form, or under a secret-named details key.
    Secret,
}

impl Finding {
    /// The finding's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Email => "email",
            Finding::CardNumber => "card_number",
            Finding::Ssn => "ssn",
            Finding::Secret => "secret",
        }
    }
}

/// Why a record was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Where.
    pub field: Field,
    /// What.
    pub finding: Finding,
}

/// Parameter names whose value is a secret (matched against the last `_`/`-`/`.` segment).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "token",
    "key",
    "apikey",
    "credential",
    "credentials",
    "authorization",
    "auth",
    "signature",
    "sig",
];

/// The first personal datum or secret found in `text`.
pub fn check_text(text: &str) -> Option<Finding> {
    let bytes = text.as_bytes();
    if has_email(bytes) {
        return Some(Finding::Email);
    }
    if has_card_number(bytes) {
        return Some(Finding::CardNumber);
    }
    if has_ssn(bytes) {
        return Some(Finding::Ssn);
    }
    if has_secret_parameter(bytes) {
        return Some(Finding::Secret);
    }
    None
}

/// Checks every text of a record; the first refusal wins.
pub fn check_record(record: &Record) -> Result<(), Rejection> {
    match record {
        Record::SqlAggregate(a) => {
            principal(&a.principal)?;
            opt(Field::Principal, a.db_user.as_deref())?;
            id(&a.query_id)?;
            opt(Field::Fingerprint, a.fingerprint.as_deref())?;
            all(Field::Tables, &a.tables)
        }
        Record::SecurityEvent(e) => {
            principal(&e.principal)?;
            opt(Field::Ip, e.ip.as_deref())?;
            opt(Field::Ip, e.forwarded_ip.as_deref())?;
            e.query_id.as_deref().map_or(Ok(()), id)?;
            opt(Field::Fingerprint, e.fingerprint.as_deref())?;
            all(Field::Tables, &e.tables)?;
            opt(Field::Entities, e.entity_type.as_deref())?;
            all(Field::Entities, &e.entity_ids)?;
            opt(Field::Result, e.result.as_deref())?;
            opt(Field::Result, e.request_id.as_deref())?;
            for (key, value) in &e.details {
                details(key, value, 0)?;
            }
            Ok(())
        }
        Record::HttpAggregate(h) => {
            text(Field::Label, &h.area)?;
            text(Field::Label, &h.method)?;
            text(Field::Route, &h.route)?;
            text(Field::Ip, &h.ip)
        }
        Record::AppLogAggregate(l) => {
            text(Field::Label, &l.channel)?;
            text(Field::Label, &l.level)?;
            opt(Field::Template, l.template.as_deref())?;
            id(&l.template_id)
        }
    }
}

fn text(field: Field, value: &str) -> Result<(), Rejection> {
    match check_text(value) {
        Some(finding) => Err(Rejection { field, finding }),
        None => Ok(()),
    }
}

/// A query or template id: the agent's 16 upper-case hex digits of a hash pass as they are (a
/// hash that happens to be all digits is not a card number); anything else is checked as text.
fn id(value: &str) -> Result<(), Rejection> {
    let hash = value.len() == 16
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'));
    if hash {
        Ok(())
    } else {
        text(Field::QueryId, value)
    }
}

fn opt(field: Field, value: Option<&str>) -> Result<(), Rejection> {
    value.map_or(Ok(()), |v| text(field, v))
}

fn all(field: Field, values: &[String]) -> Result<(), Rejection> {
    values.iter().try_for_each(|v| text(field, v))
}

fn principal(p: &Principal) -> Result<(), Rejection> {
    for value in [
        &p.db_user,
        &p.db_host,
        &p.admin_user_id,
        &p.admin_username,
        &p.integration_id,
        &p.route,
    ] {
        opt(Field::Principal, value.as_deref())?;
    }
    Ok(())
}

fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let last = lower.rsplit(['_', '-', '.']).next().unwrap_or(&lower);
    SECRET_WORDS.contains(&last) || SECRET_WORDS.contains(&lower.as_str())
}

fn is_masked_value(value: &str) -> bool {
    value.is_empty() || value == "[masked]" || value.bytes().all(|b| matches!(b, b'?' | b'*'))
}

/// Details: keys and string values are texts; a number is checked as a card number; a key
/// that names a secret may only hold a masked value (the agent writes `"[masked]"`).
fn details(key: &str, value: &serde_json::Value, depth: usize) -> Result<(), Rejection> {
    let refuse = |finding| {
        Err(Rejection {
            field: Field::Details,
            finding,
        })
    };
    text(Field::Details, key)?;
    if depth > 16 {
        return refuse(Finding::Secret);
    }
    let secret_key = is_secret_name(key);
    match value {
        serde_json::Value::Null => Ok(()),
        serde_json::Value::Bool(_) if !secret_key => Ok(()),
        serde_json::Value::Number(n) if !secret_key => {
            if has_card_number(n.to_string().as_bytes()) {
                refuse(Finding::CardNumber)
            } else {
                Ok(())
            }
        }
        serde_json::Value::String(s) if secret_key && !is_masked_value(s) => {
            refuse(Finding::Secret)
        }
        serde_json::Value::String(s) => text(Field::Details, s),
        serde_json::Value::Array(items) => items
            .iter()
            .try_for_each(|item| details(key, item, depth + 1)),
        serde_json::Value::Object(map) => {
            map.iter().try_for_each(|(k, v)| details(k, v, depth + 1))
        }
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => refuse(Finding::Secret),
    }
}

fn is_local_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// `x@label.tld` with an alphabetic top-level label of two or more letters. `@@session.x`,
/// `@var` and masked forms (`?@?.?`) do not match.
fn has_email(text: &[u8]) -> bool {
    for (i, &byte) in text.iter().enumerate() {
        if byte != b'@' || i == 0 || !is_local_part(text[i - 1]) || text[i - 1] == b'.' {
            continue;
        }
        let domain: Vec<&[u8]> = text[i + 1..]
            .split(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.')))
            .next()
            .unwrap_or_default()
            .split(|b| *b == b'.')
            .collect();
        let labels: Vec<&&[u8]> = domain.iter().take_while(|l| !l.is_empty()).collect();
        if labels.len() >= 2 {
            let tld = labels[labels.len() - 1];
            if tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) {
                return true;
            }
        }
    }
    false
}

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if !i.is_multiple_of(2) {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Groups of digits joined by single spaces or dashes; consecutive groups holding 13 to 19
/// digits in all that pass the Luhn check are a card number. A bare run of more than 19 digits
/// is not (long numeric ids).
fn has_card_number(text: &[u8]) -> bool {
    let mut groups: Vec<Vec<u8>> = vec![Vec::new()];
    let check = |groups: &[Vec<u8>]| {
        // A card number's first digit (the ISO/IEC 7812 major industry identifier) is never 0,
        // so runs of zeros and zero-padded counters are not cards.
        (0..groups.len()).any(|from| {
            if groups[from].first().is_none_or(|d| *d == 0) {
                return false;
            }
            let mut digits = Vec::new();
            groups[from..].iter().any(|group| {
                digits.extend_from_slice(group);
                (13..=19).contains(&digits.len()) && luhn(&digits)
            })
        })
    };
    for (i, &b) in text.iter().enumerate() {
        let last = groups.len() - 1;
        if b.is_ascii_digit() {
            groups[last].push(b - b'0');
        } else if matches!(b, b' ' | b'-')
            && !groups[last].is_empty()
            && text.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            groups.push(Vec::new());
        } else {
            if check(&groups) {
                return true;
            }
            groups = vec![Vec::new()];
        }
    }
    check(&groups)
}

/// `ddd-dd-dddd` (or with spaces) not inside a longer run of digits.
fn has_ssn(text: &[u8]) -> bool {
    if text.len() < 11 {
        return false;
    }
    let digit = |j: usize| text.get(j).is_some_and(u8::is_ascii_digit);
    for i in 0..=text.len() - 11 {
        let sep = text[i + 3];
        if !matches!(sep, b'-' | b' ') || text[i + 6] != sep {
            continue;
        }
        let shaped = [0, 1, 2, 4, 5, 7, 8, 9, 10].iter().all(|&k| digit(i + k));
        let bounded = (i == 0 || !text[i - 1].is_ascii_digit()) && !digit(i + 11);
        if shaped && bounded {
            return true;
        }
    }
    false
}

/// `[?&;]name=value` (or `name=value` / `name: value` at a word start for password words)
/// with a secret-named parameter and a value that is not masked.
fn has_secret_parameter(text: &[u8]) -> bool {
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut i = 0;
    while i < text.len() {
        if !is_name(text[i]) || (i > 0 && is_name(text[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && is_name(text[i]) {
            i += 1;
        }
        let name = String::from_utf8_lossy(&text[start..i]);
        let before = start.checked_sub(1).map(|j| text[j]);
        let query_style = before.is_none_or(|b| matches!(b, b'?' | b'&' | b';'));
        let lower = name.to_ascii_lowercase();
        let password_word = ["password", "passwd", "pwd", "secret"]
            .iter()
            .any(|w| lower.ends_with(w));
        let mut j = i;
        let separator = match text.get(j) {
            Some(b'=') => Some(b'='),
            Some(b':') if password_word => Some(b':'),
            _ => None,
        };
        let Some(separator) = separator else {
            continue;
        };
        j += 1;
        if separator == b':' {
            while text.get(j) == Some(&b' ') {
                j += 1;
            }
        }
        let value_start = j;
        while j < text.len() && !matches!(text[j], b'&' | b';' | b' ' | b',' | b')' | b'#') {
            j += 1;
        }
        let value = String::from_utf8_lossy(&text[value_start..j]);
        if (query_style || password_word) && is_secret_name(&name) && !is_masked_value(&value) {
            return true;
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_four_shapes_are_found() {
        assert_eq!(
            check_text("where a = jane@example.com"),
            Some(Finding::Email)
        );
        assert_eq!(
            check_text("pan 4111 1111 1111 1111 seen"),
            Some(Finding::CardNumber)
        );
        assert_eq!(check_text("5555-5555-5555-4444"), Some(Finding::CardNumber));
        assert_eq!(check_text("x4012888888881881x"), Some(Finding::CardNumber));
        assert_eq!(
            check_text("customer ssn 078-05-1120 on file"),
            Some(Finding::Ssn)
        );
        assert_eq!(
            check_text("/customer/account/loginPost?password=hunter2"),
            Some(Finding::Secret)
        );
        assert_eq!(check_text("/x?a=1&access_token=abc"), Some(Finding::Secret));
        assert_eq!(
            check_text("Login failed, password: hunter2"),
            Some(Finding::Secret)
        );
    }

    #[test]
    fn masked_agent_output_passes() {
        for clean in [
            "select * from customer_entity where entity_id = ?",
            "select @@session.tx_isolation",
            "select ? /*repeat union*/",
            "update admin_user set password = ? where user_id = ?",
            "select * from t where email like ?@?.?",
            "/admin/mui/export/gridToCsv/key/?/",
            "/customer/account/loginPost?password=?",
            "/x?token=[masked]",
            "Cannot save customer ? with id ?",
            "2026-11-28T08:18:00Z",
            "0123456789ABCDEF",
            "10.0.0.5",
            "4111 1111 1111 1112",
            "12345",
            "0190b7e2-5f3a-7c41-9d2e-8a6f4b1c3d5e",
            "00000000000000BB",
            "id 0000000000000000123 done",
        ] {
            assert_eq!(check_text(clean), None, "{clean}");
        }
    }

    #[test]
    fn hash_ids_pass_whatever_their_digits_and_other_ids_are_checked() {
        // 16 upper-case hex digits that happen to be all digits and Luhn-valid.
        assert!(luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
        assert_eq!(id("4111111111111111"), Ok(()));
        assert_eq!(id("0123456789ABCDEF"), Ok(()));
        assert_eq!(
            id("4111 1111 1111 1111"),
            Err(Rejection {
                field: Field::QueryId,
                finding: Finding::CardNumber
            })
        );
        assert_eq!(
            id("jane@example.com"),
            Err(Rejection {
                field: Field::QueryId,
                finding: Finding::Email
            })
        );
        // The same digits as free text are a card.
        assert_eq!(check_text("4111111111111111"), Some(Finding::CardNumber));
    }

    #[test]
    fn details_keys_values_and_numbers_are_checked() {
        let check = |v: serde_json::Value| {
            v.as_object()
                .unwrap()
                .iter()
                .try_for_each(|(k, v)| details(k, v, 0))
        };
        assert!(check(serde_json::json!({"rows": 12, "namespace": "customer_listing", "password": "[masked]"})).is_ok());
        assert_eq!(
            check(serde_json::json!({"note": {"pan": "4111111111111111"}}))
                .unwrap_err()
                .finding,
            Finding::CardNumber
        );
        assert_eq!(
            check(serde_json::json!({"n": 4111111111111111u64}))
                .unwrap_err()
                .finding,
            Finding::CardNumber
        );
        assert_eq!(
            check(serde_json::json!({"api_token": "abc"}))
                .unwrap_err()
                .finding,
            Finding::Secret
        );
        assert_eq!(
            check(serde_json::json!({"jane@example.com": 1}))
                .unwrap_err()
                .finding,
            Finding::Email
        );
    }
}
