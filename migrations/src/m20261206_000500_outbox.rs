//! Outbound delivery: the tenant's destinations (a SIEM, a pager, a ticket system) and the
//! outbox of events waiting for them.
//!
//! The `outbox` table of the foundation migration was never written; it is replaced by one row
//! per event and destination, so each destination has its own state, attempts, back-off,
//! ordering and dead letters:
//! - `state` is `queued` → `delivering` (claimed by the worker until `lease_until`) →
//!   `delivered`, or `dead` after the last attempt or a refusal that can never succeed;
//! - `idempotency_key` is unique per tenant and destination, so writing an event twice (a
//!   retried transaction) queues it once;
//! - `ordering_key` names what the event is about (`permission_finding:<id>`): the worker
//!   never sends an event while an older one with the same key waits for the same destination.
//!
//! Destination credentials are not here: they are sealed in `secrets` as
//! `destination.<id>`. `kind`, `state` and `event_type` are closed sets ([`CHECKS`]), checked
//! as in `m20261205_000300_typed_states`.

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000500_outbox"
    }
}

/// Table, column, and the values the column may hold.
pub const CHECKS: &[(&str, &str, &[&str])] = &[
    (
        "outbound_destinations",
        "kind",
        &[
            "pagerduty",
            "syslog_tls",
            "splunk_hec",
            "jira",
            "servicenow",
            "webhook",
        ],
    ),
    (
        "outbox",
        "state",
        &["queued", "delivering", "delivered", "dead"],
    ),
    (
        "outbox",
        "event_type",
        &[
            "test",
            "permission_finding.opened",
            "permission_finding.reopened",
            "permission_finding.changed",
            "permission_finding.resolved",
            "retention_finding.opened",
        ],
    ),
];

#[derive(DeriveIden)]
enum OutboundDestinations {
    Table,
    TenantId,
    Id,
    Kind,
    Name,
    Config,
    CreatedBy,
    CreatedAt,
    LastSuccessAt,
    LastErrorAt,
    LastError,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    TenantId,
    Id,
    DestinationId,
    EventId,
    EventType,
    OrderingKey,
    IdempotencyKey,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    DeliveredAt,
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
            .drop_table(Table::drop().table(Outbox::Table).if_exists().to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OutboundDestinations::Table)
                    .if_not_exists()
                    .col(uuid(OutboundDestinations::TenantId))
                    .col(uuid(OutboundDestinations::Id))
                    .col(string_len(OutboundDestinations::Kind, 16))
                    .col(string_len(OutboundDestinations::Name, 100))
                    .col(text(OutboundDestinations::Config))
                    .col(string_len(OutboundDestinations::CreatedBy, 255))
                    .col(big_integer(OutboundDestinations::CreatedAt))
                    .col(big_integer_null(OutboundDestinations::LastSuccessAt))
                    .col(big_integer_null(OutboundDestinations::LastErrorAt))
                    .col(text_null(OutboundDestinations::LastError))
                    .primary_key(
                        Index::create()
                            .col(OutboundDestinations::TenantId)
                            .col(OutboundDestinations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(uuid(Outbox::TenantId))
                    .col(uuid(Outbox::Id))
                    .col(uuid(Outbox::DestinationId))
                    .col(uuid(Outbox::EventId))
                    .col(string_len(Outbox::EventType, 48))
                    .col(string_len(Outbox::OrderingKey, 200))
                    .col(string_len(Outbox::IdempotencyKey, 200))
                    .col(text(Outbox::Payload))
                    .col(string_len(Outbox::State, 16))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(big_integer(Outbox::NextAttemptAt))
                    .col(big_integer_null(Outbox::LeaseUntil))
                    .col(text_null(Outbox::LastError))
                    .col(big_integer(Outbox::CreatedAt))
                    .col(big_integer_null(Outbox::DeliveredAt))
                    .primary_key(Index::create().col(Outbox::TenantId).col(Outbox::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_outbox_tenant_destination_idempotency")
                    .table(Outbox::Table)
                    .col(Outbox::TenantId)
                    .col(Outbox::DestinationId)
                    .col(Outbox::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The worker's two questions: what is due (by state and time), and what waits for one
        // destination in order.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_state_next_attempt")
                    .table(Outbox::Table)
                    .col(Outbox::State)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_tenant_destination_state")
                    .table(Outbox::Table)
                    .col(Outbox::TenantId)
                    .col(Outbox::DestinationId)
                    .col(Outbox::State)
                    .col(Outbox::Id)
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
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OutboundDestinations::Table).to_owned())
            .await
    }
}
