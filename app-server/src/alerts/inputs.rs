//! The detection input queue: what ingest hands to detection, inside its own transaction.
//!
//! Each input is one line of the replay format (`domain::detect::normalize`): agent records as
//! the wire format serializes them (the same JSON `leakguard-agent inspect` prints), module
//! events as `{"source":"magento","event":…}`, Shopify webhooks as
//! `{"source":"shopify","topic":…,"payload":…,"received_at":…}`. Lines are numbered per tenant
//! from the tenant's `detection_cursors` row, bumped in the writer's transaction: the row lock
//! (PostgreSQL) or the single writer (SQLite) makes the numbers commit in order, so the worker's
//! high-water mark never skips a line that commits late.
//!
//! Shopify payloads are cut down to the fields the normalizer reads (ids of apps and staff,
//! scopes, the query, counts, times): no customer's personal data waits in this queue. A line
//! lives until the run that processes it deletes it.

use leakguard_domain::agent_wire::Record;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::db::entities::{detection_cursors, detection_inputs};

pub use detection_inputs::Source;

/// Lines inserted per statement.
const CHUNK: usize = 200;

/// Fields of a Shopify payload the normalizer reads (`normalize::Normalizer::shopify` and its
/// scope diff); everything else is left out of the queue.
const SHOPIFY_FIELDS: &[&str] = &[
    "api_client_id",
    "app_id",
    "client_id",
    "app",
    "api_client",
    "actor",
    "staff_id",
    "user_id",
    "staff_member_id",
    "query",
    "operation",
    "resource",
    "object_type",
    "type",
    "bulk_operation",
    "object_count",
    "objectCount",
    "row_count",
    "count",
    "records",
    "bulk",
    "completed_at",
    "created_at",
    "updated_at",
    "occurred_at",
    "ts",
    "added_scopes",
    "scopes_added",
    "granted_scopes",
    "added_resources",
    "resources_added",
    "added",
    "current",
    "scopes",
    "access_scopes",
    "updated",
    "resources",
    "new_scopes",
    "previous",
    "previous_scopes",
    "old_scopes",
    "old",
];

/// Inner fields the normalizer reads of the objects it looks into; the rest (an actor's name or
/// e-mail) is left out.
fn nested(key: &str, value: &Value) -> Value {
    let keep: &[&str] = match key {
        "app" | "api_client" | "actor" => &["id", "api_client_id", "app_id"],
        "bulk_operation" => &["query", "type"],
        _ => return value.clone(),
    };
    match value {
        Value::Object(inner) => Value::Object(
            keep.iter()
                .filter_map(|k| inner.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// The line of an agent record.
pub fn agent_line(record: &Record) -> Option<String> {
    serde_json::to_string(record).ok()
}

/// The line of a stored module event (its canonical JSON).
pub fn magento_line(event_json: &str) -> Option<String> {
    let event: Value = serde_json::from_str(event_json).ok()?;
    Some(serde_json::json!({"source": "magento", "event": event}).to_string())
}

/// The line of a Shopify webhook, keeping only the fields detection reads.
pub fn shopify_line(topic: &str, payload: &Value, received_at_ms: i64) -> String {
    let kept: serde_json::Map<String, Value> = match payload {
        Value::Object(fields) => SHOPIFY_FIELDS
            .iter()
            .filter_map(|k| fields.get(*k).map(|v| ((*k).to_owned(), nested(k, v))))
            .collect(),
        _ => serde_json::Map::new(),
    };
    serde_json::json!({
        "source": "shopify",
        "topic": topic,
        "payload": kept,
        "received_at": crate::api_time::format(received_at_ms),
    })
    .to_string()
}

/// Appends `lines` to the tenant's queue inside the caller's transaction. Call it before the
/// transaction's audit entry, so every writer takes the cursor row before the chain head.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    tenant: Uuid,
    source: Source,
    lines: Vec<String>,
    now_ms: i64,
) -> Result<(), DbErr> {
    if lines.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(lines.len()).unwrap_or(i64::MAX);
    let bump = Query::insert()
        .into_table(detection_cursors::Entity)
        .columns([
            detection_cursors::Column::TenantId,
            detection_cursors::Column::InputSeq,
            detection_cursors::Column::ProcessedSeq,
            detection_cursors::Column::UpdatedAt,
        ])
        .values_panic([tenant.into(), n.into(), 0i64.into(), now_ms.into()])
        .on_conflict(
            OnConflict::column(detection_cursors::Column::TenantId)
                .value(
                    detection_cursors::Column::InputSeq,
                    Expr::cust("detection_cursors.input_seq + excluded.input_seq"),
                )
                .value(
                    detection_cursors::Column::UpdatedAt,
                    Expr::cust("excluded.updated_at"),
                )
                .to_owned(),
        )
        .returning(Query::returning().column(detection_cursors::Column::InputSeq))
        .to_owned();
    let row = txn
        .query_one(&bump)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("detection cursor".into()))?;
    let last: i64 = row.try_get("", "input_seq")?;
    let first = last - n + 1;
    let mut rows = lines
        .into_iter()
        .zip(first..)
        .map(|(line, seq)| detection_inputs::ActiveModel {
            tenant_id: Set(tenant),
            seq: Set(seq),
            source: Set(source),
            received_at: Set(now_ms),
            line: Set(line),
        })
        .peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        detection_inputs::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use leakguard_domain::detect::normalize::Normalizer;

    #[test]
    fn a_shopify_line_keeps_what_detection_reads_and_drops_personal_data() {
        let payload = serde_json::json!({
            "id": 7, "email": "jane@example.com", "first_name": "Jane",
            "actor": {"id": 3, "email": "staff.jane@example.com"},
            "app_id": "55", "previous": ["read_products"],
            "current": ["read_products", "read_customers"],
        });
        let line = shopify_line("app/scopes_update", &payload, 1_795_853_880_000);
        assert!(!line.contains("jane"), "{line}");
        assert!(!line.contains("Jane"), "{line}");
        let mut out = Vec::new();
        Normalizer::default().line(&line, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].scopes_added, vec!["read_customers".to_owned()]);
        assert_eq!(out[0].at, 1_795_853_880);
    }

    #[test]
    fn a_module_event_line_is_read_by_the_normalizer() {
        let line = magento_line(
            r#"{"ts":"2026-11-28T02:00:00Z","admin_user_id":7,"event":"grid_export","entity_type":"customer","count":5000}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        Normalizer::default().line(&line, &mut out).unwrap();
        assert_eq!(out[0].count, 5000);
        assert!(magento_line("not json").is_none());
    }
}
