//! Console sessions opened by `POST /console/login` with an API key.
//!
//! The session cookie (`lg_session`, HttpOnly, SameSite=Strict) is the session's claims sealed
//! with the master key (AES-256-GCM, bound to its purpose), so nothing is stored and a forged or
//! altered cookie does not open. Each use re-reads the user, so a removed user or a changed
//! role takes effect at once. The CSRF token of a session is
//! `hex(sha256("leakguard-csrf/v1\n" + cookie value))`: pages put it in their forms, scripts
//! send it in `X-CSRF-Token`; a cross-site request cannot know it. The clock is a parameter.

use base64::Engine;
use leakguard_domain::ids::{TenantId, UserId};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::crypto::{Keyring, Sealed};
use crate::db::entities::{tenants, users};
use crate::tenancy::{Role, TenantCtx};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "lg_session";
/// CSRF header name.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// CSRF form field name.
pub const CSRF_FIELD: &str = "csrf_token";
/// How long a console session lasts.
pub const SESSION_TTL_MS: i64 = 60 * 60 * 1000;

const AAD: &[u8] = b"leakguard-console-session/v1";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Serialize, Deserialize)]
struct Claims {
    tenant: Uuid,
    user: Uuid,
    exp: i64,
}

/// Opens a session for an authenticated user context; returns the cookie value.
pub fn issue(keyring: &Keyring, ctx: &TenantCtx, now_ms: i64) -> Option<String> {
    let claims = Claims {
        tenant: ctx.tenant_id.as_uuid(),
        user: ctx.user_id?.as_uuid(),
        exp: now_ms + SESSION_TTL_MS,
    };
    let plain = serde_json::to_vec(&claims).ok()?;
    let sealed = keyring.seal(&plain, AAD).ok()?;
    Some(format!(
        "{}.{}.{}",
        B64.encode(sealed.key_id.as_bytes()),
        B64.encode(&sealed.nonce),
        B64.encode(&sealed.ciphertext)
    ))
}

/// The tenant context of a session cookie, or `None` when it is forged, expired, or its user
/// or tenant is gone.
pub async fn open(
    db: &DatabaseConnection,
    keyring: &Keyring,
    cookie: &str,
    now_ms: i64,
) -> Result<Option<TenantCtx>, DbErr> {
    let mut parts = cookie.split('.');
    let (Some(k), Some(n), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let decoded = (B64.decode(k), B64.decode(n), B64.decode(c));
    let (Ok(k), Ok(nonce), Ok(ciphertext)) = decoded else {
        return Ok(None);
    };
    let Ok(key_id) = String::from_utf8(k) else {
        return Ok(None);
    };
    let Ok(plain) = keyring.open(
        &Sealed {
            key_id,
            nonce,
            ciphertext,
        },
        AAD,
    ) else {
        return Ok(None);
    };
    let Ok(claims) = serde_json::from_slice::<Claims>(&plain) else {
        return Ok(None);
    };
    if claims.exp <= now_ms {
        return Ok(None);
    }
    let tenant = tenants::Entity::find_by_id(claims.tenant).one(db).await?;
    if tenant.as_ref().is_none_or(|t| t.status == "purged") {
        return Ok(None);
    }
    let Some(user) = users::Entity::find_by_id(claims.user)
        .filter(users::Column::TenantId.eq(claims.tenant))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&user.role) else {
        return Ok(None);
    };
    Ok(Some(TenantCtx::user(
        TenantId(claims.tenant),
        UserId(user.id),
        role,
        "console_session",
    )))
}

/// The CSRF token of a session.
pub fn csrf_token(cookie: &str) -> String {
    hex::encode(Sha256::digest(
        format!("leakguard-csrf/v1\n{cookie}").as_bytes(),
    ))
}

/// Whether `presented` is the session's CSRF token (constant time).
pub fn csrf_ok(cookie: &str, presented: &str) -> bool {
    let expected = csrf_token(cookie);
    expected.len() == presented.len() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_bound_to_the_session() {
        let t = csrf_token("abc");
        assert!(csrf_ok("abc", &t));
        assert!(!csrf_ok("abd", &t));
        assert!(!csrf_ok("abc", ""));
    }
}
