//! Typed extractors: a handler that takes a [`TenantCtx`] cannot run without an authenticated
//! principal, and its queries are scoped to that principal's tenant.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;

use super::error::{ApiError, ErrorCode};
use crate::startup::AppState;
use crate::tenancy::TenantCtx;

fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

impl FromRequest for TenantCtx {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("app state missing")))?;
            let Some(token) = token else {
                return Err(ApiError::new(
                    ErrorCode::MissingCredentials,
                    "an Authorization: Bearer credential is required",
                ));
            };
            if crate::shopify::session::looks_like_session_token(&token) {
                return crate::http::routes::shopify::session_ctx(&state, &token).await;
            }
            crate::tenants::authenticate_api_key(&state.db, &token)
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials, "invalid credentials"))
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
