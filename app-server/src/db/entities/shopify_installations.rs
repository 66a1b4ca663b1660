//! `shopify_installations`: one Shopify shop's installation of the app (token metadata only;
//! the tokens are sealed in `secrets`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shopify_installations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub shop_domain: String,
    #[sea_orm(column_type = "Text")]
    pub granted_scopes: String,
    pub access_expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
    pub needs_reauth: bool,
    pub installed_at: i64,
    pub updated_at: i64,
    pub uninstalled_at: Option<i64>,
    pub shop_redact_due_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
