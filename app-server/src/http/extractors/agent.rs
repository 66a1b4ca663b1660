//! Host agents: [`AgentAuth`] (bearer agent credential). Admission of a batch (per-tenant
//! slots, body deadline, processing slots) happens in the batch route once the agent is known.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;

use super::{app_state, bearer};
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
