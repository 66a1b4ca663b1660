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

/// Opens the configured database. For SQLite it first makes the data directory owner-only
/// (0700) and creates the database file 0600 before SQLite opens it (SQLite gives its `-wal`
/// and `-shm` files the database file's mode), then tightens any older files to 0600.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, anyhow::Error> {
    let url = settings.effective_database_url();
    let sqlite_file = url
        .starts_with("sqlite:")
        .then(|| sqlite_file_path(&url))
        .flatten();
    if url.starts_with("sqlite:") {
        let dir = &settings.data_dir;
        crate::crypto::create_private_dir(dir)
            .and_then(|()| crate::crypto::restrict_to_owner(dir))
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
    }
    if let Some(file) = &sqlite_file {
        create_private_file(file)?;
    }
    let db = connect_url(&url, settings.database_max_connections).await?;
    if let Some(file) = &sqlite_file {
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut side = file.clone().into_os_string();
            side.push(suffix);
            let side = std::path::PathBuf::from(side);
            if side.exists() {
                crate::crypto::restrict_to_owner(&side)
                    .map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", side.display()))?;
            }
        }
    }
    Ok(db)
}

/// The file of an on-disk SQLite URL (`sqlite://path?…`, `sqlite:path`); none for in-memory,
/// `file:` URIs and percent-encoded paths, which are left to SQLite.
fn sqlite_file_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    let special = path.is_empty()
        || path.contains(":memory:")
        || path.starts_with("file:")
        || path.contains('%');
    (!special).then(|| std::path::PathBuf::from(path))
}

/// Creates the database file 0600 if missing, and makes an existing one 0600.
fn create_private_file(file: &std::path::Path) -> Result<(), anyhow::Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(file)
        .and_then(|_| crate::crypto::restrict_to_owner(file))
        .map_err(|e| anyhow::anyhow!("cannot create database file {}: {e}", file.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_file_is_found_in_the_url_forms_the_server_uses() {
        let file = |url: &str| sqlite_file_path(url).map(|p| p.display().to_string());
        assert_eq!(
            file("sqlite://./data/leakguard.db?mode=rwc").as_deref(),
            Some("./data/leakguard.db")
        );
        assert_eq!(
            file("sqlite:///var/lib/lg/leakguard.db").as_deref(),
            Some("/var/lib/lg/leakguard.db")
        );
        assert_eq!(file("sqlite:lg.db").as_deref(), Some("lg.db"));
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://file:lg?mode=memory"), None);
    }
}
