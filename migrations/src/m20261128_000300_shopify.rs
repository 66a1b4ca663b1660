//! Shopify app tables: installations (token metadata; the tokens themselves are sealed in
//! `secrets`), single-use OAuth states, customer and order signals taken from webhooks, and
//! privacy compliance requests with their deadlines.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000300_shopify"
    }
}

#[derive(DeriveIden)]
enum ShopifyInstallations {
    Table,
    TenantId,
    ShopDomain,
    GrantedScopes,
    AccessExpiresAt,
    RefreshExpiresAt,
    NeedsReauth,
    InstalledAt,
    UpdatedAt,
    UninstalledAt,
    ShopRedactDueAt,
}

#[derive(DeriveIden)]
enum ShopifyOauthStates {
    Table,
    State,
    ShopDomain,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum ShopifySignals {
    Table,
    TenantId,
    Id,
    DeliveryId,
    Topic,
    ResourceId,
    CustomerId,
    ReceivedAt,
    Payload,
}

#[derive(DeriveIden)]
enum ShopifyComplianceRequests {
    Table,
    TenantId,
    Id,
    DeliveryId,
    Topic,
    ShopifyRequestId,
    CustomerRef,
    ReceivedAt,
    DueAt,
    Status,
    CompletedAt,
    Report,
    ReportPurgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShopifyInstallations::Table)
                    .col(uuid(ShopifyInstallations::TenantId).primary_key())
                    .col(string_len(ShopifyInstallations::ShopDomain, 255).unique_key())
                    .col(text(ShopifyInstallations::GrantedScopes))
                    .col(big_integer_null(ShopifyInstallations::AccessExpiresAt))
                    .col(big_integer_null(ShopifyInstallations::RefreshExpiresAt))
                    .col(boolean(ShopifyInstallations::NeedsReauth))
                    .col(big_integer(ShopifyInstallations::InstalledAt))
                    .col(big_integer(ShopifyInstallations::UpdatedAt))
                    .col(big_integer_null(ShopifyInstallations::UninstalledAt))
                    .col(big_integer_null(ShopifyInstallations::ShopRedactDueAt))
                    .to_owned(),
            )
            .await?;

        // Not tenant-owned: a state exists before the tenant does.
        manager
            .create_table(
                Table::create()
                    .table(ShopifyOauthStates::Table)
                    .col(string_len(ShopifyOauthStates::State, 64).primary_key())
                    .col(string_len(ShopifyOauthStates::ShopDomain, 255))
                    .col(big_integer(ShopifyOauthStates::CreatedAt))
                    .col(big_integer(ShopifyOauthStates::ExpiresAt))
                    .col(big_integer_null(ShopifyOauthStates::ConsumedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ShopifySignals::Table)
                    .col(uuid(ShopifySignals::TenantId))
                    .col(uuid(ShopifySignals::Id))
                    .col(uuid(ShopifySignals::DeliveryId))
                    .col(string_len(ShopifySignals::Topic, 128))
                    .col(string_len_null(ShopifySignals::ResourceId, 255))
                    .col(string_len_null(ShopifySignals::CustomerId, 64))
                    .col(big_integer(ShopifySignals::ReceivedAt))
                    .col(text(ShopifySignals::Payload))
                    .primary_key(
                        Index::create()
                            .col(ShopifySignals::TenantId)
                            .col(ShopifySignals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shopify_signals_customer")
                    .table(ShopifySignals::Table)
                    .col(ShopifySignals::TenantId)
                    .col(ShopifySignals::CustomerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shopify_signals_resource")
                    .table(ShopifySignals::Table)
                    .col(ShopifySignals::TenantId)
                    .col(ShopifySignals::ResourceId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ShopifyComplianceRequests::Table)
                    .col(uuid(ShopifyComplianceRequests::TenantId))
                    .col(uuid(ShopifyComplianceRequests::Id))
                    .col(uuid(ShopifyComplianceRequests::DeliveryId))
                    .col(string_len(ShopifyComplianceRequests::Topic, 64))
                    .col(string_len_null(
                        ShopifyComplianceRequests::ShopifyRequestId,
                        64,
                    ))
                    .col(string_len_null(ShopifyComplianceRequests::CustomerRef, 64))
                    .col(big_integer(ShopifyComplianceRequests::ReceivedAt))
                    .col(big_integer(ShopifyComplianceRequests::DueAt))
                    .col(string_len(ShopifyComplianceRequests::Status, 16))
                    .col(big_integer_null(ShopifyComplianceRequests::CompletedAt))
                    .col(text_null(ShopifyComplianceRequests::Report))
                    .col(big_integer_null(ShopifyComplianceRequests::ReportPurgedAt))
                    .primary_key(
                        Index::create()
                            .col(ShopifyComplianceRequests::TenantId)
                            .col(ShopifyComplianceRequests::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shopify_compliance_customer")
                    .table(ShopifyComplianceRequests::Table)
                    .col(ShopifyComplianceRequests::TenantId)
                    .col(ShopifyComplianceRequests::CustomerRef)
                    .to_owned(),
            )
            .await?;
        // One row per delivery, so a retried processing run cannot record a request twice.
        manager
            .create_index(
                Index::create()
                    .name("shopify_compliance_delivery")
                    .table(ShopifyComplianceRequests::Table)
                    .col(ShopifyComplianceRequests::TenantId)
                    .col(ShopifyComplianceRequests::DeliveryId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ShopifyComplianceRequests::Table.into_iden(),
            ShopifySignals::Table.into_iden(),
            ShopifyOauthStates::Table.into_iden(),
            ShopifyInstallations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
