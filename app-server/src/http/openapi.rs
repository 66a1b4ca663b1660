//! The OpenAPI 3.1 description of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and the view types' `ToSchema` derives, served at `GET /api/v1/openapi.json`.
//!
//! Conventions the document encodes, so the annotations stay short:
//! - the default security is a tenant credential (API key, Shopify session token or console
//!   session); operations with another credential or none declare their own;
//! - operation ids are `<tag>_<handler>`;
//! - every operation may answer with the error catalogue (`Error`): 400 and 500 always, 401 when
//!   it needs a credential, 404 when its path has a parameter, 413 and 415 when it takes a body;
//!   others (403, 409, 429, 502, 503) are declared where a handler can return them;
//! - component names are unique across the crate: the stored enums are named after their table
//!   (`TenantStatus`, `JobRunStatus`), since two schemas of one name would overwrite each other.
//!
//! The tests below fail when a route registered under `/api/v1` has no documented operation, or
//! a documented operation is not routed.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder, Schema, SecurityRequirement,
};
use utoipa::{Modify, OpenApi};

use super::error::ErrorCode;
use super::routes;

/// The document (derived; call [`document`] for the finished one).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "LeakGuard API",
        version = "1",
        description = "The tenant API of LeakGuard. Times are RFC 3339 strings in UTC with \
            milliseconds (`2026-12-05T13:00:00.123Z`); request fields that take a time accept \
            RFC 3339 with any offset and refuse Unix-millisecond integers. Errors carry \
            `{code, type, message, link}` with a stable `code` from the catalogue."
    ),
    paths(
        serve,
        routes::tenant::get,
        routes::users::list,
        routes::users::create,
        routes::users::get,
        routes::users::create_api_key,
        routes::users::update,
        routes::users::list_api_keys,
        routes::api_keys::list,
        routes::api_keys::revoke,
        routes::audit_chain::list,
        routes::audit_chain::get,
        routes::audit_chain::verify,
        routes::shopify_api::customer_findings,
        routes::shopify_api::list_data_requests,
        routes::shopify_api::get_data_request,
        routes::shopify_api::data_request_report,
        routes::magento::enroll,
        routes::magento::create_enrollment_token,
        routes::magento::events,
        routes::magento::permission_snapshots,
        routes::magento::retention_policy,
        routes::magento::retention_reports,
        routes::agent::enroll,
        routes::agent::create_enrollment_token,
        routes::agent::batches,
        routes::agent::list,
        routes::agent::get,
        routes::agent::revoke,
        routes::retention::get_policy,
        routes::retention::put_policy,
        routes::retention::list_runs,
        routes::retention::run_now,
        routes::retention::get_run,
        routes::retention::inventory,
        routes::permissions::overview,
        routes::permissions::principals,
        routes::permissions::changes,
        routes::permissions::findings,
        routes::permissions::finding,
        routes::permissions::review,
        routes::permissions::reviews,
        routes::permissions::runs,
        routes::permissions::run_now,
        routes::permissions::run,
        routes::permissions::report,
        routes::permissions::policy,
        routes::permissions::put_policy,
        routes::permissions::schedule,
        routes::permissions::put_schedule,
        routes::incidents::list,
        routes::incidents::create,
        routes::incidents::get,
        routes::incidents::update,
        routes::incidents::add_event,
        routes::incidents::obligations,
        routes::alerts::list,
        routes::alerts::get,
        routes::alerts::feedback,
        routes::destinations::create,
        routes::destinations::list,
        routes::destinations::get,
        routes::destinations::update,
        routes::destinations::delete,
        routes::destinations::test,
        routes::destinations::entries,
        routes::destinations::replay,
    ),
    modifiers(&Conventions),
    security(("api_key" = []), ("shopify_session" = []), ("console_session" = []))
)]
pub struct ApiDoc;

/// The finished document as JSON, built once.
pub fn json() -> &'static [u8] {
    static JSON: OnceLock<Vec<u8>> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_vec(&document()).unwrap_or_default())
}

/// The finished document.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// This document (public).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(json())
}

/// Every code of the catalogue. The match makes a new code a compile error here until listed.
fn catalogue() -> Vec<ErrorCode> {
    use ErrorCode as C;
    let all = [
        C::InvalidRequest,
        C::MissingCredentials,
        C::InvalidCredentials,
        C::InsufficientRole,
        C::NotFound,
        C::Conflict,
        C::PayloadTooLarge,
        C::RateLimited,
        C::Unavailable,
        C::Internal,
        C::CsrfFailed,
        C::UnsupportedMediaType,
        C::ReauthRequired,
        C::UpstreamFailed,
        C::CrossSiteRequest,
        C::WebhookMismatch,
        C::WebhookStale,
        C::UserDeactivated,
        C::ApiKeyExpired,
        C::ApiKeyRevoked,
        C::LastOwner,
        C::OwnerRequired,
        C::TenantReadOnly,
        C::TenantBusy,
        C::QuotaExceeded,
        C::RequestTimeout,
    ];
    for code in all {
        match code {
            C::InvalidRequest
            | C::MissingCredentials
            | C::InvalidCredentials
            | C::InsufficientRole
            | C::NotFound
            | C::Conflict
            | C::PayloadTooLarge
            | C::RateLimited
            | C::Unavailable
            | C::Internal
            | C::CsrfFailed
            | C::UnsupportedMediaType
            | C::ReauthRequired
            | C::UpstreamFailed
            | C::CrossSiteRequest
            | C::WebhookMismatch
            | C::WebhookStale
            | C::UserDeactivated
            | C::ApiKeyExpired
            | C::ApiKeyRevoked
            | C::LastOwner
            | C::OwnerRequired
            | C::TenantReadOnly
            | C::TenantBusy
            | C::QuotaExceeded
            | C::RequestTimeout
            | C::Invalid(_) => {}
        }
    }
    let mut codes = all.to_vec();
    codes.extend(crate::invalid_input::Reason::ALL.map(C::Invalid));
    // `Invalid(Other)` is the generic `invalid_request`: one entry per public code.
    let mut seen = std::collections::HashSet::new();
    codes.retain(|c| seen.insert(c.as_str()));
    codes
}

fn error_schema() -> Schema {
    let codes = catalogue();
    let mut kinds: Vec<&str> = codes.iter().map(|c| c.kind()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let string = |description: &str| {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .description(Some(description))
    };
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .description(Some(
            "An error. `code` is stable (added to, never renamed); 5xx messages say nothing \
             of the cause.",
        ))
        .property(
            "code",
            string("The error code; each has one HTTP status.")
                .enum_values(Some(codes.iter().map(|c| c.as_str()))),
        )
        .required("code")
        .property(
            "type",
            string("A coarse grouping of codes.").enum_values(Some(kinds)),
        )
        .required("type")
        .property("message", string("What went wrong, safe to show."))
        .required("message")
        .property("link", string("Documentation of the code."))
        .required("link")
        .into()
}

/// The conventions of the module header, applied to every operation.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert("Error".into(), RefOr::T(error_schema()));
        for (name, scheme) in security_schemes() {
            components.add_security_scheme(name, scheme);
        }
        for (status, description) in [
            ("400", "invalid_request: a malformed or invalid value"),
            (
                "401",
                "missing_credentials, invalid_credentials, api_key_expired, api_key_revoked, \
                 user_deactivated or reauth_required",
            ),
            (
                "403",
                "insufficient_role, owner_required, tenant_read_only or csrf_failed",
            ),
            (
                "404",
                "not_found (also another tenant's object, or a malformed id)",
            ),
            (
                "409",
                "conflict: the object exists already; last_owner: the tenant would have no \
                 active owner",
            ),
            ("413", "payload_too_large"),
            ("408", "request_timeout: the body did not arrive in time"),
            ("415", "unsupported_media_type"),
            (
                "429",
                "rate_limited, tenant_busy or quota_exceeded; see Retry-After",
            ),
            ("500", "internal"),
            ("502", "upstream_failed: the platform's API failed"),
            ("503", "unavailable; see Retry-After"),
        ] {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            "Error",
                        ))))
                        .build(),
                )
                .build();
            components
                .responses
                .insert(format!("E{status}"), RefOr::T(response));
        }
        let default_secured = doc.security.as_ref().is_some_and(|s| !s.is_empty());
        for (path, item) in doc.paths.paths.iter_mut() {
            let has_param = path.contains('{');
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_common_errors(operation, has_param, default_secured);
                qualify_operation_id(operation);
            }
        }
    }
}

fn add_common_errors(operation: &mut Operation, has_param: bool, default_secured: bool) {
    let public = operation.security.as_ref().is_some_and(|requirements| {
        requirements
            .iter()
            .all(|r| *r == SecurityRequirement::default())
    });
    let secured = !public && (operation.security.is_some() || default_secured);
    let mut statuses = vec!["400", "500"];
    if secured {
        statuses.push("401");
    }
    if has_param {
        statuses.push("404");
    }
    // A body is read under a size limit and by content type before the handler runs.
    if operation.request_body.is_some() {
        statuses.extend(["413", "415"]);
    }
    for status in statuses {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_ref(status));
    }
    // Declared error statuses without a body get the catalogue's.
    for (status, response) in operation.responses.responses.iter_mut() {
        if status.starts_with(['4', '5'])
            && let RefOr::T(r) = response
            && r.content.is_empty()
        {
            *response = error_ref(status);
        }
    }
}

/// Operation ids are the handler names, which repeat across resources (`get`, `list`):
/// prefixed with the tag they become unique (`users_get`, `agents_list`).
fn qualify_operation_id(operation: &mut Operation) {
    let tag = operation
        .tags
        .as_ref()
        .and_then(|tags| tags.first())
        .cloned();
    if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
        *id = format!("{tag}_{id}");
    }
}

fn error_ref(status: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::Ref(utoipa::openapi::Ref::new(format!(
        "#/components/responses/E{status}"
    )))
}

fn security_schemes() -> Vec<(&'static str, SecurityScheme)> {
    let bearer = |description: &str, format: Option<&str>| {
        let mut http = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(description));
        if let Some(format) = format {
            http = http.bearer_format(format);
        }
        SecurityScheme::Http(http.build())
    };
    let header = |name: &str, description: &str| {
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            name,
            description,
        )))
    };
    vec![
        (
            "api_key",
            bearer(
                "A tenant API key (`POST /api/v1/users/{id}/api-keys`, or `leakguard tenant \
                 create`), as `Authorization: Bearer <key>`.",
                None,
            ),
        ),
        (
            "shopify_session",
            bearer(
                "A Shopify session token from App Bridge (embedded app and admin extension).",
                Some("JWT"),
            ),
        ),
        (
            "console_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::console::SESSION_COOKIE,
                "The console session cookie. Unsafe methods also need the session's CSRF \
                 token in `X-CSRF-Token`.",
            ))),
        ),
        (
            "agent_credential",
            bearer(
                "The agent's credential from enrollment, `Authorization: Bearer \
                 <agent_id>.<secret>`.",
                None,
            ),
        ),
        (
            "magento_key_id",
            header("X-LeakGuard-Key-Id", "The module key id from enrollment."),
        ),
        (
            "magento_timestamp",
            header(
                "X-LeakGuard-Timestamp",
                "Unix seconds, within 300 s of the server clock.",
            ),
        ),
        (
            "magento_nonce",
            header(
                "X-LeakGuard-Nonce",
                "32 lowercase hex characters, used once.",
            ),
        ),
        (
            "magento_signature",
            header(
                "X-LeakGuard-Signature",
                "`v1=<hex HMAC-SHA256>` keyed by the module secret over `\"v1\\n\" + \
                 timestamp + \"\\n\" + nonce + \"\\n\" + METHOD + \"\\n\" + path_and_query + \
                 \"\\n\" + hex(sha256(raw body))`.",
            ),
        ),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "openapi_tests.rs"]
mod tests;
