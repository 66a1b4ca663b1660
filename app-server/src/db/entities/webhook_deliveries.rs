//! `webhook_deliveries`: A received webhook, stored before it is processed.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub source: Source,
    pub delivery_id: String,
    pub topic: String,
    pub shop_domain: String,
    pub received_at: i64,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub payload: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Who sent a webhook.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[schema(as = WebhookDeliverySource)]
pub enum Source {
    /// Shopify.
    #[sea_orm(string_value = "shopify")]
    #[serde(rename = "shopify")]
    Shopify,
}

/// Where a stored webhook is in its processing.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[schema(as = WebhookDeliveryStatus)]
pub enum Status {
    /// Stored, not yet processed.
    #[sea_orm(string_value = "pending")]
    #[serde(rename = "pending")]
    Pending,
    /// Claimed by a worker.
    #[sea_orm(string_value = "processing")]
    #[serde(rename = "processing")]
    Processing,
    /// Done.
    #[sea_orm(string_value = "processed")]
    #[serde(rename = "processed")]
    Processed,
    /// Failed; retried later.
    #[sea_orm(string_value = "failed")]
    #[serde(rename = "failed")]
    Failed,
    /// Failed too often; not retried.
    #[sea_orm(string_value = "dead")]
    #[serde(rename = "dead")]
    Dead,
    /// Not yet due (a `shop/redact` before the 48 h after the uninstall); processed later.
    #[sea_orm(string_value = "deferred")]
    #[serde(rename = "deferred")]
    Deferred,
}

impl Source {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopify => "shopify",
        }
    }
}

impl Status {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Processed => "processed",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Deferred => "deferred",
        }
    }
}
