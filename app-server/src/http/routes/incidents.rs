//! Incidents of the caller's tenant: open, list, read with the timeline, change, add timeline
//! events, and the notice obligations of the stored facts. Every tenant role reads; owners,
//! admins and analysts change (legal reads only for now).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use crate::db::now_ms;
use crate::http::error::ApiError;
use crate::incidents::{IncidentPatch, NewIncident, NewIncidentEvent};
use crate::invalid_input::Reason;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Query of `GET /api/v1/incidents`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only incidents in this status.
    #[param(pattern = "^(triage|investigating|contained|notifying|closed)$")]
    status: Option<String>,
    /// At most this many, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// Only incidents older than this one (`next_before` of the previous page).
    before: Option<Uuid>,
}

/// Lists incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery),
    responses((status = 200, body = crate::incidents::IncidentPage)))]
pub async fn list(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    query: web::Query<ListQuery>,
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
    let status = query
        .status
        .as_deref()
        .map(|s| crate::incidents::parse_status(s, Reason::InvalidFilter))
        .transpose()?;
    let page =
        crate::incidents::list_incidents(&state.db, &ctx, status, limit, query.before).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Opens an incident (owners, admins, analysts).
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = NewIncident,
    responses((status = 201, body = crate::incidents::IncidentDetail), (status = 403)))]
pub async fn create(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    body: web::Json<NewIncident>,
) -> Result<HttpResponse, ApiError> {
    let incident = crate::incidents::create_incident(&state.db, &ctx, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(incident))
}

/// One incident with its timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::incidents::IncidentDetail)))]
pub async fn get(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::incidents::get_incident(&state.db, &ctx, *id).await?))
}

/// Changes an incident's title, severity, owner, status or facts (owners, admins, analysts).
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = IncidentPatch,
    responses((status = 200, body = crate::incidents::IncidentDetail), (status = 403)))]
pub async fn update(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
    body: web::Json<IncidentPatch>,
) -> Result<HttpResponse, ApiError> {
    let incident =
        crate::incidents::update_incident(&state.db, &ctx, *id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(incident))
}

/// Adds a timeline event, which also sets the fact it reports (owners, admins, analysts);
/// `notice_sent` records a notice as sent, which dates the deadlines that count from it.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/events", tag = "incidents",
    params(("id" = Uuid, Path)), request_body = NewIncidentEvent,
    responses((status = 201, body = crate::incidents::IncidentDetail), (status = 403)))]
pub async fn add_event(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
    body: web::Json<NewIncidentEvent>,
) -> Result<HttpResponse, ApiError> {
    let incident = crate::incidents::add_event(&state.db, &ctx, *id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(incident))
}

/// The notice obligations of the incident's stored facts (with the rule table version used),
/// where each stands today (sent, days left, overdue), and the deadline reminders raised.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/obligations", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::incidents::IncidentObligations)))]
pub async fn obligations(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = crate::incidents::obligations(&state.db, &ctx, *id, now_ms()).await?;
    Ok(HttpResponse::Ok().json(found))
}
