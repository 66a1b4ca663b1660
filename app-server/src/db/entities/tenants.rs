//! `tenants`: A shop or Magento installation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub platform: String,
    pub shop_domain: Option<String>,
    pub base_url: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub installed_at: Option<i64>,
    pub uninstalled_at: Option<i64>,
    pub purged_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
