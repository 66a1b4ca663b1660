//! The tenant admin console: server-rendered pages of permission audits (`pages`: minijinja
//! templates, autoescaped, small vanilla scripts, no build step) and console sessions.
//!
//! Sessions are created by a sign-in (the Magento admin's SSO token, or an API key at
//! `/console/login`), carried by the `lg_session` cookie, and an alternative credential of
//! `TenantCtx`. Only the SHA-256 of a session id is stored. The CSRF token is derived from the
//! session id (`hex(sha256("leakguard-csrf/v1\n" + session id))`): it is shown to the page and
//! sent back in `X-CSRF-Token` (or the `csrf_token` form field) on unsafe requests; a forged
//! cross-site request cannot know it. Comparisons are constant-time. The clock is a parameter.

pub mod chart;
pub mod pages;

use leakguard_domain::audit::Subject;
use leakguard_domain::ids::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::audit_chain::{self, AuditError};
use crate::db::begin_write;
use crate::db::entities::{console_sessions, tenants, users};
use crate::enrollment::random_secret;
use crate::tenancy::{self, Principal, Refusal, TenantCtx};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "lg_session";
/// CSRF cookie name (readable by scripts, for the double-submit header).
pub const CSRF_COOKIE: &str = "lg_csrf";
/// CSRF header name.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No valid session.
    #[error("the console session is invalid or expired")]
    Unauthorized,
    /// CSRF token absent or wrong.
    #[error("a valid CSRF token is required")]
    Csrf,
    /// The session is valid but `tenancy::admit` refuses it (deactivated user).
    #[error(transparent)]
    Refused(crate::tenancy::Refusal),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for ConsoleError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for ConsoleError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

fn hash(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

/// The CSRF token bound to a session id.
pub fn csrf_token(session_id: &str) -> String {
    hex::encode(Sha256::digest(
        format!("leakguard-csrf/v1\n{session_id}").as_bytes(),
    ))
}

fn csrf_ok(session_id: &str, presented: Option<&str>) -> bool {
    presented
        .is_some_and(|p| bool::from(csrf_token(session_id).as_bytes().ct_eq(p.trim().as_bytes())))
}

/// A new session.
pub struct NewSession {
    /// The cookie value (shown once).
    pub session_id: SecretString,
    /// The CSRF token of the session.
    pub csrf_token: String,
    /// Seconds the session lives.
    pub max_age_secs: i64,
}

/// Creates a session for a user inside the caller's transaction.
pub async fn create<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    user: UserId,
    ttl_secs: i64,
    now_ms: i64,
) -> Result<NewSession, ConsoleError> {
    let session_id = random_secret("lgcs_");
    let id = Uuid::now_v7();
    console_sessions::Entity::insert(console_sessions::ActiveModel {
        id: Set(id),
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        user_id: Set(user.as_uuid()),
        session_hash: Set(hash(&session_id)),
        created_at: Set(now_ms),
        expires_at: Set(now_ms.saturating_add(ttl_secs.saturating_mul(1000))),
        revoked_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "console.session.created",
        Subject::new("console_session", id.to_string()),
        serde_json::json!({"user": user.to_string(), "ttl_secs": ttl_secs}),
    )
    .await?;
    Ok(NewSession {
        csrf_token: csrf_token(&session_id),
        session_id: SecretString::from(session_id),
        max_age_secs: ttl_secs,
    })
}

async fn live_session(
    db: &DatabaseConnection,
    session_id: &str,
    now_ms: i64,
) -> Result<Option<console_sessions::Model>, DbErr> {
    if !session_id.starts_with("lgcs_") || session_id.len() > 128 {
        return Ok(None);
    }
    console_sessions::Entity::find()
        .filter(console_sessions::Column::SessionHash.eq(hash(session_id)))
        .filter(console_sessions::Column::RevokedAt.is_null())
        .filter(console_sessions::Column::ExpiresAt.gt(now_ms))
        .one(db)
        .await
}

/// Opens a console session for the user of an API key (the console's sign-in form). `None` for
/// an unknown, expired or revoked key, or one the tenant or user no longer admits.
pub async fn sign_in_with_api_key(
    db: &DatabaseConnection,
    api_key: &str,
    ttl_secs: i64,
    now_ms: i64,
) -> Result<Option<NewSession>, ConsoleError> {
    use crate::tenants::KeyAuthError;
    let ctx = match crate::tenants::authenticate_api_key(db, api_key, now_ms).await {
        Ok(ctx) => ctx,
        Err(KeyAuthError::Unexpected(e)) => return Err(ConsoleError::Unexpected(e)),
        Err(_) => return Ok(None),
    };
    let Some(user) = ctx.user_id() else {
        return Ok(None);
    };
    let txn = begin_write(db).await?;
    let session = create(&txn, &ctx, user, ttl_secs, now_ms).await?;
    txn.commit().await?;
    Ok(Some(session))
}

/// Resolves a session cookie to its tenant context. `csrf` is `Some` for unsafe methods: the
/// presented token must then match.
pub async fn authenticate(
    db: &DatabaseConnection,
    session_id: &str,
    csrf: Option<Option<&str>>,
    now_ms: i64,
) -> Result<TenantCtx, ConsoleError> {
    let session = live_session(db, session_id, now_ms)
        .await?
        .ok_or(ConsoleError::Unauthorized)?;
    let tenant = tenants::Entity::find_by_id(session.tenant_id)
        .one(db)
        .await?
        .ok_or(ConsoleError::Unauthorized)?;
    let user = users::Entity::find_by_id(session.user_id)
        .filter(users::Column::TenantId.eq(session.tenant_id))
        .one(db)
        .await?
        .ok_or(ConsoleError::Unauthorized)?;
    let ctx = tenancy::admit(Principal::ConsoleSession(&user), &tenant).map_err(|r| match r {
        Refusal::UserDeactivated => ConsoleError::Refused(r),
        _ => ConsoleError::Unauthorized,
    })?;
    if let Some(presented) = csrf
        && !csrf_ok(session_id, presented)
    {
        return Err(ConsoleError::Csrf);
    }
    Ok(ctx)
}

/// Ends a session (the form's CSRF token must match). Idempotent for an ended session.
pub async fn logout(
    db: &DatabaseConnection,
    session_id: &str,
    csrf: Option<&str>,
    now_ms: i64,
) -> Result<(), ConsoleError> {
    let ctx = authenticate(db, session_id, Some(csrf), now_ms).await?;
    let txn = begin_write(db).await?;
    let ended = console_sessions::Entity::update_many()
        .col_expr(console_sessions::Column::RevokedAt, Expr::value(now_ms))
        .filter(console_sessions::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(console_sessions::Column::SessionHash.eq(hash(session_id)))
        .filter(console_sessions::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if ended.rows_affected == 1 {
        audit_chain::record(
            &txn,
            &ctx,
            "console.session.ended",
            Subject::new("console_session", "logout"),
            serde_json::json!({}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes sessions that expired or ended. Returns how many.
pub async fn prune(db: &DatabaseConnection, now_ms: i64) -> Result<u64, DbErr> {
    Ok(console_sessions::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(console_sessions::Column::ExpiresAt.lt(now_ms))
                .add(console_sessions::Column::RevokedAt.is_not_null()),
        )
        .exec(db)
        .await?
        .rows_affected)
}

/// What the console page shows.
pub struct PageView {
    /// Shop domain or store URL.
    pub tenant_label: String,
    /// Tenant id.
    pub tenant_id: String,
    /// The user's name.
    pub user_name: String,
    /// The user's role.
    pub role: String,
}

/// The data of the console page for a context.
pub async fn page(db: &DatabaseConnection, ctx: &TenantCtx) -> Result<PageView, ConsoleError> {
    let tenant = tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(db)
        .await?
        .ok_or(ConsoleError::Unauthorized)?;
    let user_name = match ctx.user_id() {
        Some(user) => crate::tenancy::scoped::<users::Entity>(ctx)
            .filter(users::Column::Id.eq(user.as_uuid()))
            .one(db)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(PageView {
        tenant_label: tenant.base_url.or(tenant.shop_domain).unwrap_or_default(),
        tenant_id: tenant.id.to_string(),
        user_name,
        role: ctx.role().as_str().to_owned(),
    })
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_bound_to_their_session_and_compared_whole() {
        let t = csrf_token("lgcs_a");
        assert!(csrf_ok("lgcs_a", Some(&t)));
        assert!(!csrf_ok("lgcs_b", Some(&t)));
        assert!(!csrf_ok("lgcs_a", Some(&t[..10])));
        assert!(!csrf_ok("lgcs_a", None));
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
