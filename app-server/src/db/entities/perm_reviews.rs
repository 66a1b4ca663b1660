//! `perm_reviews`: Every review decision on a permission finding (append-only history).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "perm_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub finding_id: Uuid,
    pub finding_key: String,
    pub decision: Decision,
    #[sea_orm(column_type = "Text", nullable)]
    pub justification: Option<String>,
    pub expires_at: Option<i64>,
    pub grants_hash: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub grants: String,
    pub user_id: Option<Uuid>,
    pub actor: String,
    pub created_at: i64,
    pub ticket_status: Option<TicketStatus>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A review decision on a permission finding.
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
#[schema(as = PermissionReviewDecision)]
pub enum Decision {
    /// Seen; nothing to do.
    #[sea_orm(string_value = "acknowledge")]
    #[serde(rename = "acknowledge")]
    Acknowledge,
    /// Accepted until an expiry, with a justification.
    #[sea_orm(string_value = "accept_risk")]
    #[serde(rename = "accept_risk")]
    AcceptRisk,
    /// The access is to be revoked.
    #[sea_orm(string_value = "mark_for_revocation")]
    #[serde(rename = "mark_for_revocation")]
    MarkForRevocation,
}

/// Where a revocation is in the ticketing step.
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
#[schema(as = PermissionReviewTicketStatus)]
pub enum TicketStatus {
    /// Not picked up yet.
    #[sea_orm(string_value = "pending")]
    #[serde(rename = "pending")]
    Pending,
}

impl Decision {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::AcceptRisk => "accept_risk",
            Self::MarkForRevocation => "mark_for_revocation",
        }
    }
}

impl TicketStatus {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
        }
    }
}
