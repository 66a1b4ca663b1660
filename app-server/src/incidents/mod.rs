//! Incidents: a suspected or confirmed breach a tenant works through from triage to closed,
//! with the facts the breach-notification law decides on ([`facts`]) and an append-only
//! timeline; [`lifecycle`] holds the changes (status transitions, facts, timeline events),
//! [`notices`] the recording of a notice as sent, [`obligations`] what is owed and where it
//! stands on a day, and [`reminders`] the job that raises deadline reminders.
//!
//! Rules: owners, admins and analysts change incidents (`can_review`); legal records notices as
//! sent (a notice question is legal's to decide) and otherwise reads; viewers read. Every change writes the incident, one
//! timeline event and one audit chain entry with the caller as actor in one transaction; bad
//! input is refused before the transaction writes anything. The obligations are the law
//! module's answer for the stored facts, with the rule table version used.

pub mod facts;
pub mod lifecycle;
pub mod notices;
pub mod obligations;
pub mod reminders;

pub use facts::{FactsChange, FactsView, NoticeSent};
pub use lifecycle::{IncidentPatch, NewIncidentEvent, add_event, update_incident};
pub use obligations::{IncidentObligations, ObligationState, ObligationView, obligations};
pub use reminders::{ReminderView, reminder_job};

use leakguard_domain::audit::Subject;
use leakguard_domain::law::RuleTable;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit_chain::{self, AuditError};
use crate::db::entities::{incident_events, incidents, users};
use crate::db::{begin_write, now_ms};
use crate::invalid_input::{InvalidInput, Reason};
use crate::tenancy::{TenantCtx, scoped};
use facts::Facts;

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// Bad input, with its reason and a message safe to show.
    #[error("{0}")]
    Invalid(InvalidInput),
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// The caller's role may read incidents but not change them.
    #[error("your role does not allow this")]
    Forbidden,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<InvalidInput> for IncidentError {
    fn from(e: InvalidInput) -> Self {
        Self::Invalid(e)
    }
}

impl From<DbErr> for IncidentError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for IncidentError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<serde_json::Error> for IncidentError {
    fn from(e: serde_json::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

pub use incident_events::Kind as EventKind;
pub use incidents::{Severity, Status};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// An incident as shown in the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentView {
    /// Id.
    pub id: Uuid,
    /// Short description.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// Where it is in its handling.
    pub status: Status,
    /// The user in charge.
    pub owner_user_id: Option<Uuid>,
    /// What the law decides on.
    pub facts: FactsView,
    /// Who opened it (`<actor type>:<actor id>`).
    pub created_by: String,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
    /// Unix ms, when closed (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<i64>,
}

impl IncidentView {
    fn of(m: incidents::Model) -> Result<Self, IncidentError> {
        let facts = Facts::of(&m)?.view();
        Ok(Self::with_facts(m, facts))
    }

    pub(crate) fn with_facts(m: incidents::Model, facts: FactsView) -> Self {
        Self {
            id: m.id,
            title: m.title,
            severity: m.severity,
            status: m.status,
            owner_user_id: m.owner_user_id,
            facts,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
            closed_at: m.closed_at,
        }
    }
}

/// One entry of an incident's timeline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentEventView {
    /// Id.
    pub id: Uuid,
    /// What it records.
    pub kind: EventKind,
    /// Who did it (`<actor type>:<actor id>`).
    pub actor: String,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// What changed: for `updated`, `status_changed` and `reopened` each changed field as
    /// `{"from", "to"}`; for added events the event's own fields.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl IncidentEventView {
    fn of(m: incident_events::Model) -> Result<Self, IncidentError> {
        Ok(Self {
            id: m.id,
            kind: m.kind,
            actor: m.actor,
            at: m.at,
            detail: serde_json::from_str(&m.detail)?,
        })
    }
}

/// An incident with its timeline, oldest event first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: IncidentView,
    /// Every event, oldest first.
    pub timeline: Vec<IncidentEventView>,
}

/// A page of incidents, newest first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentPage {
    /// The incidents.
    pub incidents: Vec<IncidentView>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next_before: Option<Uuid>,
}

/// Body of `POST /api/v1/incidents`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    /// Short description, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// `low`, `medium`, `high` or `critical`.
    #[schema(pattern = "^(low|medium|high|critical)$")]
    pub severity: String,
    /// The user in charge (an active user of the tenant).
    #[serde(default)]
    pub owner_user_id: Option<Uuid>,
    /// What is known; `discovered_at` defaults to the day the incident is recorded (UTC).
    #[serde(default)]
    pub facts: Option<FactsChange>,
}

/// The rule table, or an internal error when the embedded table is broken.
pub(crate) fn rule_table() -> Result<&'static RuleTable, IncidentError> {
    RuleTable::builtin()
        .map_err(|e| IncidentError::Unexpected(anyhow::anyhow!("built-in rule table: {e}")))
}

/// The stored form of an actor.
pub(crate) fn actor_of(ctx: &TenantCtx) -> String {
    let actor = ctx.actor();
    format!("{}:{}", actor.kind, actor.id)
}

/// Whether the caller may record notices as sent: those who change incidents, and legal, who
/// decides notice questions.
pub fn may_record_notices(ctx: &TenantCtx) -> bool {
    ctx.role().can_review() || ctx.role().can_approve_notices()
}

pub(crate) fn require_writer(ctx: &TenantCtx) -> Result<(), IncidentError> {
    if ctx.role().can_review() {
        Ok(())
    } else {
        Err(IncidentError::Forbidden)
    }
}

pub(crate) fn check_title(title: &str) -> Result<String, InvalidInput> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(InvalidInput::new(
            Reason::InvalidField,
            format!("title must be 1 to {MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(title.to_owned())
}

pub(crate) fn parse_severity(text: &str) -> Result<Severity, InvalidInput> {
    Severity::parse(text).ok_or_else(|| {
        InvalidInput::new(
            Reason::InvalidSeverity,
            "severity must be low, medium, high or critical",
        )
    })
}

/// Parses a status; an unknown one is refused for `reason` (a filter or a change).
pub fn parse_status(text: &str, reason: Reason) -> Result<Status, InvalidInput> {
    Status::parse(text).ok_or_else(|| {
        InvalidInput::new(
            reason,
            "status must be triage, investigating, contained, notifying or closed",
        )
    })
}

pub(crate) async fn check_owner<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    owner: Uuid,
) -> Result<(), IncidentError> {
    let found = scoped::<users::Entity>(ctx)
        .filter(users::Column::Id.eq(owner))
        .filter(users::Column::DeactivatedAt.is_null())
        .one(db)
        .await?;
    if found.is_none() {
        return Err(InvalidInput::new(
            Reason::InvalidOwner,
            "owner_user_id is not an active user of this tenant",
        )
        .into());
    }
    Ok(())
}

/// Appends a timeline event and the matching audit entry inside the caller's transaction.
pub(crate) async fn append_event<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    incident: Uuid,
    kind: EventKind,
    at: i64,
    detail: serde_json::Value,
    audit: serde_json::Value,
) -> Result<(), IncidentError> {
    incident_events::Entity::insert(incident_events::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(Uuid::now_v7()),
        incident_id: Set(incident),
        kind: Set(kind),
        actor: Set(actor_of(ctx)),
        at: Set(at),
        detail: Set(serde_json::to_string(&detail)?),
    })
    .exec_without_returning(txn)
    .await?;
    let action = match kind {
        EventKind::Created => "incident.created",
        EventKind::Updated => "incident.updated",
        EventKind::StatusChanged => "incident.status_changed",
        EventKind::Reopened => "incident.reopened",
        EventKind::NoticeSent => "incident.notice_sent",
        EventKind::Reminder => "incident.reminder_raised",
        _ => "incident.event_added",
    };
    let mut details = serde_json::json!({"event": kind.as_str()});
    if let (Some(map), serde_json::Value::Object(extra)) = (details.as_object_mut(), audit) {
        map.extend(extra);
    }
    audit_chain::record(
        txn,
        ctx,
        action,
        Subject::new("incident", incident.to_string()),
        details,
    )
    .await?;
    Ok(())
}

/// Opens an incident by hand (owners, admins, analysts).
pub async fn create_incident(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    new: NewIncident,
) -> Result<IncidentDetail, IncidentError> {
    require_writer(ctx)?;
    let txn = begin_write(db).await?;
    let id = create_in(&txn, ctx, new, now_ms()).await?;
    let detail = detail_of(&txn, ctx, id).await?;
    txn.commit().await?;
    Ok(detail)
}

/// Opens an incident inside the caller's transaction (an escalated alert opens its incident in
/// the transaction that changes the alert). Checks everything before it writes; the caller
/// checks the role.
pub(crate) async fn create_in<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    new: NewIncident,
    now: i64,
) -> Result<Uuid, IncidentError> {
    let title = check_title(&new.title)?;
    let severity = parse_severity(&new.severity)?;
    let today = obligations::day_of(now)?;
    let mut facts = Facts::discovered_on(today);
    if let Some(change) = &new.facts {
        facts.apply(change)?;
    }
    facts.check(rule_table()?)?;
    if let Some(owner) = new.owner_user_id {
        check_owner(txn, ctx, owner).await?;
    }
    let id = Uuid::now_v7();
    let mut row = incidents::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(id),
        title: Set(title),
        severity: Set(severity),
        status: Set(Status::Triage),
        owner_user_id: Set(new.owner_user_id),
        created_by: Set(actor_of(ctx)),
        created_at: Set(now),
        updated_at: Set(now),
        closed_at: Set(None),
        ..Default::default()
    };
    facts.store(&mut row)?;
    incidents::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    let view = IncidentView::of(find(txn, ctx, id).await?)?;
    append_event(
        txn,
        ctx,
        id,
        EventKind::Created,
        now,
        serde_json::to_value(&view)?,
        serde_json::json!({"severity": severity.as_str(), "status": Status::Triage.as_str()}),
    )
    .await?;
    Ok(id)
}

/// Notes on an incident's timeline the alert it was escalated from (the alert names the
/// incident in turn), inside the caller's transaction.
pub(crate) async fn link_alert<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    incident: Uuid,
    alert: Uuid,
    explanation: &str,
    now: i64,
) -> Result<(), IncidentError> {
    let note: String = format!("Escalated from alert {alert}: {explanation}")
        .chars()
        .take(2000)
        .collect();
    append_event(
        txn,
        ctx,
        incident,
        EventKind::Note,
        now,
        serde_json::json!({"note": note, "alert_id": alert}),
        serde_json::json!({"alert_id": alert}),
    )
    .await
}

pub(crate) async fn find<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<incidents::Model, IncidentError> {
    scoped::<incidents::Entity>(ctx)
        .filter(incidents::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(IncidentError::NotFound)
}

/// [`find`] with the row locked until the transaction ends (PostgreSQL; SQLite's single
/// writer serialises the change already), so two changes never both start from the same state.
pub(crate) async fn find_for_update<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<incidents::Model, IncidentError> {
    scoped::<incidents::Entity>(ctx)
        .filter(incidents::Column::Id.eq(id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(IncidentError::NotFound)
}

pub(crate) async fn detail_of<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<IncidentDetail, IncidentError> {
    let incident = IncidentView::of(find(db, ctx, id).await?)?;
    let timeline = scoped::<incident_events::Entity>(ctx)
        .filter(incident_events::Column::IncidentId.eq(id))
        .order_by_asc(incident_events::Column::At)
        .order_by_asc(incident_events::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(IncidentEventView::of)
        .collect::<Result<_, _>>()?;
    Ok(IncidentDetail { incident, timeline })
}

/// One incident with its timeline; another tenant's is `NotFound`.
pub async fn get_incident(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<IncidentDetail, IncidentError> {
    detail_of(db, ctx, id).await
}

/// The tenant's incidents, newest first, at most `limit`, optionally only those in `status`
/// and only those older than the incident `before`.
pub async fn list_incidents(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    status: Option<Status>,
    limit: u64,
    before: Option<Uuid>,
) -> Result<IncidentPage, IncidentError> {
    let mut query = scoped::<incidents::Entity>(ctx);
    if let Some(status) = status {
        query = query.filter(incidents::Column::Status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(incidents::Column::Id.lt(before));
    }
    let mut rows = query
        .order_by_desc(incidents::Column::Id)
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
    Ok(IncidentPage {
        incidents: rows
            .into_iter()
            .map(IncidentView::of)
            .collect::<Result<_, _>>()?,
        next_before,
    })
}
