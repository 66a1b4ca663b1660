//! `outbound_destinations`: where a tenant's events go. The credential is sealed in `secrets`
//! as `destination.<id>`, never here.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbound_destinations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: Kind,
    pub name: String,
    /// The kind's settings as JSON (no credential).
    #[sea_orm(column_type = "Text")]
    pub config: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_success_at: Option<i64>,
    pub last_error_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a destination is.
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
#[serde(rename_all = "snake_case")]
#[schema(as = DestinationKind)]
pub enum Kind {
    /// PagerDuty Events API v2.
    #[sea_orm(string_value = "pagerduty")]
    Pagerduty,
    /// Syslog (RFC 5424) over TLS (RFC 5425).
    #[sea_orm(string_value = "syslog_tls")]
    SyslogTls,
    /// Splunk HTTP Event Collector.
    #[sea_orm(string_value = "splunk_hec")]
    SplunkHec,
    /// Jira Cloud REST v3.
    #[sea_orm(string_value = "jira")]
    Jira,
    /// ServiceNow Table API.
    #[sea_orm(string_value = "servicenow")]
    Servicenow,
    /// A signed JSON webhook.
    #[sea_orm(string_value = "webhook")]
    Webhook,
}

impl Kind {
    /// The stored form, also the metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pagerduty => "pagerduty",
            Self::SyslogTls => "syslog_tls",
            Self::SplunkHec => "splunk_hec",
            Self::Jira => "jira",
            Self::Servicenow => "servicenow",
            Self::Webhook => "webhook",
        }
    }
}
