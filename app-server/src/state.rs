//! [`AppState`]: what one server process shares between requests and jobs. It holds values and
//! handles only and calls no service; `startup::init_state` builds it. Only `http/` and
//! `startup` use it: a handler passes a service the part it uses (`state.db`,
//! `&state.shopify`, `&state.permission_sources`), never the whole state, so no service depends
//! on this module and there is no import cycle through it.

use sea_orm::DatabaseConnection;
use std::sync::Arc;

use crate::audit_chain::Checkpointer;
use crate::config::Settings;
use crate::crypto::Keyring;
use crate::metrics::Metrics;
use crate::permission_audits::AuditSources;
use crate::shopify::ShopifyAdapter;

/// Shared, immutable state of one server process.
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Settings as loaded.
    pub settings: Settings,
    /// Master keys for secrets.
    pub keyring: Keyring,
    /// Audit checkpoint signer and the schedule it keeps.
    pub checkpointer: Checkpointer,
    /// Metrics registry.
    pub metrics: Metrics,
    /// This process's id as a lease owner.
    pub instance_id: String,
    /// Admission of agent batches (per-tenant and process slots, processing slots).
    pub ingest_gate: Arc<crate::ingest::gate::IngestGate>,
    /// The Shopify adapter (pool, keyring, the app's configuration and HTTP client).
    pub shopify: ShopifyAdapter,
    /// What permission audits read the platforms with.
    pub permission_sources: AuditSources,
    /// Tenants with new detection inputs (ingest marks them after its commit).
    pub detection: crate::alerts::DetectionQueue,
    /// Destinations, the outbox and its delivery.
    pub outbound: crate::outbox::Outbound,
}
