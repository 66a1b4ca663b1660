//! Extractors of the console pages: [`ConsoleCtx`] (who is looking) and [`ConsoleForm`] (a
//! posted form whose CSRF token is checked before the handler runs), and [`PageError`], which
//! answers a browser with an HTML page and an API client with the JSON error body.
//!
//! Credentials, in order: an `Authorization` header (API key; App Bridge session tokens from
//! the embedded Shopify admin, which need no CSRF token because they are not ambient), then the
//! console session cookie (forms must carry its CSRF token).
//!
//! The sign-in form itself has no session yet, so [`verify_login_post`] guards it against login
//! CSRF twice: the browser must say the post comes from this origin (`Sec-Fetch-Site`, `Origin`),
//! and the form must carry the token that `GET /console/login` put in a cookie (double submit).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use std::fmt;
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorCode};
use crate::console::{self, ConsoleError};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// An error of a console page.
pub struct PageError {
    error: ApiError,
    html: bool,
    sign_in: bool,
}

impl PageError {
    /// Wraps an API error for a page request.
    pub fn new(error: impl Into<ApiError>, html: bool) -> Self {
        Self {
            error: error.into(),
            html,
            sign_in: false,
        }
    }
}

impl fmt::Debug for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.error.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if self.sign_in && self.html {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/console/login"))
                .finish();
        }
        if !self.html {
            return self.error.error_response();
        }
        // Let the API error log its cause once.
        let _ = self.error.error_response();
        let title = match self.error.code() {
            ErrorCode::NotFound => "Not found",
            ErrorCode::InsufficientRole => "Not allowed",
            ErrorCode::CsrfFailed => "Please reload the page",
            ErrorCode::CrossSiteRequest => "Sign in from the console's own page",
            ErrorCode::InvalidRequest => "Check your input",
            _ => "Something went wrong",
        };
        let body = crate::console::pages::render_plain(
            "error.html",
            minijinja::context! {title => title, message => self.error.message()},
        )
        .unwrap_or_else(|_| title.to_owned());
        let mut response = HttpResponse::build(self.status_code());
        response
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"));
        response.body(body)
    }
}

/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

fn csrf_ok(session_id: &str, presented: &str) -> bool {
    let expected = console::csrf_token(session_id);
    expected.len() == presented.trim().len()
        && bool::from(expected.as_bytes().ct_eq(presented.trim().as_bytes()))
}

/// Whether a request wants an HTML answer (a browser page) rather than the JSON error body.
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The console's viewer: a tenant context plus how it authenticated.
pub struct ConsoleCtx {
    /// The tenant context.
    pub ctx: TenantCtx,
    /// The session cookie, when the request came with one (forms then need its CSRF token).
    pub cookie: Option<String>,
    /// Whether errors should be HTML pages.
    pub html: bool,
}

impl ConsoleCtx {
    /// The CSRF token for this session's forms (empty without a cookie).
    pub fn csrf(&self) -> String {
        self.cookie
            .as_deref()
            .map(console::csrf_token)
            .unwrap_or_default()
    }

    /// Wraps a service error for this request.
    pub fn err(&self, e: impl Into<ApiError>) -> PageError {
        PageError::new(e, self.html)
    }
}

impl FromRequest for ConsoleCtx {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let html = wants_html(req);
        let has_authorization = req.headers().contains_key(header::AUTHORIZATION);
        // An embedded document load carries App Bridge's session token in the URL.
        let id_token = (!has_authorization)
            .then(|| {
                url::form_urlencoded::parse(req.query_string().as_bytes())
                    .find(|(k, _)| k == "id_token")
                    .map(|(_, v)| v.into_owned())
            })
            .flatten()
            .filter(|t| crate::shopify::session::looks_like_session_token(t));
        let bearer = has_authorization.then(|| TenantCtx::from_request(req, payload));
        let cookie = req
            .cookie(console::SESSION_COOKIE)
            .map(|c| c.value().to_owned());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            if let Some(bearer) = bearer {
                let ctx = bearer.await.map_err(|e| PageError::new(e, html))?;
                return Ok(Self {
                    ctx,
                    cookie: None,
                    html,
                });
            }
            let state = state.ok_or_else(|| {
                PageError::new(
                    ApiError::internal(anyhow::anyhow!("app state missing")),
                    html,
                )
            })?;
            if let Some(token) = id_token {
                let ctx = crate::http::routes::shopify::session_ctx(&state, &token)
                    .await
                    .map_err(|e| PageError::new(e, html))?;
                return Ok(Self {
                    ctx,
                    cookie: None,
                    html,
                });
            }
            let sign_in = || PageError {
                error: ApiError::new(
                    ErrorCode::MissingCredentials,
                    "sign in to the console first",
                ),
                html,
                sign_in: true,
            };
            let Some(cookie) = cookie else {
                return Err(sign_in());
            };
            let ctx =
                match console::authenticate(&state.db, &cookie, None, crate::db::now_ms()).await {
                    Ok(ctx) => ctx,
                    Err(ConsoleError::Unauthorized) => return Err(sign_in()),
                    Err(e) => return Err(PageError::new(e, html)),
                };
            Ok(Self {
                ctx,
                cookie: Some(cookie),
                html,
            })
        })
    }
}

/// A posted console form: the viewer and the fields (all strings), after the CSRF check of a
/// cookie session (token in the `csrf_token` field or the `X-CSRF-Token` header).
pub struct ConsoleForm<T> {
    /// The viewer.
    pub cc: ConsoleCtx,
    /// The fields.
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for ConsoleForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let html = wants_html(req);
        let viewer = ConsoleCtx::from_request(req, payload);
        let fields = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        let header_token = req
            .headers()
            .get(console::CSRF_HEADER)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            let cc = viewer.await?;
            cc.ctx
                .require_write()
                .map_err(|e| PageError::new(e, html))?;
            let fields = fields
                .await
                .map_err(|_| {
                    PageError::new(
                        ApiError::refused(
                            crate::invalid_input::Reason::InvalidForm,
                            "the form could not be read",
                        ),
                        html,
                    )
                })?
                .into_inner();
            let mut map = serde_json::Map::new();
            let mut token = header_token;
            for (name, value) in fields {
                if name == CSRF_FIELD {
                    token = Some(value);
                } else {
                    map.insert(name, serde_json::Value::String(value));
                }
            }
            if let Some(cookie) = &cc.cookie
                && !token.is_some_and(|t| csrf_ok(cookie, &t))
            {
                return Err(PageError::new(
                    ApiError::new(
                        ErrorCode::CsrfFailed,
                        "the form is out of date or was not sent by the console; reload the page and try again",
                    ),
                    html,
                ));
            }
            let form = serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
                PageError::new(
                    ApiError::refused(
                        crate::invalid_input::Reason::InvalidForm,
                        format!("invalid form: {e}"),
                    ),
                    html,
                )
            })?;
            Ok(Self { cc, form })
        })
    }
}

/// The cookie that carries the sign-in form's CSRF token (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "lg_login_csrf";

/// A fresh sign-in form token (for the cookie and the form's hidden field).
pub fn new_login_csrf_token() -> String {
    crate::enrollment::random_secret("lglc_")
}

/// Whether the browser says this request comes from another site: `Sec-Fetch-Site` other than
/// `same-origin` or `none` (a typed URL), or an `Origin` that is not this server's. A request
/// with neither header is not a browser's cross-site form and is left to the token check.
fn cross_site(req: &HttpRequest) -> bool {
    let header = |name| req.headers().get(name).map(|v| v.to_str().unwrap_or(""));
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site.trim(), "same-origin" | "none")
    {
        return true;
    }
    let Some(origin) = header(header::ORIGIN.as_str()) else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin.trim()) else {
        return true; // `null` (sandboxed or privacy-sensitive contexts) and garbage
    };
    let info = req.connection_info();
    let Ok(own) = url::Url::parse(&format!("{}://{}", origin.scheme(), info.host())) else {
        return true;
    };
    !(matches!(origin.scheme(), "http" | "https")
        && origin.host_str() == own.host_str()
        && origin.port_or_known_default() == own.port_or_known_default())
}

/// Checks a `POST /console/login`: refused with `cross_site_request` when the browser says it
/// comes from another site, then with `csrf_failed` unless the form's token equals the sign-in
/// cookie's (constant-time).
pub fn verify_login_post(req: &HttpRequest, presented: Option<&str>) -> Result<(), ApiError> {
    if cross_site(req) {
        return Err(ApiError::new(
            ErrorCode::CrossSiteRequest,
            "the sign-in form can only be posted from the console's own page",
        ));
    }
    let cookie = req.cookie(LOGIN_CSRF_COOKIE);
    let expected = cookie.as_ref().map(|c| c.value()).unwrap_or_default();
    let presented = presented.map(str::trim).unwrap_or_default();
    let matches = !expected.is_empty()
        && expected.len() == presented.len()
        && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()));
    if matches {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::CsrfFailed,
            "the sign-in form is out of date or was not sent by the console; reload the page and try again",
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn login_post(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::post()
            .uri("/console/login")
            .insert_header(("host", "lg.example.com"));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        req.to_http_request()
    }

    #[test]
    fn a_login_post_from_another_site_is_refused_as_cross_site() {
        let cookie = "lg_login_csrf=tok";
        for headers in [
            vec![("sec-fetch-site", "cross-site"), ("cookie", cookie)],
            vec![("sec-fetch-site", "same-site"), ("cookie", cookie)],
            vec![("origin", "https://evil.example"), ("cookie", cookie)],
            vec![("origin", "null"), ("cookie", cookie)],
            vec![
                ("origin", "https://lg.example.com:8443"),
                ("cookie", cookie),
            ],
            vec![
                ("origin", "https://lg.example.com"),
                ("sec-fetch-site", "cross-site"),
                ("cookie", cookie),
            ],
        ] {
            let err = verify_login_post(&login_post(&headers), Some("tok")).unwrap_err();
            assert_eq!(err.code(), ErrorCode::CrossSiteRequest, "{headers:?}");
        }
    }

    #[test]
    fn a_login_post_needs_the_token_of_its_cookie() {
        let same = [
            ("origin", "https://lg.example.com"),
            ("sec-fetch-site", "same-origin"),
        ];
        let with_cookie = |value: &str| {
            let mut h = same.to_vec();
            h.push(("cookie", value));
            login_post(&h)
        };
        assert!(verify_login_post(&with_cookie("lg_login_csrf=tok-1"), Some("tok-1")).is_ok());
        assert!(
            verify_login_post(&login_post(&[("cookie", "lg_login_csrf=t")]), Some("t")).is_ok()
        );
        for (req, presented) in [
            (with_cookie("lg_login_csrf=tok-1"), Some("tok-2")),
            (with_cookie("lg_login_csrf=tok-1"), None),
            (with_cookie("lg_login_csrf=tok-1"), Some("")),
            (with_cookie("other=tok-1"), Some("tok-1")),
            (with_cookie("lg_login_csrf="), Some("")),
        ] {
            let err = verify_login_post(&req, presented).unwrap_err();
            assert_eq!(err.code(), ErrorCode::CsrfFailed);
        }
    }
}
