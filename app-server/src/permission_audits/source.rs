//! Where a permission snapshot comes from. A source reads the platform (Shopify Admin API, the
//! Magento module's latest report); it writes nothing. `run_now` takes any source, so tests
//! feed fakes and the scheduler picks the tenant's platform.

use leakguard_domain::permissions::{Platform, Snapshot};
use std::collections::BTreeSet;
use std::future::Future;

use crate::tenancy::TenantCtx;

/// What a source saw.
#[derive(Clone, Debug)]
pub struct Collected {
    /// The snapshot (`complete = false` when part of the picture was not readable).
    pub snapshot: Snapshot,
    /// A plain-words note for the tenant admin (why the audit is incomplete and what to do).
    pub notice: Option<String>,
    /// Scopes LeakGuard's own features use (its installation holding more is a finding).
    pub own_scopes_used: BTreeSet<String>,
}

/// Why a source could not produce a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The platform could not be read; the message is safe to show to the tenant.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (logged, never shown).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for SourceError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

/// A source of permission snapshots for one tenant.
pub trait SnapshotSource: Send + Sync {
    /// The platform it reads.
    fn platform(&self) -> Platform;

    /// Reads the current permissions.
    fn collect(
        &self,
        ctx: &TenantCtx,
    ) -> impl Future<Output = Result<Collected, SourceError>> + Send;
}

/// A fixed snapshot (the CLI's `--snapshot FILE`, tests).
#[derive(Clone, Debug)]
pub struct StaticSource(pub Collected);

impl SnapshotSource for StaticSource {
    fn platform(&self) -> Platform {
        self.0.snapshot.platform
    }

    fn collect(&self, _ctx: &TenantCtx) -> impl Future<Output = Result<Collected, SourceError>> {
        let collected = self.0.clone();
        async move { Ok(collected) }
    }
}
