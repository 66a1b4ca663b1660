//! `job_runs`: One scheduled slot of a job, claimed by one server.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_name: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i64,
    pub owner: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: Status,
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How a claimed job slot went.
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
#[schema(as = JobRunStatus)]
pub enum Status {
    /// Claimed, not finished.
    #[sea_orm(string_value = "running")]
    #[serde(rename = "running")]
    Running,
    /// Finished without failures.
    #[sea_orm(string_value = "ok")]
    #[serde(rename = "ok")]
    Ok,
    /// A permission audit run succeeded.
    #[sea_orm(string_value = "succeeded")]
    #[serde(rename = "succeeded")]
    Succeeded,
    /// Failed; see the detail and the server log.
    #[sea_orm(string_value = "failed")]
    #[serde(rename = "failed")]
    Failed,
}

impl Status {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Ok => "ok",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}
