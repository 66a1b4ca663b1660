//! Permission audits of third-party apps, integrations and admin users: one model for Shopify
//! and Magento, the risk table of scopes and ACL resources, the diff between two snapshots, the
//! findings a tenant admin reviews, and when an accepted risk re-opens.
//!
//! Pure: snapshots come in, findings go out. Fetching them (Shopify Admin API, the Magento
//! module's permission report) and storing them is the server's job.
//!
//! `snapshot` is the model (principals and their grants), `risk` the maintained risk tables,
//! `changes` the diff between two snapshots, `findings` the rules that turn a snapshot and
//! the tenant's policy into findings, `review` a tenant admin's decisions and the state they
//! give a finding. Everything is re-exported here; callers name `permissions::…` only.

mod changes;
mod findings;
mod review;
mod risk;
mod snapshot;

pub use changes::{Change, diff};
pub use findings::{Finding, FindingKind, Policy, evaluate};
pub use review::{Decision, FindingState, grants_hash, state};
pub use risk::{
    GrantRisk, Level, expand, grant_risk, magento_resource_risk, principal_level,
    shopify_scope_risk,
};
pub use snapshot::{Platform, Principal, PrincipalKind, Snapshot};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
