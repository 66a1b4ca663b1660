//! The console: sign-in from the Magento admin (`/console/sso`), a minimal server-rendered
//! page (`/console`) and logout. Pages never cache and never send a referrer (the sign-in URL
//! carries a token).

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::console::{self, CSRF_COOKIE, SESSION_COOKIE, escape_html};
use crate::db::now_ms;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Query of `/console/sso`.
#[derive(Deserialize)]
pub struct SsoQuery {
    token: String,
}

fn cookie<'a>(
    name: &'a str,
    value: String,
    secure: bool,
    http_only: bool,
    max_age: i64,
) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .secure(secure)
        .http_only(http_only)
        .same_site(SameSite::Strict)
        .max_age(Duration::seconds(max_age))
        .finish()
}

fn html() -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ));
    builder
}

/// `GET /console/sso?token=…`: verifies the token, opens a session, sets the cookies and sends
/// the browser on to `/console`. The hop is a same-site page (meta refresh) rather than a 30x,
/// because a `SameSite=Strict` cookie set during a cross-site navigation is not sent on a
/// redirect that belongs to the same navigation.
pub async fn sso(
    state: web::Data<AppState>,
    query: web::Query<SsoQuery>,
) -> Result<HttpResponse, ApiError> {
    let ttl = i64::try_from(state.settings.console.session_ttl_secs).unwrap_or(i64::MAX);
    let signed_in =
        crate::magento::sso::sign_in(&state.db, &state.keyring, &query.token, ttl, now_ms())
            .await?;
    let secure = state.settings.cookies_secure();
    let session = signed_in.session;
    let page = "<!doctype html><html><head><meta charset=\"utf-8\">\
        <meta http-equiv=\"refresh\" content=\"0;url=/console/permissions\"><title>LeakGuard</title></head>\
        <body><p><a href=\"/console\">Continue to the LeakGuard console</a></p></body></html>"
        .to_owned();
    Ok(html()
        .cookie(cookie(
            SESSION_COOKIE,
            session.session_id.expose_secret().to_owned(),
            secure,
            true,
            session.max_age_secs,
        ))
        .cookie(cookie(
            CSRF_COOKIE,
            session.csrf_token.clone(),
            secure,
            false,
            session.max_age_secs,
        ))
        .body(page))
}

/// `GET /console`: tenant, user, role and a logout form.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    ctx: TenantCtx,
) -> Result<HttpResponse, ApiError> {
    let view = console::page(&state.db, &ctx).await?;
    let csrf = req
        .cookie(SESSION_COOKIE)
        .map(|c| console::csrf_token(c.value()))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>LeakGuard console</title>\
         <meta name=\"csrf-token\" content=\"{csrf}\"></head><body>\
         <h1>LeakGuard console</h1>\
         <dl><dt>Store</dt><dd id=\"tenant\">{tenant}</dd>\
         <dt>Tenant id</dt><dd id=\"tenant-id\">{tenant_id}</dd>\
         <dt>Signed in as</dt><dd id=\"user\">{user}</dd>\
         <dt>Role</dt><dd id=\"role\">{role}</dd></dl>\
         <p><a href=\"/console/permissions\">Permission audits</a></p>\
         <form method=\"post\" action=\"/console/logout\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <button type=\"submit\">Sign out</button></form></body></html>",
        csrf = escape_html(&csrf),
        tenant = escape_html(&view.tenant_label),
        tenant_id = escape_html(&view.tenant_id),
        user = escape_html(&view.user_name),
        role = escape_html(&view.role),
    );
    Ok(html().body(body))
}

/// Form of `POST /console/logout`.
#[derive(Deserialize)]
pub struct LogoutForm {
    csrf_token: String,
}

/// `POST /console/logout`: ends the session (CSRF token from the form) and clears the cookies.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, ApiError> {
    let session = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    console::logout(&state.db, &session, Some(&form.csrf_token), now_ms()).await?;
    let secure = state.settings.cookies_secure();
    Ok(
        html()
            .cookie(cookie(SESSION_COOKIE, String::new(), secure, true, 0))
            .cookie(cookie(CSRF_COOKIE, String::new(), secure, false, 0))
            .body("<!doctype html><html><head><meta charset=\"utf-8\"><title>LeakGuard</title></head><body><p>You are signed out.</p></body></html>"),
    )
}
