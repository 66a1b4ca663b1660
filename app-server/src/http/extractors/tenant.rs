//! [`TenantCtx`] from an API key, a Shopify session token or a console session (+ CSRF), and
//! [`AdminCtx`] for roles that administer the tenant. The context comes from `tenancy::admit`;
//! an unsafe method with a read-only context (an uninstalled tenant) answers `tenant_read_only`
//! before the handler runs.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;

use super::{app_state, bearer, header, is_safe};
use crate::http::error::{ApiError, ErrorCode};
use crate::tenancy::TenantCtx;

impl FromRequest for TenantCtx {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let token = bearer(req);
        let session = req
            .cookie(crate::console::SESSION_COOKIE)
            .map(|c| c.value().to_owned());
        let writes = !is_safe(req.method());
        let csrf = writes.then(|| header(req, crate::console::CSRF_HEADER));
        Box::pin(async move {
            let state = state?;
            let now = crate::db::now_ms();
            let ctx = if let Some(token) = token {
                if crate::shopify::session::looks_like_session_token(&token) {
                    crate::http::routes::shopify::session_ctx(&state, &token).await?
                } else {
                    crate::tenants::authenticate_api_key(&state.db, &token, now).await?
                }
            } else {
                let Some(session) = session else {
                    return Err(ApiError::new(
                        ErrorCode::MissingCredentials,
                        "an Authorization: Bearer credential or a console session is required",
                    ));
                };
                let csrf = csrf.as_ref().map(|c| c.as_deref());
                crate::console::authenticate(&state.db, &session, csrf, now).await?
            };
            if writes {
                ctx.require_write()?;
            }
            Ok(ctx)
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
            if ctx.role().can_administer() {
                Ok(Self(ctx))
            } else {
                Err(ApiError::forbidden())
            }
        })
    }
}
