//! Invariants shared by the agent and domain fuzz targets.
//!
//! Every check panics with a message naming the broken rule; libFuzzer reports the panic as a
//! crash and saves the input.

#![allow(clippy::panic)]

use agent::sql;
use leakguard_domain::agent_wire::Record;
use serde_json::Value;

/// A literal the targets plant in input: it must never come out of the agent.
pub const PLANTED_EMAIL: &str = "ann.lee@mailbox.example";
/// A card number the targets plant in input: it must never come out of the agent.
pub const PLANTED_CARD: &str = "4111111111111111";

/// True when `haystack` holds a part of the planted values that would identify them.
/// Case-insensitive: the fingerprint lowercases what it keeps.
pub fn leaks_planted(haystack: &str) -> bool {
    let haystack = haystack.to_ascii_lowercase();
    haystack.contains("ann.lee")
        || haystack.contains("mailbox.example")
        || haystack.contains("411111")
}

/// Upper-case hex of 16 characters (pt-query-digest query ids, template ids).
pub fn assert_query_id(id: &str) {
    assert!(
        id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')),
        "query id {id:?} is not 16 upper-case hex digits"
    );
}

/// `[A-Za-z0-9_.-]`, or `?`.
pub fn assert_safe_token(token: &str, what: &str) {
    assert!(
        token == "?"
            || (!token.is_empty()
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))),
        "{what} {token:?} is not a safe token"
    );
}

/// Every string that leaves the host passes the fail-closed masking check.
pub fn assert_shippable(text: &str, what: &str) {
    assert!(
        sql::passes_mask(text.as_bytes()),
        "{what} {text:?} leaves the host but fails the masking check"
    );
}

/// Every string leaf of a JSON value (and every key) passes the masking check.
pub fn assert_json_shippable(value: &Value, what: &str) {
    match value {
        Value::String(text) => assert_shippable(text, what),
        Value::Array(items) => items.iter().for_each(|v| assert_json_shippable(v, what)),
        Value::Object(map) => {
            for (key, v) in map {
                assert_shippable(key, what);
                assert_json_shippable(v, what);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The privacy boundary of the agent: what a record may carry.
pub fn assert_record_clean(record: &Record) {
    match record {
        Record::SqlAggregate(a) => {
            assert_query_id(&a.query_id);
            assert_eq!(
                a.masked,
                a.fingerprint.is_none(),
                "masked flag disagrees with the fingerprint"
            );
            if let Some(fp) = &a.fingerprint {
                assert_shippable(fp, "fingerprint");
            }
            for table in &a.tables {
                assert_shippable(table, "table");
            }
            assert!(
                a.tables.windows(2).all(|w| w[0] < w[1]),
                "tables not sorted and unique: {:?}",
                a.tables
            );
            assert!(a.count >= 1, "an aggregate of no statement");
        }
        Record::SecurityEvent(e) => {
            if let Some(fp) = &e.fingerprint {
                assert_shippable(fp, "event fingerprint");
            }
            if let Some(id) = &e.query_id {
                assert_query_id(id);
            }
            for table in &e.tables {
                assert_shippable(table, "event table");
            }
            for (key, value) in &e.details {
                assert_shippable(key, "detail key");
                assert_json_shippable(value, "detail value");
            }
            for id in &e.entity_ids {
                assert_shippable(id, "entity id");
            }
        }
        Record::HttpAggregate(h) => {
            assert_shippable(&h.route, "route");
            assert_safe_token(&h.method, "method");
            assert!(h.count >= 1, "an aggregate of no request");
        }
        Record::AppLogAggregate(l) => {
            assert_query_id(&l.template_id);
            if let Some(template) = &l.template {
                assert_shippable(template, "template");
            }
            assert_safe_token(&l.channel, "channel");
            assert_safe_token(&l.level, "level");
        }
    }
    // Whatever the agent builds must survive the wire unchanged.
    let json = match serde_json::to_string(record) {
        Ok(json) => json,
        Err(e) => panic!("a record does not serialise: {e}"),
    };
    let back: Record = match serde_json::from_str(&json) {
        Ok(back) => back,
        Err(e) => panic!("a record does not parse back: {e}: {json}"),
    };
    assert_eq!(&back, record, "a record changed on the wire");
}
