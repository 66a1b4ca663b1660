//! Agent endpoints: enrollment, batch upload, the tenant's agent list and revocation, and the
//! tenant admin's enrollment-token route.

use actix_web::{HttpResponse, web};
use leakguard_domain::agent_wire::EnrollRequest;
use uuid::Uuid;

use crate::db::now_ms;
use crate::enrollment::TokenKind;
use crate::http::error::ApiError;
use crate::http::extractors::{AdminCtx, AgentAuth, BatchBody, IngestPermit};
use crate::ingest;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// `POST /api/v1/agent/enroll`.
pub async fn enroll(
    state: web::Data<AppState>,
    body: web::Json<EnrollRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::enroll(&state.db, &body, now_ms()).await?))
}

/// `POST /api/v1/agent/enrollment-tokens` (tenant admins): a one-time agent token.
pub async fn create_enrollment_token(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
) -> Result<HttpResponse, ApiError> {
    super::magento::issue_token(&state, &ctx, TokenKind::Agent).await
}

/// `POST /api/v1/agent/batches`: the permit is taken first, so an overloaded server answers
/// 429 before authenticating or reading the body.
pub async fn batches(
    state: web::Data<AppState>,
    _permit: IngestPermit,
    AgentAuth(agent): AgentAuth,
    body: BatchBody,
) -> Result<HttpResponse, ApiError> {
    let cap = state.settings.ingest.max_decompressed_bytes;
    let encoding = body.encoding.clone();
    let result = async {
        let json =
            web::block(move || ingest::batches::decode(&body.body, encoding.as_deref(), cap))
                .await
                .map_err(ApiError::internal)??;
        Ok::<_, ApiError>(ingest::batches::store(&state.db, &agent, &json, now_ms()).await?)
    }
    .await;
    state.metrics.count_batch(match &result {
        Ok(ack) if ack.duplicate => "duplicate",
        Ok(_) => "stored",
        Err(_) => "rejected",
    });
    Ok(HttpResponse::Ok().json(result?))
}

/// `GET /api/v1/agents`.
pub async fn list(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::list(&state.db, &ctx).await?))
}

/// `GET /api/v1/agents/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::get(&state.db, &ctx, *id).await?))
}

/// `POST /api/v1/agents/{id}/revoke` (admins).
pub async fn revoke(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::revoke(&state.db, &ctx, *id, now_ms()).await?))
}
