//! `signals`: Inputs of detection: module events and agent security events.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "signals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source: Source,
    pub kind: String,
    pub dedup_key: String,
    pub principal: Option<String>,
    pub occurred_at: Option<i64>,
    pub received_at: i64,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What reported a signal.
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
#[schema(as = SignalSource)]
pub enum Source {
    /// A host agent.
    #[sea_orm(string_value = "agent")]
    #[serde(rename = "agent")]
    Agent,
    /// The Magento module.
    #[sea_orm(string_value = "magento_module")]
    #[serde(rename = "magento_module")]
    MagentoModule,
}

impl Source {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::MagentoModule => "magento_module",
        }
    }
}
