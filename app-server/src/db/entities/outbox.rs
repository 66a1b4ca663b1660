//! `outbox`: one event waiting for (or done with) one destination.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub destination_id: Uuid,
    pub event_id: Uuid,
    pub event_type: EventType,
    pub ordering_key: String,
    pub idempotency_key: String,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub state: State,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where an outbox entry is in its delivery.
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
#[schema(as = OutboxState)]
pub enum State {
    /// Waiting for its next attempt (`next_attempt_at`).
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Claimed by the worker until `lease_until`; after that it is due again.
    #[sea_orm(string_value = "delivering")]
    Delivering,
    /// The destination took it.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Given up: the last attempt failed, or the destination refused it for good.
    #[sea_orm(string_value = "dead")]
    Dead,
}

/// What happened, as sent to destinations (`type` of the event).
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(48))")]
#[schema(as = OutboxEventType)]
pub enum EventType {
    /// A test event sent by `POST /api/v1/destinations/{id}/test`.
    #[sea_orm(string_value = "test")]
    #[serde(rename = "test")]
    Test,
    /// A permission-audit finding appeared.
    #[sea_orm(string_value = "permission_finding.opened")]
    #[serde(rename = "permission_finding.opened")]
    PermissionFindingOpened,
    /// A resolved permission-audit finding came back.
    #[sea_orm(string_value = "permission_finding.reopened")]
    #[serde(rename = "permission_finding.reopened")]
    PermissionFindingReopened,
    /// A permission-audit finding's grants or severity changed.
    #[sea_orm(string_value = "permission_finding.changed")]
    #[serde(rename = "permission_finding.changed")]
    PermissionFindingChanged,
    /// A permission-audit finding is no longer produced.
    #[sea_orm(string_value = "permission_finding.resolved")]
    #[serde(rename = "permission_finding.resolved")]
    PermissionFindingResolved,
    /// The Magento module's retention check reported data that must not be kept.
    #[sea_orm(string_value = "retention_finding.opened")]
    #[serde(rename = "retention_finding.opened")]
    RetentionFindingOpened,
}

impl EventType {
    /// The stored and sent form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::PermissionFindingOpened => "permission_finding.opened",
            Self::PermissionFindingReopened => "permission_finding.reopened",
            Self::PermissionFindingChanged => "permission_finding.changed",
            Self::PermissionFindingResolved => "permission_finding.resolved",
            Self::RetentionFindingOpened => "retention_finding.opened",
        }
    }

    /// True for events that close what they are about (a pager resolves its alert).
    pub fn closes(self) -> bool {
        matches!(self, Self::PermissionFindingResolved)
    }
}

impl State {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Delivering => "delivering",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
}
