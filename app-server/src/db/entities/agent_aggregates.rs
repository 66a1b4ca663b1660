//! `agent_aggregates`: Agent aggregates summed across batches per (agent, kind, minute, principal, shape).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_aggregates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_hash: String,
    pub agent_id: Uuid,
    pub kind: String,
    pub minute_at: Option<i64>,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub principal: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub count: i64,
    pub rows_sent: i64,
    pub rows_examined: i64,
    pub query_time_s: f64,
    pub bytes: i64,
    pub max_page_size: i64,
    pub first_seen_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
