//! Magento module and host agent ingest: enrollment tokens, module keys, replay guards (HMAC
//! nonces, SSO token ids), console sessions, signals, permission snapshots, retention reports,
//! findings, agents, agent batches (the de-duplication key) and agent aggregates.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000200_magento_agent_ingest"
    }
}

#[derive(DeriveIden)]
enum EnrollmentTokens {
    Table,
    Id,
    TenantId,
    Kind,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MagentoModuleKeys {
    Table,
    KeyId,
    TenantId,
    BaseUrl,
    ModuleVersion,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ReplayGuards {
    Table,
    TenantId,
    Scope,
    Value,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    Id,
    TenantId,
    UserId,
    SessionHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Signals {
    Table,
    TenantId,
    Id,
    Source,
    Kind,
    DedupKey,
    Principal,
    OccurredAt,
    ReceivedAt,
    Payload,
}

#[derive(DeriveIden)]
enum PermissionSnapshots {
    Table,
    TenantId,
    Id,
    BodySha256,
    Schema,
    GeneratedAt,
    ReceivedAt,
    Integrations,
    AdminUsers,
    Snapshot,
}

#[derive(DeriveIden)]
enum RetentionReports {
    Table,
    TenantId,
    Id,
    RunId,
    PolicyVersion,
    PolicySha256,
    DryRun,
    StartedAt,
    FinishedAt,
    ReceivedAt,
    RowsAffected,
    Alerts,
    Report,
}

#[derive(DeriveIden)]
enum Findings {
    Table,
    TenantId,
    Id,
    Kind,
    Code,
    Severity,
    Status,
    Title,
    Details,
    DedupKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    TenantId,
    CredentialHash,
    Hostname,
    AgentVersion,
    CreatedAt,
    RevokedAt,
    LastSeenAt,
    LastBatchAt,
    LagMs,
    SpoolBytes,
    SpoolBatches,
    Batches,
    Duplicates,
    Records,
}

#[derive(DeriveIden)]
enum AgentBatches {
    Table,
    TenantId,
    Id,
    AgentId,
    FileId,
    StartOffset,
    EndOffset,
    Lines,
    Records,
    SourceKind,
    BatchId,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum AgentAggregates {
    Table,
    TenantId,
    KeyHash,
    AgentId,
    Kind,
    MinuteAt,
    Subject,
    Principal,
    Detail,
    Count,
    RowsSent,
    RowsExamined,
    QueryTimeS,
    Bytes,
    MaxPageSize,
    FirstSeenAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One-time tokens an admin hands to the module or the agent; only the SHA-256 is kept.
        manager
            .create_table(
                Table::create()
                    .table(EnrollmentTokens::Table)
                    .col(uuid(EnrollmentTokens::Id).primary_key())
                    .col(uuid(EnrollmentTokens::TenantId))
                    .col(string_len(EnrollmentTokens::Kind, 32))
                    .col(string_len(EnrollmentTokens::TokenHash, 64).unique_key())
                    .col(string_len(EnrollmentTokens::CreatedBy, 255))
                    .col(big_integer(EnrollmentTokens::CreatedAt))
                    .col(big_integer(EnrollmentTokens::ExpiresAt))
                    .col(big_integer_null(EnrollmentTokens::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enrollment_tokens_tenant")
                    .table(EnrollmentTokens::Table)
                    .col(EnrollmentTokens::TenantId)
                    .col(EnrollmentTokens::Kind)
                    .to_owned(),
            )
            .await?;

        // Key ids of the module's HMAC secret (the secret itself is sealed in `secrets`).
        manager
            .create_table(
                Table::create()
                    .table(MagentoModuleKeys::Table)
                    .col(string_len(MagentoModuleKeys::KeyId, 64).primary_key())
                    .col(uuid(MagentoModuleKeys::TenantId))
                    .col(string_len(MagentoModuleKeys::BaseUrl, 512))
                    .col(string_len(MagentoModuleKeys::ModuleVersion, 64))
                    .col(big_integer(MagentoModuleKeys::CreatedAt))
                    .col(big_integer_null(MagentoModuleKeys::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("magento_module_keys_tenant")
                    .table(MagentoModuleKeys::Table)
                    .col(MagentoModuleKeys::TenantId)
                    .to_owned(),
            )
            .await?;

        // Values that may be used once until they expire: HMAC nonces, SSO token ids.
        manager
            .create_table(
                Table::create()
                    .table(ReplayGuards::Table)
                    .col(uuid(ReplayGuards::TenantId))
                    .col(string_len(ReplayGuards::Scope, 32))
                    .col(string_len(ReplayGuards::Value, 128))
                    .col(big_integer(ReplayGuards::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(ReplayGuards::TenantId)
                            .col(ReplayGuards::Scope)
                            .col(ReplayGuards::Value),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("replay_guards_expiry")
                    .table(ReplayGuards::Table)
                    .col(ReplayGuards::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .col(uuid(ConsoleSessions::Id).primary_key())
                    .col(uuid(ConsoleSessions::TenantId))
                    .col(uuid(ConsoleSessions::UserId))
                    .col(string_len(ConsoleSessions::SessionHash, 64).unique_key())
                    .col(big_integer(ConsoleSessions::CreatedAt))
                    .col(big_integer(ConsoleSessions::ExpiresAt))
                    .col(big_integer_null(ConsoleSessions::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("console_sessions_tenant_user")
                    .table(ConsoleSessions::Table)
                    .col(ConsoleSessions::TenantId)
                    .col(ConsoleSessions::UserId)
                    .to_owned(),
            )
            .await?;

        // Inputs of detection: module events and agent security events.
        manager
            .create_table(
                Table::create()
                    .table(Signals::Table)
                    .col(uuid(Signals::TenantId))
                    .col(uuid(Signals::Id))
                    .col(string_len(Signals::Source, 32))
                    .col(string_len(Signals::Kind, 64))
                    .col(string_len(Signals::DedupKey, 512))
                    .col(string_len_null(Signals::Principal, 255))
                    .col(big_integer_null(Signals::OccurredAt))
                    .col(big_integer(Signals::ReceivedAt))
                    .col(text(Signals::Payload))
                    .primary_key(Index::create().col(Signals::TenantId).col(Signals::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("signals_dedup")
                    .table(Signals::Table)
                    .col(Signals::TenantId)
                    .col(Signals::Source)
                    .col(Signals::DedupKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("signals_tenant_time")
                    .table(Signals::Table)
                    .col(Signals::TenantId)
                    .col(Signals::OccurredAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermissionSnapshots::Table)
                    .col(uuid(PermissionSnapshots::TenantId))
                    .col(uuid(PermissionSnapshots::Id))
                    .col(string_len(PermissionSnapshots::BodySha256, 64))
                    .col(string_len(PermissionSnapshots::Schema, 128))
                    .col(big_integer_null(PermissionSnapshots::GeneratedAt))
                    .col(big_integer(PermissionSnapshots::ReceivedAt))
                    .col(integer(PermissionSnapshots::Integrations))
                    .col(integer(PermissionSnapshots::AdminUsers))
                    .col(text(PermissionSnapshots::Snapshot))
                    .primary_key(
                        Index::create()
                            .col(PermissionSnapshots::TenantId)
                            .col(PermissionSnapshots::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("permission_snapshots_dedup")
                    .table(PermissionSnapshots::Table)
                    .col(PermissionSnapshots::TenantId)
                    .col(PermissionSnapshots::BodySha256)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RetentionReports::Table)
                    .col(uuid(RetentionReports::TenantId))
                    .col(uuid(RetentionReports::Id))
                    .col(string_len(RetentionReports::RunId, 64))
                    .col(big_integer(RetentionReports::PolicyVersion))
                    .col(string_len(RetentionReports::PolicySha256, 64))
                    .col(boolean(RetentionReports::DryRun))
                    .col(big_integer_null(RetentionReports::StartedAt))
                    .col(big_integer_null(RetentionReports::FinishedAt))
                    .col(big_integer(RetentionReports::ReceivedAt))
                    .col(big_integer(RetentionReports::RowsAffected))
                    .col(integer(RetentionReports::Alerts))
                    .col(text(RetentionReports::Report))
                    .primary_key(
                        Index::create()
                            .col(RetentionReports::TenantId)
                            .col(RetentionReports::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("retention_reports_run")
                    .table(RetentionReports::Table)
                    .col(RetentionReports::TenantId)
                    .col(RetentionReports::RunId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Findings::Table)
                    .col(uuid(Findings::TenantId))
                    .col(uuid(Findings::Id))
                    .col(string_len(Findings::Kind, 64))
                    .col(string_len(Findings::Code, 64))
                    .col(string_len(Findings::Severity, 16))
                    .col(string_len(Findings::Status, 16))
                    .col(string_len(Findings::Title, 255))
                    .col(text(Findings::Details))
                    .col(string_len(Findings::DedupKey, 255))
                    .col(big_integer(Findings::CreatedAt))
                    .primary_key(Index::create().col(Findings::TenantId).col(Findings::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("findings_dedup")
                    .table(Findings::Table)
                    .col(Findings::TenantId)
                    .col(Findings::DedupKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(uuid(Agents::Id).primary_key())
                    .col(uuid(Agents::TenantId))
                    .col(string_len(Agents::CredentialHash, 64))
                    .col(string_len(Agents::Hostname, 255))
                    .col(string_len(Agents::AgentVersion, 64))
                    .col(big_integer(Agents::CreatedAt))
                    .col(big_integer_null(Agents::RevokedAt))
                    .col(big_integer_null(Agents::LastSeenAt))
                    .col(big_integer_null(Agents::LastBatchAt))
                    .col(big_integer_null(Agents::LagMs))
                    .col(big_integer_null(Agents::SpoolBytes))
                    .col(big_integer_null(Agents::SpoolBatches))
                    .col(big_integer(Agents::Batches).default(0))
                    .col(big_integer(Agents::Duplicates).default(0))
                    .col(big_integer(Agents::Records).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("agents_tenant")
                    .table(Agents::Table)
                    .col(Agents::TenantId)
                    .col(Agents::Id)
                    .to_owned(),
            )
            .await?;

        // The unique index is the exactly-once guarantee for at-least-once delivery.
        manager
            .create_table(
                Table::create()
                    .table(AgentBatches::Table)
                    .col(uuid(AgentBatches::TenantId))
                    .col(uuid(AgentBatches::Id))
                    .col(uuid(AgentBatches::AgentId))
                    .col(string_len(AgentBatches::FileId, 255))
                    .col(big_integer(AgentBatches::StartOffset))
                    .col(big_integer(AgentBatches::EndOffset))
                    .col(big_integer(AgentBatches::Lines))
                    .col(big_integer(AgentBatches::Records))
                    .col(string_len(AgentBatches::SourceKind, 32))
                    .col(string_len(AgentBatches::BatchId, 64))
                    .col(big_integer(AgentBatches::ReceivedAt))
                    .primary_key(
                        Index::create()
                            .col(AgentBatches::TenantId)
                            .col(AgentBatches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("agent_batches_dedup")
                    .table(AgentBatches::Table)
                    .col(AgentBatches::TenantId)
                    .col(AgentBatches::AgentId)
                    .col(AgentBatches::FileId)
                    .col(AgentBatches::StartOffset)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Sums per (agent, kind, minute, principal, shape): batches add into them.
        manager
            .create_table(
                Table::create()
                    .table(AgentAggregates::Table)
                    .col(uuid(AgentAggregates::TenantId))
                    .col(string_len(AgentAggregates::KeyHash, 64))
                    .col(uuid(AgentAggregates::AgentId))
                    .col(string_len(AgentAggregates::Kind, 16))
                    .col(big_integer_null(AgentAggregates::MinuteAt))
                    .col(string_len(AgentAggregates::Subject, 512))
                    .col(text(AgentAggregates::Principal))
                    .col(text(AgentAggregates::Detail))
                    .col(big_integer(AgentAggregates::Count))
                    .col(big_integer(AgentAggregates::RowsSent))
                    .col(big_integer(AgentAggregates::RowsExamined))
                    .col(double(AgentAggregates::QueryTimeS))
                    .col(big_integer(AgentAggregates::Bytes))
                    .col(big_integer(AgentAggregates::MaxPageSize))
                    .col(big_integer(AgentAggregates::FirstSeenAt))
                    .col(big_integer(AgentAggregates::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(AgentAggregates::TenantId)
                            .col(AgentAggregates::KeyHash),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("agent_aggregates_tenant_minute")
                    .table(AgentAggregates::Table)
                    .col(AgentAggregates::TenantId)
                    .col(AgentAggregates::MinuteAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AgentAggregates::Table.into_iden(),
            AgentBatches::Table.into_iden(),
            Agents::Table.into_iden(),
            Findings::Table.into_iden(),
            RetentionReports::Table.into_iden(),
            PermissionSnapshots::Table.into_iden(),
            Signals::Table.into_iden(),
            ConsoleSessions::Table.into_iden(),
            ReplayGuards::Table.into_iden(),
            MagentoModuleKeys::Table.into_iden(),
            EnrollmentTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
