//! Permission audits of third-party apps, integrations and admin users: runs, findings and
//! their review.
//!
//! A run reads a snapshot from a [`SnapshotSource`], diffs it with the previous snapshot of the
//! tenant, evaluates it against the tenant's allow-list (`leakguard_domain::permissions`) and
//! upserts findings by their stable key: a finding a later run no longer produces is resolved,
//! one that comes back is re-opened. Reviews (acknowledge, accept a risk until a date, mark for
//! revocation) are kept as a history; the state a finding shows is computed from its last
//! decision at read time, so an accepted risk re-opens by itself when it expires or its grants
//! change. Every run, finding change and review writes its audit entry in the same transaction.
//!
//! This module never talks HTTP to its callers and never imports actix.

pub mod magento_source;
mod policy;
mod report;
mod review;
mod run;
pub mod schedule;
pub mod shopify_source;
pub mod source;
pub mod sources;
mod views;

use sea_orm::DbErr;

use crate::audit_chain::AuditError;
pub use policy::{get_policy, put_policy};
pub use report::{Report, overview, principals, report, report_csv};
pub use review::{FindingFilter, ReviewInput, get_finding, list_findings, list_reviews, review};
pub use run::{Trigger, changes_over_time, get_run, list_runs, run_for_tenant, run_now, tenant_of};
pub use schedule::{get_schedule, put_schedule};
pub use source::{Collected, SnapshotSource, SourceError, StaticSource};
pub use sources::AuditSources;
pub use views::{
    ChangeView, DecisionView, FindingDetail, FindingView, GrantView, Overview, PrincipalView,
    PrincipalsView, ReviewView, RunChanges, RunDetail, RunView, ScheduleView,
};

/// The longest an accepted risk may last.
pub const MAX_ACCEPT_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum AuditsError {
    /// Bad input, with a message safe to show.
    #[error("{0}")]
    Invalid(crate::invalid_input::InvalidInput),
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// The role may not do this.
    #[error("your role does not allow this")]
    Forbidden,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for AuditsError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for AuditsError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<serde_json::Error> for AuditsError {
    fn from(e: serde_json::Error) -> Self {
        Self::Unexpected(e.into())
    }
}
