//! `/api/v1/permissions/*`: permission audits of apps, integrations and admin users.

use actix_web::{HttpResponse, web};
use leakguard_domain::permissions::Policy;
use serde::Deserialize;
use uuid::Uuid;

use crate::db::now_ms;
use crate::http::error::ApiError;
use crate::permission_audits::{self, FindingFilter, ReviewInput, Trigger};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Query of the finding list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// `active` (default), `open`, `resolved` or `all`.
    #[param(pattern = "^(active|open|resolved|all)$")]
    state: Option<String>,
}

/// Query of lists with a limit.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// At most this many, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// Reviews only: only revocations not yet ticketed.
    pending_revocations: Option<bool>,
}

fn limit(q: &LimitQuery) -> Result<u64, ApiError> {
    match q.limit.unwrap_or(50) {
        n @ 1..=500 => Ok(n),
        _ => Err(ApiError::refused(
            crate::invalid_input::Reason::InvalidLimit,
            "limit must be 1 to 500",
        )),
    }
}

/// Body of a review.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `acknowledge`, `accept_risk` or `revoke`.
    decision: String,
    /// Why (required to accept a risk).
    justification: Option<String>,
    /// Until when an accepted risk holds (RFC 3339).
    #[serde(default, with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<i64>,
}

/// Body of the schedule.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// A cron expression (UTC).
    cron: String,
    /// Whether scheduled runs happen (default true).
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// Query of the report.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

/// Counts and the most severe open findings.
#[utoipa::path(get, path = "/api/v1/permissions/overview", tag = "permissions",
    responses((status = 200, body = crate::permission_audits::Overview)))]
pub async fn overview(
    state: web::Data<AppState>,
    ctx: TenantCtx,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(permission_audits::overview(&state.db, &ctx, now_ms()).await?))
}

/// The latest snapshot's principals with their grants and risk.
#[utoipa::path(get, path = "/api/v1/permissions/principals", tag = "permissions",
    responses((status = 200, body = crate::permission_audits::PrincipalsView)))]
pub async fn principals(
    state: web::Data<AppState>,
    ctx: TenantCtx,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(permission_audits::principals(&state.db, &ctx).await?))
}

/// Changes between runs, newest first.
#[utoipa::path(get, path = "/api/v1/permissions/changes", tag = "permissions", params(LimitQuery),
    responses((status = 200, body = Vec<crate::permission_audits::RunChanges>)))]
pub async fn changes(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiError> {
    let n = limit(&q)?;
    Ok(HttpResponse::Ok().json(permission_audits::changes_over_time(&state.db, &ctx, n).await?))
}

/// Findings (`?state=active|open|resolved|all`).
#[utoipa::path(get, path = "/api/v1/permissions/findings", tag = "permissions", params(FindingsQuery),
    responses((status = 200, body = Vec<crate::permission_audits::FindingView>)))]
pub async fn findings(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<FindingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = match q.state.as_deref() {
        None => FindingFilter::Active,
        Some(s) => FindingFilter::parse(s).ok_or_else(|| {
            ApiError::refused(
                crate::invalid_input::Reason::InvalidFilter,
                "state must be active, open, resolved or all",
            )
        })?,
    };
    Ok(HttpResponse::Ok()
        .json(permission_audits::list_findings(&state.db, &ctx, filter, now_ms()).await?))
}

/// One finding with its review history.
#[utoipa::path(get, path = "/api/v1/permissions/findings/{id}", tag = "permissions", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::permission_audits::FindingDetail)))]
pub async fn finding(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(permission_audits::get_finding(&state.db, &ctx, *id, now_ms()).await?))
}

/// Records a review decision.
#[utoipa::path(post, path = "/api/v1/permissions/findings/{id}/reviews", tag = "permissions", params(("id" = Uuid, Path)), request_body = ReviewBody,
    responses((status = 201, body = crate::permission_audits::ReviewView), (status = 403)))]
pub async fn review(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
    body: web::Json<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = ReviewInput {
        decision: body.decision,
        justification: body.justification,
        expires_at_ms: body.expires_at,
    };
    let review = permission_audits::review(&state.db, &ctx, *id, input, now_ms()).await?;
    Ok(HttpResponse::Created().json(review))
}

/// Review history (`?pending_revocations=true` for the ticketing step).
#[utoipa::path(get, path = "/api/v1/permissions/reviews", tag = "permissions", params(LimitQuery),
    responses((status = 200, body = Vec<crate::permission_audits::ReviewView>)))]
pub async fn reviews(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiError> {
    let n = limit(&q)?;
    let pending = q.pending_revocations.unwrap_or(false);
    Ok(
        HttpResponse::Ok()
            .json(permission_audits::list_reviews(&state.db, &ctx, pending, n).await?),
    )
}

/// Audit runs, newest first.
#[utoipa::path(get, path = "/api/v1/permissions/runs", tag = "permissions", params(LimitQuery),
    responses((status = 200, body = Vec<crate::permission_audits::RunView>)))]
pub async fn runs(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiError> {
    let n = limit(&q)?;
    Ok(HttpResponse::Ok().json(permission_audits::list_runs(&state.db, &ctx, n).await?))
}

/// One run with its changes.
#[utoipa::path(get, path = "/api/v1/permissions/runs/{id}", tag = "permissions", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::permission_audits::RunDetail)))]
pub async fn run(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(permission_audits::get_run(&state.db, &ctx, *id).await?))
}

/// Runs the audit now.
#[utoipa::path(post, path = "/api/v1/permissions/runs", tag = "permissions",
    responses((status = 201, body = crate::permission_audits::RunView), (status = 403), (status = 409), (status = 502)))]
pub async fn run_now(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    let run = permission_audits::run_for_tenant(
        &state.permission_sources,
        &ctx,
        Trigger::Manual,
        now_ms(),
    )
    .await?;
    Ok(HttpResponse::Created().json(run))
}

/// The permission report (`?format=json|csv`).
#[utoipa::path(get, path = "/api/v1/permissions/report", tag = "permissions", params(ReportQuery),
    responses((status = 200, description = "The report", content((crate::permission_audits::Report = "application/json"), (String = "text/csv")))))]
pub async fn report(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let report = permission_audits::report(&state.db, &ctx, now_ms()).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(HttpResponse::Ok().json(report)),
        "csv" => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"permission-report.csv\"",
            ))
            .body(permission_audits::report_csv(&report))),
        _ => Err(ApiError::refused(
            crate::invalid_input::Reason::InvalidFormat,
            "format must be json or csv",
        )),
    }
}

/// The allow-list policy.
#[utoipa::path(get, path = "/api/v1/permissions/policy", tag = "permissions",
    responses((status = 200, body = Policy)))]
pub async fn policy(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(permission_audits::get_policy(&state.db, &ctx).await?))
}

/// Replaces the allow-list policy (admins).
#[utoipa::path(put, path = "/api/v1/permissions/policy", tag = "permissions", request_body = Policy,
    responses((status = 200, body = Policy), (status = 403)))]
pub async fn put_policy(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    body: web::Json<Policy>,
) -> Result<HttpResponse, ApiError> {
    let policy =
        permission_audits::put_policy(&state.db, &ctx, body.into_inner(), now_ms()).await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// The audit schedule.
#[utoipa::path(get, path = "/api/v1/permissions/schedule", tag = "permissions",
    responses((status = 200, body = crate::permission_audits::ScheduleView)))]
pub async fn schedule(
    state: web::Data<AppState>,
    ctx: TenantCtx,
) -> Result<HttpResponse, ApiError> {
    let default = &state.settings.jobs.permission_audit_default_schedule;
    Ok(HttpResponse::Ok()
        .json(permission_audits::get_schedule(&state.db, &ctx, default, now_ms()).await?))
}

/// Sets the audit schedule (admins).
#[utoipa::path(put, path = "/api/v1/permissions/schedule", tag = "permissions", request_body = ScheduleBody,
    responses((status = 200, body = crate::permission_audits::ScheduleView), (status = 403)))]
pub async fn put_schedule(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    body: web::Json<ScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    let view = permission_audits::put_schedule(&state.db, &ctx, &body.cron, body.enabled, now_ms())
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
