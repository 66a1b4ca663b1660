//! The tenant's view of its outbox: the delivery log per destination, the dead letters, and
//! replay. A replay puts an entry back in the queue (`queued`, due now, attempts from zero) with
//! an audit entry; an entry that a worker holds right now is refused (409).

use leakguard_domain::audit::Subject;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::{EventType, Outbound, OutboxError, State};
use crate::audit_chain;
use crate::db::entities::outbox;
use crate::db::{begin_write, now_ms};
use crate::tenancy::{TenantCtx, scoped};

/// An outbox entry as shown in the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OutboxEntry)]
pub struct EntryView {
    /// Entry id.
    pub id: Uuid,
    /// The destination it is for.
    pub destination_id: Uuid,
    /// The event (one id across destinations).
    pub event_id: Uuid,
    /// What happened.
    pub event_type: EventType,
    /// Where it is in its delivery.
    pub state: State,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is tried next, while queued (RFC 3339 UTC).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: i64,
    /// Why the last attempt failed (no credential in it).
    pub last_error: Option<String>,
    /// RFC 3339 UTC.
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// RFC 3339 UTC.
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<i64>,
}

impl EntryView {
    fn of(m: outbox::Model) -> Self {
        Self {
            id: m.id,
            destination_id: m.destination_id,
            event_id: m.event_id,
            event_type: m.event_type,
            state: m.state,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            delivered_at: m.delivered_at,
        }
    }
}

/// A page of entries, newest first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OutboxEntryPage)]
pub struct EntryPage {
    /// The entries.
    pub entries: Vec<EntryView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<Uuid>,
}

/// Which entries to list.
#[derive(Clone, Copy, Debug, Default)]
pub struct EntryFilter {
    /// Only this state.
    pub state: Option<State>,
    /// Only this destination.
    pub destination_id: Option<Uuid>,
    /// Only entries older than this one.
    pub before: Option<Uuid>,
}

fn require_admin(ctx: &TenantCtx) -> Result<(), OutboxError> {
    if ctx.role().can_administer() {
        Ok(())
    } else {
        Err(OutboxError::Forbidden)
    }
}

/// Lists entries, newest first (owners, admins).
pub async fn list(
    outbound: &Outbound,
    ctx: &TenantCtx,
    filter: EntryFilter,
    limit: u64,
) -> Result<EntryPage, OutboxError> {
    require_admin(ctx)?;
    let mut query = scoped::<outbox::Entity>(ctx).order_by_desc(outbox::Column::Id);
    if let Some(state) = filter.state {
        query = query.filter(outbox::Column::State.eq(state));
    }
    if let Some(destination) = filter.destination_id {
        query = query.filter(outbox::Column::DestinationId.eq(destination));
    }
    if let Some(before) = filter.before {
        query = query.filter(outbox::Column::Id.lt(before));
    }
    let mut rows = query.limit(limit + 1).all(&outbound.db).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_before = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(EntryPage {
        entries: rows.into_iter().map(EntryView::of).collect(),
        next_before,
    })
}

/// Puts an entry back in the queue, due now (owners, admins).
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn replay(
    outbound: &Outbound,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<EntryView, OutboxError> {
    require_admin(ctx)?;
    let now = now_ms();
    let txn = begin_write(&outbound.db).await?;
    let row = scoped::<outbox::Entity>(ctx)
        .filter(outbox::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(OutboxError::NotFound)?;
    if row.state == State::Delivering && row.lease_until.is_some_and(|t| t > now) {
        return Err(OutboxError::Conflict(
            "the entry is being delivered right now; replay it when that attempt has ended",
        ));
    }
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(State::Queued))
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .col_expr(outbox::Column::LeaseUntil, Expr::value(None::<i64>))
        .col_expr(outbox::Column::DeliveredAt, Expr::value(None::<i64>))
        .filter(outbox::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(outbox::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    audit_chain::record(
        &txn,
        ctx,
        "outbox.replayed",
        Subject::new("outbox_entry", id.to_string()),
        serde_json::json!({
            "destination": row.destination_id.to_string(),
            "event": row.event_id.to_string(),
            "state_before": row.state.as_str(),
        }),
    )
    .await?;
    let updated = scoped::<outbox::Entity>(ctx)
        .filter(outbox::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(OutboxError::NotFound)?;
    txn.commit().await?;
    Ok(EntryView::of(updated))
}
