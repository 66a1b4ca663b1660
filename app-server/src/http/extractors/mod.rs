//! Typed extractors: a handler that takes a [`TenantCtx`] cannot run without an authenticated
//! principal, and its queries are scoped to that principal's tenant.
//!
//! Credentials: `Authorization: Bearer <API key>`, or the console session cookie (then unsafe
//! methods need the session's CSRF token in `X-CSRF-Token`) — see [`tenant`]. The Magento module
//! authenticates with [`MagentoModule`] (HMAC over the raw body), agents with [`AgentAuth`].

mod agent;
mod magento;
mod tenant;

pub use agent::AgentAuth;
pub use magento::{MAGENTO_MAX_BODY, MagentoModule};
pub use tenant::AdminCtx;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use futures::StreamExt;

use super::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub(crate) fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

pub(crate) fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(crate) fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("app state missing")))
}

pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Reads a request body up to `limit` bytes (413 beyond).
pub(crate) async fn read_body(mut payload: Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::invalid("the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("request body is larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
