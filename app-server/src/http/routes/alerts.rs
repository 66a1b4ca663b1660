//! Alerts of the caller's tenant: list with filters, read one with its evidence, explanation
//! and history, and give feedback. Every tenant role reads; owners, admins and analysts act.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use crate::alerts::{AlertFeedback, AlertFilter, Severity, State};
use crate::db::now_ms;
use crate::http::error::ApiError;
use crate::invalid_input::Reason;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Query of `GET /api/v1/alerts`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertListQuery {
    /// Only alerts in this state.
    #[param(pattern = "^(open|acknowledged|false_positive|escalated|resolved)$")]
    state: Option<String>,
    /// Only alerts of this severity.
    #[param(pattern = "^(low|medium|high)$")]
    severity: Option<String>,
    /// Only alerts of this principal: its own name or id (database user, admin id,
    /// integration id, app id, client IP).
    #[param(max_length = 255)]
    principal: Option<String>,
    /// Only alerts whose activity lasted until this time or later (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// Only alerts whose activity started before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
    /// At most this many, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// Only alerts older than this one (`next_before` of the previous page).
    before: Option<Uuid>,
}

fn time_filter(name: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        crate::api_time::parse(t)
            .map_err(|e| ApiError::refused(Reason::InvalidFilter, format!("{name}: {e}")))
    })
    .transpose()
}

impl AlertListQuery {
    fn filter(&self) -> Result<AlertFilter, ApiError> {
        let refused = |m: &str| ApiError::refused(Reason::InvalidFilter, m);
        Ok(AlertFilter {
            state: self
                .state
                .as_deref()
                .map(|s| {
                    State::parse(s).ok_or_else(|| {
                        refused(
                            "state must be open, acknowledged, false_positive, escalated or resolved",
                        )
                    })
                })
                .transpose()?,
            severity: self
                .severity
                .as_deref()
                .map(|s| {
                    Severity::parse(s)
                        .ok_or_else(|| refused("severity must be low, medium or high"))
                })
                .transpose()?,
            principal: match self.principal.as_deref() {
                Some(p) if p.is_empty() || p.chars().count() > 255 => {
                    return Err(refused("principal must be 1 to 255 characters"));
                }
                other => other.map(str::to_owned),
            },
            since: time_filter("since", self.since.as_deref())?,
            until: time_filter("until", self.until.as_deref())?,
        })
    }
}

/// Lists alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertListQuery),
    responses((status = 200, body = crate::alerts::AlertPage)))]
pub async fn list(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    query: web::Query<AlertListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = match query.limit.unwrap_or(50) {
        n @ 1..=500 => n,
        _ => {
            return Err(ApiError::refused(
                Reason::InvalidLimit,
                "limit must be 1 to 500",
            ));
        }
    };
    let filter = query.filter()?;
    let page = crate::alerts::list_alerts(&state.db, &ctx, &filter, limit, query.before).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One alert with its explanation, evidence, history and suppressions.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::alerts::AlertDetail)))]
pub async fn get(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::alerts::get_alert(&state.db, &ctx, *id).await?))
}

/// Acknowledges, marks a false positive (with reason, scope and expiry), resolves, reopens or
/// escalates an alert to an incident (owners, admins, analysts).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/feedback", tag = "alerts",
    params(("id" = Uuid, Path)), request_body = AlertFeedback,
    responses((status = 200, body = crate::alerts::AlertDetail), (status = 403)))]
pub async fn feedback(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
    body: web::Json<AlertFeedback>,
) -> Result<HttpResponse, ApiError> {
    let alert =
        crate::alerts::apply_feedback(&state.db, &ctx, *id, body.into_inner(), now_ms()).await?;
    Ok(HttpResponse::Ok().json(alert))
}
