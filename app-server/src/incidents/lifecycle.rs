//! Changing an incident: fields and facts (`PATCH`), status transitions, and timeline events
//! that also set the fact they report (`POST …/events`).
//!
//! Transitions: the status moves forward along triage → investigating → contained → notifying
//! → closed, skipping steps if need be; it moves back only from closed to investigating, and
//! only with a non-empty `reason` (`invalid_transition` otherwise). Closing stamps `closed_at`,
//! reopening clears it.

use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, QueryFilter};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::facts::{Facts, FactsChange};
use super::notices::{self, NoticeRequest};
use super::obligations::day_of;
use super::{
    EventKind, IncidentDetail, IncidentError, IncidentView, Status, append_event, check_owner,
    check_title, detail_of, find_for_update, parse_severity, parse_status, require_writer,
    rule_table,
};
use crate::db::entities::incidents;
use crate::db::{begin_write, now_ms};
use crate::invalid_input::{InvalidInput, Reason};
use crate::tenancy::{TenantCtx, scoped_update};

/// Longest reason or note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Body of `PATCH /api/v1/incidents/{id}`; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// Short description, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    #[schema(pattern = "^(low|medium|high|critical)$")]
    pub severity: Option<String>,
    /// The user in charge (an active user of the tenant).
    pub owner_user_id: Option<Uuid>,
    /// `triage`, `investigating`, `contained`, `notifying` or `closed`: forward only; a closed
    /// incident reopens to `investigating` with a `reason`.
    #[schema(pattern = "^(triage|investigating|contained|notifying|closed)$")]
    pub status: Option<String>,
    /// Why (required to reopen; recorded on the timeline).
    pub reason: Option<String>,
    /// Changed facts.
    pub facts: Option<FactsChange>,
}

/// Body of `POST /api/v1/incidents/{id}/events`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentEvent {
    /// `aware`, `discovered`, `determination`, `containment` (each with `date`),
    /// `breach_window` (`window_start` and/or `window_end`), `law_enforcement_delay` (`days`),
    /// `note` (`note`) or `notice_sent` (`date`, `jurisdiction`, `audience`, and `recipient`
    /// when the audience has more than one in that jurisdiction).
    #[schema(
        pattern = "^(aware|discovered|determination|containment|breach_window|law_enforcement_delay|note|notice_sent)$"
    )]
    pub kind: String,
    /// The day it happened (`YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
    /// First day of the breach window.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub window_start: Option<String>,
    /// Last day of the breach window.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub window_end: Option<String>,
    /// Days law enforcement asked notice to be delayed (0 to 3650).
    #[serde(default)]
    pub days: Option<i64>,
    /// Free text, up to 2000 characters (required for `note`).
    #[serde(default)]
    pub note: Option<String>,
    /// `notice_sent`: the jurisdiction notified under (`US-CA`, `EU-GDPR`, …).
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// `notice_sent`: `individuals`, `regulator`, `consumer_reporting_agencies` or `media`.
    #[serde(default)]
    #[schema(pattern = "^(individuals|regulator|consumer_reporting_agencies|media)$")]
    pub audience: Option<String>,
    /// `notice_sent`: the regulator or agency, as the obligation names it (may be left out when
    /// the audience has one recipient in the jurisdiction).
    #[serde(default)]
    pub recipient: Option<String>,
}

fn note_text(field: &str, text: &Option<String>) -> Result<Option<String>, InvalidInput> {
    let Some(text) = text.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(InvalidInput::new(
            Reason::InvalidField,
            format!("{field} must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// The next status, or `invalid_transition`.
pub fn transition(from: Status, to: Status, reason: Option<&str>) -> Result<Status, InvalidInput> {
    if to >= from {
        return Ok(to);
    }
    if from == Status::Closed && to == Status::Investigating {
        return match reason {
            Some(_) => Ok(to),
            None => Err(InvalidInput::new(
                Reason::InvalidTransition,
                "reopening a closed incident needs a reason",
            )),
        };
    }
    Err(InvalidInput::new(
        Reason::InvalidTransition,
        format!(
            "an incident moves forward only, not from {} to {}; a closed one reopens to investigating with a reason",
            from.as_str(),
            to.as_str()
        ),
    ))
}

/// Each field that differs between two views, as `{"from", "to"}` (facts by their own names).
fn changes(
    before: &IncidentView,
    after: &IncidentView,
) -> Result<Map<String, Value>, IncidentError> {
    let (before, after) = (serde_json::to_value(before)?, serde_json::to_value(after)?);
    let mut out = Map::new();
    for key in ["title", "severity", "status", "owner_user_id"] {
        if before[key] != after[key] {
            out.insert(key.into(), json!({"from": before[key], "to": after[key]}));
        }
    }
    if let (Some(old), Some(new)) = (before["facts"].as_object(), after["facts"].as_object()) {
        for (key, value) in new {
            if old.get(key) != Some(value) {
                out.insert(key.clone(), json!({"from": old.get(key), "to": value}));
            }
        }
    }
    Ok(out)
}

/// The row's changeable columns from a model (tenant and id untouched).
fn changeable(
    m: &incidents::Model,
    facts: &Facts,
) -> Result<incidents::ActiveModel, IncidentError> {
    let mut row = incidents::ActiveModel {
        title: Set(m.title.clone()),
        severity: Set(m.severity),
        status: Set(m.status),
        owner_user_id: Set(m.owner_user_id),
        updated_at: Set(m.updated_at),
        closed_at: Set(m.closed_at),
        ..Default::default()
    };
    facts.store(&mut row)?;
    Ok(row)
}

/// Changes an incident's fields, facts or status (owners, admins, analysts).
pub async fn update_incident(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    patch: IncidentPatch,
) -> Result<IncidentDetail, IncidentError> {
    require_writer(ctx)?;
    let facts_change = patch.facts.clone().unwrap_or_default();
    if patch.title.is_none()
        && patch.severity.is_none()
        && patch.owner_user_id.is_none()
        && patch.status.is_none()
        && facts_change.is_empty()
    {
        return Err(InvalidInput::from(
            "give at least one of title, severity, owner_user_id, status and facts",
        )
        .into());
    }
    let title = patch.title.as_deref().map(check_title).transpose()?;
    let severity = patch.severity.as_deref().map(parse_severity).transpose()?;
    let status = patch
        .status
        .as_deref()
        .map(|s| parse_status(s, Reason::InvalidIncidentStatus))
        .transpose()?;
    let reason = note_text("reason", &patch.reason)?;
    let table = rule_table()?;
    let txn = begin_write(db).await?;
    let current = find_for_update(&txn, ctx, id).await?;
    let mut facts = Facts::of(&current)?;
    facts.apply(&facts_change)?;
    facts.check(table)?;
    if let Some(owner) = patch
        .owner_user_id
        .filter(|o| Some(*o) != current.owner_user_id)
    {
        check_owner(&txn, ctx, owner).await?;
    }
    let now = now_ms();
    let mut next = current.clone();
    if let Some(title) = title {
        next.title = title;
    }
    if let Some(severity) = severity {
        next.severity = severity;
    }
    if let Some(owner) = patch.owner_user_id {
        next.owner_user_id = Some(owner);
    }
    if let Some(to) = status {
        next.status = transition(current.status, to, reason.as_deref())?;
        if next.status == Status::Closed && current.status != Status::Closed {
            next.closed_at = Some(now);
        } else if next.status != Status::Closed {
            next.closed_at = None;
        }
    }
    let mut row = changeable(&next, &facts)?;
    let before = IncidentView::of(current.clone())?;
    let after = IncidentView::with_facts(next.clone(), facts.view());
    let mut changed = changes(&before, &after)?;
    if changed.is_empty() {
        txn.commit().await?;
        return detail_of(db, ctx, id).await;
    }
    row.updated_at = Set(now);
    scoped_update::<incidents::Entity>(ctx)
        .set(row)
        .filter(incidents::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let kind = match (current.status, next.status) {
        (Status::Closed, to) if to != Status::Closed => EventKind::Reopened,
        (from, to) if from != to => EventKind::StatusChanged,
        _ => EventKind::Updated,
    };
    let fields: Vec<String> = changed.keys().cloned().collect();
    if let Some(reason) = &reason {
        changed.insert("reason".into(), Value::String(reason.clone()));
    }
    append_event(
        &txn,
        ctx,
        id,
        kind,
        now,
        Value::Object(changed),
        json!({
            "fields": fields,
            "status": next.status.as_str(),
            "previous_status": current.status.as_str(),
        }),
    )
    .await?;
    let detail = detail_of(&txn, ctx, id).await?;
    txn.commit().await?;
    Ok(detail)
}

/// What an added event changes: its kind, the facts it sets, the notice it records (matched to
/// an obligation later) and its timeline detail.
struct EventChange {
    kind: EventKind,
    facts: FactsChange,
    notice: Option<NoticeRequest>,
    detail: Map<String, Value>,
}

fn event_change(body: &NewIncidentEvent) -> Result<EventChange, InvalidInput> {
    let kind = EventKind::ADDABLE
        .into_iter()
        .find(|k| k.as_str() == body.kind)
        .ok_or_else(|| {
            InvalidInput::new(
                Reason::InvalidEventKind,
                "kind must be aware, discovered, determination, containment, breach_window, law_enforcement_delay, note or notice_sent",
            )
        })?;
    let needs = |what: &str| {
        InvalidInput::new(
            Reason::InvalidEventKind,
            format!("a {} event needs {what}", kind.as_str()),
        )
    };
    let dated = matches!(
        kind,
        EventKind::Aware
            | EventKind::Discovered
            | EventKind::Determination
            | EventKind::Containment
            | EventKind::NoticeSent
    );
    let noticed = kind == EventKind::NoticeSent;
    let windowed = kind == EventKind::BreachWindow;
    let delayed = kind == EventKind::LawEnforcementDelay;
    for (given, fits, field) in [
        (body.date.is_some(), dated, "date"),
        (
            body.window_start.is_some() || body.window_end.is_some(),
            windowed,
            "window_start and window_end",
        ),
        (body.days.is_some(), delayed, "days"),
        (
            body.jurisdiction.is_some() || body.audience.is_some() || body.recipient.is_some(),
            noticed,
            "jurisdiction, audience and recipient",
        ),
    ] {
        if given && !fits {
            return Err(InvalidInput::new(
                Reason::InvalidEventKind,
                format!("{field} does not apply to a {} event", kind.as_str()),
            ));
        }
    }
    let mut change = FactsChange::default();
    let mut detail = Map::new();
    if dated {
        let date = body.date.clone().ok_or_else(|| needs("a date"))?;
        detail.insert("date".into(), Value::String(date.clone()));
        match kind {
            EventKind::Aware => change.aware_at = Some(date),
            EventKind::Discovered => change.discovered_at = Some(date),
            EventKind::Determination => change.determined_at = Some(date),
            EventKind::Containment => change.contained_at = Some(date),
            _ => {}
        }
    }
    let notice = if noticed {
        let date = body.date.as_deref().ok_or_else(|| needs("a date"))?;
        Some(notices::request(
            body.jurisdiction.as_deref(),
            body.audience.as_deref(),
            body.recipient.as_deref(),
            date,
        )?)
    } else {
        None
    };
    if windowed {
        if body.window_start.is_none() && body.window_end.is_none() {
            return Err(needs("window_start or window_end"));
        }
        change.window_start = body.window_start.clone();
        change.window_end = body.window_end.clone();
        for (key, value) in [
            ("window_start", &body.window_start),
            ("window_end", &body.window_end),
        ] {
            if let Some(v) = value {
                detail.insert(key.into(), Value::String(v.clone()));
            }
        }
    }
    if delayed {
        let days = body.days.ok_or_else(|| needs("days"))?;
        change.law_enforcement_delay_days = Some(days);
        detail.insert("days".into(), json!(days));
    }
    let note = note_text("note", &body.note)?;
    if kind == EventKind::Note && note.is_none() {
        return Err(needs("a non-empty note"));
    }
    if let Some(note) = note {
        detail.insert("note".into(), Value::String(note));
    }
    Ok(EventChange {
        kind,
        facts: change,
        notice,
        detail,
    })
}

/// Adds an event to an incident's timeline and sets the fact it reports (owners, admins,
/// analysts; legal too for `notice_sent`). An event kind that is not known is refused before
/// the role is looked at.
pub async fn add_event(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    body: NewIncidentEvent,
) -> Result<IncidentDetail, IncidentError> {
    let EventChange {
        kind,
        facts: change,
        notice,
        mut detail,
    } = event_change(&body)?;
    if kind == EventKind::NoticeSent {
        if !super::may_record_notices(ctx) {
            return Err(IncidentError::Forbidden);
        }
    } else {
        require_writer(ctx)?;
    }
    let table = rule_table()?;
    let now = now_ms();
    let txn = begin_write(db).await?;
    let current = find_for_update(&txn, ctx, id).await?;
    let mut facts = Facts::of(&current)?;
    facts.apply(&change)?;
    if let Some(request) = notice {
        let notice = notices::resolve(&facts, request, day_of(now)?)?;
        detail.insert("jurisdiction".into(), json!(notice.jurisdiction));
        detail.insert("audience".into(), json!(notice.audience));
        if let Some(recipient) = &notice.recipient {
            detail.insert("recipient".into(), json!(recipient));
        }
        facts.record_notice(notice);
    }
    facts.check(table)?;
    let mut row = changeable(&current, &facts)?;
    row.updated_at = Set(now);
    scoped_update::<incidents::Entity>(ctx)
        .set(row)
        .filter(incidents::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    append_event(&txn, ctx, id, kind, now, Value::Object(detail), json!({})).await?;
    let out = detail_of(&txn, ctx, id).await?;
    txn.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_moves_forward_and_back_only_by_reopening_with_a_reason() {
        use Status::*;
        assert_eq!(transition(Triage, Investigating, None), Ok(Investigating));
        assert_eq!(transition(Triage, Closed, None), Ok(Closed));
        assert_eq!(transition(Contained, Contained, None), Ok(Contained));
        assert_eq!(
            transition(Closed, Investigating, Some("new evidence")),
            Ok(Investigating)
        );
        for (from, to, reason) in [
            (Closed, Investigating, None),
            (Closed, Triage, Some("why")),
            (Closed, Notifying, Some("why")),
            (Notifying, Contained, Some("why")),
            (Investigating, Triage, None),
        ] {
            let refused = transition(from, to, reason).map_err(|e| e.reason);
            assert_eq!(
                refused,
                Err(Reason::InvalidTransition),
                "{from:?} -> {to:?}"
            );
        }
    }
}
