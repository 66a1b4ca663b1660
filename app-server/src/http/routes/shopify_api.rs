//! The JSON API the embedded UI and the admin extension call with a session token (or an API
//! key): customer findings and the privacy compliance requests. CORS lets the extension's
//! sandboxed origin call it; credentials are bearer tokens only, never cookies.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::extractors::AdminCtx;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// `GET /api/v1/customers/{customerGid}/findings`: what LeakGuard knows about one customer.
#[utoipa::path(get, path = "/api/v1/customers/{customerGid}/findings", tag = "compliance",
    params(("customerGid" = String, Path, description = "`gid://shopify/Customer/<id>` or the numeric id")),
    responses((status = 200, body = crate::shopify::compliance::CustomerFindings)))]
pub async fn customer_findings(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let findings = crate::shopify::compliance::customer_findings(
        &state.db,
        &state.keyring,
        &ctx,
        &path.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(findings))
}

/// `GET /api/v1/compliance/data-requests` (admins).
#[utoipa::path(get, path = "/api/v1/compliance/data-requests", tag = "compliance",
    responses((status = 200, body = DataRequests), (status = 403)))]
pub async fn list_data_requests(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
) -> Result<HttpResponse, ApiError> {
    let requests = crate::shopify::compliance::list_requests(&state.db, &ctx).await?;
    Ok(HttpResponse::Ok().json(DataRequests {
        data_requests: requests,
    }))
}

/// The privacy requests of the tenant.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DataRequests {
    /// Newest first.
    data_requests: Vec<crate::shopify::compliance::RequestView>,
}

/// `GET /api/v1/compliance/data-requests/{id}` (admins).
#[utoipa::path(get, path = "/api/v1/compliance/data-requests/{id}", tag = "compliance", params(("id" = Uuid, Path)),
    responses((status = 200, body = crate::shopify::compliance::RequestView), (status = 403)))]
pub async fn get_data_request(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let request = crate::shopify::compliance::get_request(&state.db, &ctx, *id).await?;
    Ok(HttpResponse::Ok().json(request))
}

/// `GET /api/v1/compliance/data-requests/{id}/report` (admins): the customer's data report.
#[utoipa::path(get, path = "/api/v1/compliance/data-requests/{id}/report", tag = "compliance", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The report, as a download", body = Object), (status = 403)))]
pub async fn data_request_report(
    state: web::Data<AppState>,
    AdminCtx(ctx): AdminCtx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let report = crate::shopify::compliance::download_report(&state.db, &ctx, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"customer-data-request-{id}.json\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(report))
}

/// CORS for the API: preflights answer 204; every response may be read cross-origin, with the
/// headers App Bridge needs exposed. No cookies are involved, so `*` is safe.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody, impl MessageBody>>, actix_web::Error> {
    if req.method() == Method::OPTIONS {
        let response = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, Accept",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "7200"))
            .finish();
        return Ok(req.into_response(response).map_into_left_body());
    }
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::HeaderValue::from_static(
            "X-Shopify-Retry-Invalid-Session-Request, X-Shopify-API-Request-Failure-Reauthorize-Url",
        ),
    );
    Ok(res.map_into_right_body())
}
