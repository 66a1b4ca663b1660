//! Deadline reminders: the `incident_reminders` job raises, for each open incident's owed and
//! unsent notices with a due date, a reminder 7, 3 and 1 days before the due date, on it, and
//! once when it has passed (overdue). Each is raised exactly once: its row is unique per
//! incident, obligation, due date and kind, and the timeline event and audit entry (actor
//! `system:reminders`) are written in the transaction that inserted the row, only when it did.
//! A second run, a restart or another replica finds the row and writes nothing.
//!
//! A run raises the latest reminder whose day has come and no earlier one it missed: an
//! incident opened five days before a deadline gets "due in 3 days" two days later, never a
//! late "due in 7 days". A due date moved by new facts (tolling, a later clock start) is a new
//! due date with its own reminders. The clock is the job's `now_ms` parameter.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::json;
use time::Date;
use uuid::Uuid;

use super::facts::Facts;
use super::obligations::{ObligationState, day_of, tracked};
use super::{EventKind, IncidentError, Status, append_event};
use crate::db::begin_write;
use crate::db::entities::incident_reminders::{self, Audience, Kind};
use crate::db::entities::{incidents, tenants};
use crate::tenancy::{TenantCtx, scoped};
use leakguard_domain::ids::TenantId;

/// The system actor of reminders (`system:reminders` in the timeline and the audit chain).
pub const ACTOR: &str = "reminders";

/// The reminder whose day has come for a due date, if any: the latest of 7, 3 and 1 days
/// before, on the day, and after it.
pub fn reminder_for(due: Date, today: Date) -> Option<Kind> {
    match (due - today).whole_days() {
        d if d < 0 => Some(Kind::Overdue),
        0 => Some(Kind::DueToday),
        1 => Some(Kind::DueIn1Day),
        2..=3 => Some(Kind::DueIn3Days),
        4..=7 => Some(Kind::DueIn7Days),
        _ => None,
    }
}

/// A reminder as shown in the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IncidentReminder)]
pub struct ReminderView {
    /// Id.
    pub id: Uuid,
    /// `US-CA`, `EU-GDPR`, …
    pub jurisdiction: String,
    /// Who must be told.
    pub audience: Audience,
    /// The regulator or agency (absent for notices to individuals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The due date it is about (`YYYY-MM-DD`).
    #[schema(value_type = String, format = Date)]
    pub due: String,
    /// Which reminder.
    pub kind: Kind,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub raised_at: i64,
}

impl ReminderView {
    fn of(m: incident_reminders::Model) -> Self {
        Self {
            id: m.id,
            jurisdiction: m.jurisdiction,
            audience: m.audience,
            recipient: (!m.recipient.is_empty()).then_some(m.recipient),
            due: m.due,
            kind: m.kind,
            raised_at: m.raised_at,
        }
    }
}

/// The reminders raised for an incident, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    incident: Uuid,
) -> Result<Vec<ReminderView>, IncidentError> {
    Ok(scoped::<incident_reminders::Entity>(ctx)
        .filter(incident_reminders::Column::IncidentId.eq(incident))
        .order_by_asc(incident_reminders::Column::RaisedAt)
        .order_by_asc(incident_reminders::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(ReminderView::of)
        .collect())
}

/// Raises the reminders whose day has come for one incident; returns how many were new.
pub async fn raise_for_incident(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    incident: &incidents::Model,
    now_ms: i64,
) -> Result<usize, IncidentError> {
    if incident.status == Status::Closed {
        return Ok(0);
    }
    let today = day_of(now_ms)?;
    let (tracked, _) = tracked(&Facts::of(incident)?, today)?;
    let mut raised = 0;
    for t in tracked {
        if !matches!(t.state, ObligationState::Due | ObligationState::Overdue) {
            continue;
        }
        let Some(due) = t.obligation.due else {
            continue;
        };
        let Some(kind) = reminder_for(due, today) else {
            continue;
        };
        let recipient = t.obligation.recipient.clone().unwrap_or_default();
        let txn = begin_write(db).await?;
        let inserted = incident_reminders::Entity::insert(incident_reminders::ActiveModel {
            tenant_id: Set(ctx.tenant_id().as_uuid()),
            id: Set(Uuid::now_v7()),
            incident_id: Set(incident.id),
            jurisdiction: Set(t.obligation.jurisdiction.clone()),
            audience: Set(t.audience),
            recipient: Set(recipient.clone()),
            due: Set(due.to_string()),
            kind: Set(kind),
            raised_at: Set(now_ms),
        })
        .on_conflict(
            OnConflict::columns([
                incident_reminders::Column::TenantId,
                incident_reminders::Column::IncidentId,
                incident_reminders::Column::Jurisdiction,
                incident_reminders::Column::Audience,
                incident_reminders::Column::Recipient,
                incident_reminders::Column::Due,
                incident_reminders::Column::Kind,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted != 1 {
            txn.commit().await?;
            continue;
        }
        let mut detail = json!({
            "reminder": kind.as_str(),
            "jurisdiction": t.obligation.jurisdiction,
            "audience": t.audience.as_str(),
            "due": due.to_string(),
            "days_left": t.days_left,
        });
        if !recipient.is_empty() {
            detail["recipient"] = json!(recipient);
        }
        append_event(
            &txn,
            ctx,
            incident.id,
            EventKind::Reminder,
            now_ms,
            detail.clone(),
            detail,
        )
        .await?;
        txn.commit().await?;
        raised += 1;
    }
    Ok(raised)
}

/// Job: raises the due reminders of every open incident of every tenant that is not purged
/// (the law's clock does not stop when a shop uninstalls the app). An incident whose stored
/// facts cannot be read is logged and skipped. Returns how many reminders were raised; tests
/// call it with the time they want.
pub async fn reminder_job(db: &DatabaseConnection, now_ms: i64) -> anyhow::Result<u64> {
    let tenants = tenants::Entity::find()
        .filter(tenants::Column::Status.ne(tenants::Status::Purged))
        .order_by_asc(tenants::Column::Id)
        .all(db)
        .await?;
    let mut raised = 0_u64;
    for tenant in tenants {
        let ctx = TenantCtx::system(TenantId(tenant.id), ACTOR);
        let open = scoped::<incidents::Entity>(&ctx)
            .filter(incidents::Column::Status.ne(Status::Closed))
            .order_by_asc(incidents::Column::Id)
            .all(db)
            .await?;
        for incident in open {
            match raise_for_incident(db, &ctx, &incident, now_ms).await {
                Ok(n) => raised += n as u64,
                Err(IncidentError::Invalid(e)) => tracing::warn!(
                    tenant_id = %tenant.id,
                    incident_id = %incident.id,
                    error = %e.message,
                    "Incident facts give no obligations; no reminders raised."
                ),
                Err(e) => return Err(anyhow::Error::new(e).context("incident reminders")),
            }
        }
    }
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_latest_reminder_whose_day_has_come_is_chosen() {
        let due = date!(2026 - 04 - 01);
        let on = |day: Date| reminder_for(due, day);
        assert_eq!(on(date!(2026 - 03 - 24)), None, "8 days before");
        assert_eq!(on(date!(2026 - 03 - 25)), Some(Kind::DueIn7Days));
        assert_eq!(on(date!(2026 - 03 - 28)), Some(Kind::DueIn7Days), "4 days");
        assert_eq!(on(date!(2026 - 03 - 29)), Some(Kind::DueIn3Days));
        assert_eq!(on(date!(2026 - 03 - 30)), Some(Kind::DueIn3Days), "2 days");
        assert_eq!(on(date!(2026 - 03 - 31)), Some(Kind::DueIn1Day));
        assert_eq!(on(date!(2026 - 04 - 01)), Some(Kind::DueToday));
        assert_eq!(on(date!(2026 - 04 - 02)), Some(Kind::Overdue));
        assert_eq!(on(date!(2027 - 04 - 02)), Some(Kind::Overdue));
    }
}
