//! The daily ingest quota of a tenant: records its agents may store per UTC day
//! (`ingest.daily_records_per_tenant`). Checked and counted inside the batch's write
//! transaction; a batch that would cross the quota stores nothing and is answered
//! `429 quota_exceeded` with `Retry-After` until the next UTC midnight, so the agent keeps it
//! in its spool and sends it the next day.
//!
//! On PostgreSQL two batches of one tenant may check concurrently, so the quota can be passed
//! by at most `ingest.per_tenant_in_flight - 1` batches; SQLite's single writer serialises
//! them.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::entities::ingest_quota_days as days;

const DAY_MS: i64 = 86_400_000;
/// Days of counters kept (for the console and support), then pruned.
const KEEP_DAYS: i64 = 7;

/// The quota would be exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// Seconds until the quota resets (the next UTC midnight), at least 1.
    pub retry_after_secs: u64,
}

/// The UTC day of a Unix-ms time.
pub fn day_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(DAY_MS)
}

/// Seconds from `now_ms` to the next UTC midnight (at least 1).
pub fn secs_to_next_day(now_ms: i64) -> u64 {
    let next = (day_of(now_ms) + 1) * DAY_MS;
    u64::try_from((next - now_ms + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// Checks that `records` more fit in today's quota of `tenant` and counts them. Call inside
/// the transaction that stores the records.
pub async fn take<C: ConnectionTrait>(
    txn: &C,
    tenant: Uuid,
    records: u64,
    daily_limit: u64,
    now_ms: i64,
) -> Result<Result<(), Exceeded>, DbErr> {
    let day = day_of(now_ms);
    let used = days::Entity::find()
        .filter(days::Column::TenantId.eq(tenant))
        .filter(days::Column::Day.eq(day))
        .one(txn)
        .await?
        .map_or(0, |row| u64::try_from(row.records).unwrap_or(0));
    if used.saturating_add(records) > daily_limit {
        return Ok(Err(Exceeded {
            retry_after_secs: secs_to_next_day(now_ms),
        }));
    }
    let records = i64::try_from(records).unwrap_or(i64::MAX);
    days::Entity::insert(days::ActiveModel {
        tenant_id: Set(tenant),
        day: Set(day),
        records: Set(records),
        batches: Set(1),
        updated_at: Set(now_ms),
    })
    .on_conflict(
        OnConflict::columns([days::Column::TenantId, days::Column::Day])
            .value(
                days::Column::Records,
                Expr::cust("ingest_quota_days.records + excluded.records"),
            )
            .value(
                days::Column::Batches,
                Expr::cust("ingest_quota_days.batches + 1"),
            )
            .value(days::Column::UpdatedAt, Expr::cust("excluded.updated_at"))
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(Ok(()))
}

/// Drops counters older than a week.
pub async fn prune<C: ConnectionTrait>(db: &C, now_ms: i64) -> Result<u64, DbErr> {
    Ok(days::Entity::delete_many()
        .filter(days::Column::Day.lt(day_of(now_ms) - KEEP_DAYS))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_the_wait_until_midnight_are_utc() {
        // 2026-12-06T23:59:59.500Z
        let late = 1_796_601_599_500;
        assert_eq!(day_of(late), 20_793);
        assert_eq!(secs_to_next_day(late), 1);
        assert_eq!(day_of(late + 500), 20_794);
        assert_eq!(secs_to_next_day(late + 500), 86_400);
        assert_eq!(day_of(-1), -1);
    }
}
