//! The tamper-evident audit trail: every state change appends an entry to its tenant's chain in
//! the same database transaction as the change (see `leakguard_domain::audit` for the format).
//!
//! Sequencing: the chain head row is updated first in the transaction (`UPDATE … RETURNING`),
//! which takes the row lock on PostgreSQL and the write lock on SQLite, so seq stays gapless
//! and `prev` is read under the lock. Checkpoints sign the head with the Ed25519 key.
//! This module must not be bypassed: no other code writes `audit_*` tables.
//!
//! - `checkpoint`: the signing schedule ([`CheckpointPolicy`]), [`Checkpointer`] and the
//!   checkpoint job, which refuses to sign over entries that waited longer than the policy allows.
//! - `verify`: verification from the database with keys taken only from the operator's key and
//!   verified key registrations, and the coverage rule (old entries must be under a checkpoint).
//! - `bundle`: export and offline verification against the keys the verifier names.

use leakguard_domain::audit::{
    self as format, Actor, ChainError, Checkpoint, Entry, SealedEntry, Subject,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use crate::db::entities::{audit_checkpoints, audit_entries, audit_heads};
use crate::db::now_ms;
use crate::tenancy::TenantCtx;

mod bundle;
mod checkpoint;
mod verify;

pub use bundle::{TrustedKey, export_bundle, verify_bundle_trusting};
pub use checkpoint::{CheckpointPolicy, Checkpointer, checkpoint_all, checkpoint_job};
pub use verify::{ChainReport, trusted_keys, verify_chain, verify_chain_at};

/// The action of a signing key registration in the platform chain.
pub const KEY_REGISTERED: &str = "audit.signing_key.registered";

/// The platform chain (operator actions, key registrations) uses the nil id.
pub const PLATFORM_CHAIN: Uuid = Uuid::nil();

/// Errors of appending to or reading the chain.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The details cannot be encoded canonically (a programming error).
    #[error(transparent)]
    Format(#[from] ChainError),
    /// The database failed.
    #[error("audit database error: {0}")]
    Db(#[from] DbErr),
}

/// Appends an entry for a tenant action, inside the caller's transaction.
pub async fn record<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    action: &str,
    subject: Subject,
    details: Value,
) -> Result<i64, AuditError> {
    append(
        txn,
        ctx.tenant_id().as_uuid(),
        ctx.actor(),
        action,
        subject,
        details,
    )
    .await
}

/// Appends an entry to a chain, inside the caller's transaction. Returns its seq.
pub async fn append<C: ConnectionTrait>(
    txn: &C,
    chain: Uuid,
    actor: &Actor,
    action: &str,
    subject: Subject,
    details: Value,
) -> Result<i64, AuditError> {
    let backend = txn.get_database_backend();
    let insert_head = Query::insert()
        .into_table(audit_heads::Entity)
        .columns([
            audit_heads::Column::ChainId,
            audit_heads::Column::LastSeq,
            audit_heads::Column::LastHash,
        ])
        .values_panic([chain.into(), 0i64.into(), format::GENESIS_PREV.into()])
        .on_conflict(
            OnConflict::column(audit_heads::Column::ChainId)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    txn.execute(&insert_head).await?;
    let bump = Query::update()
        .table(audit_heads::Entity)
        .value(
            audit_heads::Column::LastSeq,
            Expr::col(audit_heads::Column::LastSeq).add(1),
        )
        .and_where(Expr::col(audit_heads::Column::ChainId).eq(chain))
        .returning(
            Query::returning()
                .columns([audit_heads::Column::LastSeq, audit_heads::Column::LastHash]),
        )
        .to_owned();
    let row = txn
        .query_one(&bump)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit head".into()))?;
    let seq: i64 = row.try_get("", "last_seq")?;
    let prev: String = row.try_get("", "last_hash")?;
    let _ = backend;

    let entry = Entry {
        chain,
        seq,
        ts_ms: now_ms(),
        actor: actor.clone(),
        action: action.to_owned(),
        subject,
        details,
        prev,
    };
    let canonical = entry.canonical()?;
    let hash = format::leaf_hash(&canonical);
    audit_entries::Entity::insert(audit_entries::ActiveModel {
        chain_id: Set(chain),
        seq: Set(seq),
        ts: Set(entry.ts_ms),
        actor_type: Set(entry.actor.kind.clone()),
        actor_id: Set(entry.actor.id.clone()),
        action: Set(entry.action.clone()),
        subject_type: Set(entry.subject.kind.clone()),
        subject_id: Set(entry.subject.id.clone()),
        details: Set(format::canonical_json(&entry.details)?),
        prev_hash: Set(entry.prev.clone()),
        hash: Set(hash.clone()),
        canonical: Set(canonical),
    })
    .exec_without_returning(txn)
    .await?;
    audit_heads::Entity::update_many()
        .col_expr(audit_heads::Column::LastHash, Expr::value(hash))
        .filter(audit_heads::Column::ChainId.eq(chain))
        .exec(txn)
        .await?;
    Ok(seq)
}

/// Rebuilds an entry from its columns, to check they agree with the sealed text.
fn entry_from_row(row: &audit_entries::Model) -> Result<Entry, ChainError> {
    let details: Value = serde_json::from_str(&row.details).map_err(|e| ChainError::Broken {
        seq: row.seq,
        reason: format!("details column is not JSON: {e}"),
    })?;
    Ok(Entry {
        chain: row.chain_id,
        seq: row.seq,
        ts_ms: row.ts,
        actor: Actor::new(row.actor_type.clone(), row.actor_id.clone()),
        action: row.action.clone(),
        subject: Subject::new(row.subject_type.clone(), row.subject_id.clone()),
        details,
        prev: row.prev_hash.clone(),
    })
}

const PAGE: u64 = 1000;

/// Reads a chain's sealed entries in seq order, checking on the way that every row's columns
/// agree with its sealed text (an edit of a column alone is tampering too).
pub async fn load_sealed<C: ConnectionTrait>(
    db: &C,
    chain: Uuid,
) -> Result<Result<Vec<SealedEntry>, ChainError>, DbErr> {
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let rows = audit_entries::Entity::find()
            .filter(audit_entries::Column::ChainId.eq(chain))
            .filter(audit_entries::Column::Seq.gt(after))
            .order_by_asc(audit_entries::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            let rebuilt = match entry_from_row(row).and_then(|e| e.canonical()) {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            if rebuilt != row.canonical {
                return Ok(Err(ChainError::Broken {
                    seq: row.seq,
                    reason: "row columns differ from the sealed entry".into(),
                }));
            }
            out.push(SealedEntry {
                seq: row.seq,
                hash: row.hash.clone(),
                canonical: row.canonical.clone(),
            });
        }
    }
    Ok(Ok(out))
}

/// Checkpoints of a chain in seq order.
pub async fn load_checkpoints<C: ConnectionTrait>(
    db: &C,
    chain: Uuid,
) -> Result<Vec<Checkpoint>, DbErr> {
    Ok(audit_checkpoints::Entity::find()
        .filter(audit_checkpoints::Column::ChainId.eq(chain))
        .order_by_asc(audit_checkpoints::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(|c| Checkpoint {
            seq: c.seq,
            hash: c.hash,
            ts_ms: c.ts,
            key_id: c.key_id,
            signature: c.signature,
        })
        .collect())
}

/// Records the signing key's public half in the platform chain once, and signs the platform
/// chain at once so that verification can trust the keys registered before it.
pub async fn register_signing_key(
    db: &DatabaseConnection,
    checkpointer: &Checkpointer,
) -> Result<(), AuditError> {
    let signer = &checkpointer.signer;
    let known = audit_entries::Entity::find()
        .filter(audit_entries::Column::ChainId.eq(PLATFORM_CHAIN))
        .filter(audit_entries::Column::Action.eq(KEY_REGISTERED))
        .filter(audit_entries::Column::SubjectId.eq(signer.key_id()))
        .one(db)
        .await?;
    if known.is_none() {
        let txn = crate::db::begin_write(db).await?;
        let key = signer.public_key();
        append(
            &txn,
            PLATFORM_CHAIN,
            &Actor::system("server"),
            KEY_REGISTERED,
            Subject::new("signing_key", signer.key_id()),
            serde_json::json!({"key_id": key.key_id, "public_key": key.public_key}),
        )
        .await?;
        txn.commit().await?;
        checkpoint::checkpoint_chain(db, checkpointer, PLATFORM_CHAIN, now_ms()).await?;
    }
    Ok(())
}

/// Every chain that has a head row.
pub async fn chains<C: ConnectionTrait>(db: &C) -> Result<Vec<Uuid>, DbErr> {
    Ok(audit_heads::Entity::find()
        .order_by_asc(audit_heads::Column::ChainId)
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.chain_id)
        .collect())
}
