//! Agent ingest: enrollment of host agents, their per-agent credentials, batch upload (zstd,
//! size-capped, de-duplicated on `(agent, file id, start offset)`) and the tenant's view of
//! agent health. The wire format is `leakguard_domain::agent_wire`.
//!
//! Must not: trust the batch's `agent_id` over the credential, decompress or parse without a
//! cap, let one tenant's agents take the others' ingest slots (`gate`) or more than their
//! daily quota (`quota`), store a record that fails the masking check, or store a batch twice. No credential reaches a log line or an error message.

pub mod agents;
pub mod batches;
pub mod decode;
pub mod gate;
pub mod quota;

use sea_orm::DbErr;

use crate::audit_chain::AuditError;
use crate::enrollment::EnrollmentError;

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Bad input, with a message safe to show.
    #[error("{0}")]
    Invalid(String),
    /// Unknown, revoked or wrong credential or token.
    #[error("{0}")]
    Unauthorized(String),
    /// Body or decompressed body too large.
    #[error("{0}")]
    TooLarge(String),
    /// Encoding not accepted.
    #[error("{0}")]
    UnsupportedEncoding(String),
    /// The tenant's daily ingest quota is used up.
    #[error("the daily ingest quota of this tenant is used up")]
    QuotaExceeded {
        /// Seconds until the quota resets.
        retry_after_secs: u64,
    },
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for IngestError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for IngestError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<EnrollmentError> for IngestError {
    fn from(e: EnrollmentError) -> Self {
        match e {
            EnrollmentError::InvalidToken => Self::Unauthorized(e.to_string()),
            EnrollmentError::Invalid(m) => Self::Invalid(m),
            EnrollmentError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}
