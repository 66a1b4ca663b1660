//! `shopify_compliance_requests`: privacy compliance webhooks received, their 30-day deadline,
//! and the data-request report (the only column holding the customer's data).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shopify_compliance_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub topic: String,
    pub shopify_request_id: Option<String>,
    pub customer_ref: Option<String>,
    pub received_at: i64,
    pub due_at: i64,
    pub status: String,
    pub completed_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub report: Option<String>,
    pub report_purged_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
