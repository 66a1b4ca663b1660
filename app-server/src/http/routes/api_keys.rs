//! The tenant's API keys: list (admins) and revoke.

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::extractors::AdminCtx;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Every key of the tenant, with its status and last use (admins).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys",
    responses((status = 200, body = Vec<crate::tenants::ApiKeyView>), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::tenants::list_api_keys(&state.db, &ctx).await?))
}

/// Revokes a key at once (one's own; admins for others, owners for owners' and admins').
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", tag = "api-keys", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::tenants::ApiKeyView), (status = 403)))]
pub async fn revoke(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::tenants::revoke_api_key(&state.db, &ctx, *id).await?))
}
