//! Module events (`POST /api/v1/magento/events`): admin-action and web-API log entries,
//! stored as `signals` and queued for detection (`alerts::inputs`) in the same transaction.
//!
//! Idempotent: an event with `source` and `source_id` (the module's log row) is keyed by them,
//! any other by the SHA-256 of its canonical JSON, and a key already stored is skipped. The
//! request is capped in size and count; an event larger than the per-event cap is kept as a
//! stub (its kind and ids) so one odd row cannot wedge the module's shipping queue.

use leakguard_domain::audit::Subject;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{MagentoError, rfc3339_ms};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::signals;
use crate::tenancy::TenantCtx;

/// Most events in one request.
pub const MAX_EVENTS: usize = 5000;
/// Largest stored event, bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;
/// Source name of module signals.
pub const SOURCE: signals::Source = signals::Source::MagentoModule;

/// Outcome of a delivery.
#[derive(Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EventsAck {
    /// Events in the request.
    pub received: u64,
    /// Events stored now.
    pub stored: u64,
    /// Events stored before (re-delivery).
    pub duplicates: u64,
    /// Events kept as a stub because they were too large.
    pub oversize: u64,
}

fn short(value: Option<&Value>, max: usize) -> Option<String> {
    let text = match value? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty() && text.len() <= max && !text.contains(char::is_control))
        .then(|| text.to_owned())
}

struct Parsed {
    dedup_key: String,
    kind: String,
    principal: Option<String>,
    occurred_at: Option<i64>,
    payload: String,
    oversize: bool,
}

fn parse_event(event: &Value) -> Result<Parsed, MagentoError> {
    let Value::Object(map) = event else {
        return Err(MagentoError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidModuleDocument,
                "every event must be a JSON object",
            ),
        ));
    };
    // Canonical JSON refuses floating point numbers; such an event is hashed as serialised.
    let canonical =
        leakguard_domain::audit::canonical_json(event).unwrap_or_else(|_| event.to_string());
    let source = short(map.get("source"), 32);
    let source_id = short(map.get("source_id"), 64);
    let dedup_key = match (&source, &source_id) {
        (Some(source), Some(id)) => format!("{source}:{id}"),
        _ => format!(
            "sha256:{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        ),
    };
    let kind = short(map.get("event"), 64)
        .or_else(|| source.clone())
        .unwrap_or_else(|| "unknown".into());
    let principal = if let Some(admin) = short(map.get("admin_user_id"), 32) {
        Some(format!("admin:{admin}"))
    } else {
        match (
            short(map.get("caller_type"), 32),
            short(map.get("caller_id"), 32),
        ) {
            (Some(t), Some(id)) => Some(format!("{t}:{id}")),
            (Some(t), None) => Some(t),
            _ => None,
        }
    };
    let occurred_at = short(map.get("ts"), 64).and_then(|t| rfc3339_ms(&t));
    let oversize = canonical.len() > MAX_EVENT_BYTES;
    let payload = if oversize {
        serde_json::json!({
            "oversize": true,
            "bytes": canonical.len(),
            "source": source,
            "source_id": source_id,
            "event": kind,
        })
        .to_string()
    } else {
        canonical
    };
    Ok(Parsed {
        dedup_key,
        kind,
        principal,
        occurred_at,
        payload,
        oversize,
    })
}

/// Stores a request's events. The body is the raw JSON `{"events": [...]}`.
pub async fn store(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    body: &[u8],
    now_ms: i64,
) -> Result<EventsAck, MagentoError> {
    let document: Value = serde_json::from_slice(body).map_err(|e| {
        MagentoError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidJson,
            super::json_error("invalid JSON body", &e),
        ))
    })?;
    let Some(events) = document.get("events").and_then(Value::as_array) else {
        return Err(MagentoError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidModuleDocument,
                "the body must be {\"events\": [...]}",
            ),
        ));
    };
    if events.len() > MAX_EVENTS {
        return Err(MagentoError::TooLarge(format!(
            "at most {MAX_EVENTS} events per request"
        )));
    }
    let parsed = events
        .iter()
        .map(parse_event)
        .collect::<Result<Vec<_>, _>>()?;
    let oversize = parsed.iter().filter(|p| p.oversize).count() as u64;
    let rows: Vec<signals::ActiveModel> = parsed
        .into_iter()
        .map(|p| signals::ActiveModel {
            tenant_id: Set(ctx.tenant_id().as_uuid()),
            id: Set(Uuid::now_v7()),
            source: Set(SOURCE),
            kind: Set(p.kind),
            dedup_key: Set(p.dedup_key),
            principal: Set(p.principal),
            occurred_at: Set(p.occurred_at),
            received_at: Set(now_ms),
            payload: Set(p.payload),
        })
        .collect();
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| match &r.id {
            sea_orm::ActiveValue::Set(id) => Some(*id),
            _ => None,
        })
        .collect();
    let txn = begin_write(db).await?;
    let mut stored = 0u64;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(500).collect();
        stored += signals::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([
                    signals::Column::TenantId,
                    signals::Column::Source,
                    signals::Column::DedupKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    let received = events.len() as u64;
    let ack = EventsAck {
        received,
        stored,
        duplicates: received - stored,
        oversize,
    };
    if stored > 0 {
        // The rows this request inserted (a re-delivered event kept its first row's id).
        let mut lines = Vec::new();
        for chunk in ids.chunks(500) {
            let fresh = signals::Entity::find()
                .filter(signals::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
                .filter(signals::Column::Id.is_in(chunk.to_vec()))
                .order_by_asc(signals::Column::Id)
                .all(&txn)
                .await?;
            lines.extend(
                fresh
                    .iter()
                    .filter(|row| !row.payload.contains("\"oversize\":true"))
                    .filter_map(|row| crate::alerts::inputs::magento_line(&row.payload)),
            );
        }
        crate::alerts::inputs::enqueue(
            &txn,
            ctx.tenant_id().as_uuid(),
            crate::alerts::inputs::Source::MagentoModule,
            lines,
            now_ms,
        )
        .await?;
        audit_chain::record(
            &txn,
            ctx,
            "magento.events.stored",
            Subject::new("signals", SOURCE.as_str()),
            serde_json::json!({"received": received, "stored": stored, "oversize": oversize}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(ack)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn module_rows_are_keyed_by_source_and_id_and_others_by_hash() {
        let a = parse_event(&serde_json::json!({"source": "admin_action", "source_id": 7, "event": "admin_login_success", "admin_user_id": 12, "ts": "2026-11-28T08:00:00Z"})).unwrap();
        assert_eq!(a.dedup_key, "admin_action:7");
        assert_eq!(a.principal.as_deref(), Some("admin:12"));
        assert_eq!(a.kind, "admin_login_success");
        assert_eq!(a.occurred_at, Some(1_795_852_800_000));
        let b = parse_event(&serde_json::json!({"event": "x", "n": 1})).unwrap();
        let c = parse_event(&serde_json::json!({"n": 1, "event": "x"})).unwrap();
        assert!(b.dedup_key.starts_with("sha256:"));
        assert_eq!(b.dedup_key, c.dedup_key, "key order must not matter");
        let w = parse_event(&serde_json::json!({"source": "webapi_call", "source_id": 3, "caller_type": "integration", "caller_id": 5})).unwrap();
        assert_eq!(w.principal.as_deref(), Some("integration:5"));
        assert!(parse_event(&serde_json::json!([1])).is_err());
        let big = parse_event(&serde_json::json!({"source": "admin_action", "source_id": 8, "details": "x".repeat(MAX_EVENT_BYTES)})).unwrap();
        assert!(big.oversize);
        assert!(big.payload.len() < 512);
    }
}
