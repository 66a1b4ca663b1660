//! `alert_events`: the append-only history of an alert.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub alert_id: Uuid,
    pub kind: Kind,
    /// `<actor type>:<actor id>`.
    pub actor: String,
    pub at: i64,
    /// JSON object.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What an alert event records.
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
#[schema(as = AlertEventKind)]
pub enum Kind {
    /// Detection opened the alert.
    #[sea_orm(string_value = "opened")]
    #[serde(rename = "opened")]
    Opened,
    /// The activity stopped; the episode no longer grows.
    #[sea_orm(string_value = "episode_closed")]
    #[serde(rename = "episode_closed")]
    EpisodeClosed,
    /// An analyst acknowledged it.
    #[sea_orm(string_value = "acknowledged")]
    #[serde(rename = "acknowledged")]
    Acknowledged,
    /// An analyst marked it a false positive.
    #[sea_orm(string_value = "false_positive")]
    #[serde(rename = "false_positive")]
    FalsePositive,
    /// An analyst escalated it to an incident.
    #[sea_orm(string_value = "escalated")]
    #[serde(rename = "escalated")]
    Escalated,
    /// An analyst resolved it.
    #[sea_orm(string_value = "resolved")]
    #[serde(rename = "resolved")]
    Resolved,
    /// An analyst reopened it.
    #[sea_orm(string_value = "reopened")]
    #[serde(rename = "reopened")]
    Reopened,
}

impl Kind {
    /// Every value.
    pub const ALL: [Kind; 7] = [
        Self::Opened,
        Self::EpisodeClosed,
        Self::Acknowledged,
        Self::FalsePositive,
        Self::Escalated,
        Self::Resolved,
        Self::Reopened,
    ];

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::EpisodeClosed => "episode_closed",
            Self::Acknowledged => "acknowledged",
            Self::FalsePositive => "false_positive",
            Self::Escalated => "escalated",
            Self::Resolved => "resolved",
            Self::Reopened => "reopened",
        }
    }

    /// Parses the stored and serialized form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}
