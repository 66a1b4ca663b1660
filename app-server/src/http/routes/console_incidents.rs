//! `/console/incidents`: the incidents list (and opening one), and an incident's page: its
//! timeline, the notice obligations with countdowns and overdue flags, the exposure estimate
//! with its sources, the data involved and the reminders raised. Its forms take the actions the
//! API takes (status, affected people and data, timeline events, notices sent) through the same
//! services; a refused form shows the service's message on the page and changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use sea_orm::Iterable;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::console_pages::{Notes, page, see_other};
use crate::console::pages;
use crate::db::entities::incident_reminders::Audience;
use crate::db::now_ms;
use crate::http::console_auth::{ConsoleCtx, ConsoleForm, PageError};
use crate::incidents::{
    self, FactsChange, IncidentError, IncidentPatch, NewIncident, NewIncidentEvent, Status,
};
use crate::invalid_input::{InvalidInput, Reason};
use crate::state::AppState;

/// Query of the incidents list.
#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
}

async fn list_page(
    state: &AppState,
    cc: &ConsoleCtx,
    filter: Option<&str>,
    notes: Notes,
) -> Result<HttpResponse, PageError> {
    let status = filter
        .filter(|s| !s.is_empty())
        .map(|s| incidents::parse_status(s, Reason::InvalidFilter))
        .transpose()
        .map_err(|e| cc.err(IncidentError::from(e)))?;
    let list = incidents::list_incidents(&state.db, &cc.ctx, status, 200, None)
        .await
        .map_err(|e| cc.err(e))?;
    let statuses: Vec<&str> = Status::iter().map(Status::as_str).collect();
    // Overdue notices are flagged in the list too (one law computation per incident shown).
    let now = now_ms();
    let mut overdue = HashMap::new();
    for incident in &list.incidents {
        let found = incidents::obligations(&state.db, &cc.ctx, incident.id, now)
            .await
            .map_err(|e| cc.err(e))?;
        overdue.insert(incident.id.to_string(), found.overdue);
    }
    let values = context! {
        incidents => pages::value(&list.incidents),
        overdue => pages::value(&overdue),
        filter => filter.unwrap_or_default(),
        statuses => statuses,
        can_write => cc.ctx.role().can_review(),
    };
    page(state, cc, "incidents.html", "incidents", values, notes).await
}

/// `GET /console/incidents`.
pub async fn list(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    list_page(&state, &cc, q.status.as_deref(), Notes::default()).await
}

/// Fields of the open form.
#[derive(Deserialize)]
pub struct OpenForm {
    title: String,
    severity: String,
    #[serde(default)]
    discovered_at: Option<String>,
}

/// `POST /console/incidents`: opens an incident (owners, admins, analysts).
pub async fn open(
    state: web::Data<AppState>,
    ConsoleForm { cc, form }: ConsoleForm<OpenForm>,
) -> Result<HttpResponse, PageError> {
    let discovered_at = form.discovered_at.filter(|d| !d.trim().is_empty());
    let new = NewIncident {
        title: form.title,
        severity: form.severity,
        owner_user_id: None,
        facts: discovered_at.map(|d| FactsChange {
            discovered_at: Some(d),
            ..FactsChange::default()
        }),
    };
    match incidents::create_incident(&state.db, &cc.ctx, new).await {
        Ok(created) => Ok(see_other(format!(
            "/console/incidents/{}?saved=1",
            created.incident.id
        ))),
        Err(IncidentError::Invalid(e)) => list_page(&state, &cc, None, refused(e)).await,
        Err(e) => Err(cc.err(e)),
    }
}

fn refused(e: InvalidInput) -> Notes {
    Notes {
        error: Some(e.message),
        status: Some(StatusCode::BAD_REQUEST),
        ..Notes::default()
    }
}

async fn incident_page(
    state: &AppState,
    cc: &ConsoleCtx,
    id: Uuid,
    notes: Notes,
) -> Result<HttpResponse, PageError> {
    let detail = incidents::get_incident(&state.db, &cc.ctx, id)
        .await
        .map_err(|e| cc.err(e))?;
    let obligations = incidents::obligations(&state.db, &cc.ctx, id, now_ms())
        .await
        .map_err(|e| cc.err(e))?;
    let mut jurisdictions: Vec<String> = obligations
        .obligations
        .iter()
        .map(|o| o.jurisdiction.clone())
        .collect();
    jurisdictions.sort();
    jurisdictions.dedup();
    let audiences: Vec<&str> = Audience::ALL.iter().map(|a| a.as_str()).collect();
    let next: Vec<&str> = Status::iter()
        .filter(|s| *s > detail.incident.status)
        .map(Status::as_str)
        .collect();
    let residents = counts_text(&detail.incident.facts.residents);
    let countries = counts_text(&detail.incident.facts.countries);
    let values = context! {
        incident => pages::value(&detail.incident),
        timeline => pages::value(&detail.timeline),
        obligations => pages::value(&obligations),
        jurisdictions => jurisdictions,
        audiences => audiences,
        next_statuses => next,
        residents_text => residents,
        countries_text => countries,
        can_write => cc.ctx.role().can_review(),
        can_record_notice => incidents::may_record_notices(&cc.ctx),
    };
    page(state, cc, "incident.html", "incidents", values, notes).await
}

/// Query of the incident page.
#[derive(Deserialize)]
pub struct IncidentQuery {
    saved: Option<String>,
}

/// `GET /console/incidents/{incident_id}`.
pub async fn incident(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    id: web::Path<Uuid>,
    q: web::Query<IncidentQuery>,
) -> Result<HttpResponse, PageError> {
    let notes = Notes {
        flash: q.saved.as_ref().map(|_| "Saved.".to_owned()),
        ..Notes::default()
    };
    incident_page(&state, &cc, *id, notes).await
}

/// After a change: back to the page, or the page again with the refusal.
async fn answer(
    state: &AppState,
    cc: &ConsoleCtx,
    id: Uuid,
    result: Result<incidents::IncidentDetail, IncidentError>,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(_) => Ok(see_other(format!("/console/incidents/{id}?saved=1"))),
        Err(IncidentError::Invalid(e)) => incident_page(state, cc, id, refused(e)).await,
        Err(e) => Err(cc.err(e)),
    }
}

fn field(form: &HashMap<String, String>, name: &str) -> Option<String> {
    form.get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `POST /console/incidents/{incident_id}/events`: a timeline event or a notice sent; the
/// form's fields are the API body's.
pub async fn add_event(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    ConsoleForm { cc, form }: ConsoleForm<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let days = match field(&form, "days").map(|d| d.parse::<i64>()) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            let e = InvalidInput::new(Reason::InvalidIncidentFacts, "days must be a whole number");
            return incident_page(&state, &cc, *id, refused(e)).await;
        }
    };
    let body = NewIncidentEvent {
        kind: field(&form, "kind").unwrap_or_default(),
        date: field(&form, "date"),
        window_start: field(&form, "window_start"),
        window_end: field(&form, "window_end"),
        days,
        note: field(&form, "note"),
        jurisdiction: field(&form, "jurisdiction"),
        audience: field(&form, "audience"),
        recipient: field(&form, "recipient"),
    };
    let result = incidents::add_event(&state.db, &cc.ctx, *id, body).await;
    answer(&state, &cc, *id, result).await
}

/// Fields of the status form.
#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /console/incidents/{incident_id}/status`.
pub async fn change_status(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    ConsoleForm { cc, form }: ConsoleForm<StatusForm>,
) -> Result<HttpResponse, PageError> {
    let patch = IncidentPatch {
        status: Some(form.status),
        reason: form.reason.filter(|r| !r.trim().is_empty()),
        ..IncidentPatch::default()
    };
    let result = incidents::update_incident(&state.db, &cc.ctx, *id, patch).await;
    answer(&state, &cc, *id, result).await
}

/// Parses `CA=600, TX=300` as the API's map (negative counts are left to the service, which
/// refuses them with its own message).
fn parse_counts(field: &str, text: &str) -> Result<BTreeMap<String, i64>, InvalidInput> {
    let mut out = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parsed = part
            .split_once('=')
            .and_then(|(code, n)| Some((code.trim().to_owned(), n.trim().parse::<i64>().ok()?)));
        let Some((code, n)) = parsed else {
            return Err(InvalidInput::new(
                Reason::InvalidIncidentFacts,
                format!("{field}: {part:?} is not CODE=COUNT (e.g. CA=600)"),
            ));
        };
        if out.insert(code.to_ascii_uppercase(), n).is_some() {
            return Err(InvalidInput::new(
                Reason::InvalidIncidentFacts,
                format!("{field}: {code} is given twice"),
            ));
        }
    }
    Ok(out)
}

fn counts_text(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(code, n)| format!("{code}={n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The facts form as a change: empty fields stay as they are, except that the two count
/// lists replace the whole map (an emptied list clears it).
fn facts_change(form: &HashMap<String, String>) -> Result<FactsChange, InvalidInput> {
    let records = field(form, "records_estimate")
        .map(|n| {
            n.parse::<i64>().map_err(|_| {
                InvalidInput::new(
                    Reason::InvalidIncidentFacts,
                    "records_estimate must be a whole number",
                )
            })
        })
        .transpose()?;
    Ok(FactsChange {
        residents: Some(parse_counts(
            "residents",
            &field(form, "residents").unwrap_or_default(),
        )?),
        countries: Some(parse_counts(
            "countries",
            &field(form, "countries").unwrap_or_default(),
        )?),
        categories: field(form, "categories")
            .map(|c| c.split(',').map(|n| n.trim().to_owned()).collect()),
        records_estimate: records,
        encrypted: Some(form.contains_key("encrypted")),
        key_compromised: Some(form.contains_key("key_compromised")),
        ..FactsChange::default()
    })
}

/// `POST /console/incidents/{incident_id}/facts`: affected people and the data involved.
pub async fn change_facts(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    ConsoleForm { cc, form }: ConsoleForm<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let change = match facts_change(&form) {
        Ok(change) => change,
        Err(e) => return incident_page(&state, &cc, *id, refused(e)).await,
    };
    let patch = IncidentPatch {
        facts: Some(change),
        ..IncidentPatch::default()
    };
    let result = incidents::update_incident(&state.db, &cc.ctx, *id, patch).await;
    answer(&state, &cc, *id, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_lists_parse_and_keep_negative_counts_for_the_service_to_refuse() {
        let parsed = parse_counts("residents", "ca=600, TX=-3").unwrap_or_default();
        assert_eq!(parsed.get("CA"), Some(&600));
        assert_eq!(parsed.get("TX"), Some(&-3));
        assert!(parse_counts("residents", "").is_ok_and(|m| m.is_empty()));
        for bad in ["CA", "CA=many", "CA=1,ca=2"] {
            let refused = parse_counts("residents", bad).map_err(|e| e.reason);
            assert_eq!(refused, Err(Reason::InvalidIncidentFacts), "{bad}");
        }
    }
}
