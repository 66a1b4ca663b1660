//! `replay_guards`: Single-use values (HMAC nonces, SSO token ids) until they expire.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "replay_guards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: Scope,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a replay guard protects.
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
#[schema(as = ReplayGuardScope)]
pub enum Scope {
    /// The nonce of a signed module request.
    #[sea_orm(string_value = "hmac_nonce")]
    #[serde(rename = "hmac_nonce")]
    HmacNonce,
    /// The id of a single sign-on assertion.
    #[sea_orm(string_value = "sso_jti")]
    #[serde(rename = "sso_jti")]
    SsoJti,
}

impl Scope {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacNonce => "hmac_nonce",
            Self::SsoJti => "sso_jti",
        }
    }
}
