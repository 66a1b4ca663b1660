//! Foundation tables: tenants, users and API keys, encrypted secrets, the audit chain and its
//! checkpoints, webhook deliveries, job leases and runs, and the outbound outbox.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000001_foundation"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Platform,
    ShopDomain,
    BaseUrl,
    Status,
    CreatedAt,
    InstalledAt,
    UninstalledAt,
    PurgedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TenantId,
    ExternalId,
    DisplayName,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    UserId,
    KeyHash,
    Label,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Secrets {
    Table,
    TenantId,
    Name,
    KeyId,
    Nonce,
    Ciphertext,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditHeads {
    Table,
    ChainId,
    LastSeq,
    LastHash,
}

#[derive(DeriveIden)]
enum AuditEntries {
    Table,
    ChainId,
    Seq,
    Ts,
    ActorType,
    ActorId,
    Action,
    SubjectType,
    SubjectId,
    Details,
    PrevHash,
    Hash,
    Canonical,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    ChainId,
    Seq,
    Hash,
    Ts,
    KeyId,
    Signature,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    TenantId,
    Source,
    DeliveryId,
    Topic,
    ShopDomain,
    ReceivedAt,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    Payload,
}

#[derive(DeriveIden)]
enum JobLeases {
    Table,
    JobName,
    Owner,
    AcquiredAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    JobName,
    Slot,
    Owner,
    StartedAt,
    FinishedAt,
    Status,
    Detail,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    TenantId,
    Kind,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(uuid(Tenants::Id).primary_key())
                    .col(string_len(Tenants::Platform, 16))
                    .col(string_len_null(Tenants::ShopDomain, 255).unique_key())
                    .col(string_len_null(Tenants::BaseUrl, 512).unique_key())
                    .col(string_len(Tenants::Status, 32))
                    .col(big_integer(Tenants::CreatedAt))
                    .col(big_integer_null(Tenants::InstalledAt))
                    .col(big_integer_null(Tenants::UninstalledAt))
                    .col(big_integer_null(Tenants::PurgedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(uuid(Users::TenantId))
                    .col(string_len(Users::ExternalId, 255))
                    .col(string_len(Users::DisplayName, 255))
                    .col(string_len(Users::Role, 16))
                    .col(big_integer(Users::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_tenant_external")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .col(Users::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(uuid(ApiKeys::Id).primary_key())
                    .col(uuid(ApiKeys::TenantId))
                    .col(uuid(ApiKeys::UserId))
                    .col(string_len(ApiKeys::KeyHash, 64).unique_key())
                    .col(string_len(ApiKeys::Label, 255))
                    .col(big_integer(ApiKeys::CreatedAt))
                    .col(big_integer_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_keys_tenant")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::TenantId)
                    .to_owned(),
            )
            .await?;

        // Platform-wide secrets use the nil tenant id.
        manager
            .create_table(
                Table::create()
                    .table(Secrets::Table)
                    .col(uuid(Secrets::TenantId))
                    .col(string_len(Secrets::Name, 128))
                    .col(string_len(Secrets::KeyId, 64))
                    .col(blob(Secrets::Nonce))
                    .col(blob(Secrets::Ciphertext))
                    .col(big_integer(Secrets::UpdatedAt))
                    .primary_key(Index::create().col(Secrets::TenantId).col(Secrets::Name))
                    .to_owned(),
            )
            .await?;

        // One chain per tenant; the platform chain uses the nil id.
        manager
            .create_table(
                Table::create()
                    .table(AuditHeads::Table)
                    .col(uuid(AuditHeads::ChainId).primary_key())
                    .col(big_integer(AuditHeads::LastSeq))
                    .col(string_len(AuditHeads::LastHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    .col(uuid(AuditEntries::ChainId))
                    .col(big_integer(AuditEntries::Seq))
                    .col(big_integer(AuditEntries::Ts))
                    .col(string_len(AuditEntries::ActorType, 32))
                    .col(string_len(AuditEntries::ActorId, 255))
                    .col(string_len(AuditEntries::Action, 128))
                    .col(string_len(AuditEntries::SubjectType, 64))
                    .col(string_len(AuditEntries::SubjectId, 255))
                    .col(text(AuditEntries::Details))
                    .col(string_len(AuditEntries::PrevHash, 64))
                    .col(string_len(AuditEntries::Hash, 64))
                    .col(text(AuditEntries::Canonical))
                    .primary_key(
                        Index::create()
                            .col(AuditEntries::ChainId)
                            .col(AuditEntries::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(uuid(AuditCheckpoints::ChainId))
                    .col(big_integer(AuditCheckpoints::Seq))
                    .col(string_len(AuditCheckpoints::Hash, 64))
                    .col(big_integer(AuditCheckpoints::Ts))
                    .col(string_len(AuditCheckpoints::KeyId, 64))
                    .col(text(AuditCheckpoints::Signature))
                    .primary_key(
                        Index::create()
                            .col(AuditCheckpoints::ChainId)
                            .col(AuditCheckpoints::Seq),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::Id).primary_key())
                    .col(uuid_null(WebhookDeliveries::TenantId))
                    .col(string_len(WebhookDeliveries::Source, 32))
                    .col(string_len(WebhookDeliveries::DeliveryId, 255))
                    .col(string_len(WebhookDeliveries::Topic, 128))
                    .col(string_len(WebhookDeliveries::ShopDomain, 255))
                    .col(big_integer(WebhookDeliveries::ReceivedAt))
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(big_integer(WebhookDeliveries::NextAttemptAt))
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(blob_null(WebhookDeliveries::Payload))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_dedup")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Source)
                    .col(WebhookDeliveries::DeliveryId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobLeases::Table)
                    .col(string_len(JobLeases::JobName, 128).primary_key())
                    .col(string_len(JobLeases::Owner, 128))
                    .col(big_integer(JobLeases::AcquiredAt))
                    .col(big_integer(JobLeases::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobRuns::Table)
                    .col(string_len(JobRuns::JobName, 128))
                    .col(big_integer(JobRuns::Slot))
                    .col(string_len(JobRuns::Owner, 128))
                    .col(big_integer(JobRuns::StartedAt))
                    .col(big_integer_null(JobRuns::FinishedAt))
                    .col(string_len(JobRuns::Status, 16))
                    .col(text_null(JobRuns::Detail))
                    .primary_key(Index::create().col(JobRuns::JobName).col(JobRuns::Slot))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(uuid(Outbox::Id).primary_key())
                    .col(uuid(Outbox::TenantId))
                    .col(string_len(Outbox::Kind, 64))
                    .col(text(Outbox::Payload))
                    .col(string_len(Outbox::Status, 16))
                    .col(integer(Outbox::Attempts))
                    .col(big_integer(Outbox::NextAttemptAt))
                    .col(text_null(Outbox::LastError))
                    .col(big_integer(Outbox::CreatedAt))
                    .col(big_integer_null(Outbox::DeliveredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_tenant_status")
                    .table(Outbox::Table)
                    .col(Outbox::TenantId)
                    .col(Outbox::Status)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            JobRuns::Table.into_iden(),
            JobLeases::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            AuditCheckpoints::Table.into_iden(),
            AuditEntries::Table.into_iden(),
            AuditHeads::Table.into_iden(),
            Secrets::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Users::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
