//! Shopify's own entry points: install, OAuth callback, webhooks (every topic), and the
//! embedded App Home document (`/app`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::error::{ApiError, ErrorCode};
use crate::shopify::session::{AppLoad, SessionAuthError};
use crate::shopify::webhook_binding::BindingError;
use crate::shopify::webhooks::{DeliveryHeaders, Receipt, ReceiveError};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Header App Bridge reads to fetch a fresh session token and retry.
pub const RETRY_INVALID_SESSION: &str = "X-Shopify-Retry-Invalid-Session-Request";

fn config(state: &AppState) -> Result<&crate::shopify::ShopifyConfig, ApiError> {
    state
        .shopify
        .shopify
        .config
        .as_ref()
        .ok_or_else(|| ApiError::from(crate::shopify::ShopifyError::NotConfigured))
}

/// `GET /shopify/install`: checks the signed request and redirects to Shopify's authorize page.
pub async fn install(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let url = crate::shopify::oauth::begin_install(
        &state.db,
        config(&state)?,
        req.query_string(),
        crate::db::now_ms(),
    )
    .await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, url))
        .finish())
}

/// `GET /shopify/callback`: checks HMAC, state and shop, exchanges the code, installs.
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let next = crate::shopify::oauth::complete_install(
        &state.shopify,
        req.query_string(),
        crate::db::now_ms(),
    )
    .await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, next))
        .finish())
}

/// `POST /shopify/webhooks`: verifies the HMAC over the raw bytes, stores, acknowledges.
pub async fn webhooks(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let headers = DeliveryHeaders::from_lookup(|name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    match crate::shopify::webhooks::accept(state.shopify.clone(), &headers, &body).await {
        Ok(Receipt::Stored(_)) | Ok(Receipt::Duplicate) => Ok(HttpResponse::Ok().finish()),
        Err(e @ (ReceiveError::MissingHmac | ReceiveError::BadHmac)) => {
            Err(ApiError::new(ErrorCode::InvalidCredentials, e.to_string()))
        }
        Err(e @ (ReceiveError::EmptyBody | ReceiveError::BadRequest(_))) => Err(ApiError::refused(
            crate::invalid_input::Reason::InvalidWebhook,
            e.to_string(),
        )),
        Err(ReceiveError::Binding(e @ BindingError::Mismatch(_))) => {
            Err(ApiError::new(ErrorCode::WebhookMismatch, e.to_string()))
        }
        Err(ReceiveError::Binding(e @ BindingError::Stale(_))) => {
            Err(ApiError::new(ErrorCode::WebhookStale, e.to_string()))
        }
        Err(ReceiveError::Binding(e @ BindingError::BadTriggeredAt)) => Err(ApiError::refused(
            crate::invalid_input::Reason::InvalidWebhook,
            e.to_string(),
        )),
        Err(ReceiveError::Other(e)) => Err(e.into()),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn embedded_html(shop: Option<&str>, api_key: &str, body: &str) -> HttpResponse {
    let ancestors = match shop {
        Some(shop) => format!("frame-ancestors https://{shop} https://admin.shopify.com;"),
        None => "frame-ancestors https://admin.shopify.com;".to_owned(),
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_SECURITY_POLICY, ancestors))
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\">\
             <meta name=\"shopify-api-key\" content=\"{key}\">\
             <script src=\"https://cdn.shopify.com/shopifycloud/app-bridge.js\"></script>\
             <title>LeakGuard</title></head><body>{body}</body></html>",
            key = escape(api_key),
        ))
}

/// `GET /app`: the embedded App Home document. A load without a session token gets the bounce
/// page (App Bridge reloads with one); a load with one runs the token exchange when the shop
/// has no usable token (managed install).
pub async fn app(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let config = config(&state)?;
    let query = req.query_string();
    let params = crate::shopify::hmac::parse_query(query);
    if params.contains_key("shopify-reload") {
        // The bounce page carries nothing but App Bridge; it needs no signature.
        let shop = params
            .get("shop")
            .and_then(|s| leakguard_domain::shop::ShopDomain::parse(s).ok());
        return Ok(embedded_html(
            shop.as_ref().map(|s| s.as_str()),
            &config.api_key,
            "",
        ));
    }
    match crate::shopify::session::app_load(&state.shopify, query, crate::db::now_ms()).await {
        Ok(AppLoad::Bounce { .. }) => {
            let reload = format!("{}/app?{query}", config.public_url);
            let mut target = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in params.iter().filter(|(k, _)| k.as_str() != "id_token") {
                target.append_pair(k, v);
            }
            target.append_pair("shopify-reload", &reload);
            Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, format!("/app?{}", target.finish())))
                .finish())
        }
        Ok(AppLoad::Ready { shop, api_key, .. }) => Ok(embedded_html(
            Some(shop.as_str()),
            &api_key,
            &format!(
                "<h1>LeakGuard</h1><p>LeakGuard is watching {}.</p>\
                 <p><a href=\"/console/permissions\">Open the permission audit</a></p>\
                 <script src=\"/console/static/console.js\" defer></script>",
                escape(shop.as_str())
            ),
        )),
        Err(e) => Err(session_error(e)),
    }
}

fn session_error(e: SessionAuthError) -> ApiError {
    match e {
        SessionAuthError::Token(t) => ApiError::new(ErrorCode::InvalidCredentials, t.to_string())
            .with_header(RETRY_INVALID_SESSION, "1"),
        SessionAuthError::NoUser => ApiError::new(
            ErrorCode::InvalidCredentials,
            "the session token names no user",
        ),
        SessionAuthError::NotInstalled => ApiError::not_found(),
        SessionAuthError::UserDeactivated => {
            ApiError::new(ErrorCode::UserDeactivated, "the user is deactivated")
        }
        SessionAuthError::Other(crate::shopify::ShopifyError::Unauthorized(m)) => {
            ApiError::new(ErrorCode::InvalidCredentials, m).with_header(RETRY_INVALID_SESSION, "1")
        }
        SessionAuthError::Other(other) => other.into(),
    }
}

/// The `TenantCtx` of a session token presented as a bearer credential.
pub async fn session_ctx(state: &AppState, token: &str) -> Result<TenantCtx, ApiError> {
    crate::shopify::session::authenticate(&state.shopify, token, crate::db::now_ms())
        .await
        .map_err(session_error)
}
