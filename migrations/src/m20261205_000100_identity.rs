//! Identity: users can be deactivated, API keys expire and record their last use.
//!
//! Keys that exist when this runs get 90 days from now (not from their creation, so that no
//! operator is locked out by the upgrade itself); new keys always carry their own expiry.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000100_identity"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    DeactivatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    TenantId,
    UserId,
    ExpiresAt,
    LastUsedAt,
}

const INDEX_KEYS_BY_USER: &str = "idx_api_keys_tenant_user";
const BACKFILL_MS: i64 = 90 * 24 * 60 * 60 * 1000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::DeactivatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(big_integer(ApiKeys::ExpiresAt).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(big_integer_null(ApiKeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        let now_ms = <i64 as std::convert::TryFrom<u128>>::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default(),
        )
        .unwrap_or(i64::MAX);
        manager
            .exec_stmt(
                Query::update()
                    .table(ApiKeys::Table)
                    .value(ApiKeys::ExpiresAt, now_ms.saturating_add(BACKFILL_MS))
                    .and_where(Expr::col(ApiKeys::ExpiresAt).eq(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX_KEYS_BY_USER)
                    .table(ApiKeys::Table)
                    .col(ApiKeys::TenantId)
                    .col(ApiKeys::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX_KEYS_BY_USER)
                    .table(ApiKeys::Table)
                    .to_owned(),
            )
            .await?;
        for column in [ApiKeys::LastUsedAt, ApiKeys::ExpiresAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::DeactivatedAt)
                    .to_owned(),
            )
            .await
    }
}
