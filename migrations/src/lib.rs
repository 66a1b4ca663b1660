//! Database migrations of the LeakGuard server.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL. This crate never
//! imports the server's entities, and a landed migration is never edited: add a new one.
//!
//! Conventions every migration keeps:
//! - every tenant-owned table carries `tenant_id` and is keyed or indexed by it first;
//! - times are `BIGINT` Unix milliseconds (UTC), so ordering and comparison are the same on
//!   both backends (SQLite compares text timestamps as strings);
//! - ids are UUIDs (16-byte blobs on SQLite, `uuid` on PostgreSQL).

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseBackend, DatabaseConnection, TransactionTrait};

mod m20261128_000001_foundation;
mod m20261128_000100_retention;
mod m20261128_000200_magento_agent_ingest;
mod m20261128_000300_shopify;
mod m20261128_000400_permission_audits;
mod m20261205_000100_identity;
mod m20261205_000300_typed_states;
mod m20261206_000100_ingest_quota;
mod m20261206_000200_incidents;
mod m20261206_000300_alerts;
mod m20261206_000400_incident_reminders;
mod m20261206_000500_outbox;

/// Every column restricted to a closed set of values: table, column, values.
pub use m20261205_000300_typed_states::CHECKS as TYPED_STATE_CHECKS;

/// The closed sets of the incident tables (added with them): table, column, values.
pub use m20261206_000200_incidents::CHECKS as INCIDENT_CHECKS;
/// The closed sets of incident notices and reminders; its `incident_events.kind` replaces
/// the one in [`INCIDENT_CHECKS`].
pub use m20261206_000400_incident_reminders::CHECKS as INCIDENT_REMINDER_CHECKS;

/// The closed sets of the detection and alert tables (added with them): table, column, values.
pub use m20261206_000300_alerts::CHECKS as ALERT_CHECKS;

/// The closed sets of the outbox and destination tables (added with them): table, column, values.
pub use m20261206_000500_outbox::CHECKS as OUTBOX_CHECKS;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_foundation::Migration),
            Box::new(m20261128_000100_retention::Migration),
            Box::new(m20261128_000200_magento_agent_ingest::Migration),
            Box::new(m20261128_000300_shopify::Migration),
            Box::new(m20261128_000400_permission_audits::Migration),
            Box::new(m20261205_000100_identity::Migration),
            Box::new(m20261205_000300_typed_states::Migration),
            Box::new(m20261206_000100_ingest_quota::Migration),
            Box::new(m20261206_000200_incidents::Migration),
            Box::new(m20261206_000300_alerts::Migration),
            Box::new(m20261206_000400_incident_reminders::Migration),
            Box::new(m20261206_000500_outbox::Migration),
        ]
    }
}

/// Arbitrary but fixed key of the PostgreSQL advisory lock that serialises migration runs.
const MIGRATION_LOCK_KEY: i64 = 0x4C47_4D49_4752; // "LGMIGR"

/// Applies every pending migration.
///
/// sea-orm-migration takes no lock of its own, so two replicas starting together on a fresh
/// PostgreSQL database would race; the run is wrapped in a transaction holding an advisory
/// lock. SQLite has a single writer, which serialises the runs already.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        }
        _ => Migrator::up(db, None).await,
    }
}

/// Names of the migrations known to this build that the database has not applied.
pub async fn pending(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let pending = Migrator::get_pending_migrations(db).await?;
    Ok(pending.iter().map(|m| m.name().to_owned()).collect())
}

/// Every migration known to this build with whether the database has applied it.
pub async fn status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    let pending = pending(db).await?;
    Ok(Migrator::migrations()
        .iter()
        .map(|m| {
            let name = m.name().to_owned();
            let applied = !pending.contains(&name);
            (name, applied)
        })
        .collect())
}
