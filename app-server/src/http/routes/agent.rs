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

/// `POST /api/v1/agent/enroll`: trades a one-time token for the agent's credential.
#[utoipa::path(post, path = "/api/v1/agent/enroll", tag = "agents", security(()), request_body = EnrollRequest,
    responses((status = 200, body = leakguard_domain::agent_wire::EnrollResponse), (status = 401)))]
pub async fn enroll(
    state: web::Data<AppState>,
    body: web::Json<EnrollRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::enroll(&state.db, &body, now_ms()).await?))
}

/// `POST /api/v1/agent/enrollment-tokens` (tenant admins): a one-time agent token.
#[utoipa::path(post, path = "/api/v1/agent/enrollment-tokens", tag = "agents",
    responses((status = 201, body = super::magento::EnrollmentToken), (status = 403)))]
pub async fn create_enrollment_token(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
) -> Result<HttpResponse, ApiError> {
    super::magento::issue_token(&state, &ctx, TokenKind::Agent).await
}

/// `POST /api/v1/agent/batches`: the permit is taken first, so an overloaded server answers
/// 429 before authenticating or reading the body.
#[utoipa::path(post, path = "/api/v1/agent/batches", tag = "agents",
    security(("agent_credential" = [])),
    request_body(content = Object, description = "A batch of the agent wire format (`leakguard_domain::agent_wire::Batch`), optionally `Content-Encoding: gzip` or `zstd`."),
    responses((status = 200, body = leakguard_domain::agent_wire::BatchAck), (status = 413), (status = 415), (status = 429)))]
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
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = Vec<crate::ingest::agents::AgentView>)))]
pub async fn list(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::list(&state.db, &ctx).await?))
}

/// `GET /api/v1/agents/{id}`.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::ingest::agents::AgentView)))]
pub async fn get(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::get(&state.db, &ctx, *id).await?))
}

/// `POST /api/v1/agents/{id}/revoke` (admins).
#[utoipa::path(post, path = "/api/v1/agents/{id}/revoke", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::ingest::agents::AgentView), (status = 403)))]
pub async fn revoke(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ingest::agents::revoke(&state.db, &ctx, *id, now_ms()).await?))
}
