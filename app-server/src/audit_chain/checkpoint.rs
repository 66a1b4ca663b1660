//! Signed checkpoints and the schedule they keep.
//!
//! A checkpoint signs a chain's head (seq and leaf hash) with the server's Ed25519 key. The job
//! signs every chain whose head moved, once per `jobs.audit_checkpoint_cron` slot, so an entry
//! normally waits at most one interval for its checkpoint. [`CheckpointPolicy`] states how long
//! an entry may wait (the longest gap between two slots plus `jobs.audit_checkpoint_grace_secs`);
//! verification fails for older entries that no checkpoint covers, and the job refuses to sign
//! over them: signing would bless whatever the rows say now, including a rewrite made after the
//! checkpoints were deleted. It must not sign anything it has not found consistent with the
//! chain's last checkpoint.

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds};
use leakguard_domain::audit as format;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::crypto::AuditSigner;
use crate::db::entities::{audit_checkpoints, audit_entries, audit_heads};

/// How long an entry may wait for a signed checkpoint before its absence counts as tampering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointPolicy {
    interval_ms: i64,
    grace_ms: i64,
}

impl CheckpointPolicy {
    /// The longest gap between two slots of `cron` (six fields, UTC) over the next 64 slots,
    /// plus the grace. The grace absorbs a run that starts late or takes long and a replica
    /// whose clock is a little off.
    pub fn from_cron(cron: &str, grace_secs: u64, now_ms: i64) -> Result<Self, String> {
        let parsed = CronParser::builder()
            .seconds(Seconds::Required)
            .build()
            .parse(cron)
            .map_err(|e| format!("not a cron expression (six fields, seconds first, UTC): {e}"))?;
        let mut at: DateTime<Utc> =
            DateTime::from_timestamp_millis(now_ms).ok_or("the clock is out of range")?;
        let mut interval_ms = 0i64;
        for _ in 0..64 {
            let next = parsed
                .find_next_occurrence(&at, false)
                .map_err(|e| format!("the cron expression has no next slot: {e}"))?;
            interval_ms = interval_ms.max((next - at).num_milliseconds());
            at = next;
        }
        let grace_ms = i64::try_from(grace_secs)
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .ok_or("the grace is too long")?;
        Ok(Self {
            interval_ms,
            grace_ms,
        })
    }

    /// A policy with the interval and grace given directly.
    pub fn new(interval_ms: i64, grace_ms: i64) -> Self {
        Self {
            interval_ms,
            grace_ms,
        }
    }

    /// The longest an entry may stay without a checkpoint: interval plus grace.
    pub fn max_uncovered_age_ms(&self) -> i64 {
        self.interval_ms.saturating_add(self.grace_ms)
    }
}

/// The checkpoint signer with the schedule it keeps.
#[derive(Clone, Debug)]
pub struct Checkpointer {
    /// The Ed25519 key (its public half is the operator's trusted key).
    pub signer: AuditSigner,
    /// How long an entry may wait for its checkpoint.
    pub policy: CheckpointPolicy,
}

/// What signing one chain did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signing {
    /// A checkpoint of the head was written.
    Signed,
    /// The head is already covered (or the chain is empty).
    UpToDate,
    /// Not signed: the chain does not match its last checkpoint, or an entry has waited longer
    /// than the policy allows (its checkpoints may have been removed).
    Refused {
        /// The first entry not covered by a checkpoint.
        seq: i64,
        /// Why, for the log and the operator.
        reason: String,
    },
}

/// Job: signs a checkpoint of every chain whose head moved since its last checkpoint. Returns
/// how many were written; a refused chain is logged (ERROR: an operator must run
/// `leakguard audit verify`) and fails the run once every other chain is signed.
pub async fn checkpoint_job(
    db: &DatabaseConnection,
    checkpointer: &Checkpointer,
) -> anyhow::Result<usize> {
    let (written, refused) = checkpoint_all(db, checkpointer, crate::db::now_ms()).await?;
    if refused > 0 {
        anyhow::bail!("{refused} audit chain(s) were not signed; run `leakguard audit verify`");
    }
    Ok(written)
}

/// Signs every chain whose head moved. Returns (checkpoints written, chains refused).
pub async fn checkpoint_all(
    db: &DatabaseConnection,
    checkpointer: &Checkpointer,
    now_ms: i64,
) -> Result<(usize, usize), DbErr> {
    let mut written = 0;
    let mut refused = 0;
    for head in audit_heads::Entity::find().all(db).await? {
        match checkpoint_chain(db, checkpointer, head.chain_id, now_ms).await? {
            Signing::Signed => written += 1,
            Signing::UpToDate => {}
            Signing::Refused { seq, reason } => {
                refused += 1;
                tracing::error!(
                    chain = %head.chain_id,
                    seq,
                    reason = %reason,
                    "Refused to sign an audit checkpoint; run `leakguard audit verify`."
                );
            }
        }
    }
    Ok((written, refused))
}

/// Signs the head of one chain unless it is covered already or the policy refuses it.
pub async fn checkpoint_chain(
    db: &DatabaseConnection,
    checkpointer: &Checkpointer,
    chain: Uuid,
    now_ms: i64,
) -> Result<Signing, DbErr> {
    let Some(head) = audit_heads::Entity::find_by_id(chain).one(db).await? else {
        return Ok(Signing::UpToDate);
    };
    let last = last_checkpoint(db, chain).await?;
    let covered = last.as_ref().map_or(0, |c| c.seq);
    if head.last_seq == 0 || covered >= head.last_seq {
        return Ok(Signing::UpToDate);
    }
    if let Some(last) = &last {
        let at = entry(db, chain, last.seq).await?;
        if at.as_ref().map(|e| e.hash.as_str()) != Some(last.hash.as_str()) {
            return Ok(Signing::Refused {
                seq: last.seq,
                reason: "the entry differs from the last signed checkpoint".into(),
            });
        }
    }
    if let Some(first) = entry(db, chain, covered + 1).await? {
        let waited = now_ms - first.ts;
        if waited > checkpointer.policy.max_uncovered_age_ms() {
            return Ok(Signing::Refused {
                seq: first.seq,
                reason: format!(
                    "the entry waited {} s for a checkpoint, more than the {} s the schedule allows",
                    waited / 1000,
                    checkpointer.policy.max_uncovered_age_ms() / 1000
                ),
            });
        }
    }
    sign_at(
        db,
        &checkpointer.signer,
        chain,
        head.last_seq,
        &head.last_hash,
        now_ms,
    )
    .await?;
    Ok(Signing::Signed)
}

/// Writes a checkpoint of `chain` at `seq` (whose leaf hash is `hash`). Returns whether a row
/// was written (a checkpoint at that seq may exist already).
pub(super) async fn sign_at(
    db: &DatabaseConnection,
    signer: &AuditSigner,
    chain: Uuid,
    seq: i64,
    hash: &str,
    now_ms: i64,
) -> Result<bool, DbErr> {
    let message = format::checkpoint_message(chain, seq, hash, now_ms);
    let inserted = audit_checkpoints::Entity::insert(audit_checkpoints::ActiveModel {
        chain_id: Set(chain),
        seq: Set(seq),
        hash: Set(hash.to_owned()),
        ts: Set(now_ms),
        key_id: Set(signer.key_id().to_owned()),
        signature: Set(signer.sign(message.as_bytes())),
    })
    .on_conflict(
        OnConflict::columns([
            audit_checkpoints::Column::ChainId,
            audit_checkpoints::Column::Seq,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted > 0)
}

async fn last_checkpoint(
    db: &DatabaseConnection,
    chain: Uuid,
) -> Result<Option<audit_checkpoints::Model>, DbErr> {
    audit_checkpoints::Entity::find()
        .filter(audit_checkpoints::Column::ChainId.eq(chain))
        .order_by_desc(audit_checkpoints::Column::Seq)
        .one(db)
        .await
}

async fn entry(
    db: &DatabaseConnection,
    chain: Uuid,
    seq: i64,
) -> Result<Option<audit_entries::Model>, DbErr> {
    audit_entries::Entity::find()
        .filter(audit_entries::Column::ChainId.eq(chain))
        .filter(audit_entries::Column::Seq.eq(seq))
        .one(db)
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_the_longest_gap_between_slots_plus_the_grace() {
        let now = 1_764_000_000_000;
        let five_minutes = CheckpointPolicy::from_cron("0 */5 * * * *", 600, now).unwrap();
        assert_eq!(five_minutes.max_uncovered_age_ms(), 5 * 60_000 + 600_000);
        // Twice a day at 03:00 and 05:00: the long gap is 22 hours.
        let uneven = CheckpointPolicy::from_cron("0 0 3,5 * * *", 0, now).unwrap();
        assert_eq!(uneven.max_uncovered_age_ms(), 22 * 3_600_000);
        assert!(CheckpointPolicy::from_cron("every five minutes", 0, now).is_err());
    }
}
