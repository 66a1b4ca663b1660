//! `tenants`: A shop or Magento installation.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub platform: Platform,
    pub shop_domain: Option<String>,
    pub base_url: Option<String>,
    pub status: Status,
    pub created_at: i64,
    pub installed_at: Option<i64>,
    pub uninstalled_at: Option<i64>,
    pub purged_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Which shop system a tenant runs.
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
#[schema(as = TenantPlatform)]
pub enum Platform {
    /// A Shopify shop.
    #[sea_orm(string_value = "shopify")]
    #[serde(rename = "shopify")]
    Shopify,
    /// A Magento installation.
    #[sea_orm(string_value = "magento")]
    #[serde(rename = "magento")]
    Magento,
}

/// Where a tenant is in its life.
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
#[schema(as = TenantStatus)]
pub enum Status {
    /// Installed and served.
    #[sea_orm(string_value = "active")]
    #[serde(rename = "active")]
    Active,
    /// The app was uninstalled; data kept until purged.
    #[sea_orm(string_value = "uninstalled")]
    #[serde(rename = "uninstalled")]
    Uninstalled,
    /// Its data is gone; nothing is served.
    #[sea_orm(string_value = "purged")]
    #[serde(rename = "purged")]
    Purged,
}

impl Platform {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopify => "shopify",
            Self::Magento => "magento",
        }
    }
}

impl Status {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Uninstalled => "uninstalled",
            Self::Purged => "purged",
        }
    }
}
