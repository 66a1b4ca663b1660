//! Magento module endpoints (`/api/v1/magento/*`): enrollment (token), the signed module
//! calls, and the tenant admin's enrollment-token route.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::db::now_ms;
use crate::enrollment::{self, TokenKind};
use crate::http::error::ApiError;
use crate::http::extractors::{AdminCtx, MagentoModule};
use crate::magento;
use crate::state::AppState;

/// `POST /api/v1/magento/enroll`: trades a one-time token for the module's signing key.
#[utoipa::path(post, path = "/api/v1/magento/enroll", tag = "magento", security(()),
    request_body = magento::auth::EnrollRequest,
    responses((status = 200, body = magento::auth::EnrollResponse), (status = 401)))]
pub async fn enroll(
    state: web::Data<AppState>,
    body: web::Json<magento::auth::EnrollRequest>,
) -> Result<HttpResponse, ApiError> {
    let answer = magento::auth::enroll(&state.db, &state.keyring, &body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `POST /api/v1/magento/enrollment-tokens` (tenant admins): a one-time module token.
#[utoipa::path(post, path = "/api/v1/magento/enrollment-tokens", tag = "magento",
    responses((status = 201, body = EnrollmentToken), (status = 403)))]
pub async fn create_enrollment_token(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
) -> Result<HttpResponse, ApiError> {
    issue_token(&state, &ctx, TokenKind::MagentoModule).await
}

/// A one-time enrollment token, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EnrollmentToken {
    /// The token.
    token: String,
    /// When it stops being accepted.
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: i64,
}

/// Issues a token of a kind for the caller's tenant.
pub async fn issue_token(
    state: &AppState,
    ctx: &crate::tenancy::TenantCtx,
    kind: TokenKind,
) -> Result<HttpResponse, ApiError> {
    use secrecy::ExposeSecret;
    let ttl_ms = i64::try_from(
        state
            .settings
            .console
            .enrollment_token_ttl_secs
            .saturating_mul(1000),
    )
    .unwrap_or(i64::MAX);
    let issued = enrollment::issue(&state.db, ctx, kind, ttl_ms, now_ms()).await?;
    Ok(HttpResponse::Created().json(EnrollmentToken {
        token: issued.token.expose_secret().to_owned(),
        expires_at: issued.expires_at,
    }))
}

/// `POST /api/v1/magento/events`.
#[utoipa::path(post, path = "/api/v1/magento/events", tag = "magento", security(("magento_key_id" = [], "magento_timestamp" = [], "magento_nonce" = [], "magento_signature" = [])),
    request_body(content = Object, description = "Events of the module's wire format, optionally gzip-encoded."),
    responses((status = 200, body = magento::events::EventsAck), (status = 413), (status = 415)))]
pub async fn events(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let ack = magento::events::store(&state.db, &module.ctx, &module.body, now_ms()).await?;
    if ack.stored > 0 {
        state.detection.mark(module.ctx.tenant_id().as_uuid());
    }
    Ok(HttpResponse::Ok().json(ack))
}

/// `POST /api/v1/magento/permission-snapshots`.
#[utoipa::path(post, path = "/api/v1/magento/permission-snapshots", tag = "magento", security(("magento_key_id" = [], "magento_timestamp" = [], "magento_nonce" = [], "magento_signature" = [])),
    request_body(content = Object, description = "A permission snapshot of the module's wire format."),
    responses((status = 200, body = magento::snapshots::SnapshotAck), (status = 413), (status = 415)))]
pub async fn permission_snapshots(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let ack = magento::snapshots::store(&state.db, &module.ctx, &module.body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(ack))
}

/// `GET /api/v1/magento/retention-policy`: the tenant's policy in the module's form.
#[utoipa::path(get, path = "/api/v1/magento/retention-policy", tag = "magento", security(("magento_key_id" = [], "magento_timestamp" = [], "magento_nonce" = [], "magento_signature" = [])),
    responses((status = 200, body = Object)))]
pub async fn retention_policy(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let policy = magento::retention::policy(&state.db, &module.ctx).await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// `POST /api/v1/magento/retention-reports`.
#[utoipa::path(post, path = "/api/v1/magento/retention-reports", tag = "magento", security(("magento_key_id" = [], "magento_timestamp" = [], "magento_nonce" = [], "magento_signature" = [])),
    request_body(content = Object, description = "A retention run report of the module's wire format."),
    responses((status = 200, body = magento::retention::ReportAck), (status = 413), (status = 415)))]
pub async fn retention_reports(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let ack =
        magento::retention::store_report(&state.db, &module.ctx, &module.body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(ack))
}
