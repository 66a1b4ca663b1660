//! The `prune` job: removes what has expired across the credential tables. It deletes only rows
//! that can no longer be used (past their expiry), never anything a tenant still relies on.

use sea_orm::DatabaseConnection;

/// Enrollment tokens are kept a week past their expiry, so an operator can still see why one
/// was refused.
const ENROLLMENT_KEEP_MS: i64 = 7 * 24 * 3600 * 1000;

/// Job: deletes expired HMAC nonces and SSO token ids, ended console sessions, enrollment
/// tokens expired for a week, and ingest quota counters older than a week. Returns how many
/// rows went.
pub async fn prune_job(db: &DatabaseConnection, now_ms: i64) -> anyhow::Result<u64> {
    let nonces = crate::magento::replay::prune(db, now_ms).await?;
    let sessions = crate::console::prune(db, now_ms).await?;
    let tokens = crate::enrollment::prune(db, now_ms, ENROLLMENT_KEEP_MS).await?;
    let quota_days = crate::ingest::quota::prune(db, now_ms).await?;
    Ok(nonces + sessions + tokens + quota_days)
}
