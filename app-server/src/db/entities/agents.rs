//! `agents`: Enrolled host agents (SHA-256 of the credential only) and their health figures.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub credential_hash: String,
    pub hostname: String,
    pub agent_version: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub last_batch_at: Option<i64>,
    pub lag_ms: Option<i64>,
    pub spool_bytes: Option<i64>,
    pub spool_batches: Option<i64>,
    pub batches: i64,
    pub duplicates: i64,
    pub records: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
