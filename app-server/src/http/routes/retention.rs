//! Retention: the tenant's policy, enforcement now (or a dry run), run history, inventory.

use actix_web::{HttpResponse, web};
use leakguard_domain::retention::Policy;
use serde::Deserialize;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::extractors::AdminCtx;
use crate::retention::{self, Options, RetentionError};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

impl From<RetentionError> for ApiError {
    fn from(e: RetentionError) -> Self {
        match e {
            RetentionError::Invalid(m) => m.into(),
            RetentionError::Batch(m) => ApiError::internal(anyhow::anyhow!(m)),
            RetentionError::Unexpected(e) => ApiError::internal(e),
        }
    }
}

/// The current policy.
#[utoipa::path(get, path = "/api/v1/retention/policy", tag = "retention",
    responses((status = 200, body = Policy)))]
pub async fn get_policy(
    state: web::Data<AppState>,
    ctx: TenantCtx,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(retention::current_policy(&state.db, &ctx).await?))
}

/// Saves a new policy version (admins).
#[utoipa::path(put, path = "/api/v1/retention/policy", tag = "retention", request_body = Policy,
    responses((status = 200, body = Policy), (status = 403)))]
pub async fn put_policy(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    body: web::Json<Policy>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(retention::save_policy(&state.db, &ctx, body.into_inner()).await?))
}

/// Query of `POST /retention/runs`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Report what would be removed without removing it.
    #[serde(default)]
    dry_run: bool,
}

/// Enforces now (admins), or reports what would be removed (`?dry_run=true`).
#[utoipa::path(post, path = "/api/v1/retention/runs", tag = "retention", params(RunQuery),
    responses((status = 200, body = Vec<crate::retention::ClassReport>), (status = 403)))]
pub async fn run_now(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    query: web::Query<RunQuery>,
) -> Result<HttpResponse, ApiError> {
    let options = Options {
        dry_run: query.dry_run,
        ..Options::now()
    };
    let reports = retention::enforce_own_store(&state.db, &ctx, options, &|_| Ok(())).await?;
    Ok(HttpResponse::Ok().json(reports))
}

/// Run history.
#[utoipa::path(get, path = "/api/v1/retention/runs", tag = "retention",
    responses((status = 200, body = Vec<crate::retention::RunView>)))]
pub async fn list_runs(
    state: web::Data<AppState>,
    ctx: TenantCtx,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(retention::list_runs(&state.db, &ctx).await?))
}

/// One run.
#[utoipa::path(get, path = "/api/v1/retention/runs/{id}", tag = "retention", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::retention::RunView)))]
pub async fn get_run(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let run = retention::get_run(&state.db, &ctx, *id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(run))
}

/// What the tenant holds and how old it is.
#[utoipa::path(get, path = "/api/v1/retention/inventory", tag = "retention",
    responses((status = 200, body = Vec<crate::retention::InventoryEntry>)))]
pub async fn inventory(
    state: web::Data<AppState>,
    ctx: TenantCtx,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(retention::inventory(&state.db, &ctx, crate::db::now_ms()).await?))
}
