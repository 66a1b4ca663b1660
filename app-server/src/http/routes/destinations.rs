//! Destinations of the caller's tenant and its outbox: create, list, read, delete, send a test
//! event; list outbox entries (the delivery log, dead letters) and replay one. Owners and
//! admins only (`AdminCtx`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::extractors::AdminCtx;
use crate::invalid_input::Reason;
use crate::outbox::destinations::DestinationPatch;
use crate::outbox::{EntryFilter, NewDestination, State};
use crate::state::AppState;

/// Adds a destination; the answer never holds the secret.
#[utoipa::path(post, path = "/api/v1/destinations", tag = "destinations",
    request_body = NewDestination,
    responses((status = 201, body = crate::outbox::DestinationView), (status = 403)))]
pub async fn create(
    state: web::Data<AppState>,
    ctx: AdminCtx,
    body: web::Json<NewDestination>,
) -> Result<HttpResponse, ApiError> {
    let view =
        crate::outbox::destinations::create(&state.outbound, &ctx.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The tenant's destinations with their health.
#[utoipa::path(get, path = "/api/v1/destinations", tag = "destinations",
    responses((status = 200, body = crate::outbox::destinations::DestinationList), (status = 403)))]
pub async fn list(state: web::Data<AppState>, ctx: AdminCtx) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::outbox::destinations::list(&state.outbound, &ctx.0).await?))
}

/// One destination.
#[utoipa::path(get, path = "/api/v1/destinations/{id}", tag = "destinations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::outbox::DestinationView), (status = 403)))]
pub async fn get(
    state: web::Data<AppState>,
    ctx: AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(crate::outbox::destinations::get(&state.outbound, &ctx.0, *id).await?))
}

/// Changes a destination's name, settings or secret (the secret stays write-only).
#[utoipa::path(patch, path = "/api/v1/destinations/{id}", tag = "destinations",
    params(("id" = Uuid, Path)), request_body = DestinationPatch,
    responses((status = 200, body = crate::outbox::DestinationView), (status = 403)))]
pub async fn update(
    state: web::Data<AppState>,
    ctx: AdminCtx,
    id: web::Path<Uuid>,
    body: web::Json<DestinationPatch>,
) -> Result<HttpResponse, ApiError> {
    let view = crate::outbox::destinations::update(&state.outbound, &ctx.0, *id, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Deletes a destination, its secret and the entries waiting for it.
#[utoipa::path(delete, path = "/api/v1/destinations/{id}", tag = "destinations",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403)))]
pub async fn delete(
    state: web::Data<AppState>,
    ctx: AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    crate::outbox::destinations::delete(&state.outbound, &ctx.0, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends one test event now and answers after the attempt (at most 10 s).
#[utoipa::path(post, path = "/api/v1/destinations/{id}/test", tag = "destinations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::outbox::TestResult), (status = 403)))]
pub async fn test(
    state: web::Data<AppState>,
    ctx: AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let result = crate::outbox::destinations::send_test(&state.outbound, &ctx.0, *id).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Query of `GET /api/v1/outbox`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// Only entries in this state (`dead` lists the dead letters).
    #[param(pattern = "^(queued|delivering|delivered|dead)$")]
    state: Option<String>,
    /// Only entries for this destination.
    destination_id: Option<Uuid>,
    /// At most this many, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// Only entries older than this one (`next_before` of the previous page).
    before: Option<Uuid>,
}

/// Outbox entries, newest first: the delivery log and the dead letters.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "destinations", params(EntryQuery),
    responses((status = 200, body = crate::outbox::EntryPage), (status = 403)))]
pub async fn entries(
    state: web::Data<AppState>,
    ctx: AdminCtx,
    query: web::Query<EntryQuery>,
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
    let state_filter = match query.state.as_deref() {
        None => None,
        Some("queued") => Some(State::Queued),
        Some("delivering") => Some(State::Delivering),
        Some("delivered") => Some(State::Delivered),
        Some("dead") => Some(State::Dead),
        Some(_) => {
            return Err(ApiError::refused(
                Reason::InvalidFilter,
                "state must be queued, delivering, delivered or dead",
            ));
        }
    };
    let filter = EntryFilter {
        state: state_filter,
        destination_id: query.destination_id,
        before: query.before,
    };
    let page = crate::outbox::entries::list(&state.outbound, &ctx.0, filter, limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Puts an entry (a dead letter, or one to send again) back in the queue, due now.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/replay", tag = "destinations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::outbox::EntryView), (status = 403), (status = 409)))]
pub async fn replay(
    state: web::Data<AppState>,
    ctx: AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(
        HttpResponse::Ok()
            .json(crate::outbox::entries::replay(&state.outbound, &ctx.0, *id).await?),
    )
}
