//! Database access: connecting (SQLite by default, PostgreSQL by URL), migrating, readiness, and
//! the entity definitions. Queries on tenant-owned tables go through `tenancy`.

pub mod entities;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

use crate::config::Settings;

/// Opens the configured database, creating the SQLite file and its directory if needed.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, anyhow::Error> {
    let url = settings.effective_database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                settings.data_dir.display()
            )
        })?;
    }
    connect_url(&url, settings.database_max_connections).await
}

/// Opens a database by URL.
pub async fn connect_url(
    url: &str,
    max_connections: u32,
) -> Result<DatabaseConnection, anyhow::Error> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the single writer; FULL makes every commit durable, which
        // evidence kept for litigation needs; the busy timeout queues writers instead of failing.
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
        });
        if url.contains(":memory:") {
            options.max_connections(1);
        }
    }
    let redacted = crate::config::redact_database_url(url);
    Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to database {redacted}: {e}"))
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so a read-then-write transaction cannot fail with a busy snapshot.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    let options = match db.get_database_backend() {
        DbBackend::Sqlite => TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        },
        _ => TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}

/// Readiness: the database answers and every migration of this build is applied.
pub async fn readiness(db: &DatabaseConnection) -> Result<(), String> {
    db.execute_unprepared("SELECT 1")
        .await
        .map_err(|_| "database unreachable".to_owned())?;
    let pending = migrations::pending(db)
        .await
        .map_err(|_| "migration status unavailable".to_owned())?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!("{} migration(s) pending", pending.len()))
    }
}

/// Current time as Unix milliseconds (the storage format of every time column).
pub fn now_ms() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}
