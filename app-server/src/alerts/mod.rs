//! Alerts: detection on the real path, the alert episodes it raises, and analysts' feedback.
//!
//! - [`inputs`]: what ingest (agent batches, module events, Shopify webhooks) appends to the
//!   tenant's detection queue inside its own transaction.
//! - [`queue`]: the bounded set of tenants with new inputs and the workers that drain it.
//! - [`detect`]: one run for one tenant (same engine as `leakguard detect replay`), alerts and
//!   engine state written with the high-water mark in one transaction.
//! - [`feedback`]: acknowledge, false positive (a scoped, expiring suppression, optionally
//!   learned as normal), resolve, reopen, escalate (an incident, linked both ways).
//!
//! Rules: every tenant role reads alerts; owners, admins and analysts act on them. Every change
//! writes the alert, one `alert_events` entry and an audit entry with the real actor in one
//! transaction; detection acts as `system:detection`. Bad input is refused before anything is
//! written.

pub mod detect;
pub mod feedback;
pub mod inputs;
pub mod queue;
pub mod volume;

pub use feedback::{AlertFeedback, apply_feedback};
pub use queue::DetectionQueue;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use crate::audit_chain::AuditError;
use crate::db::entities::{alert_events, alert_suppressions, alerts};
use crate::invalid_input::InvalidInput;
use crate::tenancy::{TenantCtx, scoped};

pub use alert_events::Kind as EventKind;
pub use alerts::{Rule, Severity, State};
pub use detect::Evidence;

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// Bad input, with its reason and a message safe to show.
    #[error("{0}")]
    Invalid(InvalidInput),
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// The caller's role may read alerts but not act on them.
    #[error("your role does not allow this")]
    Forbidden,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<InvalidInput> for AlertError {
    fn from(e: InvalidInput) -> Self {
        Self::Invalid(e)
    }
}

impl From<DbErr> for AlertError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for AlertError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<serde_json::Error> for AlertError {
    fn from(e: serde_json::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

/// The stored form of an actor.
pub(crate) fn actor_of(ctx: &TenantCtx) -> String {
    let actor = ctx.actor();
    format!("{}:{}", actor.kind, actor.id)
}

/// Appends an event to an alert's history inside the caller's transaction.
pub(crate) async fn record_event<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    alert: Uuid,
    kind: EventKind,
    at: i64,
    detail: serde_json::Value,
) -> Result<(), AlertError> {
    alert_events::Entity::insert(alert_events::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(Uuid::now_v7()),
        alert_id: Set(alert),
        kind: Set(kind),
        actor: Set(actor_of(ctx)),
        at: Set(at),
        detail: Set(serde_json::to_string(&detail)?),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Deletes a tenant's detection inputs, learned state and alerts with their history and
/// suppressions (`shop/redact`: alerts name staff and apps), and marks every input number
/// given so far as processed. Returns the rows deleted.
pub async fn purge_tenant<C: ConnectionTrait>(txn: &C, tenant: Uuid) -> Result<u64, DbErr> {
    use crate::db::entities::{detection_cursors, detection_inputs, detection_states};
    use sea_orm::sea_query::Expr;
    detection_cursors::Entity::update_many()
        .col_expr(
            detection_cursors::Column::ProcessedSeq,
            Expr::col(detection_cursors::Column::InputSeq),
        )
        .filter(detection_cursors::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?;
    let mut deleted = 0;
    deleted += detection_inputs::Entity::delete_many()
        .filter(detection_inputs::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    deleted += detection_states::Entity::delete_many()
        .filter(detection_states::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    deleted += alert_suppressions::Entity::delete_many()
        .filter(alert_suppressions::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    deleted += alert_events::Entity::delete_many()
        .filter(alert_events::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    deleted += alerts::Entity::delete_many()
        .filter(alerts::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(deleted)
}

/// An alert as listed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    /// Id.
    pub id: Uuid,
    /// The rule that raised it.
    pub rule: Rule,
    /// Highest severity reached.
    pub severity: Severity,
    /// Where it is in its handling.
    pub state: State,
    /// Whether new activity of the principal still grows the alert.
    pub episode_open: bool,
    /// Who, with the fields the source gave (`db_user`, `db_host`, `admin_user_id`, …).
    #[schema(value_type = Object)]
    pub principal: serde_json::Value,
    /// The principal in words (`db user intruder@10.0.0.7`, `admin 7 (jdoe)`).
    pub principal_label: String,
    /// Records (rows, statements, requests) involved so far.
    pub records_estimate: i64,
    /// What `records_estimate` counts: `rows_sent`, `statements`, `records`, `requests`, `events`.
    pub records_method: String,
    /// Tables or resources involved (at most 16).
    pub tables: Vec<String>,
    /// Data categories: `customer`, `address`, `order`, `payment`, `credentials`.
    pub categories: Vec<String>,
    /// Start of the activity (RFC 3339 UTC).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: i64,
    /// When detection raised it, by the signals' clock (RFC 3339 UTC).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub detected_at: i64,
    /// Last activity counted in (RFC 3339 UTC).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: i64,
    /// What happened, with the numbers.
    pub explanation: String,
    /// The incident it was escalated to.
    pub incident_id: Option<Uuid>,
    /// When the server stored it (RFC 3339 UTC).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Last change (RFC 3339 UTC).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

impl AlertView {
    fn of(m: &alerts::Model) -> Result<Self, AlertError> {
        let principal: serde_json::Value = serde_json::from_str(&m.principal)?;
        let identity: leakguard_domain::detect::Identity =
            serde_json::from_value(principal.clone())?;
        Ok(Self {
            id: m.id,
            rule: m.rule,
            severity: m.severity,
            state: m.state,
            episode_open: m.episode_open,
            principal,
            principal_label: identity.describe(),
            records_estimate: m.records_estimate,
            records_method: m.records_method.clone(),
            tables: serde_json::from_str(&m.tables)?,
            categories: serde_json::from_str(&m.categories)?,
            started_at: m.started_at,
            detected_at: m.detected_at,
            last_seen_at: m.last_seen_at,
            explanation: m.explanation.clone(),
            incident_id: m.incident_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// One entry of an alert's history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertEventView {
    /// Id.
    pub id: Uuid,
    /// What it records.
    pub kind: EventKind,
    /// Who did it (`<actor type>:<actor id>`; detection is `system:detection`).
    pub actor: String,
    /// RFC 3339 UTC.
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// The change's own fields (reason, scope, incident, …).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A false-positive mark of an alert.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SuppressionView {
    /// Id.
    pub id: Uuid,
    /// `principal`, `rule` or `principal_and_rule`.
    pub scope: alert_suppressions::Scope,
    /// The rule covered, when the scope names it.
    pub rule: Option<String>,
    /// The principal covered, when the scope names it.
    #[schema(value_type = Option<Object>)]
    pub principal: Option<serde_json::Value>,
    /// Until when (RFC 3339 UTC).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub until: i64,
    /// The analyst's reason.
    pub reason: String,
    /// Whether the alert's volume was learned as normal too.
    pub learn_normal: bool,
    /// Who marked it.
    pub created_by: String,
    /// RFC 3339 UTC.
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it was revoked (the alert reopened), RFC 3339 UTC.
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<i64>,
}

/// An alert with its evidence, history and suppressions.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: AlertView,
    /// The number compared (hour volume, failures, minutes off schedule…).
    pub observed: f64,
    /// What it was compared with; 0 when there is no baseline.
    pub expected: f64,
    /// The signals counted in, oldest first (at most 64).
    pub evidence: Vec<Evidence>,
    /// Every change, oldest first.
    pub history: Vec<AlertEventView>,
    /// False-positive marks, revoked ones included.
    pub suppressions: Vec<SuppressionView>,
}

/// A page of alerts, newest first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertPage {
    /// The alerts.
    pub alerts: Vec<AlertView>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next_before: Option<Uuid>,
}

/// What the list is filtered by.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// Only alerts in this state.
    pub state: Option<State>,
    /// Only alerts of this severity.
    pub severity: Option<Severity>,
    /// Only alerts of this principal: its own name or id (database user, admin id,
    /// integration id, app id, client IP).
    pub principal: Option<String>,
    /// Only alerts whose activity lasted until this time or later (Unix ms).
    pub since: Option<i64>,
    /// Only alerts whose activity started before this time (Unix ms).
    pub until: Option<i64>,
}

pub(crate) async fn find<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<alerts::Model, AlertError> {
    scoped::<alerts::Entity>(ctx)
        .filter(alerts::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AlertError::NotFound)
}

pub(crate) async fn detail_of<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<AlertDetail, AlertError> {
    let row = find(db, ctx, id).await?;
    let alert = AlertView::of(&row)?;
    let engine: leakguard_domain::detect::Alert = serde_json::from_str(&row.engine)?;
    let mut evidence: Vec<Evidence> = serde_json::from_str(&row.evidence)?;
    evidence.sort_by_key(|e| (e.at, e.signal));
    let history = scoped::<alert_events::Entity>(ctx)
        .filter(alert_events::Column::AlertId.eq(id))
        .order_by_asc(alert_events::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| -> Result<AlertEventView, AlertError> {
            Ok(AlertEventView {
                id: e.id,
                kind: e.kind,
                actor: e.actor,
                at: e.at,
                detail: serde_json::from_str(&e.detail)?,
            })
        })
        .collect::<Result<_, _>>()?;
    let suppressions = scoped::<alert_suppressions::Entity>(ctx)
        .filter(alert_suppressions::Column::AlertId.eq(id))
        .order_by_asc(alert_suppressions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| -> Result<SuppressionView, AlertError> {
            Ok(SuppressionView {
                id: s.id,
                scope: s.scope,
                rule: s.rule,
                principal: s
                    .principal_key
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?,
                until: s.until,
                reason: s.reason,
                learn_normal: s.learn_normal,
                created_by: s.created_by,
                created_at: s.created_at,
                revoked_at: s.revoked_at,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(AlertDetail {
        alert,
        observed: engine.observed,
        expected: engine.expected,
        evidence,
        history,
        suppressions,
    })
}

/// One alert with its evidence and history; another tenant's is `NotFound`.
pub async fn get_alert(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<AlertDetail, AlertError> {
    detail_of(db, ctx, id).await
}

/// The tenant's alerts, newest first, at most `limit`, older than the alert `before`.
pub async fn list_alerts(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    filter: &AlertFilter,
    limit: u64,
    before: Option<Uuid>,
) -> Result<AlertPage, AlertError> {
    let mut query = scoped::<alerts::Entity>(ctx);
    if let Some(state) = filter.state {
        query = query.filter(alerts::Column::State.eq(state));
    }
    if let Some(severity) = filter.severity {
        query = query.filter(alerts::Column::Severity.eq(severity));
    }
    if let Some(principal) = &filter.principal {
        query = query.filter(alerts::Column::PrincipalName.eq(principal.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(alerts::Column::LastSeenAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(alerts::Column::StartedAt.lt(until));
    }
    if let Some(before) = before {
        query = query.filter(alerts::Column::Id.lt(before));
    }
    let mut rows = query
        .order_by_desc(alerts::Column::Id)
        .limit(limit.saturating_add(1))
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_before = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(AlertPage {
        alerts: rows.iter().map(AlertView::of).collect::<Result<_, _>>()?,
        next_before,
    })
}
