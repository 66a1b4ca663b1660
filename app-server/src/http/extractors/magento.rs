//! [`MagentoModule`]: a request signed by the tenant's Magento module, verified over its raw body.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;

use super::{app_state, header, read_body};
use crate::http::error::{ApiError, ErrorCode};
use crate::tenancy::TenantCtx;

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
