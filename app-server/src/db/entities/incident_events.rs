//! `incident_events`: The append-only timeline of an incident.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub incident_id: Uuid,
    pub kind: Kind,
    /// `<actor type>:<actor id>`, as in the audit chain.
    pub actor: String,
    pub at: i64,
    /// JSON object.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a timeline entry records.
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
#[schema(as = IncidentEventKind)]
pub enum Kind {
    /// The incident was opened.
    #[sea_orm(string_value = "created")]
    #[serde(rename = "created")]
    Created,
    /// Fields changed (title, severity, owner, facts).
    #[sea_orm(string_value = "updated")]
    #[serde(rename = "updated")]
    Updated,
    /// The status moved forward.
    #[sea_orm(string_value = "status_changed")]
    #[serde(rename = "status_changed")]
    StatusChanged,
    /// A closed incident was opened again.
    #[sea_orm(string_value = "reopened")]
    #[serde(rename = "reopened")]
    Reopened,
    /// The business became aware of the breach (sets `aware_at`).
    #[sea_orm(string_value = "aware")]
    #[serde(rename = "aware")]
    Aware,
    /// The breach was discovered (sets `discovered_at`).
    #[sea_orm(string_value = "discovered")]
    #[serde(rename = "discovered")]
    Discovered,
    /// It was determined that a breach occurred (sets `determined_at`).
    #[sea_orm(string_value = "determination")]
    #[serde(rename = "determination")]
    Determination,
    /// The breach was contained (sets `contained_at`).
    #[sea_orm(string_value = "containment")]
    #[serde(rename = "containment")]
    Containment,
    /// When the breach ran (sets `window_start`, `window_end`).
    #[sea_orm(string_value = "breach_window")]
    #[serde(rename = "breach_window")]
    BreachWindow,
    /// Law enforcement asked notice to be delayed (sets `law_enforcement_delay_days`).
    #[sea_orm(string_value = "law_enforcement_delay")]
    #[serde(rename = "law_enforcement_delay")]
    LawEnforcementDelay,
    /// A note.
    #[sea_orm(string_value = "note")]
    #[serde(rename = "note")]
    Note,
    /// A notice was sent to one audience of one jurisdiction (sets it in `notices_sent`).
    #[sea_orm(string_value = "notice_sent")]
    #[serde(rename = "notice_sent")]
    NoticeSent,
    /// The reminder job raised a deadline reminder (actor `system:reminders`).
    #[sea_orm(string_value = "reminder")]
    #[serde(rename = "reminder")]
    Reminder,
}

impl Kind {
    /// The kinds a caller may add with `POST /api/v1/incidents/{id}/events`.
    pub const ADDABLE: [Kind; 8] = [
        Kind::Aware,
        Kind::Discovered,
        Kind::Determination,
        Kind::Containment,
        Kind::BreachWindow,
        Kind::LawEnforcementDelay,
        Kind::Note,
        Kind::NoticeSent,
    ];

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::StatusChanged => "status_changed",
            Self::Reopened => "reopened",
            Self::Aware => "aware",
            Self::Discovered => "discovered",
            Self::Determination => "determination",
            Self::Containment => "containment",
            Self::BreachWindow => "breach_window",
            Self::LawEnforcementDelay => "law_enforcement_delay",
            Self::Note => "note",
            Self::NoticeSent => "notice_sent",
            Self::Reminder => "reminder",
        }
    }
}
