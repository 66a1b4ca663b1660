//! Magento module endpoints (`/api/v1/magento/*`): enrollment (token), the signed module
//! calls, and the tenant admin's enrollment-token route.

use actix_web::{HttpResponse, web};

use crate::db::now_ms;
use crate::enrollment::{self, TokenKind};
use crate::http::error::ApiError;
use crate::http::extractors::{AdminCtx, MagentoModule};
use crate::magento;
use crate::state::AppState;

/// `POST /api/v1/magento/enroll`.
pub async fn enroll(
    state: web::Data<AppState>,
    body: web::Json<magento::auth::EnrollRequest>,
) -> Result<HttpResponse, ApiError> {
    let answer = magento::auth::enroll(&state.db, &state.keyring, &body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `POST /api/v1/magento/enrollment-tokens` (tenant admins): a one-time module token.
pub async fn create_enrollment_token(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
) -> Result<HttpResponse, ApiError> {
    issue_token(&state, &ctx, TokenKind::MagentoModule).await
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
    Ok(HttpResponse::Created().json(serde_json::json!({
        "token": issued.token.expose_secret(),
        "expires_at": issued.expires_at,
    })))
}

/// `POST /api/v1/magento/events`.
pub async fn events(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let ack = magento::events::store(&state.db, &module.ctx, &module.body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(ack))
}

/// `POST /api/v1/magento/permission-snapshots`.
pub async fn permission_snapshots(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let ack = magento::snapshots::store(&state.db, &module.ctx, &module.body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(ack))
}

/// `GET /api/v1/magento/retention-policy`.
pub async fn retention_policy(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let policy = magento::retention::policy(&state.db, &module.ctx).await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// `POST /api/v1/magento/retention-reports`.
pub async fn retention_reports(
    state: web::Data<AppState>,
    module: MagentoModule,
) -> Result<HttpResponse, ApiError> {
    let ack =
        magento::retention::store_report(&state.db, &module.ctx, &module.body, now_ms()).await?;
    Ok(HttpResponse::Ok().json(ack))
}
