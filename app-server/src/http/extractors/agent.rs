//! Host agents: [`AgentAuth`] (bearer agent credential), [`IngestPermit`] (bounded in-flight
//! ingest) and [`BatchBody`] (the compressed batch as sent).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;

use super::{app_state, bearer, header, read_body};
use crate::http::error::{ApiError, ErrorCode};
use crate::ingest::agents::AgentCtx;

/// An agent authenticated by `Authorization: Bearer <agent_id>.<credential>`.
pub struct AgentAuth(pub AgentCtx);

impl FromRequest for AgentAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let token = bearer(req);
        Box::pin(async move {
            let state = state?;
            let Some(token) = token else {
                return Err(ApiError::new(
                    ErrorCode::MissingCredentials,
                    "an Authorization: Bearer agent credential is required",
                ));
            };
            crate::ingest::agents::authenticate(&state.db, &token)
                .await?
                .map(Self)
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials, "invalid credentials"))
        })
    }
}

/// One slot of bounded in-flight ingest; without a free slot the request is answered 429 with
/// `Retry-After` at once, before its body is read.
pub struct IngestPermit(pub tokio::sync::OwnedSemaphorePermit);

impl FromRequest for IngestPermit {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let result = app_state(req).and_then(|state| {
            state
                .ingest_slots
                .clone()
                .try_acquire_owned()
                .map(Self)
                .map_err(|_| {
                    state.metrics.count_batch("busy");
                    ApiError::retry_after(
                        ErrorCode::RateLimited,
                        state.settings.ingest.retry_after_secs,
                        "the server is busy; retry later",
                    )
                })
        });
        std::future::ready(result)
    }
}

/// The raw body of an agent batch, read up to `ingest.max_batch_bytes`.
pub struct BatchBody {
    /// Bytes as sent (still compressed).
    pub body: web::Bytes,
    /// `Content-Encoding`.
    pub encoding: Option<String>,
}

impl FromRequest for BatchBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let encoding = header(req, "content-encoding");
        let payload = payload.take();
        Box::pin(async move {
            let state = state?;
            let body = read_body(payload, state.settings.ingest.max_batch_bytes).await?;
            Ok(Self { body, encoding })
        })
    }
}
