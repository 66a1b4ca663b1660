//! Permission audits: runs, the snapshot each run saw, findings with their lifecycle, the
//! review history, the tenant's allow-list policy and its audit schedule.
//!
//! Every table is tenant-owned and keyed by `tenant_id` first.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000400_permission_audits"
    }
}

#[derive(DeriveIden)]
enum PermAuditRuns {
    Table,
    TenantId,
    Id,
    Platform,
    Trigger,
    StartedAt,
    FinishedAt,
    Status,
    Complete,
    Principals,
    Changes,
    FindingsActive,
    FindingsNew,
    FindingsResolved,
    Notice,
    Error,
}

#[derive(DeriveIden)]
enum PermAuditSnapshots {
    Table,
    TenantId,
    RunId,
    Platform,
    Snapshot,
    Changes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PermFindings {
    Table,
    TenantId,
    Id,
    FindingKey,
    Kind,
    Severity,
    Principal,
    PrincipalName,
    Grants,
    Message,
    FirstSeen,
    LastSeen,
    ResolvedAt,
    LastRunId,
    Decision,
    DecidedAt,
}

#[derive(DeriveIden)]
enum PermReviews {
    Table,
    TenantId,
    Id,
    FindingId,
    FindingKey,
    Decision,
    Justification,
    ExpiresAt,
    GrantsHash,
    Grants,
    UserId,
    Actor,
    CreatedAt,
    TicketStatus,
}

#[derive(DeriveIden)]
enum PermPolicies {
    Table,
    TenantId,
    Policy,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum PermAuditSchedules {
    Table,
    TenantId,
    Cron,
    Enabled,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PermAuditRuns::Table)
                    .col(uuid(PermAuditRuns::TenantId))
                    .col(uuid(PermAuditRuns::Id))
                    .col(string_len(PermAuditRuns::Platform, 16))
                    .col(string_len(PermAuditRuns::Trigger, 16))
                    .col(big_integer(PermAuditRuns::StartedAt))
                    .col(big_integer_null(PermAuditRuns::FinishedAt))
                    .col(string_len(PermAuditRuns::Status, 16))
                    .col(boolean(PermAuditRuns::Complete))
                    .col(integer(PermAuditRuns::Principals))
                    .col(integer(PermAuditRuns::Changes))
                    .col(integer(PermAuditRuns::FindingsActive))
                    .col(integer(PermAuditRuns::FindingsNew))
                    .col(integer(PermAuditRuns::FindingsResolved))
                    .col(text_null(PermAuditRuns::Notice))
                    .col(text_null(PermAuditRuns::Error))
                    .primary_key(
                        Index::create()
                            .col(PermAuditRuns::TenantId)
                            .col(PermAuditRuns::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("perm_audit_runs_tenant_started")
                    .table(PermAuditRuns::Table)
                    .col(PermAuditRuns::TenantId)
                    .col(PermAuditRuns::StartedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermAuditSnapshots::Table)
                    .col(uuid(PermAuditSnapshots::TenantId))
                    .col(uuid(PermAuditSnapshots::RunId))
                    .col(string_len(PermAuditSnapshots::Platform, 16))
                    .col(text(PermAuditSnapshots::Snapshot))
                    .col(text(PermAuditSnapshots::Changes))
                    .col(big_integer(PermAuditSnapshots::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(PermAuditSnapshots::TenantId)
                            .col(PermAuditSnapshots::RunId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("perm_audit_snapshots_tenant_created")
                    .table(PermAuditSnapshots::Table)
                    .col(PermAuditSnapshots::TenantId)
                    .col(PermAuditSnapshots::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermFindings::Table)
                    .col(uuid(PermFindings::TenantId))
                    .col(uuid(PermFindings::Id))
                    .col(string_len(PermFindings::FindingKey, 512))
                    .col(string_len(PermFindings::Kind, 64))
                    .col(string_len(PermFindings::Severity, 16))
                    .col(string_len_null(PermFindings::Principal, 512))
                    .col(string_len_null(PermFindings::PrincipalName, 512))
                    .col(text(PermFindings::Grants))
                    .col(text(PermFindings::Message))
                    .col(big_integer(PermFindings::FirstSeen))
                    .col(big_integer(PermFindings::LastSeen))
                    .col(big_integer_null(PermFindings::ResolvedAt))
                    .col(uuid(PermFindings::LastRunId))
                    .col(text_null(PermFindings::Decision))
                    .col(big_integer_null(PermFindings::DecidedAt))
                    .primary_key(
                        Index::create()
                            .col(PermFindings::TenantId)
                            .col(PermFindings::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("perm_findings_tenant_key")
                    .table(PermFindings::Table)
                    .col(PermFindings::TenantId)
                    .col(PermFindings::FindingKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermReviews::Table)
                    .col(uuid(PermReviews::TenantId))
                    .col(uuid(PermReviews::Id))
                    .col(uuid(PermReviews::FindingId))
                    .col(string_len(PermReviews::FindingKey, 512))
                    .col(string_len(PermReviews::Decision, 32))
                    .col(text_null(PermReviews::Justification))
                    .col(big_integer_null(PermReviews::ExpiresAt))
                    .col(string_len_null(PermReviews::GrantsHash, 64))
                    .col(text(PermReviews::Grants))
                    .col(uuid_null(PermReviews::UserId))
                    .col(string_len(PermReviews::Actor, 255))
                    .col(big_integer(PermReviews::CreatedAt))
                    .col(string_len_null(PermReviews::TicketStatus, 16))
                    .primary_key(
                        Index::create()
                            .col(PermReviews::TenantId)
                            .col(PermReviews::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("perm_reviews_tenant_finding")
                    .table(PermReviews::Table)
                    .col(PermReviews::TenantId)
                    .col(PermReviews::FindingId)
                    .col(PermReviews::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("perm_reviews_tenant_ticket")
                    .table(PermReviews::Table)
                    .col(PermReviews::TenantId)
                    .col(PermReviews::TicketStatus)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermPolicies::Table)
                    .col(uuid(PermPolicies::TenantId).primary_key())
                    .col(text(PermPolicies::Policy))
                    .col(big_integer(PermPolicies::UpdatedAt))
                    .col(string_len(PermPolicies::UpdatedBy, 255))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermAuditSchedules::Table)
                    .col(uuid(PermAuditSchedules::TenantId).primary_key())
                    .col(string_len(PermAuditSchedules::Cron, 128))
                    .col(boolean(PermAuditSchedules::Enabled))
                    .col(big_integer(PermAuditSchedules::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PermAuditSchedules::Table.into_iden(),
            PermPolicies::Table.into_iden(),
            PermReviews::Table.into_iden(),
            PermFindings::Table.into_iden(),
            PermAuditSnapshots::Table.into_iden(),
            PermAuditRuns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
