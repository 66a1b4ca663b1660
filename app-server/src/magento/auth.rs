//! Module enrollment and the verification of signed module requests.
//!
//! Enrollment trades a one-time token for a key id and a secret; the secret is sealed with
//! `secrets::put` (the server needs the plaintext to verify HMACs) and replaces any earlier
//! one. A signed request is checked in this order: header shapes, timestamp window, key id,
//! signature over the raw body (constant-time), then the nonce is claimed. Nothing is written
//! before the signature has verified.

use leakguard_domain::audit::Subject;
use leakguard_domain::shop::normalize_base_url;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{MODULE_SECRET, MagentoError, replay, signature};
use crate::audit_chain;
use crate::crypto::Keyring;
use crate::db::begin_write;
use crate::db::entities::{magento_module_keys, tenants};
use crate::enrollment::{self, TokenKind};
use crate::secrets;
use crate::tenancy::{self, Principal, TenantCtx};

/// Body of `POST /api/v1/magento/enroll`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The one-time token.
    pub enrollment_token: String,
    /// The store's base URL; must equal the tenant's.
    pub base_url: String,
    /// `LeakGuard_Connector` version.
    pub module_version: String,
}

/// Answer of a successful enrollment.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EnrollResponse {
    /// The tenant.
    pub tenant_id: String,
    /// Sent in `X-LeakGuard-Key-Id`.
    pub key_id: String,
    /// The HMAC key (shown once).
    pub secret: String,
}

/// Enrolls the module of a Magento tenant.
pub async fn enroll(
    db: &DatabaseConnection,
    keyring: &Keyring,
    request: &EnrollRequest,
    now_ms: i64,
) -> Result<EnrollResponse, MagentoError> {
    let module_version = request.module_version.trim();
    if module_version.is_empty()
        || module_version.len() > 64
        || !module_version.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(MagentoError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidField,
                "module_version must be 1 to 64 printable characters",
            ),
        ));
    }
    let base_url = normalize_base_url(&request.base_url).map_err(|_| {
        MagentoError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidBaseUrl,
            "base_url is not a valid store URL",
        ))
    })?;
    let txn = begin_write(db).await?;
    let token = enrollment::find_usable(
        &txn,
        TokenKind::MagentoModule,
        request.enrollment_token.trim(),
        now_ms,
    )
    .await?;
    let tenant = tenants::Entity::find_by_id(token.tenant_id)
        .one(&txn)
        .await?
        .ok_or(MagentoError::NotFound)?;
    let key_id = format!("lgmk_{}", hex::encode(rand::random::<[u8; 8]>()));
    let admitted = tenancy::admit(Principal::ModuleEnrollment(&key_id), &tenant);
    let (Ok(ctx), true) = (
        admitted,
        tenant.base_url.as_deref() == Some(base_url.as_str()),
    ) else {
        // The token stays usable: a typo in the store URL must not burn it.
        return Err(MagentoError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidBaseUrl,
                "base_url does not match the tenant's store URL",
            ),
        ));
    };
    let tenant_id = enrollment::consume(&txn, &token, now_ms).await?;
    let secret = enrollment::random_secret("lgms_");
    magento_module_keys::Entity::update_many()
        .col_expr(magento_module_keys::Column::RevokedAt, Expr::value(now_ms))
        .filter(magento_module_keys::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(magento_module_keys::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    magento_module_keys::Entity::insert(magento_module_keys::ActiveModel {
        key_id: Set(key_id.clone()),
        tenant_id: Set(tenant_id.as_uuid()),
        base_url: Set(base_url.clone()),
        module_version: Set(module_version.to_owned()),
        created_at: Set(now_ms),
        revoked_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    secrets::put(&txn, keyring, &ctx, MODULE_SECRET, secret.as_bytes()).await?;
    audit_chain::record(
        &txn,
        &ctx,
        "magento.module.enrolled",
        Subject::new("magento_module_key", key_id.clone()),
        serde_json::json!({"module_version": module_version, "token": token.id.to_string()}),
    )
    .await?;
    txn.commit().await?;
    Ok(EnrollResponse {
        tenant_id: tenant_id.to_string(),
        key_id,
        secret,
    })
}

/// The parts of a request the signature covers, as received.
pub struct SignedRequest<'a> {
    /// `X-LeakGuard-Key-Id`.
    pub key_id: Option<&'a str>,
    /// `X-LeakGuard-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-LeakGuard-Nonce`.
    pub nonce: Option<&'a str>,
    /// `X-LeakGuard-Signature`.
    pub signature: Option<&'a str>,
    /// HTTP method.
    pub method: &'a str,
    /// Path and query exactly as received.
    pub path_and_query: &'a str,
    /// The raw body.
    pub body: &'a [u8],
}

/// The tenant's active module secret with its tenant, for a key id.
pub async fn module_secret(
    db: &DatabaseConnection,
    keyring: &Keyring,
    key_id: &str,
) -> Result<Option<(TenantCtx, SecretString)>, MagentoError> {
    if key_id.is_empty() || key_id.len() > 64 {
        return Ok(None);
    }
    let Some(key) = magento_module_keys::Entity::find_by_id(key_id.to_owned())
        .filter(magento_module_keys::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(tenant) = tenants::Entity::find_by_id(key.tenant_id).one(db).await? else {
        return Ok(None);
    };
    let Ok(ctx) = tenancy::admit(Principal::MagentoModule(&key.key_id), &tenant) else {
        return Ok(None);
    };
    let secret = secrets::get(db, keyring, &ctx, MODULE_SECRET).await?;
    Ok(secret.map(|s| (ctx, s)))
}

/// Verifies a signed module request and claims its nonce. Returns the module's context.
pub async fn verify_request(
    db: &DatabaseConnection,
    keyring: &Keyring,
    request: &SignedRequest<'_>,
    now_secs: i64,
) -> Result<TenantCtx, MagentoError> {
    let (Some(key_id), Some(timestamp), Some(nonce), Some(sig)) = (
        request.key_id,
        request.timestamp,
        request.nonce,
        request.signature,
    ) else {
        return Err(MagentoError::MissingCredentials(
            "X-LeakGuard-Key-Id, -Timestamp, -Nonce and -Signature are required".into(),
        ));
    };
    let refused = || MagentoError::Unauthorized("the request signature is not valid".into());
    if !signature::valid_nonce(nonce) {
        return Err(MagentoError::Unauthorized(
            "X-LeakGuard-Nonce must be 32 lowercase hex characters".into(),
        ));
    }
    let Some(ts) = signature::timestamp_within_window(timestamp, now_secs) else {
        return Err(MagentoError::Unauthorized(
            "X-LeakGuard-Timestamp is not within 300 seconds of the server clock".into(),
        ));
    };
    let Some((ctx, secret)) = module_secret(db, keyring, key_id).await? else {
        return Err(refused());
    };
    if !signature::verify(
        secret.expose_secret().as_bytes(),
        timestamp,
        nonce,
        request.method,
        request.path_and_query,
        request.body,
        sig,
    ) {
        return Err(refused());
    }
    // Keep the nonce past the far edge of the window, so it cannot come back.
    let expires = (ts + signature::MAX_SKEW_SECS + 60).saturating_mul(1000);
    let fresh = replay::claim(db, &ctx, replay::SCOPE_NONCE, nonce, expires).await?;
    if !fresh {
        return Err(MagentoError::Unauthorized(
            "this nonce was used before (replay)".into(),
        ));
    }
    Ok(ctx)
}
