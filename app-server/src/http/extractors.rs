//! Typed extractors: a handler that takes a [`TenantCtx`] cannot run without an authenticated
//! principal, and its queries are scoped to that principal's tenant.
//!
//! Credentials: `Authorization: Bearer <API key>`, or the console session cookie (then unsafe
//! methods need the session's CSRF token in `X-CSRF-Token`). The Magento module authenticates
//! with [`MagentoModule`] (HMAC over the raw body), agents with [`AgentAuth`].

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use futures::StreamExt;
use futures::future::LocalBoxFuture;

use super::error::{ApiError, ErrorCode};
use crate::ingest::agents::AgentCtx;
use crate::startup::AppState;
use crate::tenancy::TenantCtx;

fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("app state missing")))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequest for TenantCtx {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let token = bearer(req);
        let session = req
            .cookie(crate::console::SESSION_COOKIE)
            .map(|c| c.value().to_owned());
        let csrf = (!is_safe(req.method())).then(|| header(req, crate::console::CSRF_HEADER));
        Box::pin(async move {
            let state = state?;
            if let Some(token) = token {
                if crate::shopify::session::looks_like_session_token(&token) {
                    return crate::http::routes::shopify::session_ctx(&state, &token).await;
                }
                return crate::tenants::authenticate_api_key(&state.db, &token)
                    .await?
                    .ok_or_else(|| {
                        ApiError::new(ErrorCode::InvalidCredentials, "invalid credentials")
                    });
            }
            let Some(session) = session else {
                return Err(ApiError::new(
                    ErrorCode::MissingCredentials,
                    "an Authorization: Bearer credential or a console session is required",
                ));
            };
            let csrf = csrf.as_ref().map(|c| c.as_deref());
            Ok(
                crate::console::authenticate(&state.db, &session, csrf, crate::db::now_ms())
                    .await?,
            )
        })
    }
}

/// A tenant context whose role may administer the tenant.
pub struct AdminCtx(pub TenantCtx);

impl FromRequest for AdminCtx {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = TenantCtx::from_request(req, payload);
        Box::pin(async move {
            let ctx = inner.await?;
            if ctx.role.can_administer() {
                Ok(Self(ctx))
            } else {
                Err(ApiError::forbidden())
            }
        })
    }
}

/// Reads a request body up to `limit` bytes (413 beyond).
async fn read_body(mut payload: Payload, limit: usize) -> Result<web::Bytes, ApiError> {
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

/// Largest body of a module request.
pub const MAGENTO_MAX_BODY: usize = 4 * 1024 * 1024;

/// A request signed by the tenant's Magento module, verified over its raw body before anything
/// parses it, with the nonce claimed. The actor is `magento_module`.
pub struct MagentoModule {
    /// The module's tenant context.
    pub ctx: TenantCtx,
    /// The raw body (already verified).
    pub body: web::Bytes,
}

impl FromRequest for MagentoModule {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use crate::magento::signature as sig;
        let state = app_state(req);
        let key_id = header(req, sig::HEADER_KEY_ID);
        let timestamp = header(req, sig::HEADER_TIMESTAMP);
        let nonce = header(req, sig::HEADER_NONCE);
        let signature = header(req, sig::HEADER_SIGNATURE);
        let method = req.method().as_str().to_owned();
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| req.uri().path().to_owned());
        let encoded = header(req, "content-encoding")
            .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
        let payload = payload.take();
        Box::pin(async move {
            let state = state?;
            if encoded {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "module requests are sent without Content-Encoding",
                ));
            }
            if key_id.is_none() || timestamp.is_none() || nonce.is_none() || signature.is_none() {
                return Err(ApiError::new(
                    ErrorCode::MissingCredentials,
                    "X-LeakGuard-Key-Id, -Timestamp, -Nonce and -Signature are required",
                ));
            }
            let body = read_body(payload, MAGENTO_MAX_BODY).await?;
            let request = crate::magento::auth::SignedRequest {
                key_id: key_id.as_deref(),
                timestamp: timestamp.as_deref(),
                nonce: nonce.as_deref(),
                signature: signature.as_deref(),
                method: &method,
                path_and_query: &path_and_query,
                body: &body,
            };
            let now_secs = crate::db::now_ms().div_euclid(1000);
            let ctx =
                crate::magento::auth::verify_request(&state.db, &state.keyring, &request, now_secs)
                    .await?;
            Ok(Self { ctx, body })
        })
    }
}

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
