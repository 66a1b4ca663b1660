//! `incident_reminders`: The deadline reminders raised for an incident's notice obligations,
//! one row per obligation, due date and kind (unique), so each is raised exactly once.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_reminders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub incident_id: Uuid,
    /// `US-CA`, `EU-GDPR`, …
    pub jurisdiction: String,
    pub audience: Audience,
    /// The regulator or agency; empty for notices to individuals.
    pub recipient: String,
    /// `YYYY-MM-DD`: the due date the reminder is about.
    pub due: String,
    pub kind: Kind,
    pub raised_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Which reminder of a due date.
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
#[schema(as = IncidentReminderKind)]
pub enum Kind {
    /// Seven days before the due date.
    #[sea_orm(string_value = "due_in_7_days")]
    #[serde(rename = "due_in_7_days")]
    DueIn7Days,
    /// Three days before.
    #[sea_orm(string_value = "due_in_3_days")]
    #[serde(rename = "due_in_3_days")]
    DueIn3Days,
    /// One day before.
    #[sea_orm(string_value = "due_in_1_day")]
    #[serde(rename = "due_in_1_day")]
    DueIn1Day,
    /// On the due date.
    #[sea_orm(string_value = "due_today")]
    #[serde(rename = "due_today")]
    DueToday,
    /// The due date passed without the notice recorded as sent.
    #[sea_orm(string_value = "overdue")]
    #[serde(rename = "overdue")]
    Overdue,
}

impl Kind {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueIn7Days => "due_in_7_days",
            Self::DueIn3Days => "due_in_3_days",
            Self::DueIn1Day => "due_in_1_day",
            Self::DueToday => "due_today",
            Self::Overdue => "overdue",
        }
    }
}

/// Who a notice goes to (as `domain::law::Audience`).
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[schema(as = IncidentNoticeAudience)]
pub enum Audience {
    /// The people affected.
    #[sea_orm(string_value = "individuals")]
    #[serde(rename = "individuals")]
    Individuals,
    /// An attorney general, supervisory authority or other regulator.
    #[sea_orm(string_value = "regulator")]
    #[serde(rename = "regulator")]
    Regulator,
    /// Nationwide consumer reporting agencies.
    #[sea_orm(string_value = "consumer_reporting_agencies")]
    #[serde(rename = "consumer_reporting_agencies")]
    ConsumerReportingAgencies,
    /// Prominent media.
    #[sea_orm(string_value = "media")]
    #[serde(rename = "media")]
    Media,
}

impl Audience {
    /// Every audience.
    pub const ALL: [Audience; 4] = [
        Self::Individuals,
        Self::Regulator,
        Self::ConsumerReportingAgencies,
        Self::Media,
    ];

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individuals => "individuals",
            Self::Regulator => "regulator",
            Self::ConsumerReportingAgencies => "consumer_reporting_agencies",
            Self::Media => "media",
        }
    }

    /// The audience of the law module's obligation.
    pub fn of_law(audience: leakguard_domain::law::Audience) -> Self {
        use leakguard_domain::law::Audience as Law;
        match audience {
            Law::Individuals => Self::Individuals,
            Law::Regulator => Self::Regulator,
            Law::ConsumerReportingAgencies => Self::ConsumerReportingAgencies,
            Law::Media => Self::Media,
        }
    }
}
