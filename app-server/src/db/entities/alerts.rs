//! `alerts`: one alert episode of the detection engine per row, with the analyst's state.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The engine's id of the episode (unique per tenant).
    pub engine_alert_id: i64,
    pub rule: Rule,
    pub severity: Severity,
    pub state: State,
    /// Whether the engine still grows the episode with new activity.
    pub episode_open: bool,
    /// `domain::detect::PrincipalKey` as JSON.
    #[sea_orm(column_type = "Text")]
    pub principal_key: String,
    /// The principal's own name or id (database user, admin id, app id…), for filters.
    pub principal_name: String,
    /// `domain::detect::Identity` as JSON.
    #[sea_orm(column_type = "Text")]
    pub principal: String,
    pub records_estimate: i64,
    pub records_method: String,
    /// JSON array of table or resource names.
    #[sea_orm(column_type = "Text")]
    pub tables: String,
    /// JSON array of category names.
    #[sea_orm(column_type = "Text")]
    pub categories: String,
    pub started_at: i64,
    pub detected_at: i64,
    pub last_seen_at: i64,
    #[sea_orm(column_type = "Text")]
    pub explanation: String,
    /// JSON array of signal summaries, at most 64.
    #[sea_orm(column_type = "Text")]
    pub evidence: String,
    /// The engine's `Alert` as JSON (the numbers the explanation is derived from).
    #[sea_orm(column_type = "Text")]
    pub engine: String,
    pub incident_id: Option<Uuid>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Which detection rule raised an alert.
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
#[schema(as = AlertRule)]
pub enum Rule {
    /// Volume of personal data far above the principal's usual hour.
    #[sea_orm(string_value = "mass_extraction")]
    #[serde(rename = "mass_extraction")]
    MassExtraction,
    /// A principal never seen before (or dormant) reads personal data.
    #[sea_orm(string_value = "first_seen_principal")]
    #[serde(rename = "first_seen_principal")]
    FirstSeenPrincipal,
    /// A whole-database dump by an unexpected principal or at an unexpected time.
    #[sea_orm(string_value = "unexpected_dump")]
    #[serde(rename = "unexpected_dump")]
    UnexpectedDump,
    /// `SELECT … INTO OUTFILE|DUMPFILE`.
    #[sea_orm(string_value = "into_outfile")]
    #[serde(rename = "into_outfile")]
    IntoOutfile,
    /// Admin exports beyond the admin's usual volume.
    #[sea_orm(string_value = "export_beyond_baseline")]
    #[serde(rename = "export_beyond_baseline")]
    ExportBeyondBaseline,
    /// An integration's REST volume far above its usual hour.
    #[sea_orm(string_value = "integration_rest_volume")]
    #[serde(rename = "integration_rest_volume")]
    IntegrationRestVolume,
    /// A Shopify bulk operation over customers or orders off its schedule.
    #[sea_orm(string_value = "shopify_bulk_export")]
    #[serde(rename = "shopify_bulk_export")]
    ShopifyBulkExport,
    /// An app or integration newly granted customer or order scopes.
    #[sea_orm(string_value = "scope_grant")]
    #[serde(rename = "scope_grant")]
    ScopeGrant,
    /// A burst of failed admin logins followed by a success.
    #[sea_orm(string_value = "login_burst_then_success")]
    #[serde(rename = "login_burst_then_success")]
    LoginBurstThenSuccess,
    /// Database logging switched off.
    #[sea_orm(string_value = "logging_disabled")]
    #[serde(rename = "logging_disabled")]
    LoggingDisabled,
    /// Daily volume drifting above the baseline over several days.
    #[sea_orm(string_value = "low_and_slow")]
    #[serde(rename = "low_and_slow")]
    LowAndSlow,
}

impl Rule {
    /// Every value.
    pub const ALL: [Rule; 11] = [
        Self::MassExtraction,
        Self::FirstSeenPrincipal,
        Self::UnexpectedDump,
        Self::IntoOutfile,
        Self::ExportBeyondBaseline,
        Self::IntegrationRestVolume,
        Self::ShopifyBulkExport,
        Self::ScopeGrant,
        Self::LoginBurstThenSuccess,
        Self::LoggingDisabled,
        Self::LowAndSlow,
    ];

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MassExtraction => "mass_extraction",
            Self::FirstSeenPrincipal => "first_seen_principal",
            Self::UnexpectedDump => "unexpected_dump",
            Self::IntoOutfile => "into_outfile",
            Self::ExportBeyondBaseline => "export_beyond_baseline",
            Self::IntegrationRestVolume => "integration_rest_volume",
            Self::ShopifyBulkExport => "shopify_bulk_export",
            Self::ScopeGrant => "scope_grant",
            Self::LoginBurstThenSuccess => "login_burst_then_success",
            Self::LoggingDisabled => "logging_disabled",
            Self::LowAndSlow => "low_and_slow",
        }
    }

    /// Parses the stored and serialized form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// How urgent an alert is; only rises within an episode.
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
#[schema(as = AlertSeverity)]
pub enum Severity {
    /// Worth a look.
    #[sea_orm(string_value = "low")]
    #[serde(rename = "low")]
    Low,
    /// Review today.
    #[sea_orm(string_value = "medium")]
    #[serde(rename = "medium")]
    Medium,
    /// Review now.
    #[sea_orm(string_value = "high")]
    #[serde(rename = "high")]
    High,
}

impl Severity {
    /// Every value.
    pub const ALL: [Severity; 3] = [Self::Low, Self::Medium, Self::High];

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// Parses the stored and serialized form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// Where an alert is in the analyst's handling.
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
#[schema(as = AlertState)]
pub enum State {
    /// Not yet handled.
    #[sea_orm(string_value = "open")]
    #[serde(rename = "open")]
    Open,
    /// Seen, being looked at.
    #[sea_orm(string_value = "acknowledged")]
    #[serde(rename = "acknowledged")]
    Acknowledged,
    /// Marked benign; a suppression keeps similar findings quiet.
    #[sea_orm(string_value = "false_positive")]
    #[serde(rename = "false_positive")]
    FalsePositive,
    /// Turned into an incident.
    #[sea_orm(string_value = "escalated")]
    #[serde(rename = "escalated")]
    Escalated,
    /// Handled.
    #[sea_orm(string_value = "resolved")]
    #[serde(rename = "resolved")]
    Resolved,
}

impl State {
    /// Every value.
    pub const ALL: [State; 5] = [
        Self::Open,
        Self::Acknowledged,
        Self::FalsePositive,
        Self::Escalated,
        Self::Resolved,
    ];

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::FalsePositive => "false_positive",
            Self::Escalated => "escalated",
            Self::Resolved => "resolved",
        }
    }

    /// Parses the stored and serialized form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}
