//! Input lines → signals.
//!
//! Owns the mapping of the replay input onto [`Signal`]s: agent records exactly as
//! `leakguard-agent inspect` prints them (`sql_aggregate`, `security_event`,
//! `http_aggregate`, `app_log_aggregate`), Magento module events
//! (`{"source":"magento","event":{…}}`) and Shopify webhooks
//! (`{"source":"shopify","topic":…,"payload":…,"received_at":…}`). One pass of serde over a
//! flat struct (no buffering of tagged enums) keeps it fast. Malformed input is an error
//! value, never a panic.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::categories::{resource_categories, scope_categories, tables_categories};
use super::signal::{CategorySet, Identity, Signal, SignalKind};
use crate::agent_wire::Principal;

/// Why a line gave no signal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// Not JSON, or not an object of a known shape.
    #[error("malformed line: {0}")]
    Malformed(String),
    /// A known shape without a usable time.
    #[error("line without a usable time")]
    NoTime,
}

/// One input line with every field any shape may carry.
#[derive(Debug, Default, Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow, default)]
    record_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    minute: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ts: Option<Cow<'a, str>>,
    #[serde(default)]
    principal: Option<Principal>,
    #[serde(default)]
    tables: Option<Vec<String>>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    rows_sent: Option<u64>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(borrow, default)]
    entity_type: Option<Cow<'a, str>>,
    #[serde(default)]
    entity_ids: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    details: Option<Value>,
    #[serde(borrow, default)]
    area: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    route: Option<Cow<'a, str>>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    max_page_size: Option<u64>,
    #[serde(default)]
    event: Option<Value>,
    #[serde(borrow, default)]
    topic: Option<Cow<'a, str>>,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    received_at: Option<Value>,
}

/// Turns lines into signals. Keeps the last scopes seen per Shopify app, to diff grants.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Normalizer {
    /// Next signal id.
    pub next_id: u64,
    /// Last known scopes per app or integration.
    pub scopes: HashMap<String, Vec<String>>,
}

impl Normalizer {
    /// Parses one line; pushes its signals (possibly none) to `out`.
    pub fn line(&mut self, text: &str, out: &mut Vec<Signal>) -> Result<(), NormalizeError> {
        let line: Line<'_> =
            serde_json::from_str(text).map_err(|e| NormalizeError::Malformed(e.to_string()))?;
        if let Some(record_type) = line.record_type.as_deref() {
            return self.record(record_type, &line, out);
        }
        match line.source.as_deref() {
            Some("magento") => {
                let event = line.event.ok_or_else(|| {
                    NormalizeError::Malformed("magento line without event".into())
                })?;
                self.magento_event(&event, out)
            }
            Some("shopify") => {
                let topic = line.topic.as_deref().unwrap_or("");
                let payload = line.payload.unwrap_or(Value::Null);
                let at = line
                    .received_at
                    .as_ref()
                    .and_then(time_value)
                    .or_else(|| payload_time(&payload))
                    .ok_or(NormalizeError::NoTime)?;
                self.shopify(topic, &payload, at, out);
                Ok(())
            }
            _ => Err(NormalizeError::Malformed("unknown line shape".into())),
        }
    }

    fn push(&mut self, out: &mut Vec<Signal>, mut signal: Signal) {
        signal.id = self.next_id;
        self.next_id += 1;
        out.push(signal);
    }

    fn record(
        &mut self,
        record_type: &str,
        line: &Line<'_>,
        out: &mut Vec<Signal>,
    ) -> Result<(), NormalizeError> {
        let identity = line
            .principal
            .as_ref()
            .map(Identity::from)
            .unwrap_or_default();
        let tables = line.tables.clone().unwrap_or_default();
        match record_type {
            "sql_aggregate" => {
                let at = line
                    .minute
                    .as_deref()
                    .and_then(parse_time)
                    .ok_or(NormalizeError::NoTime)?;
                let categories = tables_categories(&tables);
                self.push(
                    out,
                    Signal {
                        id: 0,
                        at,
                        identity,
                        kind: SignalKind::SqlAccess,
                        categories,
                        tables: if categories.is_empty() {
                            Vec::new()
                        } else {
                            tables
                        },
                        count: line.count.unwrap_or(1),
                        rows: line.rows_sent,
                        ip: None,
                        scopes_added: Vec::new(),
                    },
                );
                Ok(())
            }
            "security_event" => {
                let at = line
                    .ts
                    .as_deref()
                    .and_then(parse_time)
                    .ok_or(NormalizeError::NoTime)?;
                let kind = line.kind.as_deref().unwrap_or("");
                let n_ids = line.entity_ids.as_ref().map_or(0, Vec::len) as u64;
                let mut identity = identity;
                if identity.key() == super::signal::PrincipalKey::Unknown {
                    identity.ip = line.ip.clone();
                }
                let event = EventFacts {
                    at,
                    kind,
                    identity,
                    ip: line.ip.clone(),
                    tables,
                    entity_type: line.entity_type.as_deref(),
                    count: line.count,
                    n_ids,
                    details: line.details.as_ref(),
                };
                self.event(event, out);
                Ok(())
            }
            "http_aggregate" => {
                let at = line
                    .minute
                    .as_deref()
                    .and_then(parse_time)
                    .ok_or(NormalizeError::NoTime)?;
                let route = line.route.as_deref().unwrap_or("");
                let ok = line.status.is_some_and(|s| (200..300).contains(&s));
                let reads = line
                    .method
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case("GET"));
                let categories = resource_categories(route);
                if line.area.as_deref() == Some("rest") && ok && reads && !categories.is_empty() {
                    let count = line.count.unwrap_or(1);
                    let ip = line.ip.clone();
                    self.push(
                        out,
                        Signal {
                            id: 0,
                            at,
                            identity: Identity {
                                ip: ip.clone(),
                                ..Identity::default()
                            },
                            kind: SignalKind::ApiRead,
                            categories,
                            tables: vec![route.to_owned()],
                            count,
                            rows: line.max_page_size.map(|p| p.saturating_mul(count)),
                            ip,
                            scopes_added: Vec::new(),
                        },
                    );
                }
                Ok(())
            }
            "app_log_aggregate" => Ok(()),
            other => Err(NormalizeError::Malformed(format!(
                "unknown record type {other}"
            ))),
        }
    }

    fn event(&mut self, event: EventFacts<'_>, out: &mut Vec<Signal>) {
        let records = event.count.unwrap_or(event.n_ids);
        let mut categories = tables_categories(&event.tables);
        if let Some(entity_type) = event.entity_type {
            categories = categories.union(resource_categories(entity_type));
        }
        if let Some(Value::Object(details)) = event.details {
            for key in [
                "namespace",
                "entity",
                "entity_type",
                "export_type",
                "report",
            ] {
                if let Some(Value::String(text)) = details.get(key) {
                    categories = categories.union(resource_categories(text));
                }
            }
        }
        let (kind, count, rows) = match event.kind {
            "admin_login_success" => (SignalKind::LoginSuccess, 1, None),
            "admin_login_failure" => (SignalKind::LoginFailure, 1, None),
            "admin_record_view" | "record_view" => (SignalKind::RecordView, records.max(1), None),
            "admin_grid_export"
            | "grid_export"
            | "admin_data_transfer_export"
            | "data_transfer_export"
            | "admin_report_export"
            | "report_export"
            | "export_file_created" => (SignalKind::Export, records.max(1), None),
            "db_logging_disabled" => (SignalKind::LoggingDisabled, event.count.unwrap_or(1), None),
            "db_into_outfile" => (SignalKind::IntoOutfile, event.count.unwrap_or(1), None),
            "db_dump" => (SignalKind::Dump, event.count.unwrap_or(1), None),
            "integration_change" | "app_scopes_update" => {
                let added = added_scopes(event.details, self, &event.identity);
                if added.is_empty() {
                    return;
                }
                let identity = event.identity.clone();
                let signal = Signal {
                    id: 0,
                    at: event.at,
                    identity,
                    kind: SignalKind::ScopeGrant,
                    categories: added
                        .iter()
                        .fold(CategorySet::EMPTY, |acc, s| acc.union(scope_categories(s))),
                    tables: Vec::new(),
                    count: 1,
                    rows: None,
                    ip: event.ip,
                    scopes_added: added,
                };
                self.push(out, signal);
                return;
            }
            _ => return,
        };
        let signal = Signal {
            id: 0,
            at: event.at,
            identity: event.identity,
            kind,
            categories,
            tables: event.tables,
            count,
            rows,
            ip: event.ip,
            scopes_added: Vec::new(),
        };
        self.push(out, signal);
    }

    fn magento_event(
        &mut self,
        event: &Value,
        out: &mut Vec<Signal>,
    ) -> Result<(), NormalizeError> {
        let Value::Object(fields) = event else {
            return Err(NormalizeError::Malformed(
                "magento event is not an object".into(),
            ));
        };
        let at = fields
            .get("ts")
            .or_else(|| fields.get("time"))
            .or_else(|| fields.get("created_at"))
            .and_then(time_value)
            .ok_or(NormalizeError::NoTime)?;
        let name = text_field(fields, &["event", "kind", "type"]).unwrap_or_default();
        let identity = Identity {
            admin_user_id: text_field(fields, &["admin_user_id"]),
            admin_username: text_field(fields, &["admin_username"]),
            integration_id: text_field(fields, &["integration_id"]),
            db_user: text_field(fields, &["db_user"]),
            ip: None,
            ..Identity::default()
        };
        let mut identity = identity;
        let ip = text_field(fields, &["ip", "remote_ip"]);
        if identity.key() == super::signal::PrincipalKey::Unknown {
            identity.ip = ip.clone();
        }
        let tables = match fields.get("tables") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let n_ids = match fields.get("entity_ids") {
            Some(Value::Array(items)) => items.len() as u64,
            _ => 0,
        };
        let entity_type = fields.get("entity_type").and_then(Value::as_str);
        let facts = EventFacts {
            at,
            kind: &name,
            identity,
            ip,
            tables,
            entity_type,
            count: fields.get("count").and_then(Value::as_u64),
            n_ids,
            details: fields.get("details").or(Some(event)),
        };
        self.event(facts, out);
        Ok(())
    }

    fn shopify(&mut self, topic: &str, payload: &Value, at: i64, out: &mut Vec<Signal>) {
        let Value::Object(fields) = payload else {
            return;
        };
        let app = text_field(fields, &["api_client_id", "app_id", "client_id"]).or_else(|| {
            ["app", "api_client", "actor"]
                .iter()
                .find_map(|k| match fields.get(*k) {
                    Some(Value::Object(inner)) => {
                        text_field(inner, &["id", "api_client_id", "app_id"])
                    }
                    _ => None,
                })
        });
        let staff = text_field(fields, &["staff_id", "user_id", "staff_member_id"]);
        let identity = Identity {
            shopify_app_id: app.clone(),
            shopify_staff_id: if app.is_none() { staff } else { None },
            ..Identity::default()
        };
        let topic_lower = topic.to_ascii_lowercase();
        if topic_lower.contains("scope")
            || topic_lower.contains("permission")
            || topic_lower.contains("install")
        {
            let added = added_scopes(Some(payload), self, &identity);
            if !added.is_empty() {
                let categories = added
                    .iter()
                    .fold(CategorySet::EMPTY, |acc, s| acc.union(scope_categories(s)));
                let signal = Signal {
                    id: 0,
                    at,
                    identity,
                    kind: SignalKind::ScopeGrant,
                    categories,
                    tables: Vec::new(),
                    count: 1,
                    rows: None,
                    ip: None,
                    scopes_added: added,
                };
                self.push(out, signal);
            }
            return;
        }
        let query = text_field(
            fields,
            &["query", "operation", "resource", "object_type", "type"],
        )
        .unwrap_or_default();
        let query = match fields.get("bulk_operation") {
            Some(Value::Object(inner)) => text_field(inner, &["query", "type"]).unwrap_or(query),
            _ => query,
        };
        let categories = resource_categories(&query);
        let objects = [
            "object_count",
            "objectCount",
            "row_count",
            "count",
            "records",
        ]
        .iter()
        .find_map(|k| fields.get(*k).and_then(number_value));
        let bulk = topic_lower.contains("bulk")
            || query.contains("bulkOperation")
            || fields.get("bulk").and_then(Value::as_bool).unwrap_or(false);
        if categories.is_empty() || identity.key() == super::signal::PrincipalKey::Unknown {
            return;
        }
        let signal = Signal {
            id: 0,
            at,
            identity,
            kind: if bulk {
                SignalKind::BulkOperation
            } else {
                SignalKind::ApiRead
            },
            categories,
            tables: vec![query.chars().take(80).collect()],
            count: 1,
            rows: objects,
            ip: None,
            scopes_added: Vec::new(),
        };
        self.push(out, signal);
    }
}

struct EventFacts<'a> {
    at: i64,
    kind: &'a str,
    identity: Identity,
    ip: Option<String>,
    tables: Vec<String>,
    entity_type: Option<&'a str>,
    count: Option<u64>,
    n_ids: u64,
    details: Option<&'a Value>,
}

fn text_field(fields: &serde_json::Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match fields.get(*k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn number_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn scope_list(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => text_field(o, &["handle", "name", "scope", "resource"]),
                    _ => None,
                })
                .collect(),
        ),
        Value::String(s) => Some(
            s.split([',', ' '])
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// Scopes newly granted according to a payload: an explicit "added" list, a
/// previous/current diff, or the current list against the last one remembered.
fn added_scopes(
    payload: Option<&Value>,
    normalizer: &mut Normalizer,
    identity: &Identity,
) -> Vec<String> {
    let Some(Value::Object(fields)) = payload else {
        return Vec::new();
    };
    for key in [
        "added_scopes",
        "scopes_added",
        "granted_scopes",
        "added_resources",
        "resources_added",
        "added",
    ] {
        if let Some(list) = scope_list(fields.get(key)) {
            return list;
        }
    }
    let current = [
        "current",
        "scopes",
        "access_scopes",
        "updated",
        "resources",
        "new_scopes",
    ]
    .iter()
    .find_map(|k| scope_list(fields.get(*k)));
    let Some(current) = current else {
        return Vec::new();
    };
    let owner = format!("{:?}", identity.key());
    let previous = ["previous", "previous_scopes", "old_scopes", "old"]
        .iter()
        .find_map(|k| scope_list(fields.get(*k)))
        .or_else(|| normalizer.scopes.get(&owner).cloned())
        .unwrap_or_default();
    let added = current
        .iter()
        .filter(|s| !previous.contains(s))
        .cloned()
        .collect();
    if normalizer.scopes.len() < 10_000 || normalizer.scopes.contains_key(&owner) {
        normalizer.scopes.insert(owner, current);
    }
    added
}

fn payload_time(payload: &Value) -> Option<i64> {
    let Value::Object(fields) = payload else {
        return None;
    };
    [
        "completed_at",
        "created_at",
        "updated_at",
        "occurred_at",
        "ts",
    ]
    .iter()
    .find_map(|k| fields.get(*k).and_then(time_value))
}

fn time_value(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => parse_time(text),
        Value::Number(n) => n
            .as_i64()
            .map(|v| if v > 100_000_000_000 { v / 1000 } else { v }),
        _ => None,
    }
}

/// Parses RFC 3339 (`2026-11-28T08:18:00Z`, offsets, fractions) to unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() == 20
        && b[19] == b'Z'
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
    {
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let mut value = 0_i64;
            for &c in b.get(range)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                value = value * 10 + i64::from(c - b'0');
            }
            Some(value)
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        return Some(
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second,
        );
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::detect::signal::{Category, PrincipalKey};

    #[test]
    fn times_parse_fast_and_slow_paths_alike() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-11-28T08:18:00Z"), Some(1_795_853_880));
        assert_eq!(parse_time("2026-11-28T09:18:00+01:00"), Some(1_795_853_880));
        assert_eq!(parse_time("2026-11-28T08:18:00.5Z"), Some(1_795_853_880));
        assert_eq!(parse_time("2026-13-28T08:18:00Z"), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn an_agent_sql_aggregate_becomes_a_categorized_signal() {
        let mut normalizer = Normalizer::default();
        let mut out = Vec::new();
        let line = r#"{"type":"sql_aggregate","minute":"2026-11-28T08:18:00Z","principal":{"db_user":"magento","db_host":"127.0.0.1","admin_user_id":"7","route":"customer_index_index"},"db_user":"magento","query_id":"0123456789ABCDEF","tables":["customer_entity","customer_address_entity_varchar"],"count":3,"masked":true}"#;
        normalizer.line(line, &mut out).unwrap();
        let signal = &out[0];
        assert_eq!(signal.identity.key(), PrincipalKey::Admin("7".into()));
        assert!(signal.categories.contains(Category::Customer));
        assert!(signal.categories.contains(Category::Address));
        assert_eq!((signal.count, signal.rows), (3, None));
    }

    #[test]
    fn security_events_and_wrapped_sources_are_read() {
        let mut normalizer = Normalizer::default();
        let mut out = Vec::new();
        normalizer
            .line(r#"{"type":"security_event","kind":"db_dump","ts":"2026-11-28T02:00:00Z","principal":{"db_user":"backup","db_host":"localhost"},"tables":["sales_order"],"count":1}"#, &mut out)
            .unwrap();
        normalizer
            .line(r#"{"source":"magento","event":{"ts":"2026-11-28T02:00:00Z","admin_user_id":7,"event":"grid_export","entity_type":"customer","count":5000}}"#, &mut out)
            .unwrap();
        normalizer
            .line(r#"{"source":"shopify","topic":"app/scopes_update","payload":{"app_id":"55","previous":["read_products"],"current":["read_products","read_customers"]},"received_at":"2026-11-28T03:00:00Z"}"#, &mut out)
            .unwrap();
        let kinds: Vec<SignalKind> = out.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![SignalKind::Dump, SignalKind::Export, SignalKind::ScopeGrant]
        );
        assert_eq!(out[1].count, 5000);
        assert_eq!(out[2].scopes_added, vec!["read_customers".to_owned()]);
        assert_eq!(out.iter().map(|s| s.id).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn malformed_lines_are_errors() {
        let mut normalizer = Normalizer::default();
        let mut out = Vec::new();
        assert!(normalizer.line("not json", &mut out).is_err());
        assert!(normalizer.line("[]", &mut out).is_err());
        assert_eq!(
            normalizer.line(r#"{"type":"sql_aggregate","tables":[]}"#, &mut out),
            Err(NormalizeError::NoTime)
        );
        assert!(out.is_empty());
    }
}
