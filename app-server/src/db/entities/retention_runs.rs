//! `retention_runs`: One retention enforcement run of one data class.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub class: String,
    pub source: Source,
    pub status: String,
    pub policy_version: i32,
    pub cutoff: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub last_key: Option<String>,
    pub rows_affected: i64,
    pub ids_hash: String,
    pub first_affected_at: Option<i64>,
    pub last_affected_at: Option<i64>,
    pub batches: i32,
    pub max_batch_ms: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub report: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Who ran a retention run.
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
#[schema(as = RetentionRunSource)]
pub enum Source {
    /// The server, on its own store.
    #[sea_orm(string_value = "server")]
    #[serde(rename = "server")]
    Server,
    /// The Magento module, reported to the server.
    #[sea_orm(string_value = "magento")]
    #[serde(rename = "magento")]
    Magento,
}

impl Source {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Magento => "magento",
        }
    }
}
