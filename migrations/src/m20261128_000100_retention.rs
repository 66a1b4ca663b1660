//! Retention: versioned policies per tenant and enforcement runs (own store and Magento
//! executor reports), with the progress that lets an interrupted run resume.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000100_retention"
    }
}

#[derive(DeriveIden)]
enum RetentionPolicies {
    Table,
    TenantId,
    Version,
    Body,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum RetentionRuns {
    Table,
    Id,
    TenantId,
    Class,
    Source,
    Status,
    PolicyVersion,
    Cutoff,
    StartedAt,
    FinishedAt,
    LastKey,
    RowsAffected,
    IdsHash,
    FirstAffectedAt,
    LastAffectedAt,
    Batches,
    MaxBatchMs,
    Error,
    Report,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RetentionPolicies::Table)
                    .col(uuid(RetentionPolicies::TenantId))
                    .col(integer(RetentionPolicies::Version))
                    .col(text(RetentionPolicies::Body))
                    .col(big_integer(RetentionPolicies::CreatedAt))
                    .col(string_len(RetentionPolicies::CreatedBy, 255))
                    .primary_key(
                        Index::create()
                            .col(RetentionPolicies::TenantId)
                            .col(RetentionPolicies::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RetentionRuns::Table)
                    .col(uuid(RetentionRuns::Id).primary_key())
                    .col(uuid(RetentionRuns::TenantId))
                    .col(string_len(RetentionRuns::Class, 64))
                    .col(string_len(RetentionRuns::Source, 16))
                    .col(string_len(RetentionRuns::Status, 16))
                    .col(integer(RetentionRuns::PolicyVersion))
                    .col(big_integer(RetentionRuns::Cutoff))
                    .col(big_integer(RetentionRuns::StartedAt))
                    .col(big_integer_null(RetentionRuns::FinishedAt))
                    .col(string_len_null(RetentionRuns::LastKey, 64))
                    .col(big_integer(RetentionRuns::RowsAffected))
                    .col(string_len(RetentionRuns::IdsHash, 64))
                    .col(big_integer_null(RetentionRuns::FirstAffectedAt))
                    .col(big_integer_null(RetentionRuns::LastAffectedAt))
                    .col(integer(RetentionRuns::Batches))
                    .col(big_integer(RetentionRuns::MaxBatchMs))
                    .col(text_null(RetentionRuns::Error))
                    .col(text_null(RetentionRuns::Report))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("retention_runs_tenant_class_status")
                    .table(RetentionRuns::Table)
                    .col(RetentionRuns::TenantId)
                    .col(RetentionRuns::Class)
                    .col(RetentionRuns::Status)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RetentionRuns::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RetentionPolicies::Table).to_owned())
            .await
    }
}
