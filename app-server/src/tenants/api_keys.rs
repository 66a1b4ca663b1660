//! API keys: issue (shown once, stored as SHA-256), expiry, last use, listing, revocation, the
//! operator's owner-key recovery, and authentication.
//!
//! Who may issue a key for whom: an owner for anyone; an admin for users below admin; nobody
//! for a user whose role is above their own, nor for a deactivated user. Revoking follows the
//! same rule, except that anyone may revoke a key of their own. Every key expires (default
//! [`DEFAULT_KEY_DAYS`], at most [`MAX_KEY_DAYS`]). `last_used_at` is written at most once a
//! minute per key, by a conditional `UPDATE` that loses nothing when two requests race.
//! Authentication tells an expired or revoked key apart from an unknown one (the caller holds
//! the key, so this reveals nothing new) and then goes through `tenancy::admit`.

use base64::Engine;
use leakguard_domain::audit::{Actor, Subject};
use leakguard_domain::ids::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::TenantError;
use super::users::check_standing;
use crate::audit_chain::{self, PLATFORM_CHAIN};
use crate::db::entities::{api_keys, tenants, users};
use crate::db::{begin_write, now_ms};
use crate::tenancy::{self, Principal, Refusal, Role, TenantCtx, scoped, scoped_update};

/// Days a key lives when the request names none.
pub const DEFAULT_KEY_DAYS: u32 = 90;
/// The longest a key may live, in days.
pub const MAX_KEY_DAYS: u32 = 365;
/// `last_used_at` is written at most this often per key.
pub const LAST_USED_GRANULARITY_MS: i64 = 60_000;

const KEY_PREFIX: &str = "lgk_";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The expiry of a key issued at `now` for `days` (default [`DEFAULT_KEY_DAYS`]).
pub fn expiry(now: i64, days: Option<u32>) -> Result<i64, TenantError> {
    let days = days.unwrap_or(DEFAULT_KEY_DAYS);
    if days == 0 || days > MAX_KEY_DAYS {
        return Err(TenantError::Invalid(format!(
            "expires_in_days must be 1 to {MAX_KEY_DAYS}"
        )));
    }
    Ok(now.saturating_add(i64::from(days) * DAY_MS))
}

/// A key as listed (never the key itself).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    /// Id.
    pub id: Uuid,
    /// The user the key acts as.
    pub user_id: Uuid,
    /// Label given at issue.
    pub label: String,
    /// `active`, `expired` or `revoked`.
    #[schema(value_type = String)]
    pub status: &'static str,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: i64,
    /// Unix ms, to the minute (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<i64>,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<i64>,
}

impl ApiKeyView {
    fn new(k: api_keys::Model, now: i64) -> Self {
        let status = if k.revoked_at.is_some() {
            "revoked"
        } else if k.expires_at <= now {
            "expired"
        } else {
            "active"
        };
        Self {
            id: k.id,
            user_id: k.user_id,
            label: k.label,
            status,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A newly issued key: shown once.
#[derive(Debug)]
pub struct NewApiKey {
    /// The key.
    pub api_key: SecretString,
    /// How it is listed.
    pub view: ApiKeyView,
}

pub(super) async fn create_api_key_in<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    user: UserId,
    label: &str,
    now: i64,
    expires_at: i64,
) -> Result<NewApiKey, TenantError> {
    let raw: [u8; 32] = rand::random();
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    let model = api_keys::Model {
        id: Uuid::now_v7(),
        tenant_id: ctx.tenant_id().as_uuid(),
        user_id: user.as_uuid(),
        key_hash: hash_key(&key),
        label: label.to_owned(),
        created_at: now,
        revoked_at: None,
        expires_at,
        last_used_at: None,
    };
    api_keys::Entity::insert(api_keys::ActiveModel {
        id: Set(model.id),
        tenant_id: Set(model.tenant_id),
        user_id: Set(model.user_id),
        key_hash: Set(model.key_hash.clone()),
        label: Set(model.label.clone()),
        created_at: Set(now),
        revoked_at: Set(None),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "api_key.created",
        Subject::new("api_key", model.id.to_string()),
        serde_json::json!({"user": user.to_string(), "label": label, "expires_at": expires_at}),
    )
    .await?;
    Ok(NewApiKey {
        api_key: SecretString::from(key),
        view: ApiKeyView::new(model, now),
    })
}

/// Issues an API key for a user of the tenant (see the module header for who may).
pub async fn create_api_key(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    user: Uuid,
    label: &str,
    expires_in_days: Option<u32>,
) -> Result<NewApiKey, TenantError> {
    let label = label.trim();
    if label.is_empty() || label.len() > 255 {
        return Err(TenantError::Invalid(
            "label must be 1 to 255 characters".into(),
        ));
    }
    let now = now_ms();
    let expires_at = expiry(now, expires_in_days)?;
    let txn = begin_write(db).await?;
    let user = scoped::<users::Entity>(ctx)
        .filter(users::Column::Id.eq(user))
        .one(&txn)
        .await?
        .ok_or(TenantError::NotFound)?;
    let role = user.role;
    check_standing(ctx, role, "issue an API key for a user with the role")?;
    if user.deactivated_at.is_some() {
        return Err(TenantError::UserDeactivated);
    }
    let key = create_api_key_in(&txn, ctx, UserId(user.id), label, now, expires_at).await?;
    txn.commit().await?;
    Ok(key)
}

/// Every key of the tenant, newest first (admins).
pub async fn list_api_keys(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
) -> Result<Vec<ApiKeyView>, TenantError> {
    let now = now_ms();
    Ok(scoped::<api_keys::Entity>(ctx)
        .order_by_desc(api_keys::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|k| ApiKeyView::new(k, now))
        .collect())
}

/// The keys of one user, newest first (admins, or the user themself).
pub async fn list_user_api_keys(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    user: Uuid,
) -> Result<Vec<ApiKeyView>, TenantError> {
    let found = scoped::<users::Entity>(ctx)
        .filter(users::Column::Id.eq(user))
        .one(db)
        .await?
        .ok_or(TenantError::NotFound)?;
    let own = ctx.user_id().is_some_and(|u| u.as_uuid() == found.id);
    if !own && !ctx.role().can_administer() {
        return Err(TenantError::OwnerRequired(
            "only an admin may list another user's keys".into(),
        ));
    }
    let now = now_ms();
    Ok(scoped::<api_keys::Entity>(ctx)
        .filter(api_keys::Column::UserId.eq(found.id))
        .order_by_desc(api_keys::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|k| ApiKeyView::new(k, now))
        .collect())
}

/// Revokes a key at once. Revoking a revoked key changes nothing and records nothing.
pub async fn revoke_api_key(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    key_id: Uuid,
) -> Result<ApiKeyView, TenantError> {
    let txn = begin_write(db).await?;
    let key = scoped::<api_keys::Entity>(ctx)
        .filter(api_keys::Column::Id.eq(key_id))
        .one(&txn)
        .await?
        .ok_or(TenantError::NotFound)?;
    let own = ctx.user_id().is_some_and(|u| u.as_uuid() == key.user_id);
    if !own {
        if !ctx.role().can_administer() {
            return Err(TenantError::OwnerRequired(
                "only an admin may revoke another user's key".into(),
            ));
        }
        let holder = scoped::<users::Entity>(ctx)
            .filter(users::Column::Id.eq(key.user_id))
            .one(&txn)
            .await?
            .ok_or(TenantError::NotFound)?;
        let role = holder.role;
        check_standing(ctx, role, "revoke an API key of a user with the role")?;
    }
    let now = now_ms();
    if key.revoked_at.is_none() {
        scoped_update::<api_keys::Entity>(ctx)
            .col_expr(api_keys::Column::RevokedAt, Expr::value(now))
            .filter(api_keys::Column::Id.eq(key_id))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        audit_chain::record(
            &txn,
            ctx,
            "api_key.revoked",
            Subject::new("api_key", key_id.to_string()),
            serde_json::json!({"user": key.user_id.to_string()}),
        )
        .await?;
    }
    let key = scoped::<api_keys::Entity>(ctx)
        .filter(api_keys::Column::Id.eq(key_id))
        .one(&txn)
        .await?
        .ok_or(TenantError::NotFound)?;
    txn.commit().await?;
    Ok(ApiKeyView::new(key, now))
}

/// What the operator's owner-key recovery returns.
#[derive(Debug)]
pub struct RecoveredKey {
    /// The owner the key acts as.
    pub owner: Uuid,
    /// The new key (shown once) and its listing.
    pub key: NewApiKey,
    /// How many earlier keys of that owner were revoked.
    pub revoked: u64,
}

/// The operator issues a new key for an owner of `tenant` (the given one, or the earliest
/// active owner), optionally revoking that owner's other keys (a lost or leaked key). Recorded
/// in the tenant's chain and the platform chain with the operator as actor.
pub async fn recover_owner_key(
    db: &DatabaseConnection,
    tenant: &tenants::Model,
    operator: &Actor,
    owner: Option<Uuid>,
    days: Option<u32>,
    revoke_existing: bool,
) -> Result<RecoveredKey, TenantError> {
    let now = now_ms();
    let expires_at = expiry(now, days)?;
    let ctx = tenancy::admit(Principal::Operator(operator.clone()), tenant).map_err(|_| {
        TenantError::Invalid(format!(
            "tenant {} is {}",
            tenant.id,
            tenant.status.as_str()
        ))
    })?;
    let txn = begin_write(db).await?;
    let mut owners = scoped::<users::Entity>(&ctx)
        .filter(users::Column::Role.eq(Role::Owner))
        .filter(users::Column::DeactivatedAt.is_null())
        .order_by_asc(users::Column::CreatedAt);
    if let Some(owner) = owner {
        owners = owners.filter(users::Column::Id.eq(owner));
    }
    let owner = owners
        .one(&txn)
        .await?
        .ok_or_else(|| TenantError::Invalid("the tenant has no such active owner".into()))?;
    let mut revoked = 0;
    if revoke_existing {
        let keys: Vec<Uuid> = scoped::<api_keys::Entity>(&ctx)
            .filter(api_keys::Column::UserId.eq(owner.id))
            .filter(api_keys::Column::RevokedAt.is_null())
            .all(&txn)
            .await?
            .into_iter()
            .map(|k| k.id)
            .collect();
        for id in &keys {
            scoped_update::<api_keys::Entity>(&ctx)
                .col_expr(api_keys::Column::RevokedAt, Expr::value(now))
                .filter(api_keys::Column::Id.eq(*id))
                .exec(&txn)
                .await?;
            audit_chain::record(
                &txn,
                &ctx,
                "api_key.revoked",
                Subject::new("api_key", id.to_string()),
                serde_json::json!({"user": owner.id.to_string(), "via": "owner_key_recovery"}),
            )
            .await?;
        }
        revoked = keys.len() as u64;
    }
    let key = create_api_key_in(
        &txn,
        &ctx,
        UserId(owner.id),
        "recovered owner key",
        now,
        expires_at,
    )
    .await?;
    audit_chain::append(
        &txn,
        PLATFORM_CHAIN,
        operator,
        "tenant.owner_key_recovered",
        Subject::new("tenant", tenant.id.to_string()),
        serde_json::json!({"owner": owner.id.to_string(), "api_key": key.view.id.to_string(), "revoked": revoked}),
    )
    .await?;
    txn.commit().await?;
    Ok(RecoveredKey {
        owner: owner.id,
        key,
        revoked,
    })
}

/// Why an API key yields no context.
#[derive(Debug, thiserror::Error)]
pub enum KeyAuthError {
    /// Not a key of ours.
    #[error("invalid credentials")]
    Unknown,
    /// Past its expiry.
    #[error("the API key has expired")]
    Expired,
    /// Revoked.
    #[error("the API key has been revoked")]
    Revoked,
    /// The tenant's status or the user refuses it (see `tenancy::admit`).
    #[error(transparent)]
    Refused(Refusal),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for KeyAuthError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

/// Resolves an API key to its tenant context, and notes its use (at most once a minute).
pub async fn authenticate_api_key(
    db: &DatabaseConnection,
    presented: &str,
    now: i64,
) -> Result<TenantCtx, KeyAuthError> {
    if !presented.starts_with(KEY_PREFIX) || presented.len() > 128 {
        return Err(KeyAuthError::Unknown);
    }
    let key = api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(hash_key(presented)))
        .one(db)
        .await?
        .ok_or(KeyAuthError::Unknown)?;
    if key.revoked_at.is_some() {
        return Err(KeyAuthError::Revoked);
    }
    if key.expires_at <= now {
        return Err(KeyAuthError::Expired);
    }
    let tenant = tenants::Entity::find_by_id(key.tenant_id)
        .one(db)
        .await?
        .ok_or(KeyAuthError::Unknown)?;
    let user = users::Entity::find_by_id(key.user_id)
        .filter(users::Column::TenantId.eq(key.tenant_id))
        .one(db)
        .await?
        .ok_or(KeyAuthError::Unknown)?;
    let ctx = tenancy::admit(
        Principal::ApiKey {
            user: &user,
            key_id: key.id,
        },
        &tenant,
    )
    .map_err(KeyAuthError::Refused)?;
    if key
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_GRANULARITY_MS)
    {
        let stale = now - LAST_USED_GRANULARITY_MS;
        scoped_update::<api_keys::Entity>(&ctx)
            .col_expr(api_keys::Column::LastUsedAt, Expr::value(now))
            .filter(api_keys::Column::Id.eq(key.id))
            .filter(
                Condition::any()
                    .add(api_keys::Column::LastUsedAt.is_null())
                    .add(api_keys::Column::LastUsedAt.lte(stale)),
            )
            .exec(db)
            .await?;
    }
    Ok(ctx)
}
