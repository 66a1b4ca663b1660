//! Closed sets for every state, kind, role and source stored as text.
//!
//! Each column listed in [`CHECKS`] may only hold one of its listed values (or `NULL` where the
//! column is nullable). The values are exactly those the server stores today, so no row is
//! rewritten.
//!
//! - PostgreSQL: one `CHECK (col IN (…))` constraint per column, named `ck_<table>_<column>`,
//!   validated against the existing rows when it is added.
//! - SQLite cannot add a constraint to an existing table (`ALTER TABLE … ADD CONSTRAINT` does
//!   not exist), and rebuilding each table would mean copying it, recreating its indexes and
//!   switching foreign-key enforcement off outside the migration's transaction. Instead, each
//!   column gets a `BEFORE INSERT` and a `BEFORE UPDATE OF <column>` trigger that aborts the
//!   statement on a value outside the set (`tg_<table>_<column>_insert` / `_update`). The rows
//!   stay where they are; existing rows are checked once by this migration.
//!
//! On both backends the migration refuses to run while a row holds a value outside its set,
//! naming the table and column, rather than half-applying.
//!
//! Left as free text on purpose: `audit_entries` (append-only and hash-chained; actor and subject
//! kinds are open by design), `retention_runs.class`/`status` and `signals.kind` (reported by the
//! Magento module and the agent), `shopify_signals.topic` (Shopify's topic list), and
//! `outbox.kind`/`status` (nothing writes them yet).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000300_typed_states"
    }
}

/// Table, column, and the values the column may hold.
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    ("tenants", "platform", &["shopify", "magento"]),
    ("tenants", "status", &["active", "uninstalled", "purged"]),
    (
        "users",
        "role",
        &["owner", "admin", "legal", "analyst", "viewer"],
    ),
    ("enrollment_tokens", "kind", &["magento_module", "agent"]),
    ("webhook_deliveries", "source", &["shopify"]),
    (
        "webhook_deliveries",
        "status",
        &[
            "pending",
            "processing",
            "processed",
            "failed",
            "dead",
            "deferred",
        ],
    ),
    (
        "job_runs",
        "status",
        &["running", "ok", "succeeded", "failed"],
    ),
    ("findings", "kind", &["retention_alert"]),
    (
        "findings",
        "severity",
        &["low", "medium", "high", "critical"],
    ),
    ("findings", "status", &["open"]),
    ("retention_runs", "source", &["server", "magento"]),
    (
        "shopify_compliance_requests",
        "topic",
        &["customers/data_request", "customers/redact", "shop/redact"],
    ),
    ("shopify_compliance_requests", "status", &["open", "done"]),
    ("perm_audit_runs", "platform", &["shopify", "magento"]),
    ("perm_audit_runs", "trigger", &["manual", "schedule", "cli"]),
    (
        "perm_audit_runs",
        "status",
        &["running", "succeeded", "failed"],
    ),
    ("perm_audit_snapshots", "platform", &["shopify", "magento"]),
    (
        "perm_findings",
        "kind",
        &[
            "policy_violation",
            "new_principal_with_pii",
            "escalation",
            "not_allow_listed",
            "own_app_over_granted",
            "all_resources",
            "bearer_tokens_enabled",
            "stale_admin",
            "external_admin",
            "incomplete_audit",
        ],
    ),
    (
        "perm_findings",
        "severity",
        &["none", "low", "medium", "high", "critical"],
    ),
    (
        "perm_reviews",
        "decision",
        &["acknowledge", "accept_risk", "mark_for_revocation"],
    ),
    ("perm_reviews", "ticket_status", &["pending"]),
    ("signals", "source", &["agent", "magento_module"]),
    (
        "agent_batches",
        "source_kind",
        &[
            "mariadb-slow",
            "mariadb-general",
            "mariadb-audit",
            "magento-admin",
            "monolog",
            "nginx",
            "magento-export",
        ],
    ),
    ("agent_aggregates", "kind", &["sql", "http", "app_log"]),
    ("replay_guards", "scope", &["hmac_nonce", "sso_jti"]),
];

/// `'a', 'b'` — the values are compile-time constants without quotes, never outside input.
fn value_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for (table, column, values) in CHECKS {
            let list = value_list(values);
            let bad = db
                .query_one_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\" IS NOT NULL AND \"{column}\" NOT IN ({list})"
                    ),
                ))
                .await?
                .map(|row| row.try_get_by_index::<i64>(0))
                .transpose()?
                .unwrap_or(0);
            if bad > 0 {
                return Err(DbErr::Migration(format!(
                    "{bad} rows of {table}.{column} hold a value outside ({list}); fix them before migrating"
                )));
            }
        }
        for (table, column, values) in CHECKS {
            let list = value_list(values);
            match backend {
                DatabaseBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE \"{table}\" ADD CONSTRAINT ck_{table}_{column} CHECK (\"{column}\" IN ({list}))"
                    ))
                    .await?;
                }
                _ => {
                    let message =
                        format!("{table}.{column} must be one of ({})", values.join(", "));
                    for (suffix, event) in [
                        ("insert", "INSERT".to_owned()),
                        ("update", format!("UPDATE OF \"{column}\"")),
                    ] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER tg_{table}_{column}_{suffix} BEFORE {event} ON \"{table}\" \
                             FOR EACH ROW WHEN NEW.\"{column}\" IS NOT NULL AND NEW.\"{column}\" NOT IN ({list}) \
                             BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {message}'); END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, column, _) in CHECKS {
            match manager.get_database_backend() {
                DatabaseBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE \"{table}\" DROP CONSTRAINT IF EXISTS ck_{table}_{column}"
                    ))
                    .await?;
                }
                _ => {
                    for suffix in ["insert", "update"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS tg_{table}_{column}_{suffix}"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}
