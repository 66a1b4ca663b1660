//! `alert_suppressions`: false-positive marks (reason, scope, expiry); revoked, never deleted.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_suppressions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The alert that was marked.
    pub alert_id: Uuid,
    /// The suppression's id in the engine state.
    pub engine_suppression_id: i64,
    pub scope: Scope,
    /// The rule covered, when the scope names it.
    pub rule: Option<String>,
    /// The principal covered (`PrincipalKey` JSON), when the scope names it.
    #[sea_orm(column_type = "Text", nullable)]
    pub principal_key: Option<String>,
    /// Unix ms until which it applies.
    pub until: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// Whether the alert's volume was also learned as normal.
    pub learn_normal: bool,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a false-positive mark keeps quiet.
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
#[schema(as = AlertSuppressionScope)]
pub enum Scope {
    /// Every rule for this principal.
    #[sea_orm(string_value = "principal")]
    #[serde(rename = "principal")]
    Principal,
    /// This rule for every principal.
    #[sea_orm(string_value = "rule")]
    #[serde(rename = "rule")]
    Rule,
    /// This rule for this principal.
    #[sea_orm(string_value = "principal_and_rule")]
    #[serde(rename = "principal_and_rule")]
    PrincipalAndRule,
}

impl Scope {
    /// Every value.
    pub const ALL: [Scope; 3] = [Self::Principal, Self::Rule, Self::PrincipalAndRule];

    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Principal => "principal",
            Self::Rule => "rule",
            Self::PrincipalAndRule => "principal_and_rule",
        }
    }

    /// Parses the stored and serialized form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}
