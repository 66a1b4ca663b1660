//! Verification of chains stored in the database.
//!
//! Keys: only the operator's key (the server's own key file) is trusted up front. A key
//! registered in the platform chain is trusted once a checkpoint signed by an already trusted
//! key covers its registration entry, so a row written into the database can never vouch for
//! itself. Coverage: an entry older than the checkpoint policy allows must be covered by a
//! signed checkpoint; a consistent rewrite of a chain whose checkpoints were deleted therefore
//! fails once its entries are older than one interval plus the grace.

use leakguard_domain::audit::{self as format, ChainError, PublicKey, SealedEntry, Verified};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use super::{Checkpointer, KEY_REGISTERED, PLATFORM_CHAIN, load_checkpoints, load_sealed};
use crate::db::entities::{audit_entries, audit_heads};
use crate::db::now_ms;

/// The outcome of verifying one chain.
#[derive(Debug)]
pub struct ChainReport {
    /// The chain.
    pub chain: Uuid,
    /// What verified, or the first break.
    pub result: Result<Verified, ChainError>,
}

/// The keys verification may use: `operator_key` plus every key whose registration in the
/// platform chain is covered by a checkpoint that verifies with a key already trusted.
pub async fn trusted_keys<C: ConnectionTrait>(
    db: &C,
    operator_key: &PublicKey,
) -> Result<Vec<PublicKey>, DbErr> {
    let mut keys = vec![operator_key.clone()];
    let Ok(entries) = load_sealed(db, PLATFORM_CHAIN).await? else {
        return Ok(keys);
    };
    if format::verify_entries(PLATFORM_CHAIN, &entries).is_err() {
        return Ok(keys);
    }
    let checkpoints = load_checkpoints(db, PLATFORM_CHAIN).await?;
    loop {
        let covered = checkpoints
            .iter()
            .filter(|c| format::verify_checkpoint_signature(PLATFORM_CHAIN, c, &keys).is_ok())
            .filter(|c| {
                usize::try_from(c.seq - 1)
                    .ok()
                    .and_then(|i| entries.get(i))
                    .is_some_and(|e| e.hash == c.hash)
            })
            .map(|c| c.seq)
            .max()
            .unwrap_or(0);
        let before = keys.len();
        for entry in entries.iter().take_while(|e| e.seq <= covered) {
            if let Some(key) = registered_key(entry)
                && !keys.iter().any(|k| k.key_id == key.key_id)
            {
                keys.push(key);
            }
        }
        if keys.len() == before {
            return Ok(keys);
        }
    }
}

/// The key a registration entry carries, if it is one and its key id matches the key.
fn registered_key(entry: &SealedEntry) -> Option<PublicKey> {
    let value: Value = serde_json::from_str(&entry.canonical).ok()?;
    if value.get("action").and_then(Value::as_str) != Some(KEY_REGISTERED) {
        return None;
    }
    let details = value.get("details")?;
    let key = PublicKey {
        key_id: details.get("key_id")?.as_str()?.to_owned(),
        public_key: details.get("public_key")?.as_str()?.to_owned(),
    };
    use base64::Engine as _;
    let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(&key.public_key)
        .ok()?
        .try_into()
        .ok()?;
    (format::key_id(&bytes) == key.key_id).then_some(key)
}

/// Verifies one chain from the database now: entries, columns, the head row, checkpoints with
/// trusted keys only, and checkpoint coverage of old entries.
pub async fn verify_chain<C: ConnectionTrait>(
    db: &C,
    chain: Uuid,
    checkpointer: &Checkpointer,
) -> Result<ChainReport, DbErr> {
    verify_chain_at(db, chain, checkpointer, now_ms()).await
}

/// [`verify_chain`] at a given time.
pub async fn verify_chain_at<C: ConnectionTrait>(
    db: &C,
    chain: Uuid,
    checkpointer: &Checkpointer,
    now_ms: i64,
) -> Result<ChainReport, DbErr> {
    let report = |result| Ok(ChainReport { chain, result });
    let entries = match load_sealed(db, chain).await? {
        Ok(e) => e,
        Err(e) => return report(Err(e)),
    };
    let checkpoints = load_checkpoints(db, chain).await?;
    let keys = trusted_keys(db, &checkpointer.signer.public_key()).await?;
    let verified = match format::verify_entries(chain, &entries).and_then(|mut v| {
        v.checkpoints = format::verify_checkpoints(chain, &entries, &checkpoints, &keys)?;
        Ok(v)
    }) {
        Ok(v) => v,
        Err(e) => return report(Err(e)),
    };
    if let Some(head) = audit_heads::Entity::find_by_id(chain).one(db).await?
        && (head.last_seq != verified.entries || head.last_hash != verified.head)
    {
        return report(Err(ChainError::Broken {
            seq: verified.entries + 1,
            reason: format!(
                "chain head records seq {} but entries end at seq {} (entries removed)",
                head.last_seq, verified.entries
            ),
        }));
    }
    // The columns were checked against the sealed text, so `ts` is the entry's own time.
    let max_age_ms = checkpointer.policy.max_uncovered_age_ms();
    let oldest_due: Option<i64> = audit_entries::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(audit_entries::Column::Seq)))
        .filter(audit_entries::Column::ChainId.eq(chain))
        .filter(audit_entries::Column::Ts.lt(now_ms.saturating_sub(max_age_ms)))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    let covered = checkpoints.iter().map(|c| c.seq).max().unwrap_or(0);
    if let Some(due) = oldest_due
        && due > covered
    {
        return report(Err(ChainError::Broken {
            seq: covered + 1,
            reason: format!(
                "entries up to seq {due} are older than the checkpoint interval plus grace \
                 ({} s) and no signed checkpoint covers them (checkpoints removed?)",
                max_age_ms / 1000
            ),
        }));
    }
    report(Ok(verified))
}
