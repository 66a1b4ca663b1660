//! The Magento adapter: module enrollment, signed module requests (HMAC `v1`), module
//! events, permission snapshots, the retention policy and retention reports, and the console
//! sign-in from the Magento admin (HS256 token, then a session).
//!
//! It owns the wire formats of `magento-module/` on the server side. It must not be imported
//! by domain modules (detection, classification); they read what it stores (`signals`,
//! `permission_snapshots`, `retention_reports`, `findings`). No secret, signature, token or
//! personal datum reaches a log line or an error message.

pub mod auth;
pub mod events;
pub mod replay;
pub mod retention;
pub mod signature;
pub mod snapshots;
pub mod sso;

use sea_orm::DbErr;

use crate::audit::AuditError;
use crate::enrollment::EnrollmentError;
use crate::secrets::SecretError;

/// Name of the sealed secret holding the module's HMAC (and SSO) key.
pub const MODULE_SECRET: &str = "magento.module_secret";

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum MagentoError {
    /// Bad input, with a message safe to show.
    #[error("{0}")]
    Invalid(String),
    /// Authentication headers absent.
    #[error("{0}")]
    MissingCredentials(String),
    /// Wrong key, signature, timestamp, nonce or token (message safe to show).
    #[error("{0}")]
    Unauthorized(String),
    /// Body too large or too many items.
    #[error("{0}")]
    TooLarge(String),
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for MagentoError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for MagentoError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<SecretError> for MagentoError {
    fn from(e: SecretError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<EnrollmentError> for MagentoError {
    fn from(e: EnrollmentError) -> Self {
        match e {
            EnrollmentError::InvalidToken => Self::Unauthorized(e.to_string()),
            EnrollmentError::Invalid(m) => Self::Invalid(m),
            EnrollmentError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// Parses an RFC 3339 time into Unix ms.
pub(crate) fn rfc3339_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}
