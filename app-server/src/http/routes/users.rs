//! Users of the caller's tenant and their API keys.

use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::extractors::AdminCtx;
use crate::state::AppState;
use crate::tenancy::{Role, TenantCtx};
use crate::tenants::{ApiKeyView, UserChange};

const ROLES: &str = "role must be owner, admin, legal, analyst or viewer";

/// Body of `POST /api/v1/users`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Platform id (Shopify user id, Magento admin id) or a label.
    external_id: String,
    /// Name shown in the console.
    display_name: String,
    /// `owner`, `admin`, `legal`, `analyst` or `viewer`.
    #[schema(pattern = "^(owner|admin|legal|analyst|viewer)$")]
    role: String,
}

/// Body of `PATCH /api/v1/users/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New role: `owner`, `admin`, `legal`, `analyst` or `viewer`.
    #[schema(pattern = "^(owner|admin|legal|analyst|viewer)$")]
    role: Option<String>,
    /// `false` deactivates the user (sign-in and keys refused), `true` reactivates them.
    active: Option<bool>,
}

/// Body of `POST /api/v1/users/{id}/api-keys` (every field optional).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NewKey {
    /// Label shown in listings (default `api`).
    label: Option<String>,
    /// Days until the key expires (default 90).
    #[schema(minimum = 1, maximum = 365)]
    expires_in_days: Option<u32>,
}

/// A key just issued: the key (shown once) and how it is listed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedKey<'a> {
    /// The key; send it as `Authorization: Bearer <key>`. Shown only in this response.
    api_key: &'a str,
    #[serde(flatten)]
    view: &'a ApiKeyView,
}

fn parse_role(role: &str) -> Result<Role, ApiError> {
    Role::parse(role)
        .ok_or_else(|| ApiError::refused(crate::invalid_input::Reason::InvalidRole, ROLES))
}

/// Lists users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<crate::tenants::UserView>)))]
pub async fn list(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::tenants::list_users(&state.db, &ctx).await?))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::tenants::UserView)))]
pub async fn get(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::tenants::get_user(&state.db, &ctx, *id).await?))
}

/// Adds a user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = crate::tenants::UserView), (status = 403), (status = 409)))]
pub async fn create(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let role = parse_role(&body.role)?;
    let user =
        crate::tenants::create_user(&state.db, &ctx, &body.external_id, &body.display_name, role)
            .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Changes a user's role or deactivates/reactivates them (admins; owners for owners and
/// admins).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    request_body = UserPatch,
    responses((status = 200, body = crate::tenants::UserView), (status = 403), (status = 409)))]
pub async fn update(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    id: web::Path<Uuid>,
    body: web::Json<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let change = UserChange {
        role: body.role.as_deref().map(parse_role).transpose()?,
        active: body.active,
    };
    let user = crate::tenants::update_user(&state.db, &ctx, *id, change).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Issues an API key for a user (admins; owners for owners and admins). The key is shown once.
#[utoipa::path(post, path = "/api/v1/users/{id}/api-keys", tag = "users", params(("id" = Uuid, Path)),
    request_body(content = NewKey, description = "Every field optional; `{}` for the defaults"),
    responses((status = 201, body = IssuedKey), (status = 403)))]
pub async fn create_api_key(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    id: web::Path<Uuid>,
    body: web::Json<NewKey>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let label = body.label.as_deref().unwrap_or("api");
    let key =
        crate::tenants::create_api_key(&state.db, &ctx, *id, label, body.expires_in_days).await?;
    Ok(HttpResponse::Created().json(IssuedKey {
        api_key: key.api_key.expose_secret(),
        view: &key.view,
    }))
}

/// A user's keys (admins, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{id}/api-keys", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ApiKeyView>), (status = 403)))]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::tenants::list_user_api_keys(&state.db, &ctx, *id).await?))
}
