//! The API error type: a catalogue of stable snake_case codes, each with its status and type.
//! Codes are public: add, never rename. 5xx bodies say nothing of the cause; the cause chain
//! is logged once, here, at the boundary.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

use crate::invalid_input::{InvalidInput, Reason};

/// Every error code the API returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed or a value is invalid.
    InvalidRequest,
    /// No credentials were presented.
    MissingCredentials,
    /// The credentials are wrong, expired or revoked.
    InvalidCredentials,
    /// The role does not allow this.
    InsufficientRole,
    /// No such object (or another tenant's).
    NotFound,
    /// The object exists already or changed meanwhile.
    Conflict,
    /// The body is larger than allowed.
    PayloadTooLarge,
    /// Too many requests; retry after the indicated time.
    RateLimited,
    /// The server is not ready (database down, migrations pending).
    Unavailable,
    /// Something failed on our side.
    Internal,
    /// A cookie-authenticated unsafe request without a valid CSRF token.
    CsrfFailed,
    /// The body's encoding or media type is not accepted.
    UnsupportedMediaType,
    /// The platform (e.g. Shopify) must authorise LeakGuard again.
    ReauthRequired,
    /// A call to the platform (e.g. Shopify) failed.
    UpstreamFailed,
    /// A browser request sent from another site (`Origin` / `Sec-Fetch-Site`) to a form that
    /// only this server's own pages may post.
    CrossSiteRequest,
    /// A signed webhook body does not fit its topic or shop headers.
    WebhookMismatch,
    /// A webhook triggered outside the platform's retry window.
    WebhookStale,
    /// The credential's user is deactivated.
    UserDeactivated,
    /// The API key is past its expiry.
    ApiKeyExpired,
    /// The API key has been revoked.
    ApiKeyRevoked,
    /// The change would leave the tenant without an active owner.
    LastOwner,
    /// Only an owner may act on owners and admins or grant those roles.
    OwnerRequired,
    /// The tenant is uninstalled: its data can be read, not changed.
    TenantReadOnly,
    /// The tenant's agents hold all the tenant's ingest slots; retry after the indicated time.
    TenantBusy,
    /// The tenant's daily ingest quota is used up; retry after the indicated time.
    QuotaExceeded,
    /// The request body did not arrive in time.
    RequestTimeout,
    /// The input was refused for a specific reason (see [`reason_code`]).
    Invalid(Reason),
}

/// The public code of each specific refusal; `invalid_request` only when none applies.
pub fn reason_code(reason: Reason) -> &'static str {
    match reason {
        Reason::Other => "invalid_request",
        Reason::InvalidJson => "invalid_json",
        Reason::UnknownField => "unknown_field",
        Reason::MissingField => "missing_field",
        Reason::InvalidField => "invalid_field",
        Reason::InvalidQuery => "invalid_query",
        Reason::InvalidForm => "invalid_form",
        Reason::MissingParameter => "missing_parameter",
        Reason::InvalidLimit => "invalid_limit",
        Reason::InvalidFilter => "invalid_filter",
        Reason::InvalidFormat => "invalid_format",
        Reason::InvalidRole => "invalid_role",
        Reason::InvalidShopDomain => "invalid_shop_domain",
        Reason::InvalidBaseUrl => "invalid_base_url",
        Reason::InvalidCron => "invalid_cron",
        Reason::InvalidRetentionPolicy => "invalid_retention_policy",
        Reason::InvalidAllowList => "invalid_allow_list",
        Reason::InvalidStaleAdminDays => "invalid_stale_admin_days",
        Reason::DocumentTooLarge => "document_too_large",
        Reason::InvalidDecision => "invalid_decision",
        Reason::InvalidJustification => "invalid_justification",
        Reason::InvalidExpiry => "invalid_expiry",
        Reason::FindingNotReviewable => "finding_not_reviewable",
        Reason::InvalidMode => "invalid_mode",
        Reason::TenantNotEligible => "tenant_not_eligible",
        Reason::InvalidCustomerId => "invalid_customer_id",
        Reason::InvalidWebhook => "invalid_webhook",
        Reason::InvalidModuleDocument => "invalid_module_document",
        Reason::InvalidSeverity => "invalid_severity",
        Reason::InvalidIncidentStatus => "invalid_incident_status",
        Reason::InvalidTransition => "invalid_transition",
        Reason::InvalidIncidentFacts => "invalid_incident_facts",
        Reason::InvalidEventKind => "invalid_event_kind",
        Reason::InvalidOwner => "invalid_owner",
        Reason::InvalidFeedbackAction => "invalid_feedback_action",
        Reason::InvalidSuppressionScope => "invalid_suppression_scope",
        Reason::InvalidDestination => "invalid_destination",
        Reason::DestinationAddressRefused => "destination_address_refused",
    }
}

impl ErrorCode {
    /// The public code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::MissingCredentials => "missing_credentials",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InsufficientRole => "insufficient_role",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::CsrfFailed => "csrf_failed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ReauthRequired => "reauth_required",
            Self::UpstreamFailed => "upstream_failed",
            Self::CrossSiteRequest => "cross_site_request",
            Self::WebhookMismatch => "webhook_mismatch",
            Self::WebhookStale => "webhook_stale",
            Self::UserDeactivated => "user_deactivated",
            Self::ApiKeyExpired => "api_key_expired",
            Self::ApiKeyRevoked => "api_key_revoked",
            Self::LastOwner => "last_owner",
            Self::OwnerRequired => "owner_required",
            Self::TenantReadOnly => "tenant_read_only",
            Self::TenantBusy => "tenant_busy",
            Self::QuotaExceeded => "quota_exceeded",
            Self::RequestTimeout => "request_timeout",
            Self::Invalid(reason) => reason_code(reason),
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::MissingCredentials | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::InsufficientRole => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::CsrfFailed => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ReauthRequired => StatusCode::UNAUTHORIZED,
            Self::UpstreamFailed => StatusCode::BAD_GATEWAY,
            Self::CrossSiteRequest => StatusCode::FORBIDDEN,
            Self::WebhookMismatch => StatusCode::UNAUTHORIZED,
            Self::WebhookStale => StatusCode::BAD_REQUEST,
            Self::UserDeactivated | Self::ApiKeyExpired | Self::ApiKeyRevoked => {
                StatusCode::UNAUTHORIZED
            }
            Self::LastOwner => StatusCode::CONFLICT,
            Self::OwnerRequired | Self::TenantReadOnly => StatusCode::FORBIDDEN,
            Self::TenantBusy | Self::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Invalid(Reason::DocumentTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The error type (a coarse grouping of codes).
    pub fn kind(self) -> &'static str {
        match self {
            Self::InvalidRequest
            | Self::PayloadTooLarge
            | Self::UnsupportedMediaType
            | Self::Invalid(_) => "invalid_request",
            Self::MissingCredentials
            | Self::InvalidCredentials
            | Self::InsufficientRole
            | Self::CsrfFailed
            | Self::ReauthRequired
            | Self::CrossSiteRequest => "auth",
            Self::NotFound | Self::Conflict => "state",
            Self::RateLimited
            | Self::Unavailable
            | Self::UpstreamFailed
            | Self::TenantBusy
            | Self::QuotaExceeded
            | Self::RequestTimeout => "availability",
            Self::Internal => "internal",
            Self::WebhookMismatch => "auth",
            Self::WebhookStale => "invalid_request",
            Self::UserDeactivated
            | Self::ApiKeyExpired
            | Self::ApiKeyRevoked
            | Self::OwnerRequired
            | Self::TenantReadOnly => "auth",
            Self::LastOwner => "state",
        }
    }
}

/// An API error.
pub struct ApiError {
    code: ErrorCode,
    message: String,
    cause: Option<anyhow::Error>,
    retry_after_secs: Option<u64>,
    headers: Vec<(&'static str, &'static str)>,
}

/// The error body.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
    link: String,
}

impl ApiError {
    /// An error with a message safe to show.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            cause: None,
            retry_after_secs: None,
            headers: Vec::new(),
        }
    }

    /// 404 with the standard text.
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }

    /// 400 without a specific reason (`invalid_request`).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// 400 (413 for a document too large) with the code of `reason`.
    pub fn refused(reason: Reason, message: impl Into<String>) -> Self {
        match reason {
            Reason::Other => Self::invalid(message),
            reason => Self::new(ErrorCode::Invalid(reason), message),
        }
    }

    /// 403.
    pub fn forbidden() -> Self {
        Self::new(ErrorCode::InsufficientRole, "your role does not allow this")
    }

    /// 500; the cause is logged, never shown.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            cause: Some(cause.into()),
            retry_after_secs: None,
            headers: Vec::new(),
        }
    }

    /// 429 or 503 with `Retry-After`.
    pub fn retry_after(code: ErrorCode, secs: u64, message: impl Into<String>) -> Self {
        Self {
            retry_after_secs: Some(secs),
            ..Self::new(code, message)
        }
    }

    /// Adds a fixed response header (e.g. Shopify's session-retry signal).
    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message safe to show.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code.as_str())
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            tracing::error!(
                code = self.code.as_str(),
                error = format!("{cause:#}"),
                "Request failed."
            );
        }
        let body = ErrorBody {
            code: self.code.as_str(),
            kind: self.code.kind(),
            message: &self.message,
            link: format!("https://docs.leakguard.dev/errors#{}", self.code.as_str()),
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after_secs {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        for (name, value) in &self.headers {
            response.insert_header((*name, *value));
        }
        response.json(body)
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        Self::refused(e.reason, e.message)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(e)
    }
}

impl From<crate::shopify::ShopifyError> for ApiError {
    fn from(e: crate::shopify::ShopifyError) -> Self {
        use crate::shopify::ShopifyError as E;
        match e {
            E::NotConfigured => {
                Self::new(ErrorCode::Unavailable, "the Shopify app is not configured")
            }
            E::Invalid(m) => m.into(),
            E::Unauthorized(m) => Self::new(ErrorCode::InvalidCredentials, m),
            E::ReauthRequired => Self::new(
                ErrorCode::ReauthRequired,
                "the shop must authorise LeakGuard again",
            ),
            E::NotFound => Self::not_found(),
            E::Upstream(m) => Self::new(ErrorCode::UpstreamFailed, m),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::tenants::TenantError> for ApiError {
    fn from(e: crate::tenants::TenantError) -> Self {
        use crate::tenants::TenantError as E;
        match e {
            E::Invalid(m) => Self::invalid(m),
            E::Exists(m) => Self::new(ErrorCode::Conflict, format!("{m} already exists")),
            E::NotFound => Self::not_found(),
            E::OwnerRequired(m) => Self::new(ErrorCode::OwnerRequired, m),
            E::LastOwner => Self::new(ErrorCode::LastOwner, e.to_string()),
            E::UserDeactivated => Self::new(ErrorCode::UserDeactivated, e.to_string()),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::permission_audits::AuditsError> for ApiError {
    fn from(e: crate::permission_audits::AuditsError) -> Self {
        use crate::permission_audits::AuditsError as E;
        match e {
            E::Invalid(m) => m.into(),
            E::NotFound => Self::not_found(),
            E::Forbidden => Self::forbidden(),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::magento::MagentoError> for ApiError {
    fn from(e: crate::magento::MagentoError) -> Self {
        use crate::magento::MagentoError as E;
        match e {
            E::Invalid(m) => m.into(),
            E::MissingCredentials(m) => Self::new(ErrorCode::MissingCredentials, m),
            E::Unauthorized(m) => Self::new(ErrorCode::InvalidCredentials, m),
            E::TooLarge(m) => Self::new(ErrorCode::PayloadTooLarge, m),
            E::NotFound => Self::not_found(),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::ingest::IngestError> for ApiError {
    fn from(e: crate::ingest::IngestError) -> Self {
        use crate::ingest::IngestError as E;
        match e {
            E::Invalid(m) => Self::invalid(m),
            E::Unauthorized(m) => Self::new(ErrorCode::InvalidCredentials, m),
            E::TooLarge(m) => Self::new(ErrorCode::PayloadTooLarge, m),
            E::UnsupportedEncoding(m) => Self::new(ErrorCode::UnsupportedMediaType, m),
            E::QuotaExceeded { retry_after_secs } => Self::retry_after(
                ErrorCode::QuotaExceeded,
                retry_after_secs,
                "the daily ingest quota of this tenant is used up; retry after the reset",
            ),
            E::NotFound => Self::not_found(),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::enrollment::EnrollmentError> for ApiError {
    fn from(e: crate::enrollment::EnrollmentError) -> Self {
        use crate::enrollment::EnrollmentError as E;
        match e {
            E::InvalidToken => Self::new(ErrorCode::InvalidCredentials, e.to_string()),
            E::Invalid(m) => Self::invalid(m),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::console::ConsoleError> for ApiError {
    fn from(e: crate::console::ConsoleError) -> Self {
        use crate::console::ConsoleError as E;
        match e {
            E::Unauthorized => Self::new(ErrorCode::InvalidCredentials, e.to_string()),
            E::Csrf => Self::new(ErrorCode::CsrfFailed, e.to_string()),
            E::Refused(r) => r.into(),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

/// Maps actix's JSON and query extraction errors onto the catalogue.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::Overflow { .. } | J::OverflowKnownLength { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, "request body is too large")
        }
        J::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "content type must be application/json",
        ),
        J::Deserialize(e) => ApiError::refused(
            json_reason(e),
            crate::magento::json_error("invalid JSON body", e),
        ),
        _ => ApiError::refused(Reason::InvalidJson, "the JSON body could not be read"),
    };
    api.into()
}

/// The reason a JSON body was refused: malformed, an unknown or missing field, or a field of
/// the wrong type or value.
pub fn json_reason(e: &serde_json::Error) -> Reason {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let text = e.to_string();
            if text.starts_with("unknown field") {
                Reason::UnknownField
            } else if text.starts_with("missing field") {
                Reason::MissingField
            } else {
                Reason::InvalidField
            }
        }
        Category::Syntax | Category::Eof | Category::Io => Reason::InvalidJson,
    }
}

/// Maps query-string extraction errors onto the catalogue.
pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::refused(Reason::InvalidQuery, format!("invalid query string: {err}")).into()
}

/// Maps path extraction errors onto the catalogue (a malformed id is simply not found).
pub fn path_error_handler(
    _err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::not_found().into()
}

impl From<crate::tenancy::Refusal> for ApiError {
    fn from(e: crate::tenancy::Refusal) -> Self {
        use crate::tenancy::Refusal as R;
        match e {
            R::TenantClosed | R::Mismatch => {
                Self::new(ErrorCode::InvalidCredentials, "invalid credentials")
            }
            R::UserDeactivated => Self::new(ErrorCode::UserDeactivated, e.to_string()),
            R::ReadOnly => Self::new(ErrorCode::TenantReadOnly, e.to_string()),
        }
    }
}

impl From<crate::tenants::KeyAuthError> for ApiError {
    fn from(e: crate::tenants::KeyAuthError) -> Self {
        use crate::tenants::KeyAuthError as E;
        match e {
            E::Unknown => Self::new(ErrorCode::InvalidCredentials, "invalid credentials"),
            E::Expired => Self::new(ErrorCode::ApiKeyExpired, e.to_string()),
            E::Revoked => Self::new(ErrorCode::ApiKeyRevoked, e.to_string()),
            E::Refused(r) => r.into(),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::outbox::OutboxError> for ApiError {
    fn from(e: crate::outbox::OutboxError) -> Self {
        use crate::outbox::OutboxError as E;
        match e {
            E::Invalid(r) => r.into(),
            E::NotFound => Self::not_found(),
            E::Forbidden => Self::forbidden(),
            E::Conflict(m) => Self::new(ErrorCode::Conflict, m),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::incidents::IncidentError> for ApiError {
    fn from(e: crate::incidents::IncidentError) -> Self {
        use crate::incidents::IncidentError as E;
        match e {
            E::Invalid(r) => r.into(),
            E::NotFound => Self::not_found(),
            E::Forbidden => Self::forbidden(),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}

impl From<crate::alerts::AlertError> for ApiError {
    fn from(e: crate::alerts::AlertError) -> Self {
        use crate::alerts::AlertError as E;
        match e {
            E::Invalid(r) => r.into(),
            E::NotFound => Self::not_found(),
            E::Forbidden => Self::forbidden(),
            E::Unexpected(e) => Self::internal(e),
        }
    }
}
