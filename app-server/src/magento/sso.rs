//! Console sign-in from the Magento admin: `GET /console/sso?token=<JWT>`.
//!
//! The token is a compact JWS, HS256 only (`none` and every other algorithm are refused),
//! keyed with the tenant's module secret. The tenant is found by the `iss` claim (its store
//! URL) before the signature is checked, and nothing is trusted until it has been. Claims:
//! `aud = "leakguard-console"`, `sub` (admin user id), `name`, `role` ∈ admin | analyst |
//! viewer, `iat`, `exp ≤ iat + 60`, with 10 s of leeway, and `jti`, used once.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use leakguard_domain::audit::Subject;
use leakguard_domain::ids::UserId;
use leakguard_domain::shop::normalize_base_url;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::Sha256;

use super::{MODULE_SECRET, MagentoError, replay};
use crate::audit_chain;
use crate::console::{self, NewSession};
use crate::crypto::Keyring;
use crate::db::begin_write;
use crate::db::entities::{magento_module_keys, tenants};
use crate::secrets;
use crate::tenancy::{self, Principal, Refusal, Role, TenantCtx};

/// The audience the module puts in console tokens.
pub const AUDIENCE: &str = "leakguard-console";
/// Longest accepted token lifetime, seconds.
pub const MAX_LIFETIME_SECS: i64 = 60;
/// Clock leeway, seconds.
pub const LEEWAY_SECS: i64 = 10;

/// The verified claims.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Store base URL.
    pub iss: String,
    /// Must be [`AUDIENCE`].
    pub aud: String,
    /// Magento admin user id.
    pub sub: String,
    /// Admin user name.
    #[serde(default)]
    pub name: String,
    /// Console role.
    pub role: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// Token id, used once.
    pub jti: String,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

fn refused(reason: &str) -> MagentoError {
    MagentoError::Unauthorized(format!("the sign-in token was refused: {reason}"))
}

fn b64(segment: &str) -> Result<Vec<u8>, MagentoError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| refused("malformed"))
}

/// The unverified issuer of a token (only to pick the key that verifies it).
pub fn peek_issuer(token: &str) -> Result<String, MagentoError> {
    let mut parts = token.split('.');
    let (Some(_), Some(claims), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused("malformed"));
    };
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    let iss: Iss = serde_json::from_slice(&b64(claims)?).map_err(|_| refused("malformed"))?;
    Ok(iss.iss)
}

/// Verifies signature and claims of a token with the tenant's secret and store URL.
pub fn verify_token(
    token: &str,
    secret: &[u8],
    tenant_base_url: &str,
    now_secs: i64,
) -> Result<Claims, MagentoError> {
    if token.len() > 4096 {
        return Err(refused("malformed"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header64, claims64, sig64] = parts.as_slice() else {
        return Err(refused("malformed"));
    };
    let header: Header =
        serde_json::from_slice(&b64(header64)?).map_err(|_| refused("malformed"))?;
    if header.alg != "HS256" || header.typ.as_deref().is_some_and(|t| t != "JWT") {
        return Err(refused("only HS256 is accepted"));
    }
    let signature = b64(sig64)?;
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| refused("bad key"))?;
    mac.update(header64.as_bytes());
    mac.update(b".");
    mac.update(claims64.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| refused("bad signature"))?;
    let claims: Claims =
        serde_json::from_slice(&b64(claims64)?).map_err(|_| refused("claims are incomplete"))?;
    if claims.aud != AUDIENCE {
        return Err(refused("wrong audience"));
    }
    if normalize_base_url(&claims.iss).ok().as_deref() != Some(tenant_base_url) {
        return Err(refused("wrong issuer"));
    }
    if claims.exp <= claims.iat || claims.exp - claims.iat > MAX_LIFETIME_SECS {
        return Err(refused("lifetime must be at most 60 seconds"));
    }
    if now_secs > claims.exp + LEEWAY_SECS {
        return Err(refused("expired"));
    }
    if claims.iat > now_secs + LEEWAY_SECS {
        return Err(refused("issued in the future"));
    }
    if claims.sub.is_empty() || claims.sub.len() > 64 || claims.sub.contains(char::is_control) {
        return Err(refused("bad subject"));
    }
    if claims.jti.len() < 16
        || claims.jti.len() > 128
        || !claims.jti.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(refused("bad token id"));
    }
    if claims.name.len() > 255 || claims.name.contains(char::is_control) {
        return Err(refused("bad name"));
    }
    Ok(claims)
}

/// Maps the token's role to a console role.
pub fn map_role(role: &str) -> Option<Role> {
    match role {
        "admin" => Some(Role::Admin),
        "analyst" => Some(Role::Analyst),
        "viewer" => Some(Role::Viewer),
        _ => None,
    }
}

/// A completed sign-in.
pub struct SignIn {
    /// The user's context.
    pub ctx: TenantCtx,
    /// The new session.
    pub session: NewSession,
}

/// Verifies a console token, creates or updates the user `magento:<sub>` and opens a session.
pub async fn sign_in(
    db: &DatabaseConnection,
    keyring: &Keyring,
    token: &str,
    session_ttl_secs: i64,
    now_ms: i64,
) -> Result<SignIn, MagentoError> {
    let issuer = normalize_base_url(&peek_issuer(token)?).map_err(|_| refused("wrong issuer"))?;
    let tenant = tenants::Entity::find()
        .filter(tenants::Column::BaseUrl.eq(issuer.clone()))
        .filter(tenants::Column::Platform.eq(tenants::Platform::Magento))
        .filter(tenants::Column::Status.eq(tenants::Status::Active))
        .one(db)
        .await?
        .ok_or_else(|| refused("unknown store"))?;
    let key = magento_module_keys::Entity::find()
        .filter(magento_module_keys::Column::TenantId.eq(tenant.id))
        .filter(magento_module_keys::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| refused("the store is not enrolled"))?;
    let module = tenancy::admit(Principal::MagentoModule(&key.key_id), &tenant)
        .map_err(|_| refused("unknown store"))?;
    let secret = secrets::get(db, keyring, &module, MODULE_SECRET)
        .await?
        .ok_or_else(|| refused("the store is not enrolled"))?;
    let claims = verify_token(
        token,
        secret.expose_secret().as_bytes(),
        &issuer,
        now_ms.div_euclid(1000),
    )?;
    let role = map_role(&claims.role).ok_or_else(|| refused("unknown role"))?;
    let sign_in_ctx = tenancy::admit(Principal::MagentoAdmin(&claims.sub), &tenant)
        .map_err(|_| refused("unknown store"))?;
    let txn = begin_write(db).await?;
    let fresh = replay::claim(
        &txn,
        &sign_in_ctx,
        replay::SCOPE_SSO_JTI,
        &claims.jti,
        (claims.exp + LEEWAY_SECS + 60).saturating_mul(1000),
    )
    .await?;
    if !fresh {
        return Err(refused("already used"));
    }
    let display_name = if claims.name.trim().is_empty() {
        format!("Magento admin {}", claims.sub)
    } else {
        claims.name.trim().to_owned()
    };
    let user = crate::tenants::upsert_external_user(
        &txn,
        &sign_in_ctx,
        &format!("magento:{}", claims.sub),
        &display_name,
        role,
    )
    .await
    .map_err(|e| MagentoError::Unexpected(anyhow::anyhow!("{e}")))?;
    let ctx = tenancy::admit(Principal::MagentoSsoUser(&user), &tenant).map_err(|r| match r {
        Refusal::UserDeactivated => refused("the user is deactivated"),
        _ => refused("unknown store"),
    })?;
    let user = UserId(user.id);
    let session = console::create(&txn, &ctx, user, session_ttl_secs, now_ms)
        .await
        .map_err(|e| MagentoError::Unexpected(anyhow::anyhow!("{e}")))?;
    audit_chain::record(
        &txn,
        &ctx,
        "console.sign_in",
        Subject::new("user", user.to_string()),
        serde_json::json!({"via": "magento_sso", "role": role.as_str()}),
    )
    .await?;
    txn.commit().await?;
    Ok(SignIn { ctx, session })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const VECTORS: &str = include_str!("../../../magento-module/Test/fixtures/jwt-vectors.json");

    #[test]
    fn the_modules_jwt_vector_verifies_at_its_own_time() {
        let vectors: Vec<serde_json::Value> = serde_json::from_str(VECTORS).unwrap();
        for v in vectors {
            let claims = &v["claims"];
            let token = v["token"].as_str().unwrap();
            let secret = v["secret"].as_str().unwrap();
            let iss = normalize_base_url(claims["iss"].as_str().unwrap()).unwrap();
            let now = claims["iat"].as_i64().unwrap();
            let got = verify_token(token, secret.as_bytes(), &iss, now).unwrap();
            assert_eq!(got.role, claims["role"].as_str().unwrap());
            assert_eq!(got.sub, claims["sub"].as_str().unwrap());
            assert_eq!(peek_issuer(token).unwrap(), claims["iss"].as_str().unwrap());
            assert!(verify_token(token, b"wrong", &iss, now).is_err());
            assert!(verify_token(token, secret.as_bytes(), &iss, now + 71).is_err());
            assert!(verify_token(token, secret.as_bytes(), "https://other.example", now).is_err());
        }
    }

    #[test]
    fn roles_map_to_console_roles_and_nothing_else() {
        assert_eq!(map_role("admin"), Some(Role::Admin));
        assert_eq!(map_role("analyst"), Some(Role::Analyst));
        assert_eq!(map_role("viewer"), Some(Role::Viewer));
        assert_eq!(map_role("owner"), None);
        assert_eq!(map_role("Admin"), None);
    }
}
