//! `job_runs`: One scheduled slot of a job, claimed by one server.

use sea_orm::entity::prelude::*;

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
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
