//! `incidents`: A suspected or confirmed breach and the facts the notice law decides on.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub owner_user_id: Option<Uuid>,
    /// `YYYY-MM-DD`.
    pub discovered_at: String,
    pub determined_at: Option<String>,
    pub aware_at: Option<String>,
    pub contained_at: Option<String>,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    /// JSON object, US state code → affected residents.
    #[sea_orm(column_type = "Text")]
    pub residents: String,
    /// JSON object, country code → affected people.
    #[sea_orm(column_type = "Text")]
    pub countries: String,
    /// JSON array of data element names; `None` while unknown.
    #[sea_orm(column_type = "Text", nullable)]
    pub categories: Option<String>,
    pub records_estimate: Option<i64>,
    pub encrypted: bool,
    pub key_compromised: bool,
    pub law_enforcement_delay_days: Option<i32>,
    /// JSON array of `{jurisdiction, audience, recipient, sent_on}`: the notices sent.
    #[sea_orm(column_type = "Text")]
    pub notices_sent: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How bad an incident is.
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
#[schema(as = IncidentSeverity)]
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

/// Where an incident is in its handling; it moves forward, and back only by reopening.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[schema(as = IncidentStatus)]
pub enum Status {
    /// Reported, not yet looked at.
    #[sea_orm(string_value = "triage")]
    #[serde(rename = "triage")]
    Triage,
    /// Being investigated.
    #[sea_orm(string_value = "investigating")]
    #[serde(rename = "investigating")]
    Investigating,
    /// The leak is stopped.
    #[sea_orm(string_value = "contained")]
    #[serde(rename = "contained")]
    Contained,
    /// Notices are being sent.
    #[sea_orm(string_value = "notifying")]
    #[serde(rename = "notifying")]
    Notifying,
    /// Done.
    #[sea_orm(string_value = "closed")]
    #[serde(rename = "closed")]
    Closed,
}

impl Severity {
    /// Parses the stored and serialized form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }

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
    /// Parses the stored and serialized form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "triage" => Some(Self::Triage),
            "investigating" => Some(Self::Investigating),
            "contained" => Some(Self::Contained),
            "notifying" => Some(Self::Notifying),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triage => "triage",
            Self::Investigating => "investigating",
            Self::Contained => "contained",
            Self::Notifying => "notifying",
            Self::Closed => "closed",
        }
    }
}
