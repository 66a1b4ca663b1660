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

use crate::audit_chain::AuditError;
use crate::enrollment::EnrollmentError;
use crate::secrets::SecretError;

/// Name of the sealed secret holding the module's HMAC (and SSO) key.
pub const MODULE_SECRET: &str = "magento.module_secret";

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum MagentoError {
    /// Bad input, with a message safe to show.
    #[error("{0}")]
    Invalid(crate::invalid_input::InvalidInput),
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
            EnrollmentError::Invalid(m) => Self::Invalid(crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::TenantNotEligible,
                m,
            )),
            EnrollmentError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// A JSON error message safe to show: serde's text, unless it quotes a value from the body.
pub(crate) fn json_error(what: &str, e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.contains('"') {
        format!(
            "{what}: a value has the wrong type at line {} column {}",
            e.line(),
            e.column()
        )
    } else {
        format!("{what}: {text}")
    }
}

/// Parses an RFC 3339 time into Unix ms.
pub(crate) fn rfc3339_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn json_errors_never_echo_a_value_from_the_body() {
        #[derive(Debug, serde::Deserialize)]
        struct R {
            #[allow(dead_code)]
            n: i64,
        }
        let e = serde_json::from_str::<R>(r#"{"n": "jane@example.com"}"#).unwrap_err();
        let text = super::json_error("invalid body", &e);
        assert!(!text.contains("jane"), "{text}");
        assert!(text.contains("line 1"), "{text}");
        let e = serde_json::from_str::<R>("{}").unwrap_err();
        assert!(super::json_error("invalid body", &e).contains("missing field `n`"));
        assert_eq!(super::rfc3339_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(super::rfc3339_ms("yesterday"), None);
    }
}
