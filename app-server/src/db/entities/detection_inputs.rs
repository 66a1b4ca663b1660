//! `detection_inputs`: lines waiting for detection, numbered per tenant in commit order.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "detection_inputs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub source: Source,
    pub received_at: i64,
    /// One line of the replay format (`domain::detect::normalize`).
    #[sea_orm(column_type = "Text")]
    pub line: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What an input came from.
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
#[schema(as = DetectionInputSource)]
pub enum Source {
    /// A host agent's batch.
    #[sea_orm(string_value = "agent")]
    #[serde(rename = "agent")]
    Agent,
    /// The Magento module's events.
    #[sea_orm(string_value = "magento_module")]
    #[serde(rename = "magento_module")]
    MagentoModule,
    /// A Shopify webhook.
    #[sea_orm(string_value = "shopify")]
    #[serde(rename = "shopify")]
    Shopify,
}

impl Source {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::MagentoModule => "magento_module",
            Self::Shopify => "shopify",
        }
    }
}
