//! Incidents: a suspected or confirmed breach a tenant works through (triage to closed), the
//! facts the breach-notification law decides on, and an append-only timeline of what happened
//! and who did it.
//!
//! The incident dates (`discovered_at`, `determined_at`, `aware_at`, `contained_at`,
//! `window_start`, `window_end`) are calendar days, `YYYY-MM-DD` text (UTC), the unit the notice
//! statutes count in; `created_at`, `updated_at`, `closed_at` and `incident_events.at` are Unix
//! milliseconds like every other time. `residents` and `countries` are JSON objects (code →
//! affected people), `categories` a JSON array of data element names or `NULL` while unknown.
//!
//! `severity`, `status` and `incident_events.kind` are closed sets ([`CHECKS`]): a
//! `CHECK` constraint on PostgreSQL, insert and update triggers on SQLite, named as in
//! `m20261205_000300_typed_states`.

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000200_incidents"
    }
}

/// Table, column, and the values the column may hold.
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    (
        "incidents",
        "severity",
        &["low", "medium", "high", "critical"],
    ),
    (
        "incidents",
        "status",
        &[
            "triage",
            "investigating",
            "contained",
            "notifying",
            "closed",
        ],
    ),
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
        ],
    ),
];

#[derive(DeriveIden)]
enum Incidents {
    Table,
    TenantId,
    Id,
    Title,
    Severity,
    Status,
    OwnerUserId,
    DiscoveredAt,
    DeterminedAt,
    AwareAt,
    ContainedAt,
    WindowStart,
    WindowEnd,
    Residents,
    Countries,
    Categories,
    RecordsEstimate,
    Encrypted,
    KeyCompromised,
    LawEnforcementDelayDays,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum IncidentEvents {
    Table,
    TenantId,
    Id,
    IncidentId,
    Kind,
    Actor,
    At,
    Detail,
}

/// `'a', 'b'` — compile-time constants without quotes, never outside input.
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
        manager
            .create_table(
                Table::create()
                    .table(Incidents::Table)
                    .if_not_exists()
                    .col(uuid(Incidents::TenantId))
                    .col(uuid(Incidents::Id))
                    .col(string_len(Incidents::Title, 200))
                    .col(string_len(Incidents::Severity, 16))
                    .col(string_len(Incidents::Status, 16))
                    .col(uuid_null(Incidents::OwnerUserId))
                    .col(string_len(Incidents::DiscoveredAt, 10))
                    .col(string_len_null(Incidents::DeterminedAt, 10))
                    .col(string_len_null(Incidents::AwareAt, 10))
                    .col(string_len_null(Incidents::ContainedAt, 10))
                    .col(string_len_null(Incidents::WindowStart, 10))
                    .col(string_len_null(Incidents::WindowEnd, 10))
                    .col(text(Incidents::Residents))
                    .col(text(Incidents::Countries))
                    .col(text_null(Incidents::Categories))
                    .col(big_integer_null(Incidents::RecordsEstimate))
                    .col(boolean(Incidents::Encrypted).default(false))
                    .col(boolean(Incidents::KeyCompromised).default(false))
                    .col(integer_null(Incidents::LawEnforcementDelayDays))
                    .col(string_len(Incidents::CreatedBy, 255))
                    .col(big_integer(Incidents::CreatedAt))
                    .col(big_integer(Incidents::UpdatedAt))
                    .col(big_integer_null(Incidents::ClosedAt))
                    .primary_key(Index::create().col(Incidents::TenantId).col(Incidents::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incidents_tenant_status")
                    .table(Incidents::Table)
                    .col(Incidents::TenantId)
                    .col(Incidents::Status)
                    .col(Incidents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentEvents::Table)
                    .if_not_exists()
                    .col(uuid(IncidentEvents::TenantId))
                    .col(uuid(IncidentEvents::Id))
                    .col(uuid(IncidentEvents::IncidentId))
                    .col(string_len(IncidentEvents::Kind, 32))
                    .col(string_len(IncidentEvents::Actor, 255))
                    .col(big_integer(IncidentEvents::At))
                    .col(text(IncidentEvents::Detail))
                    .primary_key(
                        Index::create()
                            .col(IncidentEvents::TenantId)
                            .col(IncidentEvents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incident_events_tenant_incident")
                    .table(IncidentEvents::Table)
                    .col(IncidentEvents::TenantId)
                    .col(IncidentEvents::IncidentId)
                    .col(IncidentEvents::Id)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for (table, column, values) in CHECKS {
            let list = value_list(values);
            match manager.get_database_backend() {
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
        manager
            .drop_table(Table::drop().table(IncidentEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Incidents::Table).to_owned())
            .await
    }
}
