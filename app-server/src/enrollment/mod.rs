//! One-time enrollment tokens for the Magento module and the host agent.
//!
//! A tenant admin (API) or the operator (CLI) issues a token; the module or the agent trades it
//! once for its own credential. Only the token's SHA-256 is stored; a token is single-use
//! (an `UPDATE … WHERE used_at IS NULL` decides a race) and expires. This module never logs or
//! returns a stored token; the clock is a parameter so tests never wait for it.

use base64::Engine;
use leakguard_domain::audit::Subject;
use leakguard_domain::ids::TenantId;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, sea_query::Expr,
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit_chain::{self, AuditError};
use crate::db::begin_write;
use crate::db::entities::{enrollment_tokens, tenants};
use crate::tenancy::TenantCtx;

/// What a token enrolls, stored in `enrollment_tokens.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(sea_orm::sea_query::StringLen::N(32))"
)]
pub enum TokenKind {
    /// The Magento module (`POST /api/v1/magento/enroll`).
    #[sea_orm(string_value = "magento_module")]
    MagentoModule,
    /// A host agent (`POST /api/v1/agent/enroll`).
    #[sea_orm(string_value = "agent")]
    Agent,
}

impl TokenKind {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MagentoModule => "magento_module",
            Self::Agent => "agent",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::MagentoModule => "lgme_",
            Self::Agent => "lgae_",
        }
    }
}

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum EnrollmentError {
    /// Unknown, used or expired token (indistinguishable on purpose).
    #[error("the enrollment token is invalid, used or expired")]
    InvalidToken,
    /// The tenant cannot take this kind of token.
    #[error("{0}")]
    Invalid(String),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for EnrollmentError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for EnrollmentError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// A freshly issued token (shown once).
#[derive(Debug)]
pub struct IssuedToken {
    /// The token text.
    pub token: SecretString,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
}

/// SHA-256 hex of a presented token, the stored form.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Random URL-safe text of 32 bytes with a prefix.
pub fn random_secret(prefix: &str) -> String {
    let raw: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

/// Issues a token for the context's tenant, valid for `ttl_ms` from `now_ms`.
pub async fn issue(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    kind: TokenKind,
    ttl_ms: i64,
    now_ms: i64,
) -> Result<IssuedToken, EnrollmentError> {
    let txn = begin_write(db).await?;
    let tenant = tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(&txn)
        .await?
        .ok_or_else(|| EnrollmentError::Invalid("no such tenant".into()))?;
    if kind == TokenKind::MagentoModule && tenant.platform != tenants::Platform::Magento {
        return Err(EnrollmentError::Invalid(
            "module enrollment tokens are for Magento tenants only".into(),
        ));
    }
    if tenant.status != tenants::Status::Active {
        return Err(EnrollmentError::Invalid("the tenant is not active".into()));
    }
    let token = random_secret(kind.prefix());
    let id = Uuid::now_v7();
    let expires_at = now_ms.saturating_add(ttl_ms);
    enrollment_tokens::Entity::insert(enrollment_tokens::ActiveModel {
        id: Set(id),
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        kind: Set(kind),
        token_hash: Set(hash_token(&token)),
        created_by: Set(format!("{}:{}", ctx.actor().kind, ctx.actor().id)),
        created_at: Set(now_ms),
        expires_at: Set(expires_at),
        used_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "enrollment_token.issued",
        Subject::new("enrollment_token", id.to_string()),
        serde_json::json!({"kind": kind.as_str(), "expires_at": expires_at}),
    )
    .await?;
    txn.commit().await?;
    Ok(IssuedToken {
        token: SecretString::from(token),
        expires_at,
    })
}

/// Finds a usable token of `kind` (unused, unexpired) without consuming it.
pub async fn find_usable<C: ConnectionTrait>(
    db: &C,
    kind: TokenKind,
    presented: &str,
    now_ms: i64,
) -> Result<enrollment_tokens::Model, EnrollmentError> {
    if !presented.starts_with(kind.prefix()) || presented.len() > 128 {
        return Err(EnrollmentError::InvalidToken);
    }
    let row = enrollment_tokens::Entity::find()
        .filter(enrollment_tokens::Column::TokenHash.eq(hash_token(presented)))
        .filter(enrollment_tokens::Column::Kind.eq(kind))
        .one(db)
        .await?
        .ok_or(EnrollmentError::InvalidToken)?;
    if row.used_at.is_some() || row.expires_at <= now_ms {
        return Err(EnrollmentError::InvalidToken);
    }
    Ok(row)
}

/// Marks a token used inside the caller's transaction; `InvalidToken` when another request
/// used it first.
pub async fn consume<C: ConnectionTrait>(
    txn: &C,
    token: &enrollment_tokens::Model,
    now_ms: i64,
) -> Result<TenantId, EnrollmentError> {
    let updated = enrollment_tokens::Entity::update_many()
        .col_expr(enrollment_tokens::Column::UsedAt, Expr::value(now_ms))
        .filter(enrollment_tokens::Column::Id.eq(token.id))
        .filter(enrollment_tokens::Column::UsedAt.is_null())
        .filter(enrollment_tokens::Column::ExpiresAt.gt(now_ms))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(EnrollmentError::InvalidToken);
    }
    Ok(TenantId(token.tenant_id))
}

/// Deletes tokens that expired more than `keep_ms` ago. Returns how many.
pub async fn prune(db: &DatabaseConnection, now_ms: i64, keep_ms: i64) -> Result<u64, DbErr> {
    let deleted = enrollment_tokens::Entity::delete_many()
        .filter(enrollment_tokens::Column::ExpiresAt.lt(now_ms.saturating_sub(keep_ms)))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
