//! Detection on the server: the input queue fed by ingest, per-tenant cursors and engine
//! state, alert episodes with their history, and analysts' suppressions.
//!
//! - `detection_inputs`: one JSON line per input (the replay format of `domain::detect::normalize`),
//!   numbered per tenant by `seq` in commit order (the number is taken from the tenant's
//!   `detection_cursors` row inside the writing transaction, so a later number never commits
//!   before an earlier one). Processed lines are deleted by the transaction that processes them.
//! - `detection_cursors`: per tenant, the last number given (`input_seq`) and the last one
//!   processed (`processed_seq`): the high-water mark. A small row, also the per-tenant lock of
//!   detection.
//! - `detection_states`: per tenant, the engine state and the normalizer state (JSON), saved
//!   in the transaction that moves the cursor and writes the alerts.
//! - `alerts`: one row per engine episode, unique per (tenant, engine alert id), so a replayed
//!   run can never raise the same alert twice. `evidence` is a JSON list of at most 64 signal
//!   summaries.
//! - `alert_events`: append-only history of an alert.
//! - `alert_suppressions`: false-positive marks with reason, scope and expiry; revoked, never
//!   deleted.
//!
//! States, rules, severities, kinds, scopes and sources are closed sets ([`CHECKS`]), checked
//! as in `m20261206_000200_incidents`.

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000300_alerts"
    }
}

/// Table, column, and the values the column may hold.
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    (
        "detection_inputs",
        "source",
        &["agent", "magento_module", "shopify"],
    ),
    (
        "alerts",
        "rule",
        &[
            "mass_extraction",
            "first_seen_principal",
            "unexpected_dump",
            "into_outfile",
            "export_beyond_baseline",
            "integration_rest_volume",
            "shopify_bulk_export",
            "scope_grant",
            "login_burst_then_success",
            "logging_disabled",
            "low_and_slow",
        ],
    ),
    ("alerts", "severity", &["low", "medium", "high"]),
    (
        "alerts",
        "state",
        &[
            "open",
            "acknowledged",
            "false_positive",
            "escalated",
            "resolved",
        ],
    ),
    (
        "alert_events",
        "kind",
        &[
            "opened",
            "episode_closed",
            "acknowledged",
            "false_positive",
            "escalated",
            "resolved",
            "reopened",
        ],
    ),
    (
        "alert_suppressions",
        "scope",
        &["principal", "rule", "principal_and_rule"],
    ),
];

#[derive(DeriveIden)]
enum DetectionInputs {
    Table,
    TenantId,
    Seq,
    Source,
    ReceivedAt,
    Line,
}

#[derive(DeriveIden)]
enum DetectionCursors {
    Table,
    TenantId,
    InputSeq,
    ProcessedSeq,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DetectionStates {
    Table,
    TenantId,
    Engine,
    Normalizer,
    Signals,
    Malformed,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Alerts {
    Table,
    TenantId,
    Id,
    EngineAlertId,
    Rule,
    Severity,
    State,
    EpisodeOpen,
    PrincipalKey,
    PrincipalName,
    Principal,
    RecordsEstimate,
    RecordsMethod,
    Tables,
    Categories,
    StartedAt,
    DetectedAt,
    LastSeenAt,
    Explanation,
    Evidence,
    Engine,
    IncidentId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AlertEvents {
    Table,
    TenantId,
    Id,
    AlertId,
    Kind,
    Actor,
    At,
    Detail,
}

#[derive(DeriveIden)]
enum AlertSuppressions {
    Table,
    TenantId,
    Id,
    AlertId,
    EngineSuppressionId,
    Scope,
    Rule,
    PrincipalKey,
    Until,
    Reason,
    LearnNormal,
    CreatedBy,
    CreatedAt,
    RevokedAt,
    RevokedBy,
}

/// `'a', 'b'` — compile-time constants without quotes, never outside input.
fn value_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn add_checks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
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
                let message = format!("{table}.{column} must be one of ({})", values.join(", "));
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DetectionInputs::Table)
                    .if_not_exists()
                    .col(uuid(DetectionInputs::TenantId))
                    .col(big_integer(DetectionInputs::Seq))
                    .col(string_len(DetectionInputs::Source, 16))
                    .col(big_integer(DetectionInputs::ReceivedAt))
                    .col(text(DetectionInputs::Line))
                    .primary_key(
                        Index::create()
                            .col(DetectionInputs::TenantId)
                            .col(DetectionInputs::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DetectionCursors::Table)
                    .if_not_exists()
                    .col(uuid(DetectionCursors::TenantId).primary_key())
                    .col(big_integer(DetectionCursors::InputSeq).default(0))
                    .col(big_integer(DetectionCursors::ProcessedSeq).default(0))
                    .col(big_integer(DetectionCursors::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DetectionStates::Table)
                    .if_not_exists()
                    .col(uuid(DetectionStates::TenantId).primary_key())
                    .col(text(DetectionStates::Engine))
                    .col(text(DetectionStates::Normalizer))
                    .col(big_integer(DetectionStates::Signals).default(0))
                    .col(big_integer(DetectionStates::Malformed).default(0))
                    .col(big_integer(DetectionStates::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .if_not_exists()
                    .col(uuid(Alerts::TenantId))
                    .col(uuid(Alerts::Id))
                    .col(big_integer(Alerts::EngineAlertId))
                    .col(string_len(Alerts::Rule, 32))
                    .col(string_len(Alerts::Severity, 16))
                    .col(string_len(Alerts::State, 16))
                    .col(boolean(Alerts::EpisodeOpen))
                    .col(text(Alerts::PrincipalKey))
                    .col(string_len(Alerts::PrincipalName, 255))
                    .col(text(Alerts::Principal))
                    .col(big_integer(Alerts::RecordsEstimate))
                    .col(string_len(Alerts::RecordsMethod, 16))
                    .col(text(Alerts::Tables))
                    .col(text(Alerts::Categories))
                    .col(big_integer(Alerts::StartedAt))
                    .col(big_integer(Alerts::DetectedAt))
                    .col(big_integer(Alerts::LastSeenAt))
                    .col(text(Alerts::Explanation))
                    .col(text(Alerts::Evidence))
                    .col(text(Alerts::Engine))
                    .col(uuid_null(Alerts::IncidentId))
                    .col(big_integer(Alerts::CreatedAt))
                    .col(big_integer(Alerts::UpdatedAt))
                    .primary_key(Index::create().col(Alerts::TenantId).col(Alerts::Id))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "uq_alerts_tenant_engine_alert",
                vec![Alerts::TenantId, Alerts::EngineAlertId],
            ),
            (
                "idx_alerts_tenant_state",
                vec![Alerts::TenantId, Alerts::State, Alerts::Id],
            ),
            (
                "idx_alerts_tenant_detected",
                vec![Alerts::TenantId, Alerts::DetectedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Alerts::Table);
            if name.starts_with("uq_") {
                index.unique();
            }
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AlertEvents::Table)
                    .if_not_exists()
                    .col(uuid(AlertEvents::TenantId))
                    .col(uuid(AlertEvents::Id))
                    .col(uuid(AlertEvents::AlertId))
                    .col(string_len(AlertEvents::Kind, 32))
                    .col(string_len(AlertEvents::Actor, 255))
                    .col(big_integer(AlertEvents::At))
                    .col(text(AlertEvents::Detail))
                    .primary_key(
                        Index::create()
                            .col(AlertEvents::TenantId)
                            .col(AlertEvents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_events_tenant_alert")
                    .table(AlertEvents::Table)
                    .col(AlertEvents::TenantId)
                    .col(AlertEvents::AlertId)
                    .col(AlertEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertSuppressions::Table)
                    .if_not_exists()
                    .col(uuid(AlertSuppressions::TenantId))
                    .col(uuid(AlertSuppressions::Id))
                    .col(uuid(AlertSuppressions::AlertId))
                    .col(big_integer(AlertSuppressions::EngineSuppressionId))
                    .col(string_len(AlertSuppressions::Scope, 32))
                    .col(string_len_null(AlertSuppressions::Rule, 32))
                    .col(text_null(AlertSuppressions::PrincipalKey))
                    .col(big_integer(AlertSuppressions::Until))
                    .col(text(AlertSuppressions::Reason))
                    .col(boolean(AlertSuppressions::LearnNormal))
                    .col(string_len(AlertSuppressions::CreatedBy, 255))
                    .col(big_integer(AlertSuppressions::CreatedAt))
                    .col(big_integer_null(AlertSuppressions::RevokedAt))
                    .col(string_len_null(AlertSuppressions::RevokedBy, 255))
                    .primary_key(
                        Index::create()
                            .col(AlertSuppressions::TenantId)
                            .col(AlertSuppressions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_suppressions_tenant_alert")
                    .table(AlertSuppressions::Table)
                    .col(AlertSuppressions::TenantId)
                    .col(AlertSuppressions::AlertId)
                    .to_owned(),
            )
            .await?;
        add_checks(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AlertSuppressions::Table.into_iden(),
            AlertEvents::Table.into_iden(),
            Alerts::Table.into_iden(),
            DetectionStates::Table.into_iden(),
            DetectionCursors::Table.into_iden(),
            DetectionInputs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
