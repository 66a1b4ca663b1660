//! Users of the caller's tenant.

use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Deserialize;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::extractors::AdminCtx;
use crate::state::AppState;
use crate::tenancy::{Role, TenantCtx};

/// Body of `POST /api/v1/users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    external_id: String,
    display_name: String,
    role: String,
}

/// Lists users.
pub async fn list(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::tenants::list_users(&state.db, &ctx).await?))
}

/// One user.
pub async fn get(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::tenants::get_user(&state.db, &ctx, *id).await?))
}

/// Adds a user (admins).
pub async fn create(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::invalid("role must be owner, admin, legal, analyst or viewer"))?;
    let user =
        crate::tenants::create_user(&state.db, &ctx, &body.external_id, &body.display_name, role)
            .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Issues an API key for a user (admins). The key is shown once.
pub async fn create_api_key(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let key = crate::tenants::create_api_key(&state.db, &ctx, *id, "api").await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"api_key": key.expose_secret()})))
}
