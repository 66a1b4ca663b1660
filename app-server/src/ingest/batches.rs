//! Batch upload: decode (zstd, one frame, capped), validate, and store once.
//!
//! Exactly-once effect for at-least-once delivery: the batch row is inserted first under the
//! unique index `(tenant, agent, file id, start offset)`; a second delivery inserts nothing
//! and the transaction stores nothing else (concurrent deliveries wait on the index, then see
//! the first one). Aggregates add into per-key sums, security events become `signals`.

use std::collections::BTreeMap;
use std::io::Read;

use leakguard_domain::agent_wire::{Batch, BatchAck, Principal, Record, SCHEMA_VERSION};
use leakguard_domain::audit::Subject;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::IngestError;
use super::agents::AgentCtx;
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{agent_aggregates, agent_batches, agents, signals};

/// Most records in one batch.
pub const MAX_RECORDS: usize = 250_000;
/// Largest zstd window accepted (2^23 = 8 MiB), which bounds the decoder's memory.
const WINDOW_LOG_MAX: u32 = 23;
/// Source name of agent signals.
pub const SOURCE: signals::Source = signals::Source::Agent;

/// Decodes a request body by its `Content-Encoding` (`zstd`, or none), refusing more than
/// `max_decompressed` bytes of output whatever the frame claims.
pub fn decode(
    body: &[u8],
    content_encoding: Option<&str>,
    max_decompressed: usize,
) -> Result<Vec<u8>, IngestError> {
    match content_encoding.map(str::trim) {
        None | Some("") | Some("identity") => Ok(body.to_vec()),
        Some(e) if e.eq_ignore_ascii_case("zstd") => {
            let bad = |_| IngestError::Invalid("the body is not a valid zstd frame".into());
            let mut decoder = zstd::stream::read::Decoder::with_buffer(body)
                .map_err(bad)?
                .single_frame();
            decoder.window_log_max(WINDOW_LOG_MAX).map_err(bad)?;
            let limit = u64::try_from(max_decompressed).unwrap_or(u64::MAX);
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(max_decompressed));
            decoder
                .take(limit.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(bad)?;
            if out.len() > max_decompressed {
                return Err(IngestError::TooLarge(format!(
                    "the batch is larger than {max_decompressed} bytes when decompressed"
                )));
            }
            Ok(out)
        }
        Some(_) => Err(IngestError::UnsupportedEncoding(
            "Content-Encoding must be zstd".into(),
        )),
    }
}

/// Optional figures an agent may add to a batch (not part of the record schema).
#[derive(Deserialize, Default)]
struct Extras {
    #[serde(default)]
    spool: Option<Spool>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct Spool {
    #[serde(default)]
    bytes: Option<u64>,
    #[serde(default)]
    batches: Option<u64>,
}

fn ms(text: Option<&str>) -> Option<i64> {
    text.and_then(crate::magento::rfc3339_ms)
}

fn principal_label(p: &Principal) -> Option<String> {
    if let Some(a) = &p.admin_user_id {
        return Some(format!("admin:{a}"));
    }
    if let Some(i) = &p.integration_id {
        return Some(format!("integration:{i}"));
    }
    p.db_user.as_ref().map(|u| match &p.db_host {
        Some(h) => format!("db:{u}@{h}"),
        None => format!("db:{u}"),
    })
}

/// One aggregate row to add.
struct Sum {
    kind: agent_aggregates::Kind,
    minute_at: Option<i64>,
    subject: String,
    principal: String,
    detail: String,
    count: i64,
    rows_sent: i64,
    rows_examined: i64,
    query_time_s: f64,
    bytes: i64,
    max_page_size: i64,
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn sum_of(record: &Record) -> Option<Sum> {
    let json = |v: serde_json::Value| v.to_string();
    match record {
        Record::SqlAggregate(a) => Some(Sum {
            kind: agent_aggregates::Kind::Sql,
            minute_at: ms(a.minute.as_deref()),
            subject: a.query_id.chars().take(64).collect(),
            principal: json(serde_json::to_value(&a.principal).unwrap_or_default()),
            detail: json(serde_json::json!({
                "fingerprint": a.fingerprint, "tables": a.tables, "masked": a.masked,
                "truncated": a.truncated, "db_user": a.db_user,
            })),
            count: clamp(a.count),
            rows_sent: clamp(a.rows_sent.unwrap_or(0)),
            rows_examined: clamp(a.rows_examined.unwrap_or(0)),
            query_time_s: a.query_time_s.filter(|t| t.is_finite()).unwrap_or(0.0),
            bytes: 0,
            max_page_size: 0,
        }),
        Record::HttpAggregate(h) => Some(Sum {
            kind: agent_aggregates::Kind::Http,
            minute_at: ms(h.minute.as_deref()),
            subject: format!("{} {} {}", h.method, h.route, h.status)
                .chars()
                .take(512)
                .collect(),
            principal: json(serde_json::json!({"ip": h.ip, "area": h.area})),
            detail: json(serde_json::json!({
                "area": h.area, "method": h.method, "route": h.route, "status": h.status,
            })),
            count: clamp(h.count),
            rows_sent: 0,
            rows_examined: 0,
            query_time_s: 0.0,
            bytes: clamp(h.bytes),
            max_page_size: clamp(h.max_page_size.unwrap_or(0)),
        }),
        Record::AppLogAggregate(l) => Some(Sum {
            kind: agent_aggregates::Kind::AppLog,
            minute_at: ms(l.minute.as_deref()),
            subject: format!("{}.{}.{}", l.channel, l.level, l.template_id)
                .chars()
                .take(512)
                .collect(),
            principal: "{}".into(),
            detail: json(serde_json::json!({
                "channel": l.channel, "level": l.level, "template": l.template,
            })),
            count: clamp(l.count),
            rows_sent: 0,
            rows_examined: 0,
            query_time_s: 0.0,
            bytes: 0,
            max_page_size: 0,
        }),
        Record::SecurityEvent(_) => None,
    }
}

fn key_hash(agent: Uuid, s: &Sum) -> String {
    let key = serde_json::json!([
        agent.to_string(),
        s.kind,
        s.minute_at,
        s.principal,
        s.subject,
        s.detail
    ]);
    hex::encode(Sha256::digest(key.to_string().as_bytes()))
}

fn validate(agent: &AgentCtx, batch: &Batch) -> Result<(), IngestError> {
    let invalid = |m: &str| Err(IngestError::Invalid(m.to_owned()));
    if batch.schema != SCHEMA_VERSION {
        return invalid("unsupported batch schema version");
    }
    if Uuid::parse_str(&batch.agent_id).ok() != Some(agent.agent_id) {
        return invalid("agent_id does not match the credential");
    }
    if batch.source.file_id.is_empty()
        || batch.source.file_id.len() > 255
        || batch.source.file_id.contains(char::is_control)
    {
        return invalid("source.file_id must be 1 to 255 characters");
    }
    if batch.batch_id.len() > 64 {
        return invalid("batch_id must be at most 64 characters");
    }
    if batch.end_offset <= batch.start_offset || i64::try_from(batch.end_offset).is_err() {
        return invalid("end_offset must be greater than start_offset and below 2^63");
    }
    if batch.records.len() > MAX_RECORDS {
        return Err(IngestError::TooLarge(format!(
            "at most {MAX_RECORDS} records per batch"
        )));
    }
    Ok(())
}

/// Parses and stores a decoded batch for an authenticated agent.
pub async fn store(
    db: &DatabaseConnection,
    agent: &AgentCtx,
    json: &[u8],
    now_ms: i64,
) -> Result<BatchAck, IngestError> {
    let batch: Batch = serde_json::from_slice(json)
        .map_err(|e| IngestError::Invalid(crate::magento::json_error("invalid batch", &e)))?;
    let extras: Extras = serde_json::from_slice(json).unwrap_or_default();
    validate(agent, &batch)?;
    let tenant = agent.tenant.tenant_id().as_uuid();
    // Fast path for a re-delivery: no write lock, no work on the records. A race between two
    // first deliveries is settled by the unique index below.
    let seen = agent_batches::Entity::find()
        .filter(agent_batches::Column::TenantId.eq(tenant))
        .filter(agent_batches::Column::AgentId.eq(agent.agent_id))
        .filter(agent_batches::Column::FileId.eq(batch.source.file_id.as_str()))
        .filter(agent_batches::Column::StartOffset.eq(clamp(batch.start_offset)))
        .one(db)
        .await?;
    if seen.is_some() {
        return duplicate(db, agent, now_ms).await;
    }

    // Merge aggregates with the same key inside the batch first (one upsert per key).
    let mut sums: BTreeMap<String, Sum> = BTreeMap::new();
    let mut events = Vec::new();
    let mut newest: Option<i64> = None;
    for (idx, record) in batch.records.iter().enumerate() {
        if let Record::SecurityEvent(e) = record {
            let at = ms(e.ts.as_deref());
            newest = Ord::max(newest, at);
            events.push((idx, e, at));
            continue;
        }
        if let Some(s) = sum_of(record) {
            newest = Ord::max(newest, s.minute_at);
            let key = key_hash(agent.agent_id, &s);
            match sums.get_mut(&key) {
                Some(t) => {
                    t.count = t.count.saturating_add(s.count);
                    t.rows_sent = t.rows_sent.saturating_add(s.rows_sent);
                    t.rows_examined = t.rows_examined.saturating_add(s.rows_examined);
                    t.query_time_s += s.query_time_s;
                    t.bytes = t.bytes.saturating_add(s.bytes);
                    t.max_page_size = Ord::max(t.max_page_size, s.max_page_size);
                }
                None => {
                    sums.insert(key, s);
                }
            }
        }
    }

    let txn = begin_write(db).await?;
    let batch_row = Uuid::now_v7();
    let inserted = agent_batches::Entity::insert(agent_batches::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(batch_row),
        agent_id: Set(agent.agent_id),
        file_id: Set(batch.source.file_id.clone()),
        start_offset: Set(clamp(batch.start_offset)),
        end_offset: Set(clamp(batch.end_offset)),
        lines: Set(clamp(batch.lines)),
        records: Set(clamp(batch.records.len() as u64)),
        source_kind: Set(batch.source.kind.as_str().into()),
        batch_id: Set(batch.batch_id.clone()),
        received_at: Set(now_ms),
    })
    .on_conflict(
        OnConflict::columns([
            agent_batches::Column::TenantId,
            agent_batches::Column::AgentId,
            agent_batches::Column::FileId,
            agent_batches::Column::StartOffset,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let agent_row = || {
        agents::Entity::update_many()
            .filter(agents::Column::TenantId.eq(tenant))
            .filter(agents::Column::Id.eq(agent.agent_id))
            .col_expr(agents::Column::LastSeenAt, Expr::value(now_ms))
    };
    if inserted == 0 {
        txn.rollback().await?;
        return duplicate(db, agent, now_ms).await;
    }

    let rows: Vec<agent_aggregates::ActiveModel> = sums
        .into_iter()
        .map(|(key, s)| agent_aggregates::ActiveModel {
            tenant_id: Set(tenant),
            key_hash: Set(key),
            agent_id: Set(agent.agent_id),
            kind: Set(s.kind),
            minute_at: Set(s.minute_at),
            subject: Set(s.subject),
            principal: Set(s.principal),
            detail: Set(s.detail),
            count: Set(s.count),
            rows_sent: Set(s.rows_sent),
            rows_examined: Set(s.rows_examined),
            query_time_s: Set(s.query_time_s),
            bytes: Set(s.bytes),
            max_page_size: Set(s.max_page_size),
            first_seen_at: Set(now_ms),
            updated_at: Set(now_ms),
        })
        .collect();
    let add = |col: &str| Expr::cust(format!("agent_aggregates.{col} + excluded.{col}"));
    let mut upsert = OnConflict::columns([
        agent_aggregates::Column::TenantId,
        agent_aggregates::Column::KeyHash,
    ]);
    upsert
        .value(agent_aggregates::Column::Count, add("count"))
        .value(agent_aggregates::Column::RowsSent, add("rows_sent"))
        .value(agent_aggregates::Column::RowsExamined, add("rows_examined"))
        .value(agent_aggregates::Column::QueryTimeS, add("query_time_s"))
        .value(agent_aggregates::Column::Bytes, add("bytes"))
        .value(
            agent_aggregates::Column::MaxPageSize,
            Expr::cust(
                "CASE WHEN excluded.max_page_size > agent_aggregates.max_page_size \
                 THEN excluded.max_page_size ELSE agent_aggregates.max_page_size END",
            ),
        )
        .value(
            agent_aggregates::Column::UpdatedAt,
            Expr::cust("excluded.updated_at"),
        );
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(200).collect();
        agent_aggregates::Entity::insert_many(chunk)
            .on_conflict(upsert.clone())
            .exec_without_returning(&txn)
            .await?;
    }

    let n_events = events.len();
    let signal_rows: Vec<signals::ActiveModel> = events
        .into_iter()
        .map(|(idx, event, at)| signals::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(Uuid::now_v7()),
            source: Set(SOURCE),
            kind: Set(serde_json::to_value(event.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into())),
            dedup_key: Set(format!(
                "{}/{}/{}/{idx}",
                agent.agent_id, batch.source.file_id, batch.start_offset
            )),
            principal: Set(principal_label(&event.principal)),
            occurred_at: Set(at),
            received_at: Set(now_ms),
            payload: Set(serde_json::to_string(event).unwrap_or_default()),
        })
        .collect();
    let mut signal_rows = signal_rows.into_iter().peekable();
    while signal_rows.peek().is_some() {
        let chunk: Vec<_> = signal_rows.by_ref().take(500).collect();
        signals::Entity::insert_many(chunk)
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

    let accepted = batch.records.len() as u64;
    let spool = extras.spool.unwrap_or_default();
    let mut update = agent_row()
        .col_expr(agents::Column::LastBatchAt, Expr::value(now_ms))
        .col_expr(
            agents::Column::LagMs,
            Expr::value(newest.map(|t| Ord::max(now_ms.saturating_sub(t), 0))),
        )
        .col_expr(
            agents::Column::Batches,
            Expr::col(agents::Column::Batches).add(1),
        )
        .col_expr(
            agents::Column::Records,
            Expr::col(agents::Column::Records).add(clamp(accepted)),
        );
    if extras.spool.is_some() {
        update = update
            .col_expr(
                agents::Column::SpoolBytes,
                Expr::value(spool.bytes.map(clamp)),
            )
            .col_expr(
                agents::Column::SpoolBatches,
                Expr::value(spool.batches.map(clamp)),
            );
    }
    update.exec(&txn).await?;
    audit_chain::record(
        &txn,
        &agent.tenant,
        "agent.batch.stored",
        Subject::new("agent_batch", batch_row.to_string()),
        serde_json::json!({
            "agent": agent.agent_id.to_string(),
            "file_id": batch.source.file_id,
            "start_offset": batch.start_offset,
            "end_offset": batch.end_offset,
            "records": accepted,
            "security_events": n_events,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(BatchAck {
        accepted,
        duplicate: false,
    })
}

/// Counts a re-delivery and answers it.
async fn duplicate(
    db: &DatabaseConnection,
    agent: &AgentCtx,
    now_ms: i64,
) -> Result<BatchAck, IngestError> {
    agents::Entity::update_many()
        .col_expr(agents::Column::LastSeenAt, Expr::value(now_ms))
        .col_expr(
            agents::Column::Duplicates,
            Expr::col(agents::Column::Duplicates).add(1),
        )
        .filter(agents::Column::TenantId.eq(agent.tenant.tenant_id().as_uuid()))
        .filter(agents::Column::Id.eq(agent.agent_id))
        .exec(db)
        .await?;
    Ok(BatchAck {
        accepted: 0,
        duplicate: true,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_zstd_bomb_stops_at_the_cap_and_small_frames_decode() {
        let plain = vec![0u8; 4 * 1024 * 1024];
        let bomb = zstd::encode_all(&plain[..], 19).unwrap();
        assert!(bomb.len() < 4096, "{}", bomb.len());
        assert!(matches!(
            decode(&bomb, Some("zstd"), 1024 * 1024),
            Err(IngestError::TooLarge(_))
        ));
        assert_eq!(
            decode(&bomb, Some("zstd"), plain.len()).unwrap().len(),
            plain.len()
        );
        assert!(matches!(
            decode(b"not zstd", Some("zstd"), 1024),
            Err(IngestError::Invalid(_))
        ));
        assert!(matches!(
            decode(b"{}", Some("gzip"), 1024),
            Err(IngestError::UnsupportedEncoding(_))
        ));
        assert_eq!(decode(b"{}", None, 1024).unwrap(), b"{}");
    }
}
