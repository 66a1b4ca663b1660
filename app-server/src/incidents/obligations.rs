//! The notice obligations of an incident: the law module's answer for the stored facts (with
//! the notices recorded as sent), and where each stands on a given day: sent, due in N days,
//! overdue, waiting for the notice it counts from, or without a fixed date.
//!
//! "Today" is a parameter (the caller's clock), so the countdowns, the overdue flags and the
//! reminder job compute the same thing for the same day; days are UTC calendar days.

use leakguard_domain::law::{self, Exposure, Obligation};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use time::Date;
use uuid::Uuid;

use super::facts::Facts;
use super::reminders::{self, ReminderView};
use super::{IncidentError, find, rule_table};
use crate::db::entities::incident_reminders::Audience;
use crate::invalid_input::{InvalidInput, Reason};
use crate::tenancy::TenantCtx;

/// Where an obligation stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = IncidentObligationState)]
pub enum ObligationState {
    /// Not owed on these facts.
    NotOwed,
    /// Recorded as sent.
    Sent,
    /// Owed by its due date, which has not passed.
    Due,
    /// Owed and its due date has passed without the notice recorded as sent.
    Overdue,
    /// Due a number of days after the notice to individuals, which is not recorded yet.
    AwaitingNotice,
    /// Owed without a fixed date ("most expedient time", "without undue delay").
    NoFixedDate,
}

/// A notice obligation, as `leakguard rules deadlines --json` prints it, plus where it stands.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IncidentObligation)]
pub struct ObligationView {
    /// `US-CA`, `EU-GDPR`, …
    pub jurisdiction: String,
    /// Who must be told.
    pub audience: Audience,
    /// Who receives the notice (regulators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// Whether the notice is owed on these facts.
    pub triggered: bool,
    /// Due date (`YYYY-MM-DD`), when it is fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due: Option<String>,
    /// Due a number of days after an event that has not happened yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_after: Option<DueAfter>,
    /// Statute, rule text and deadline reading, then `Why:` the notice is or is not owed.
    pub basis: String,
    /// The rule version applied.
    pub rule_version: String,
    /// Where it stands today.
    pub state: ObligationState,
    /// The day the notice was recorded as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub sent_on: Option<String>,
    /// Days from today to the due date (negative when overdue), while the notice is owed and
    /// not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// The due date has passed and the notice is not recorded as sent.
    pub overdue: bool,
}

/// A due date relative to an event.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = IncidentDueAfter)]
pub struct DueAfter {
    /// The event (`individual_notice_sent`).
    pub event: String,
    /// Days after it.
    pub days: u32,
}

/// The notice obligations of an incident's stored facts, and the reminders raised for them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentObligations {
    /// The incident.
    pub incident_id: Uuid,
    /// The rule table version the obligations were computed with.
    pub rule_table_version: String,
    /// The day (UTC) the countdowns count from.
    #[schema(value_type = String, format = Date)]
    pub today: String,
    /// How many obligations are overdue.
    pub overdue: usize,
    /// Earliest first.
    pub obligations: Vec<ObligationView>,
    /// California exposure estimate (as `leakguard rules deadlines --json`), with its sources.
    #[schema(value_type = Object)]
    pub exposure: serde_json::Value,
    /// The deadline reminders raised so far, oldest first.
    pub reminders: Vec<ReminderView>,
}

/// An obligation of the law module with where it stands.
#[derive(Clone, Debug)]
pub(crate) struct Tracked {
    pub(crate) obligation: Obligation,
    pub(crate) audience: Audience,
    pub(crate) sent_on: Option<Date>,
    pub(crate) days_left: Option<i64>,
    pub(crate) state: ObligationState,
}

/// The UTC calendar day of a Unix-ms instant.
pub fn day_of(now_ms: i64) -> Result<Date, IncidentError> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .map(|t| t.date())
        .map_err(|e| IncidentError::Unexpected(e.into()))
}

fn text_of(value: impl Serialize) -> Result<String, IncidentError> {
    Ok(serde_json::to_value(value)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// The law module's obligations for `facts`, each with where it stands on `today`, and the
/// exposure estimate.
pub(crate) fn tracked(
    facts: &Facts,
    today: Date,
) -> Result<(Vec<Tracked>, Exposure), IncidentError> {
    let table = rule_table()?;
    let law_facts = facts.law_facts();
    let found = law::obligations(table, &law_facts)
        .map_err(|e| InvalidInput::new(Reason::InvalidIncidentFacts, e.to_string()))?;
    let tracked = found
        .into_iter()
        .map(|obligation| {
            let audience = Audience::of_law(obligation.audience);
            let sent_on = facts.notice_sent_on(
                &obligation.jurisdiction,
                audience,
                obligation.recipient.as_deref(),
            );
            let open = obligation.triggered && sent_on.is_none();
            let days_left = obligation
                .due
                .filter(|_| open)
                .map(|due| (due - today).whole_days());
            let state = match (obligation.triggered, sent_on, days_left) {
                (false, _, _) => ObligationState::NotOwed,
                (true, Some(_), _) => ObligationState::Sent,
                (true, None, Some(d)) if d < 0 => ObligationState::Overdue,
                (true, None, Some(_)) => ObligationState::Due,
                (true, None, None) if obligation.due_after.is_some() => {
                    ObligationState::AwaitingNotice
                }
                (true, None, None) => ObligationState::NoFixedDate,
            };
            Tracked {
                obligation,
                audience,
                sent_on,
                days_left,
                state,
            }
        })
        .collect();
    Ok((tracked, law::exposure(table, &law_facts)))
}

fn view_of(t: &Tracked) -> Result<ObligationView, IncidentError> {
    let o = &t.obligation;
    Ok(ObligationView {
        jurisdiction: o.jurisdiction.clone(),
        audience: t.audience,
        recipient: o.recipient.clone(),
        triggered: o.triggered,
        due: o.due.map(|d| d.to_string()),
        due_after: o
            .due_after
            .map(|r| {
                Ok::<_, IncidentError>(DueAfter {
                    event: text_of(r.event)?,
                    days: r.days,
                })
            })
            .transpose()?,
        basis: format!("{} Why: {}.", o.basis, o.reason),
        rule_version: o.rule_version.clone(),
        state: t.state,
        sent_on: t.sent_on.map(|d| d.to_string()),
        days_left: t.days_left,
        overdue: t.state == ObligationState::Overdue,
    })
}

/// The notice obligations of an incident on the day of `now_ms`, with the reminders raised.
pub async fn obligations(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    now_ms: i64,
) -> Result<IncidentObligations, IncidentError> {
    let incident = find(db, ctx, id).await?;
    let facts = Facts::of(&incident)?;
    let today = day_of(now_ms)?;
    let (tracked, exposure) = tracked(&facts, today)?;
    let obligations = tracked.iter().map(view_of).collect::<Result<Vec<_>, _>>()?;
    Ok(IncidentObligations {
        incident_id: id,
        rule_table_version: rule_table()?.table_version.clone(),
        today: today.to_string(),
        overdue: obligations.iter().filter(|o| o.overdue).count(),
        obligations,
        exposure: serde_json::to_value(&exposure)?,
        reminders: reminders::list(db, ctx, id).await?,
    })
}
