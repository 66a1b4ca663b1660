//! `agent_aggregates`: Agent aggregates summed across batches per (agent, kind, minute, principal, shape).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_aggregates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_hash: String,
    pub agent_id: Uuid,
    pub kind: Kind,
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

/// What an aggregate counts.
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
#[schema(as = AgentAggregateKind)]
pub enum Kind {
    /// SQL statements.
    #[sea_orm(string_value = "sql")]
    #[serde(rename = "sql")]
    Sql,
    /// HTTP requests.
    #[sea_orm(string_value = "http")]
    #[serde(rename = "http")]
    Http,
    /// Application log records.
    #[sea_orm(string_value = "app_log")]
    #[serde(rename = "app_log")]
    AppLog,
}

impl Kind {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sql => "sql",
            Self::Http => "http",
            Self::AppLog => "app_log",
        }
    }
}
