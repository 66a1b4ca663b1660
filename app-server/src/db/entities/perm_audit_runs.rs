//! `perm_audit_runs`: One permission audit run of a tenant.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "perm_audit_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub platform: String,
    pub trigger: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: Status,
    pub complete: bool,
    pub principals: i32,
    pub changes: i32,
    pub findings_active: i32,
    pub findings_new: i32,
    pub findings_resolved: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub notice: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How a permission audit run went.
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
#[schema(as = PermissionAuditRunStatus)]
pub enum Status {
    /// Started, not finished.
    #[sea_orm(string_value = "running")]
    #[serde(rename = "running")]
    Running,
    /// Finished.
    #[sea_orm(string_value = "succeeded")]
    #[serde(rename = "succeeded")]
    Succeeded,
    /// Failed; see the error.
    #[sea_orm(string_value = "failed")]
    #[serde(rename = "failed")]
    Failed,
}

impl Status {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}
