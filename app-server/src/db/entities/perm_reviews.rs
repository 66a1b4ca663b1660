//! `perm_reviews`: Every review decision on a permission finding (append-only history).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "perm_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub finding_id: Uuid,
    pub finding_key: String,
    pub decision: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub justification: Option<String>,
    pub expires_at: Option<i64>,
    pub grants_hash: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub grants: String,
    pub user_id: Option<Uuid>,
    pub actor: String,
    pub created_at: i64,
    pub ticket_status: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
