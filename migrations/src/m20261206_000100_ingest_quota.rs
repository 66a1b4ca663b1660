//! Ingest quota: what each tenant's agents stored per UTC day, so that one tenant's agents
//! cannot fill the store. One row per tenant and day; the prune job drops days older than a
//! week.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000100_ingest_quota"
    }
}

#[derive(DeriveIden)]
enum IngestQuotaDays {
    Table,
    TenantId,
    Day,
    Records,
    Batches,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IngestQuotaDays::Table)
                    .if_not_exists()
                    .col(uuid(IngestQuotaDays::TenantId))
                    // Days since 1970-01-01 (UTC).
                    .col(big_integer(IngestQuotaDays::Day))
                    .col(big_integer(IngestQuotaDays::Records).default(0))
                    .col(big_integer(IngestQuotaDays::Batches).default(0))
                    .col(big_integer(IngestQuotaDays::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(IngestQuotaDays::TenantId)
                            .col(IngestQuotaDays::Day),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IngestQuotaDays::Table).to_owned())
            .await
    }
}
