//! `GET /api/v1/tenant`: the caller's own tenant.

use actix_web::{HttpResponse, web};

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// The caller's tenant.
#[utoipa::path(get, path = "/api/v1/tenant", tag = "tenant",
    responses((status = 200, body = crate::tenants::TenantView)))]
pub async fn get(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    let tenant = crate::tenants::current(&state.db, &ctx).await?;
    Ok(HttpResponse::Ok().json(tenant))
}
