//! `/console/alerts`: the alerts list (state and severity filters, counts per state and per
//! severity) and an alert's page: its explanation, the principal's volume per hour against
//! its usual band (a server-rendered SVG chart), the evidence, the history and the
//! false-positive marks. Owners, admins and analysts act on it with one form per action
//! (acknowledge, false positive with reason, scope and expiry, resolve, reopen, escalate),
//! taken through the API's feedback service; a refused form shows the service's message on
//! the page and changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use sea_orm::{ColumnTrait, QuerySelect};
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::console_pages::{Notes, page, see_other};
use crate::alerts::{self, AlertError, AlertFeedback, AlertFilter, Severity, State};
use crate::console::chart::{ChartPoint, volume_chart};
use crate::console::pages;
use crate::db::entities::alerts as alert_rows;
use crate::db::now_ms;
use crate::http::console_auth::{ConsoleCtx, ConsoleForm, PageError};
use crate::invalid_input::{InvalidInput, Reason};
use crate::state::AppState;
use crate::tenancy::{TenantCtx, scoped};

/// Alerts shown in the list.
const LIST_LIMIT: u64 = 200;

/// Query of the alerts list.
#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    severity: Option<String>,
}

/// Alerts per (state, severity) of the tenant.
async fn counts(
    state: &AppState,
    ctx: &TenantCtx,
) -> Result<BTreeMap<(String, String), i64>, AlertError> {
    let rows: Vec<(State, Severity, i64)> = scoped::<alert_rows::Entity>(ctx)
        .select_only()
        .column(alert_rows::Column::State)
        .column(alert_rows::Column::Severity)
        .column_as(alert_rows::Column::Id.count(), "n")
        .group_by(alert_rows::Column::State)
        .group_by(alert_rows::Column::Severity)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(s, v, n)| ((s.as_str().to_owned(), v.as_str().to_owned()), n))
        .collect())
}

fn refused(message: &str) -> InvalidInput {
    InvalidInput::new(Reason::InvalidFilter, message)
}

/// `GET /console/alerts`.
pub async fn list(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let wanted_state = q.state.as_deref().filter(|s| !s.is_empty());
    let wanted_severity = q.severity.as_deref().filter(|s| !s.is_empty());
    let filter = AlertFilter {
        state: wanted_state
            .map(|s| State::parse(s).ok_or_else(|| refused("unknown state")))
            .transpose()
            .map_err(|e| cc.err(AlertError::from(e)))?,
        severity: wanted_severity
            .map(|s| Severity::parse(s).ok_or_else(|| refused("unknown severity")))
            .transpose()
            .map_err(|e| cc.err(AlertError::from(e)))?,
        ..AlertFilter::default()
    };
    let list = alerts::list_alerts(&state.db, &cc.ctx, &filter, LIST_LIMIT, None)
        .await
        .map_err(|e| cc.err(e))?;
    let counted = counts(&state, &cc.ctx).await.map_err(|e| cc.err(e))?;
    let mut by_state: BTreeMap<&str, i64> = State::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut by_severity: BTreeMap<&str, i64> =
        Severity::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for ((s, v), n) in &counted {
        *by_state.entry(s.as_str()).or_default() += n;
        *by_severity.entry(v.as_str()).or_default() += n;
    }
    let total: i64 = by_state.values().sum();
    let states: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    let values = context! {
        alerts => pages::value(&list.alerts),
        more => list.next_before.is_some(),
        state_filter => wanted_state.unwrap_or_default(),
        severity_filter => wanted_severity.unwrap_or_default(),
        states => states,
        severities => severities,
        by_state => by_state,
        by_severity => by_severity,
        total => total,
    };
    page(
        &state,
        &cc,
        "alerts.html",
        "alerts",
        values,
        Notes::default(),
    )
    .await
}

async fn alert_page(
    state: &AppState,
    cc: &ConsoleCtx,
    id: Uuid,
    notes: Notes,
) -> Result<HttpResponse, PageError> {
    let detail = alerts::get_alert(&state.db, &cc.ctx, id)
        .await
        .map_err(|e| cc.err(e))?;
    let hours = alerts::volume::alert_volume(&state.db, &cc.ctx, id)
        .await
        .map_err(|e| cc.err(e))?;
    let points: Vec<ChartPoint> = hours
        .iter()
        .map(|h| ChartPoint {
            at: h.at,
            value: h.volume,
            band_low: h.usual_low,
            band_high: h.usual_high,
        })
        .collect();
    let chart = volume_chart(
        &format!(
            "Volume per hour of {} against its usual band",
            detail.alert.principal_label
        ),
        &points,
    );
    let s = detail.alert.state;
    let values = context! {
        alert => pages::value(&detail),
        chart => minijinja::Value::from_safe_string(chart),
        can_act => cc.ctx.role().can_review(),
        can_acknowledge => s == State::Open,
        can_mark => matches!(s, State::Open | State::Acknowledged),
        can_resolve => matches!(s, State::Open | State::Acknowledged | State::Escalated),
        can_reopen => matches!(s, State::FalsePositive | State::Resolved),
    };
    page(state, cc, "alert.html", "alerts", values, notes).await
}

/// Query of the alert page.
#[derive(Deserialize)]
pub struct AlertQuery {
    saved: Option<String>,
}

/// `GET /console/alerts/{alert_id}`.
pub async fn alert(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    id: web::Path<Uuid>,
    q: web::Query<AlertQuery>,
) -> Result<HttpResponse, PageError> {
    let notes = Notes {
        flash: q.saved.as_ref().map(|_| "Saved.".to_owned()),
        ..Notes::default()
    };
    alert_page(&state, &cc, *id, notes).await
}

/// Fields of the feedback forms (the API body's, as text).
#[derive(Deserialize)]
pub struct FeedbackForm {
    action: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    /// A day (`YYYY-MM-DD`, end of that day UTC) or RFC 3339.
    #[serde(default)]
    until: Option<String>,
    /// A checkbox: present means true. Only the false-positive form sends `learn_shown`.
    #[serde(default)]
    learn_normal: Option<String>,
    #[serde(default)]
    learn_shown: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

fn filled(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl FeedbackForm {
    fn body(self) -> AlertFeedback {
        let until = filled(self.until).map(|u| {
            if u.len() == 10 && !u.contains('T') {
                format!("{u}T23:59:59Z")
            } else {
                u
            }
        });
        AlertFeedback {
            action: self.action,
            reason: filled(self.reason),
            scope: filled(self.scope),
            until,
            learn_normal: self.learn_shown.map(|_| self.learn_normal.is_some()),
            title: filled(self.title),
        }
    }
}

/// `POST /console/alerts/{alert_id}/feedback`: one of the feedback actions.
pub async fn feedback(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    ConsoleForm { cc, form }: ConsoleForm<FeedbackForm>,
) -> Result<HttpResponse, PageError> {
    match alerts::apply_feedback(&state.db, &cc.ctx, *id, form.body(), now_ms()).await {
        Ok(_) => Ok(see_other(format!("/console/alerts/{id}?saved=1"))),
        Err(AlertError::Invalid(e)) => {
            let notes = Notes {
                error: Some(e.message),
                status: Some(StatusCode::BAD_REQUEST),
                ..Notes::default()
            };
            alert_page(&state, &cc, *id, notes).await
        }
        Err(e) => Err(cc.err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(until: Option<&str>, learn: Option<&str>, shown: bool) -> FeedbackForm {
        FeedbackForm {
            action: "false_positive".into(),
            reason: Some("  nightly backup  ".into()),
            scope: Some(String::new()),
            until: until.map(str::to_owned),
            learn_normal: learn.map(str::to_owned),
            learn_shown: shown.then(|| "1".to_owned()),
            title: None,
        }
    }

    #[test]
    fn the_form_becomes_the_api_body() {
        let body = form(Some("2027-01-31"), None, true).body();
        assert_eq!(body.until.as_deref(), Some("2027-01-31T23:59:59Z"));
        assert_eq!(body.reason.as_deref(), Some("nightly backup"));
        assert_eq!(body.scope, None, "an empty choice is the default");
        assert_eq!(body.learn_normal, Some(false), "an unticked box says no");
        let body = form(Some(""), Some("on"), true).body();
        assert_eq!((body.until, body.learn_normal), (None, Some(true)));
        let body = form(Some("2027-01-31T10:00:00Z"), None, false).body();
        assert_eq!(body.until.as_deref(), Some("2027-01-31T10:00:00Z"));
        assert_eq!(body.learn_normal, None, "other forms do not send it");
    }
}
