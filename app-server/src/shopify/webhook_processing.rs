//! Webhook processing: claim, run, retry.
//!
//! A stored delivery is claimed with one conditional `UPDATE`, so however many processors race
//! (the task spawned by intake, the retry job, another replica), one runs it. Its effects, the
//! audit entries and its final mark (`processed`, or `deferred` until a due time) commit in
//! one transaction guarded by that claim. A failed attempt is retried by
//! [`retry_deliveries_job`] after an exponential back-off capped at [`MAX_BACKOFF_MS`]; after
//! [`MAX_ATTEMPTS`] it is `dead` and left for an operator.
//!
//! Calls to Shopify (confirming an uninstall) happen before the write transaction opens.

use leakguard_domain::ids::TenantId;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use super::ShopifyAdapter;
use super::webhook_topics::{self, UninstallCheck};
use super::webhooks::SOURCE;
use super::{ShopifyError, compliance};
use crate::db::begin_write;
use crate::db::entities::{tenants, webhook_deliveries};
use crate::tenancy::TenantCtx;

/// How long a claimed delivery belongs to its processor before the job may take it over.
const CLAIM_MS: i64 = 5 * 60 * 1000;
/// Attempts before a delivery is given up (`dead`) and left for an operator.
pub const MAX_ATTEMPTS: i32 = 12;
/// The first retry waits this long; each further one twice as long as the one before.
pub const FIRST_BACKOFF_MS: i64 = 30_000;
/// No retry waits longer than this.
pub const MAX_BACKOFF_MS: i64 = 6 * 3600 * 1000;
/// Statuses a processor may claim (when due).
const CLAIMABLE: [webhook_deliveries::Status; 4] = [
    webhook_deliveries::Status::Pending,
    webhook_deliveries::Status::Failed,
    webhook_deliveries::Status::Processing,
    webhook_deliveries::Status::Deferred,
];

/// What a topic handler did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done: the delivery is processed.
    Done,
    /// Not yet: run it again at this time (Unix ms), e.g. `shop/redact` before the 48 hours.
    Deferred(i64),
}

/// How a processing attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processed {
    /// This call ran the delivery to completion.
    Done,
    /// This call ran it and it is due again at this time (Unix ms).
    Deferred(i64),
    /// Another processor holds it, or it is finished already.
    NotClaimed,
}

async fn claim(db: &DatabaseConnection, id: Uuid, now: i64) -> Result<bool, sea_orm::DbErr> {
    let claimable = webhook_deliveries::Column::Status
        .is_in(CLAIMABLE)
        .and(webhook_deliveries::Column::NextAttemptAt.lte(now));
    let updated = webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::Status,
            Expr::value(webhook_deliveries::Status::Processing),
        )
        .col_expr(
            webhook_deliveries::Column::Attempts,
            Expr::col(webhook_deliveries::Column::Attempts).add(1),
        )
        .col_expr(
            webhook_deliveries::Column::NextAttemptAt,
            Expr::value(now + CLAIM_MS),
        )
        .filter(webhook_deliveries::Column::Id.eq(id))
        .filter(webhook_deliveries::Column::Source.eq(SOURCE))
        .filter(claimable)
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, ... capped at
/// [`MAX_BACKOFF_MS`] (reached from the 11th attempt on).
pub fn backoff_ms(attempts: i32) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 40) - 1).unwrap_or(0);
    let uncapped = FIRST_BACKOFF_MS.saturating_mul(2i64.saturating_pow(exp));
    Ord::min(uncapped, MAX_BACKOFF_MS)
}

/// Claims and processes one stored delivery at `now`. On failure the delivery is marked
/// `failed` with its next attempt time (or `dead` after [`MAX_ATTEMPTS`]).
pub async fn process_delivery(
    state: &ShopifyAdapter,
    id: Uuid,
    now: i64,
) -> Result<Processed, ShopifyError> {
    if !claim(&state.db, id, now).await? {
        return Ok(Processed::NotClaimed);
    }
    let Some(row) = webhook_deliveries::Entity::find_by_id(id)
        .one(&state.db)
        .await?
    else {
        return Ok(Processed::NotClaimed);
    };
    match run(state, &row, now).await {
        Ok(Outcome::Done) => Ok(Processed::Done),
        Ok(Outcome::Deferred(until)) => Ok(Processed::Deferred(until)),
        Err(e) => {
            let dead = row.attempts >= MAX_ATTEMPTS;
            webhook_deliveries::Entity::update_many()
                .col_expr(
                    webhook_deliveries::Column::Status,
                    Expr::value(if dead {
                        webhook_deliveries::Status::Dead
                    } else {
                        webhook_deliveries::Status::Failed
                    }),
                )
                .col_expr(
                    webhook_deliveries::Column::NextAttemptAt,
                    Expr::value(now + backoff_ms(row.attempts)),
                )
                .col_expr(
                    webhook_deliveries::Column::LastError,
                    Expr::value(error_category(&e)),
                )
                .filter(webhook_deliveries::Column::Id.eq(id))
                .filter(
                    webhook_deliveries::Column::Status.eq(webhook_deliveries::Status::Processing),
                )
                .filter(webhook_deliveries::Column::Attempts.eq(row.attempts))
                .exec(&state.db)
                .await?;
            Err(e)
        }
    }
}

/// A short, PII-free description of a processing error for the delivery row.
fn error_category(e: &ShopifyError) -> String {
    match e {
        ShopifyError::Unexpected(_) => "internal error (see server log)".into(),
        other => other.to_string().chars().take(200).collect(),
    }
}

/// The delivery's tenant: recorded at intake, or looked up by its shop (installed since).
async fn tenant_of(
    db: &DatabaseConnection,
    row: &webhook_deliveries::Model,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    match row.tenant_id {
        Some(t) => Ok(Some(t)),
        None => {
            tenants::Entity::find()
                .select_only()
                .column(tenants::Column::Id)
                .filter(tenants::Column::ShopDomain.eq(row.shop_domain.as_str()))
                .into_tuple::<Uuid>()
                .one(db)
                .await
        }
    }
}

async fn run(
    state: &ShopifyAdapter,
    row: &webhook_deliveries::Model,
    now: i64,
) -> Result<Outcome, ShopifyError> {
    // An uninstall is acted on only once Shopify confirms it (outside any transaction).
    let uninstall = match (row.topic.as_str(), tenant_of(&state.db, row).await?) {
        ("app/uninstalled", Some(tenant)) => {
            let ctx = TenantCtx::system(TenantId(tenant), "shopify.webhooks");
            Some(webhook_topics::confirm_uninstall(state, &ctx, now).await?)
        }
        _ => None,
    };
    let txn = begin_write(&state.db).await?;
    let tenant = match row.tenant_id {
        Some(t) => Some(t),
        None => {
            tenants::Entity::find()
                .select_only()
                .column(tenants::Column::Id)
                .filter(tenants::Column::ShopDomain.eq(row.shop_domain.as_str()))
                .into_tuple::<Uuid>()
                .one(&txn)
                .await?
        }
    };
    // Hold the claim first: a processor whose claim expired and was taken over finds zero rows
    // here (on PostgreSQL it waits for the row lock, then re-checks) and rolls back, so effects
    // happen exactly once.
    let held = webhook_deliveries::Entity::update_many()
        .col_expr(webhook_deliveries::Column::TenantId, Expr::value(tenant))
        .filter(webhook_deliveries::Column::Id.eq(row.id))
        .filter(webhook_deliveries::Column::Status.eq(webhook_deliveries::Status::Processing))
        .filter(webhook_deliveries::Column::Attempts.eq(row.attempts))
        .exec(&txn)
        .await?;
    if held.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(Outcome::Done);
    }
    let payload: Option<Value> = row
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_slice(p).ok());
    let outcome = match (tenant, payload) {
        (Some(tenant), Some(payload)) => {
            let ctx = TenantCtx::system(TenantId(tenant), "shopify.webhooks");
            dispatch(&txn, state, &ctx, row, &payload, uninstall, now).await?
        }
        _ => Outcome::Done,
    };
    let mark = webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(webhook_deliveries::Column::Id.eq(row.id));
    match outcome {
        Outcome::Done => {
            mark.col_expr(
                webhook_deliveries::Column::Status,
                Expr::value(webhook_deliveries::Status::Processed),
            )
            .col_expr(
                webhook_deliveries::Column::Payload,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .exec(&txn)
            .await?;
        }
        Outcome::Deferred(until) => {
            // Waiting is no failed attempt: the claim's count is given back.
            mark.col_expr(
                webhook_deliveries::Column::Status,
                Expr::value(webhook_deliveries::Status::Deferred),
            )
            .col_expr(
                webhook_deliveries::Column::NextAttemptAt,
                Expr::value(until),
            )
            .col_expr(
                webhook_deliveries::Column::Attempts,
                Expr::value(row.attempts - 1),
            )
            .exec(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    if let (Some(tenant), Outcome::Done) = (tenant, &outcome) {
        state.detection.mark(tenant);
    }
    Ok(outcome)
}

async fn dispatch<C: ConnectionTrait>(
    txn: &C,
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
    uninstall: Option<UninstallCheck>,
    now: i64,
) -> Result<Outcome, ShopifyError> {
    match row.topic.as_str() {
        "app/uninstalled" => {
            let check = uninstall.unwrap_or(UninstallCheck::NoToken);
            webhook_topics::app_uninstalled(txn, ctx, row, check, now).await?;
        }
        "app/scopes_update" => {
            queue_for_detection(txn, ctx, row, payload, now).await?;
            webhook_topics::scopes_update(txn, ctx, row, payload, now).await?;
        }
        "customers/data_request" => {
            compliance::data_request(txn, &state.keyring, ctx, row, payload, now).await?;
        }
        "customers/redact" => {
            compliance::customer_redact(txn, &state.keyring, ctx, row, payload, now).await?;
        }
        "shop/redact" => return compliance::shop_redact(txn, ctx, row, now).await,
        topic
            if topic == "bulk_operations/finish"
                || topic.starts_with("customers/")
                || topic.starts_with("orders/") =>
        {
            queue_for_detection(txn, ctx, row, payload, now).await?;
            webhook_topics::store_signal(txn, ctx, row, payload).await?;
        }
        _ => {}
    }
    Ok(Outcome::Done)
}

/// Queues the webhook's detection line (the fields detection reads, no personal data) in the
/// delivery's transaction, before its audit entries.
async fn queue_for_detection<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
    now: i64,
) -> Result<(), ShopifyError> {
    let line = crate::alerts::inputs::shopify_line(&row.topic, payload, row.received_at);
    crate::alerts::inputs::enqueue(
        txn,
        ctx.tenant_id().as_uuid(),
        crate::alerts::inputs::Source::Shopify,
        vec![line],
        now,
    )
    .await?;
    Ok(())
}

/// Job: processes every delivery that is due (pending too long, failed and due for retry, or
/// claimed by a processor that died). Returns how many ran to completion.
pub async fn retry_deliveries_job(state: &ShopifyAdapter, now: i64) -> anyhow::Result<usize> {
    let due: Vec<Uuid> = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::Id)
        .filter(webhook_deliveries::Column::Source.eq(SOURCE))
        .filter(webhook_deliveries::Column::Status.is_in(CLAIMABLE))
        .filter(webhook_deliveries::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_deliveries::Column::NextAttemptAt)
        .limit(200)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut done = 0;
    for id in due {
        match process_delivery(state, id, now).await {
            Ok(Processed::Done) => done += 1,
            Ok(Processed::Deferred(_) | Processed::NotClaimed) => {}
            Err(e) => {
                tracing::warn!(delivery = %id, error = %e, "Webhook retry failed.");
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_thirty_seconds_up_to_the_cap() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(10), 30_000 * 512);
        assert!(backoff_ms(10) < MAX_BACKOFF_MS);
        // 30 s * 2^10 is 8.5 h: the cap holds it at 6 h, for every attempt up to the last.
        assert_eq!(backoff_ms(11), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(MAX_ATTEMPTS), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(i32::MAX), MAX_BACKOFF_MS);
    }
}
