//! The delivery worker (`outbox_delivery` job, under its job lease so one replica delivers at a
//! time). One pass looks for destinations with due entries, and for each:
//!
//! 1. reads its waiting entries in id order and picks the due ones, skipping every entry whose
//!    ordering key has an older entry still waiting (backing off, or claimed): events about
//!    one subject reach a destination in the order they were written;
//! 2. claims them in one short transaction (`delivering`, `lease_until` = now +
//!    `outbound.claim_secs`, `attempts + 1`), so a
//!    worker that dies mid-delivery leaves them due again once the lease ends (the attempt
//!    counts: an entry that crashes the worker cannot loop for ever);
//! 3. sends them outside any transaction;
//! 4. records each outcome in one transaction: `delivered`; `dead` when the destination
//!    refused it for good or it was the last attempt (with an audit entry naming the event and
//!    the error); else `queued` again after `base · 2^(attempts−1)` seconds (capped), with
//!    jitter drawn from the upper half of that delay so retries of many entries spread out.
//!    The destination's health line (last success, last error) is updated with it.
//!
//! The scan for due destinations is the one read of `outbox` across tenants; everything after
//! it runs under the entry's tenant context. Tests call [`deliver_due`] with their own clock.

use leakguard_domain::audit::Subject;
use leakguard_domain::ids::TenantId;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::BTreeSet;
use uuid::Uuid;

use super::targets::{DeliveryError, Target};
use super::{Envelope, Outbound, State};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{outbound_destinations, outbox};
use crate::jobs::registry::{JobReport, Outcome};
use crate::tenancy::{TenantCtx, scoped};

/// Destinations looked at per pass.
const DESTINATIONS_PER_PASS: u64 = 200;

/// What a run of the job did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Entries the destinations took.
    pub delivered: u64,
    /// Entries that failed and wait for another attempt.
    pub retried: u64,
    /// Entries given up.
    pub dead: u64,
}

impl JobReport for DeliveryReport {
    fn outcome(&self) -> Outcome {
        Outcome::Ok
    }
}

/// Delay before attempt `attempts + 1`, ms: `base · 2^(attempts−1)` capped at `max`, then a
/// point drawn uniformly from its upper half (`jitter` in 0..=1).
pub fn backoff_ms(attempts: u32, base_secs: u64, max_secs: u64, jitter: f64) -> i64 {
    let exp = Ord::min(attempts.saturating_sub(1), 30);
    let delay = Ord::min(base_secs.saturating_mul(1u64 << exp), max_secs);
    let delay_ms = delay.saturating_mul(1000) as f64;
    let jittered = delay_ms / 2.0 + delay_ms / 2.0 * jitter.clamp(0.0, 1.0);
    jittered as i64
}

fn due(row: &outbox::Model, now_ms: i64) -> bool {
    match row.state {
        State::Queued => row.next_attempt_at <= now_ms,
        State::Delivering => row.lease_until.is_none_or(|t| t <= now_ms),
        State::Delivered | State::Dead => false,
    }
}

fn due_condition(now_ms: i64) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(outbox::Column::State.eq(State::Queued))
                .add(outbox::Column::NextAttemptAt.lte(now_ms)),
        )
        .add(
            Condition::all()
                .add(outbox::Column::State.eq(State::Delivering))
                .add(outbox::Column::LeaseUntil.lte(now_ms)),
        )
}

/// Delivers what is due at `now_ms`, pass after pass, until nothing due is left or a pass
/// delivers nothing (everything left is failing) or `budget_ms` of wall time is spent.
pub async fn deliver_due(
    outbound: &Outbound,
    now_ms: i64,
    budget_ms: i64,
) -> anyhow::Result<DeliveryReport> {
    let started = std::time::Instant::now();
    let mut report = DeliveryReport::default();
    loop {
        let pass = deliver_pass(outbound, now_ms).await?;
        report.delivered += pass.delivered;
        report.retried += pass.retried;
        report.dead += pass.dead;
        let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        if pass.delivered == 0 || elapsed >= budget_ms {
            break;
        }
    }
    refresh_gauges(outbound, crate::db::now_ms()).await?;
    Ok(report)
}

/// One pass over the destinations with due entries.
pub async fn deliver_pass(outbound: &Outbound, now_ms: i64) -> anyhow::Result<DeliveryReport> {
    let due_destinations: Vec<(Uuid, Uuid)> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::TenantId)
        .column(outbox::Column::DestinationId)
        .distinct()
        .filter(due_condition(now_ms))
        .limit(DESTINATIONS_PER_PASS)
        .into_tuple()
        .all(&outbound.db)
        .await?;
    let mut report = DeliveryReport::default();
    for (tenant_id, destination_id) in due_destinations {
        let ctx = TenantCtx::system(TenantId(tenant_id), "outbox");
        let one = deliver_destination(outbound, &ctx, destination_id, now_ms).await?;
        report.delivered += one.delivered;
        report.retried += one.retried;
        report.dead += one.dead;
    }
    Ok(report)
}

/// The due entries of one destination, in order, at most `limit`.
async fn pick(
    outbound: &Outbound,
    ctx: &TenantCtx,
    destination_id: Uuid,
    one_per_key: bool,
    now_ms: i64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let limit = outbound.settings.batch_size;
    let waiting = scoped::<outbox::Entity>(ctx)
        .filter(outbox::Column::DestinationId.eq(destination_id))
        .filter(outbox::Column::State.is_in([State::Queued, State::Delivering]))
        .order_by_asc(outbox::Column::Id)
        .limit(limit.saturating_mul(4))
        .all(&outbound.db)
        .await?;
    let mut blocked: BTreeSet<String> = BTreeSet::new();
    let mut picked = Vec::new();
    for row in waiting {
        if picked.len() as u64 >= limit {
            break;
        }
        if blocked.contains(&row.ordering_key) {
            continue;
        }
        if !due(&row, now_ms) || one_per_key {
            blocked.insert(row.ordering_key.clone());
        }
        if due(&row, now_ms) {
            picked.push(row);
        }
    }
    Ok(picked)
}

async fn deliver_destination(
    outbound: &Outbound,
    ctx: &TenantCtx,
    destination_id: Uuid,
    now_ms: i64,
) -> anyhow::Result<DeliveryReport> {
    let Some(destination) = scoped::<outbound_destinations::Entity>(ctx)
        .filter(outbound_destinations::Column::Id.eq(destination_id))
        .one(&outbound.db)
        .await?
    else {
        return Ok(DeliveryReport::default());
    };
    let config: serde_json::Value = serde_json::from_str(&destination.config)?;
    let target = Target::parse(destination.kind, &config);
    let one_per_key = target.as_ref().map_or(true, |t| !t.batches_in_order());
    let picked = pick(outbound, ctx, destination_id, one_per_key, now_ms).await?;
    if picked.is_empty() {
        return Ok(DeliveryReport::default());
    }
    let ids: Vec<Uuid> = picked.iter().map(|r| r.id).collect();
    let claim_ms =
        i64::try_from(outbound.settings.claim_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
    let txn = begin_write(&outbound.db).await?;
    let claimed = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(State::Delivering))
        .col_expr(outbox::Column::LeaseUntil, Expr::value(now_ms + claim_ms))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .filter(outbox::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(due_condition(now_ms))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != ids.len() as u64 {
        // Someone else moved one of them meanwhile (a replay): leave the lot for the next pass.
        txn.rollback().await?;
        return Ok(DeliveryReport::default());
    }
    txn.commit().await?;

    let results: Vec<Result<(), DeliveryError>> = match &target {
        Ok(target) => {
            let secret = crate::secrets::get(
                &outbound.db,
                &outbound.keyring,
                ctx,
                &super::destinations::secret_name(destination_id),
            )
            .await?;
            let envelopes: Result<Vec<Envelope>, _> = picked
                .iter()
                .map(|r| serde_json::from_str::<Envelope>(&r.payload))
                .collect();
            match envelopes {
                Ok(envelopes) => {
                    outbound
                        .sender
                        .deliver(target, secret.as_ref(), &envelopes)
                        .await
                }
                Err(_) => vec![
                    Err(DeliveryError::permanent("the stored event is unreadable"));
                    picked.len()
                ],
            }
        }
        Err(e) => vec![Err(DeliveryError::permanent(e.clone())); picked.len()],
    };
    record(outbound, ctx, &destination, &picked, &results, now_ms).await
}

/// Stores the outcome of each claimed entry and the destination's health line.
async fn record(
    outbound: &Outbound,
    ctx: &TenantCtx,
    destination: &outbound_destinations::Model,
    picked: &[outbox::Model],
    results: &[Result<(), DeliveryError>],
    now_ms: i64,
) -> anyhow::Result<DeliveryReport> {
    let settings = &outbound.settings;
    let tenant = ctx.tenant_id().as_uuid();
    let mut report = DeliveryReport::default();
    let txn = begin_write(&outbound.db).await?;
    let delivered: Vec<Uuid> = picked
        .iter()
        .zip(results)
        .filter(|(_, r)| r.is_ok())
        .map(|(row, _)| row.id)
        .collect();
    for ids in delivered.chunks(500) {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value(State::Delivered))
            .col_expr(outbox::Column::DeliveredAt, Expr::value(now_ms))
            .col_expr(outbox::Column::LeaseUntil, Expr::value(None::<i64>))
            .col_expr(outbox::Column::LastError, Expr::value(None::<String>))
            .filter(outbox::Column::TenantId.eq(tenant))
            .filter(outbox::Column::Id.is_in(ids.iter().copied()))
            .filter(outbox::Column::State.eq(State::Delivering))
            .exec(&txn)
            .await?;
    }
    report.delivered = delivered.len() as u64;
    let mut last_error = None;
    for (row, result) in picked.iter().zip(results) {
        let Err(error) = result else { continue };
        last_error = Some(error.message.clone());
        // The claim added one attempt.
        let attempts = u32::try_from(row.attempts).unwrap_or(0) + 1;
        let dead = error.permanent || attempts >= settings.max_attempts;
        let next = now_ms
            + backoff_ms(
                attempts,
                settings.backoff_base_secs,
                settings.backoff_max_secs,
                rand::random::<f64>(),
            );
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::State,
                Expr::value(if dead { State::Dead } else { State::Queued }),
            )
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(next))
            .col_expr(outbox::Column::LeaseUntil, Expr::value(None::<i64>))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Some(error.message.clone())),
            )
            .filter(outbox::Column::TenantId.eq(tenant))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::State.eq(State::Delivering))
            .exec(&txn)
            .await?;
        if dead {
            report.dead += 1;
            audit_chain::record(
                &txn,
                ctx,
                "outbox.dead_lettered",
                Subject::new("outbox_entry", row.id.to_string()),
                serde_json::json!({
                    "destination": destination.id.to_string(),
                    "event": row.event_id.to_string(),
                    "type": row.event_type.as_str(),
                    "attempts": attempts,
                    "error": error.message,
                }),
            )
            .await?;
        } else {
            report.retried += 1;
        }
    }
    update_health(
        &txn,
        tenant,
        destination.id,
        (report.delivered > 0).then_some(now_ms),
        last_error.map(|e| (now_ms, e)),
    )
    .await?;
    txn.commit().await?;
    let kind = destination.kind.as_str();
    outbound
        .metrics
        .count_outbox(kind, "delivered", report.delivered);
    outbound.metrics.count_outbox(kind, "retry", report.retried);
    outbound.metrics.count_outbox(kind, "dead", report.dead);
    Ok(report)
}

/// Sets a destination's last success and/or last error.
pub(super) async fn update_health<C: ConnectionTrait>(
    txn: &C,
    tenant: Uuid,
    destination_id: Uuid,
    success_at: Option<i64>,
    error: Option<(i64, String)>,
) -> Result<(), DbErr> {
    if success_at.is_none() && error.is_none() {
        return Ok(());
    }
    let mut update = outbound_destinations::Entity::update_many()
        .filter(outbound_destinations::Column::TenantId.eq(tenant))
        .filter(outbound_destinations::Column::Id.eq(destination_id));
    if let Some(at) = success_at {
        update = update.col_expr(
            outbound_destinations::Column::LastSuccessAt,
            Expr::value(at),
        );
    }
    if let Some((at, message)) = error {
        update = update
            .col_expr(outbound_destinations::Column::LastErrorAt, Expr::value(at))
            .col_expr(
                outbound_destinations::Column::LastError,
                Expr::value(Some(message)),
            );
    }
    update.exec(txn).await?;
    Ok(())
}

/// Sets the queue gauges from the table (all tenants; the figures carry no label).
pub async fn refresh_gauges(outbound: &Outbound, now_ms: i64) -> Result<(), DbErr> {
    use sea_orm::PaginatorTrait;
    let waiting = outbox::Entity::find()
        .filter(outbox::Column::State.is_in([State::Queued, State::Delivering]));
    let queued = waiting.clone().count(&outbound.db).await?;
    let oldest: Option<i64> = waiting
        .select_only()
        .column_as(outbox::Column::CreatedAt.min(), "oldest")
        .into_tuple::<Option<i64>>()
        .one(&outbound.db)
        .await?
        .flatten();
    let dead = outbox::Entity::find()
        .filter(outbox::Column::State.eq(State::Dead))
        .count(&outbound.db)
        .await?;
    let metrics = &outbound.metrics;
    metrics
        .outbox_queued
        .set(i64::try_from(queued).unwrap_or(i64::MAX));
    metrics
        .outbox_dead
        .set(i64::try_from(dead).unwrap_or(i64::MAX));
    metrics
        .outbox_oldest_age
        .set(oldest.map_or(0, |t| Ord::max(now_ms - t, 0) / 1000));
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_per_attempt_stays_in_its_upper_half_and_is_capped() {
        assert_eq!(backoff_ms(1, 10, 3600, 1.0), 10_000);
        assert_eq!(backoff_ms(1, 10, 3600, 0.0), 5_000);
        assert_eq!(backoff_ms(2, 10, 3600, 1.0), 20_000);
        assert_eq!(backoff_ms(4, 10, 3600, 0.5), 60_000);
        assert_eq!(backoff_ms(30, 10, 3600, 1.0), 3_600_000);
        assert_eq!(backoff_ms(u32::MAX, 10, 3600, 1.0), 3_600_000);
    }
}
