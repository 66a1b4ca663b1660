//! Incident notices and reminders: when each notice was sent, and the deadline reminders the
//! reminder job raised, each exactly once.
//!
//! - `incidents.notices_sent`: a JSON array of `{jurisdiction, audience, recipient, sent_on}`
//!   (`sent_on` a `YYYY-MM-DD` calendar day, UTC), `[]` for incidents recorded before it.
//! - `incident_reminders`: one row per reminder raised, unique per incident, obligation
//!   (jurisdiction, audience, recipient; `''` for notices to individuals, which have none), due
//!   date and kind, so a second run, a restart or another replica inserts nothing.
//! - `incident_events.kind` gains `notice_sent` and `reminder`: the check of
//!   `m20261206_000200_incidents` is replaced by a wider one (constraint on PostgreSQL, triggers
//!   on SQLite, same names). `incident_reminders.kind` and `.audience` are closed sets too.

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000400_incident_reminders"
    }
}

/// Table, column, and the values the column may hold (from this migration on).
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    (
        "incident_events",
        "kind",
        &[
            "created",
            "updated",
            "status_changed",
            "reopened",
            "aware",
            "discovered",
            "determination",
            "containment",
            "breach_window",
            "law_enforcement_delay",
            "note",
            "notice_sent",
            "reminder",
        ],
    ),
    (
        "incident_reminders",
        "kind",
        &[
            "due_in_7_days",
            "due_in_3_days",
            "due_in_1_day",
            "due_today",
            "overdue",
        ],
    ),
    (
        "incident_reminders",
        "audience",
        &[
            "individuals",
            "regulator",
            "consumer_reporting_agencies",
            "media",
        ],
    ),
];

#[derive(DeriveIden)]
enum Incidents {
    Table,
    NoticesSent,
}

#[derive(DeriveIden)]
enum IncidentReminders {
    Table,
    TenantId,
    Id,
    IncidentId,
    Jurisdiction,
    Audience,
    Recipient,
    Due,
    Kind,
    RaisedAt,
}

/// `'a', 'b'` — compile-time constants without quotes, never outside input.
fn value_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements that replace the check of `table.column` by one allowing `values`. They run
/// as one batch on one connection: on SQLite a second pooled connection may still read the
/// schema from before the drop.
fn replace_check(backend: DatabaseBackend, table: &str, column: &str, values: &[&str]) -> String {
    let list = value_list(values);
    match backend {
        DatabaseBackend::Postgres => format!(
            "ALTER TABLE \"{table}\" DROP CONSTRAINT IF EXISTS ck_{table}_{column}; \
             ALTER TABLE \"{table}\" ADD CONSTRAINT ck_{table}_{column} CHECK (\"{column}\" IN ({list}))"
        ),
        _ => {
            let message = format!("{table}.{column} must be one of ({})", values.join(", "));
            let mut sql = String::new();
            for (suffix, event) in [
                ("insert", "INSERT".to_owned()),
                ("update", format!("UPDATE OF \"{column}\"")),
            ] {
                sql.push_str(&format!(
                    "DROP TRIGGER IF EXISTS tg_{table}_{column}_{suffix}; \
                     CREATE TRIGGER tg_{table}_{column}_{suffix} BEFORE {event} ON \"{table}\" \
                     FOR EACH ROW WHEN NEW.\"{column}\" IS NOT NULL AND NEW.\"{column}\" NOT IN ({list}) \
                     BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {message}'); END; "
                ));
            }
            sql
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Incidents::Table)
                    .add_column(text(Incidents::NoticesSent).default("[]"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentReminders::Table)
                    .if_not_exists()
                    .col(uuid(IncidentReminders::TenantId))
                    .col(uuid(IncidentReminders::Id))
                    .col(uuid(IncidentReminders::IncidentId))
                    .col(string_len(IncidentReminders::Jurisdiction, 32))
                    .col(string_len(IncidentReminders::Audience, 32))
                    .col(string_len(IncidentReminders::Recipient, 255))
                    .col(string_len(IncidentReminders::Due, 10))
                    .col(string_len(IncidentReminders::Kind, 16))
                    .col(big_integer(IncidentReminders::RaisedAt))
                    .primary_key(
                        Index::create()
                            .col(IncidentReminders::TenantId)
                            .col(IncidentReminders::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_incident_reminders_once")
                    .table(IncidentReminders::Table)
                    .col(IncidentReminders::TenantId)
                    .col(IncidentReminders::IncidentId)
                    .col(IncidentReminders::Jurisdiction)
                    .col(IncidentReminders::Audience)
                    .col(IncidentReminders::Recipient)
                    .col(IncidentReminders::Due)
                    .col(IncidentReminders::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let backend = manager.get_database_backend();
        for (table, column, values) in CHECKS {
            manager
                .get_connection()
                .execute_unprepared(&replace_check(backend, table, column, values))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IncidentReminders::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Incidents::Table)
                    .drop_column(Incidents::NoticesSent)
                    .to_owned(),
            )
            .await
    }
}
