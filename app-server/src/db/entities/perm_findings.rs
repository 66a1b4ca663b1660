//! `perm_findings`: A permission finding, identified across runs by its key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "perm_findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub finding_key: String,
    pub kind: String,
    pub severity: String,
    pub principal: Option<String>,
    pub principal_name: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub grants: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub resolved_at: Option<i64>,
    pub last_run_id: Uuid,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision: Option<String>,
    pub decided_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
