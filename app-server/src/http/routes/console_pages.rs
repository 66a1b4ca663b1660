//! `/console/*`: the server-rendered console of permission audits, its sign-in and its static
//! files. Pages send a strict CSP: scripts and styles from this server only (plus App Bridge
//! from Shopify's CDN when embedded in production), framing only by the shop's admin for Shopify
//! tenants and by no one for Magento tenants.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use secrecy::ExposeSecret;
use serde::Deserialize;
use uuid::Uuid;

use crate::console::pages::{self, Chrome, format_date};
use crate::db::now_ms;
use crate::http::console_auth::{
    CSRF_FIELD, ConsoleCtx, ConsoleForm, LOGIN_CSRF_COOKIE, PageError, new_login_csrf_token,
    verify_login_post, wants_html,
};
use crate::http::error::ApiError;
use crate::permission_audits::{self, AuditsError, FindingFilter, ReviewInput, Trigger};
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

fn csp(frame_ancestors: &str, app_bridge: bool) -> String {
    let cdn = if app_bridge {
        " https://cdn.shopify.com"
    } else {
        ""
    };
    let connect = if app_bridge {
        " https://*.shopify.com"
    } else {
        ""
    };
    format!(
        "default-src 'self'; script-src 'self'{cdn}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'{connect}; form-action 'self'; base-uri 'none'; object-src 'none'; \
         frame-ancestors {frame_ancestors}"
    )
}

/// Messages and status of a rendered page.
#[derive(Default)]
pub(crate) struct Notes {
    pub(crate) flash: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) status: Option<actix_web::http::StatusCode>,
}

pub(crate) async fn page(
    state: &AppState,
    cc: &ConsoleCtx,
    template: &str,
    active: &'static str,
    values: Value,
    notes: Notes,
) -> Result<HttpResponse, PageError> {
    let Notes {
        flash,
        error,
        status,
    } = notes;
    let status = status.unwrap_or(actix_web::http::StatusCode::OK);
    let tenant = permission_audits::tenant_of(&state.db, &cc.ctx)
        .await
        .map_err(|e| cc.err(e))?;
    let shopify_shop = (tenant.platform == crate::db::entities::tenants::Platform::Shopify)
        .then(|| tenant.shop_domain.clone())
        .flatten();
    // App Bridge only when the app is configured (production); tests and Magento run without.
    let app_bridge_key = shopify_shop
        .as_ref()
        .and(state.settings.shopify.api_key.clone());
    let chrome = Chrome {
        tenant_label: tenant
            .shop_domain
            .clone()
            .or(tenant.base_url.clone())
            .unwrap_or_default(),
        role: cc.ctx.role().as_str().into(),
        csrf: cc.csrf(),
        can_review: cc.ctx.role().can_review(),
        app_bridge_key: app_bridge_key.clone(),
        active,
        flash,
        error,
    };
    let body =
        pages::render(template, &chrome, values).map_err(|e| cc.err(ApiError::internal(e)))?;
    let ancestors = match &shopify_shop {
        Some(shop) => format!("https://{shop} https://admin.shopify.com"),
        None => "'none'".to_owned(),
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            "Content-Security-Policy",
            csp(&ancestors, app_bridge_key.is_some()),
        ))
        .body(body))
}

fn ok() -> actix_web::http::StatusCode {
    actix_web::http::StatusCode::OK
}

pub(crate) fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `GET /console/static/console.css`.
pub async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(pages::CSS)
}

/// `GET /console/static/console.js`.
pub async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(pages::JS)
}

fn login_page(
    error: Option<&str>,
    csrf_token: &str,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let body = pages::render_plain(
        "login.html",
        context! {error => error, csrf_field => CSRF_FIELD, csrf_token => csrf_token},
    )
    .unwrap_or_else(|_| "LeakGuard console".into());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", csp("'none'", false)))
        .body(body)
}

/// The sign-in form's CSRF cookie (or its removal, with an empty token).
fn login_csrf_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    let mut cookie = Cookie::build(LOGIN_CSRF_COOKIE, token.to_owned())
        .path("/console/login")
        .http_only(true)
        .secure(state.settings.cookies_secure())
        .same_site(SameSite::Strict)
        .finish();
    if token.is_empty() {
        cookie.make_removal();
    }
    cookie
}

/// `GET /console/login`: the form, with a fresh CSRF token in a cookie and a hidden field.
pub async fn login_form(state: web::Data<AppState>) -> HttpResponse {
    let token = new_login_csrf_token();
    let mut page = login_page(None, &token, ok());
    let _ = page.add_cookie(&login_csrf_cookie(&state, &token));
    page
}

/// Form of `POST /console/login` (fields are optional so that a missing token is a CSRF
/// refusal, not a form error).
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    api_key: String,
    csrf_token: Option<String>,
}

/// `POST /console/login`: after the cross-site and CSRF checks, an API key opens a console
/// session (the same session as the Magento admin's SSO sign-in) and goes to the overview.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    verify_login_post(&req, form.csrf_token.as_deref())
        .map_err(|e| PageError::new(e, wants_html(&req)))?;
    let ttl = i64::try_from(state.settings.console.session_ttl_secs).unwrap_or(i64::MAX);
    let Some(session) =
        crate::console::sign_in_with_api_key(&state.db, form.api_key.trim(), ttl, now_ms())
            .await
            .map_err(|e| PageError::new(e, wants_html(&req)))?
    else {
        return Ok(login_page(
            Some("That API key is not valid."),
            form.csrf_token.as_deref().unwrap_or_default(),
            actix_web::http::StatusCode::UNAUTHORIZED,
        ));
    };
    let secure = state.settings.cookies_secure();
    let cookie = |name: &'static str, value: String, http_only: bool| {
        Cookie::build(name, value)
            .path("/")
            .http_only(http_only)
            .secure(secure)
            .same_site(SameSite::Strict)
            .max_age(CookieDuration::seconds(session.max_age_secs))
            .finish()
    };
    Ok(HttpResponse::SeeOther()
        .cookie(cookie(
            crate::console::SESSION_COOKIE,
            session.session_id.expose_secret().to_owned(),
            true,
        ))
        .cookie(cookie(
            crate::console::CSRF_COOKIE,
            session.csrf_token.clone(),
            false,
        ))
        .cookie(login_csrf_cookie(&state, ""))
        .insert_header((header::LOCATION, "/console/permissions"))
        .finish())
}

/// `GET /console/permissions`: overview.
pub async fn overview(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
) -> Result<HttpResponse, PageError> {
    let data = permission_audits::overview(&state.db, &cc.ctx, now_ms())
        .await
        .map_err(|e| cc.err(e))?;
    let values = context! {overview => pages::value(&data)};
    page(
        &state,
        &cc,
        "overview.html",
        "overview",
        values,
        Notes::default(),
    )
    .await
}

/// `GET /console/permissions/principals`.
pub async fn principals(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
) -> Result<HttpResponse, PageError> {
    let data = permission_audits::principals(&state.db, &cc.ctx)
        .await
        .map_err(|e| cc.err(e))?;
    let values = context! {view => pages::value(&data)};
    page(
        &state,
        &cc,
        "principals.html",
        "principals",
        values,
        Notes::default(),
    )
    .await
}

/// `GET /console/permissions/changes`.
pub async fn changes(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
) -> Result<HttpResponse, PageError> {
    let data = permission_audits::changes_over_time(&state.db, &cc.ctx, 30)
        .await
        .map_err(|e| cc.err(e))?;
    let values = context! {runs => pages::value(&data)};
    page(
        &state,
        &cc,
        "changes.html",
        "changes",
        values,
        Notes::default(),
    )
    .await
}

/// Query of the findings page.
#[derive(Deserialize)]
pub struct FindingsQuery {
    state: Option<String>,
}

const FILTERS: [(&str, &str); 4] = [
    ("active", "Active"),
    ("open", "Needs review"),
    ("resolved", "Resolved"),
    ("all", "All"),
];

/// `GET /console/permissions/findings`.
pub async fn findings(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    q: web::Query<FindingsQuery>,
) -> Result<HttpResponse, PageError> {
    let filter_id = q.state.as_deref().unwrap_or("active");
    let filter = FindingFilter::parse(filter_id).ok_or_else(|| {
        cc.err(ApiError::refused(
            crate::invalid_input::Reason::InvalidFilter,
            "unknown filter",
        ))
    })?;
    let data = permission_audits::list_findings(&state.db, &cc.ctx, filter, now_ms())
        .await
        .map_err(|e| cc.err(e))?;
    let filters: Vec<serde_json::Value> = FILTERS
        .iter()
        .map(|(id, label)| serde_json::json!({"id": id, "label": label}))
        .collect();
    let values = context! {
        findings => pages::value(&data),
        filter => filter_id,
        filters => pages::value(&filters),
    };
    page(
        &state,
        &cc,
        "findings.html",
        "findings",
        values,
        Notes::default(),
    )
    .await
}

/// Query of the finding page.
#[derive(Deserialize)]
pub struct FindingQuery {
    saved: Option<String>,
}

async fn finding_page(
    state: &AppState,
    cc: &ConsoleCtx,
    id: Uuid,
    flash: Option<String>,
    error: Option<String>,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, PageError> {
    let now = now_ms();
    let detail = permission_audits::get_finding(&state.db, &cc.ctx, id, now)
        .await
        .map_err(|e| cc.err(e))?;
    let values = context! {
        detail => pages::value(&detail),
        max_days => permission_audits::MAX_ACCEPT_DAYS,
        min_date => format_date(now),
        max_date => format_date(now + (permission_audits::MAX_ACCEPT_DAYS - 1) * DAY_MS),
    };
    page(
        state,
        cc,
        "finding.html",
        "findings",
        values,
        Notes {
            flash,
            error,
            status: Some(status),
        },
    )
    .await
}

/// `GET /console/permissions/findings/{id}`.
pub async fn finding(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    id: web::Path<Uuid>,
    q: web::Query<FindingQuery>,
) -> Result<HttpResponse, PageError> {
    let flash = q.saved.as_ref().map(|_| "Decision saved.".to_owned());
    finding_page(&state, &cc, *id, flash, None, ok()).await
}

/// Fields of the review form.
#[derive(Deserialize)]
pub struct ReviewForm {
    decision: Option<String>,
    justification: Option<String>,
    /// `YYYY-MM-DD`: the risk is accepted until the end of that day (UTC).
    expires_on: Option<String>,
}

fn end_of_day_ms(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), format).ok()?;
    let next = day.next_day()?.midnight().assume_utc();
    i64::try_from(next.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .map(|ms| ms - 1)
}

/// `POST /console/permissions/findings/{id}/review`.
pub async fn review(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    ConsoleForm { cc, form }: ConsoleForm<ReviewForm>,
) -> Result<HttpResponse, PageError> {
    let expires = form
        .expires_on
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| end_of_day_ms(d).ok_or(()));
    let result = match expires {
        Some(Err(())) => Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidExpiry,
                "the expiry date must be a date (YYYY-MM-DD)",
            ),
        )),
        other => {
            let input = ReviewInput {
                decision: form.decision.unwrap_or_default(),
                justification: form.justification,
                // An expiry typed for another decision is ignored by the form, not an error.
                expires_at_ms: other.and_then(Result::ok),
            };
            let input = if input.decision == "accept_risk" {
                input
            } else {
                ReviewInput {
                    expires_at_ms: None,
                    ..input
                }
            };
            permission_audits::review(&state.db, &cc.ctx, *id, input, now_ms()).await
        }
    };
    match result {
        Ok(_) => Ok(see_other(format!(
            "/console/permissions/findings/{}?saved=1",
            *id
        ))),
        Err(AuditsError::Invalid(message)) => {
            finding_page(
                &state,
                &cc,
                *id,
                None,
                Some(message.message),
                actix_web::http::StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(cc.err(e)),
    }
}

/// Query of the runs page.
pub async fn runs(state: web::Data<AppState>, cc: ConsoleCtx) -> Result<HttpResponse, PageError> {
    let now = now_ms();
    let data = permission_audits::list_runs(&state.db, &cc.ctx, 100)
        .await
        .map_err(|e| cc.err(e))?;
    let default = &state.settings.jobs.permission_audit_default_schedule;
    let schedule = permission_audits::get_schedule(&state.db, &cc.ctx, default, now)
        .await
        .map_err(|e| cc.err(e))?;
    let values = context! {
        runs => pages::value(&data),
        schedule => pages::value(&schedule),
    };
    page(&state, &cc, "runs.html", "runs", values, Notes::default()).await
}

/// `GET /console/permissions/runs/{id}`.
pub async fn run(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let detail = permission_audits::get_run(&state.db, &cc.ctx, *id)
        .await
        .map_err(|e| cc.err(e))?;
    let values = context! {detail => pages::value(&detail)};
    page(&state, &cc, "run.html", "runs", values, Notes::default()).await
}

/// No fields.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /console/permissions/runs`: run now, then show the run.
pub async fn run_now(
    state: web::Data<AppState>,
    ConsoleForm { cc, form: Empty {} }: ConsoleForm<Empty>,
) -> Result<HttpResponse, PageError> {
    let run = permission_audits::run_for_tenant(
        &state.permission_sources,
        &cc.ctx,
        Trigger::Manual,
        now_ms(),
    )
    .await
    .map_err(|e| cc.err(e))?;
    Ok(see_other(format!("/console/permissions/runs/{}", run.id)))
}

/// `GET /console/permissions/report.csv`.
pub async fn report_csv(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
) -> Result<HttpResponse, PageError> {
    let report = permission_audits::report(&state.db, &cc.ctx, now_ms())
        .await
        .map_err(|e| cc.err(e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"permission-report.csv\"",
        ))
        .body(permission_audits::report_csv(&report)))
}

/// `GET /console/permissions/report.json`.
pub async fn report_json(
    state: web::Data<AppState>,
    cc: ConsoleCtx,
) -> Result<HttpResponse, PageError> {
    let report = permission_audits::report(&state.db, &cc.ctx, now_ms())
        .await
        .map_err(|e| cc.err(e))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"permission-report.json\"",
        ))
        .json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_allows_only_the_shop_admin_to_frame_and_the_cdn_only_with_app_bridge() {
        let embedded = csp("https://a.myshopify.com https://admin.shopify.com", true);
        assert!(
            embedded.contains("frame-ancestors https://a.myshopify.com https://admin.shopify.com")
        );
        assert!(embedded.contains("script-src 'self' https://cdn.shopify.com;"));
        let standalone = csp("'none'", false);
        assert!(standalone.contains("frame-ancestors 'none'"));
        assert!(standalone.contains("script-src 'self';"));
        assert!(!standalone.contains("unsafe-inline"));
    }

    #[test]
    fn an_accepted_date_lasts_to_the_end_of_that_day_in_utc() {
        assert_eq!(end_of_day_ms("2026-11-28"), Some(1_795_910_399_999));
        assert_eq!(end_of_day_ms("28/11/2026"), None);
    }
}
