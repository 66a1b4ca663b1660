//! `detection_states`: per tenant, the detection engine's and the normalizer's state (JSON).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "detection_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// `domain::detect::EngineState` as JSON.
    #[sea_orm(column_type = "Text")]
    pub engine: String,
    /// `domain::detect::normalize::Normalizer` as JSON.
    #[sea_orm(column_type = "Text")]
    pub normalizer: String,
    /// Signals processed.
    pub signals: i64,
    /// Input lines that gave no signal because they were malformed or without a time.
    pub malformed: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
