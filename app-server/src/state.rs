//! [`AppState`]: what one server process shares between requests and jobs (the pool, settings,
//! keys, metrics). It is built once at start by `init`; handlers and job functions hand the
//! parts a service needs to that service.

use sea_orm::DatabaseConnection;
use std::sync::Arc;

use crate::config::Settings;
use crate::crypto::{AuditSigner, Keyring};
use crate::metrics::Metrics;

/// Shared, immutable state of one server process.
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Settings as loaded.
    pub settings: Settings,
    /// Master keys for secrets.
    pub keyring: Keyring,
    /// Audit checkpoint signer.
    pub signer: AuditSigner,
    /// Metrics registry.
    pub metrics: Metrics,
    /// This process's id as a lease owner.
    pub instance_id: String,
    /// Slots of in-flight agent batch ingest (`ingest.max_in_flight`).
    pub ingest_slots: Arc<tokio::sync::Semaphore>,
    /// The Shopify app (configuration, HTTP client, refresh locks).
    pub shopify: crate::shopify::Shopify,
}

impl AppState {
    /// Connects, migrates and loads keys.
    pub async fn init(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings).await?;
        migrations::migrate(&db)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        let keyring = Keyring::load(&settings)?;
        let signer = AuditSigner::load(&settings)?;
        crate::audit_chain::register_signing_key(&db, &signer).await?;
        let ingest_slots = Arc::new(tokio::sync::Semaphore::new(settings.ingest.max_in_flight));
        let shopify = crate::shopify::Shopify::new(&settings)?;
        Ok(Self {
            shopify,
            db,
            ingest_slots,
            settings,
            keyring,
            signer,
            metrics: Metrics::new(),
            instance_id: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7()),
        })
    }
}
