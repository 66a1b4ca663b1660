//! Agent endpoints: enrollment, batch upload, the tenant's agent list and revocation, and the
//! tenant admin's enrollment-token route.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use leakguard_domain::agent_wire::EnrollRequest;
use uuid::Uuid;

use crate::db::now_ms;
use crate::enrollment::TokenKind;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extractors::{AdminCtx, AgentAuth, read_body};
use crate::ingest;
use crate::ingest::agents::AgentCtx;
use crate::ingest::gate::Refusal;
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

/// `POST /api/v1/agent/batches`. In order, each step bounded before the next: the agent
/// authenticates (no body read); the batch takes one of its tenant's ingest slots and one of
/// the process's (`429 tenant_busy` / `429 rate_limited` at once, body unread); the body must
/// arrive within `ingest.body_timeout_secs` (408) and `ingest.max_batch_bytes` (413); it is
/// decoded and parsed in one streaming pass on the blocking pool, capped in decompressed bytes
/// and records (413), and stored, under one processing slot; every record is checked for
/// personal data (refused ones are counted, not stored); the tenant's daily quota is taken in
/// the store's transaction (`429 quota_exceeded`).
#[utoipa::path(post, path = "/api/v1/agent/batches", tag = "agents",
    security(("agent_credential" = [])),
    request_body(content = Object, description = "A batch of the agent wire format (`leakguard_domain::agent_wire::Batch`), optionally `Content-Encoding: zstd`."),
    responses((status = 200, body = leakguard_domain::agent_wire::BatchAck), (status = 408), (status = 413), (status = 415), (status = 429)))]
pub async fn batches(
    state: web::Data<AppState>,
    AgentAuth(agent): AgentAuth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let result = ingest_batch(&state, &agent, &req, payload).await;
    state.metrics.count_batch(match &result {
        Ok(stored) if stored.ack.duplicate => "duplicate",
        Ok(_) => "stored",
        Err(e) => match e.code() {
            ErrorCode::TenantBusy => "tenant_busy",
            ErrorCode::RateLimited => "busy",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::RequestTimeout => "timeout",
            _ => "rejected",
        },
    });
    let stored = result?;
    if !stored.ack.duplicate {
        state.detection.mark(agent.tenant.tenant_id().as_uuid());
    }
    for (field, n) in &stored.rejections {
        state.metrics.count_records_rejected(field, *n);
    }
    Ok(HttpResponse::Ok().json(stored.ack))
}

async fn ingest_batch(
    state: &AppState,
    agent: &AgentCtx,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<ingest::batches::Stored, ApiError> {
    let settings = &state.settings.ingest;
    let admission = state
        .ingest_gate
        .admit(agent.tenant.tenant_id().as_uuid())
        .map_err(|refusal| match refusal {
            Refusal::TenantBusy => ApiError::retry_after(
                ErrorCode::TenantBusy,
                settings.retry_after_secs,
                "this tenant's agents are sending as many batches as they may at once; retry later",
            ),
            Refusal::ServerBusy => ApiError::retry_after(
                ErrorCode::RateLimited,
                settings.retry_after_secs,
                "the server is busy; retry later",
            ),
        })?;
    let encoding = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = tokio::time::timeout(
        Duration::from_secs(settings.body_timeout_secs),
        read_body(payload.into_inner(), settings.max_batch_bytes),
    )
    .await
    .map_err(|_| {
        ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "the batch body did not arrive within {} seconds",
                settings.body_timeout_secs
            ),
        )
    })??;
    let cap = settings.max_decompressed_bytes;
    let _slot = state.ingest_gate.processing_slot(&admission).await;
    let upload = web::block(move || ingest::decode::decode_upload(&body, encoding.as_deref(), cap))
        .await
        .map_err(ApiError::internal)??;
    Ok(ingest::batches::store(
        &state.db,
        agent,
        upload,
        settings.daily_records_per_tenant,
        now_ms(),
    )
    .await?)
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
