//! `findings`: Findings (for now: retention alerts such as a stored encrypted card number).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: Kind,
    pub code: String,
    pub severity: Severity,
    pub status: Status,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub details: String,
    pub dedup_key: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a finding is about.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(64))")]
#[schema(as = FindingKind)]
pub enum Kind {
    /// An alert raised by the Magento module's retention check.
    #[sea_orm(string_value = "retention_alert")]
    #[serde(rename = "retention_alert")]
    RetentionAlert,
}

/// How urgent a finding is.
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
#[schema(as = FindingSeverity)]
pub enum Severity {
    /// Low.
    #[sea_orm(string_value = "low")]
    #[serde(rename = "low")]
    Low,
    /// Medium.
    #[sea_orm(string_value = "medium")]
    #[serde(rename = "medium")]
    Medium,
    /// High.
    #[sea_orm(string_value = "high")]
    #[serde(rename = "high")]
    High,
    /// Critical.
    #[sea_orm(string_value = "critical")]
    #[serde(rename = "critical")]
    Critical,
}

/// Where a finding is in its triage.
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
#[schema(as = FindingStatus)]
pub enum Status {
    /// Needs review.
    #[sea_orm(string_value = "open")]
    #[serde(rename = "open")]
    Open,
}

impl Kind {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetentionAlert => "retention_alert",
        }
    }
}

impl Severity {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl Status {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
        }
    }
}
