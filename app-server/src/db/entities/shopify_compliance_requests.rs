//! `shopify_compliance_requests`: privacy compliance webhooks received, their 30-day deadline,
//! and the data-request report (the only column holding the customer's data).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shopify_compliance_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub topic: Topic,
    pub shopify_request_id: Option<String>,
    pub customer_ref: Option<String>,
    pub received_at: i64,
    pub due_at: i64,
    pub status: Status,
    pub completed_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub report: Option<String>,
    pub report_purged_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The Shopify compliance webhook a request came from.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(64))")]
#[schema(as = ComplianceRequestTopic)]
pub enum Topic {
    /// A customer asked for their data.
    #[sea_orm(string_value = "customers/data_request")]
    #[serde(rename = "customers/data_request")]
    CustomersDataRequest,
    /// A customer's data must be erased.
    #[sea_orm(string_value = "customers/redact")]
    #[serde(rename = "customers/redact")]
    CustomersRedact,
    /// The shop's data must be erased.
    #[sea_orm(string_value = "shop/redact")]
    #[serde(rename = "shop/redact")]
    ShopRedact,
}

/// Where a compliance request is.
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
#[schema(as = ComplianceRequestStatus)]
pub enum Status {
    /// Needs a person to act.
    #[sea_orm(string_value = "open")]
    #[serde(rename = "open")]
    Open,
    /// Completed.
    #[sea_orm(string_value = "done")]
    #[serde(rename = "done")]
    Done,
}

impl Topic {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomersDataRequest => "customers/data_request",
            Self::CustomersRedact => "customers/redact",
            Self::ShopRedact => "shop/redact",
        }
    }
}

impl Status {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Done => "done",
        }
    }
}
