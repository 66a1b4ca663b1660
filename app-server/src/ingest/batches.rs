//! Batch upload: validate, re-check the masking of every record, and store once.
//!
//! The server does not trust the agent's masking: every record passes
//! `leakguard_domain::masking::check_record` again, and a record carrying an e-mail address,
//! a card number, an SSN or a secret is refused (not stored, counted per field, and reported
//! in the answer's `rejected`). The rest of the batch is stored.
//!
//! Exactly-once effect for at-least-once delivery: the batch row is inserted first under the
//! unique index `(tenant, agent, file id, start offset)`; a second delivery inserts nothing
//! and the transaction stores nothing else (concurrent deliveries wait on the index, then see
//! the first one). Aggregates add into per-key sums, security events become `signals`, and
//! the records detection reads are queued for it (`alerts::inputs`) in the same transaction.

use std::collections::BTreeMap;

use leakguard_domain::agent_wire::{Batch, BatchAck, Principal, Record, SCHEMA_VERSION};
use leakguard_domain::audit::Subject;
use leakguard_domain::masking::check_record;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::IngestError;
use super::agents::AgentCtx;
use super::decode::Upload;
use super::quota;
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{agent_aggregates, agent_batches, agents, signals};

/// Source name of agent signals.
pub const SOURCE: signals::Source = signals::Source::Agent;

/// What storing a batch did.
#[derive(Debug)]
pub struct Stored {
    /// The answer to the agent.
    pub ack: BatchAck,
    /// Records refused by the masking check, by the field that failed (a closed set).
    pub rejections: BTreeMap<&'static str, u64>,
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
    Ok(())
}

/// Stores a decoded batch for an authenticated agent, within the tenant's daily quota of
/// `daily_records` records.
pub async fn store(
    db: &DatabaseConnection,
    agent: &AgentCtx,
    upload: Upload,
    daily_records: u64,
    now_ms: i64,
) -> Result<Stored, IngestError> {
    let Upload { mut batch, spool } = upload;
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

    let mut rejections: BTreeMap<&'static str, u64> = BTreeMap::new();
    batch.records.retain(|record| match check_record(record) {
        Ok(()) => true,
        Err(rejection) => {
            *rejections.entry(rejection.field.as_str()).or_default() += 1;
            false
        }
    });
    let rejected: u64 = rejections.values().sum();

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
    let kept = batch.records.len() as u64;
    if let Err(exceeded) = quota::take(&txn, tenant, kept, daily_records, now_ms).await? {
        txn.rollback().await?;
        return Err(IngestError::QuotaExceeded {
            retry_after_secs: exceeded.retry_after_secs,
        });
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

    let accepted = kept;
    let reported_spool = spool.is_some();
    let spool = spool.unwrap_or_default();
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
    if reported_spool {
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
    let lines = batch
        .records
        .iter()
        .filter(|r| !matches!(r, Record::AppLogAggregate(_)))
        .filter_map(crate::alerts::inputs::agent_line)
        .collect();
    crate::alerts::inputs::enqueue(
        &txn,
        tenant,
        crate::alerts::inputs::Source::Agent,
        lines,
        now_ms,
    )
    .await?;
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
            "records_rejected": rejected,
            "rejected_fields": rejections,
            "security_events": n_events,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(Stored {
        ack: BatchAck {
            accepted,
            duplicate: false,
            rejected,
        },
        rejections,
    })
}

/// Counts a re-delivery and answers it.
async fn duplicate(
    db: &DatabaseConnection,
    agent: &AgentCtx,
    now_ms: i64,
) -> Result<Stored, IngestError> {
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
    Ok(Stored {
        ack: BatchAck {
            accepted: 0,
            duplicate: true,
            rejected: 0,
        },
        rejections: BTreeMap::new(),
    })
}
