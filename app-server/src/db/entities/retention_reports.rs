//! `retention_reports`: Evidence of retention runs executed by the Magento module.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub run_id: String,
    pub policy_version: i64,
    pub policy_sha256: String,
    pub dry_run: bool,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub received_at: i64,
    pub rows_affected: i64,
    pub alerts: i32,
    #[sea_orm(column_type = "Text")]
    pub report: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
