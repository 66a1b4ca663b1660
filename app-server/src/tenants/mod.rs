//! Tenants, their users ([`users`]) and API keys ([`api_keys`]).
//!
//! Creating a tenant is an operator action (platform chain) that also opens the tenant's own
//! chain. Users and keys are always read and changed through the tenant context.

pub mod api_keys;
pub mod users;

pub use api_keys::{
    ApiKeyView, DEFAULT_KEY_DAYS, KeyAuthError, MAX_KEY_DAYS, NewApiKey, RecoveredKey,
    authenticate_api_key, create_api_key, list_api_keys, list_user_api_keys, recover_owner_key,
    revoke_api_key,
};
pub use users::{
    UserChange, UserView, create_user, get_user, list_users, update_user, upsert_external_user,
};

use leakguard_domain::audit::{Actor, Subject};
use leakguard_domain::ids::{TenantId, UserId};
use leakguard_domain::shop::{ShopDomain, normalize_base_url};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use uuid::Uuid;

use crate::audit_chain::{self, AuditError, PLATFORM_CHAIN};
use crate::crypto::Keyring;
use crate::db::entities::tenants;
use crate::db::{begin_write, now_ms};
use crate::secrets;
use crate::tenancy::{self, Principal, Role, TenantCtx};

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// Bad input, with a message safe to show.
    #[error("{0}")]
    Invalid(String),
    /// A tenant with that shop or base URL exists.
    #[error("a tenant for {0} already exists")]
    Exists(String),
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// Only an owner may do this (acting on owners or admins, or granting those roles).
    #[error("{0}")]
    OwnerRequired(String),
    /// The change would leave the tenant without an active owner.
    #[error("the tenant must keep at least one active owner")]
    LastOwner,
    /// The user is deactivated.
    #[error("the user is deactivated")]
    UserDeactivated,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for TenantError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for TenantError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// The platform a tenant runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlatformAddress {
    /// A Shopify shop.
    Shopify(ShopDomain),
    /// A Magento installation.
    Magento(String),
}

impl PlatformAddress {
    /// Parses `--platform` with its address.
    pub fn parse(platform: &str, address: &str) -> Result<Self, TenantError> {
        match platform {
            "shopify" => ShopDomain::parse(address)
                .map(Self::Shopify)
                .map_err(|e| TenantError::Invalid(e.to_string())),
            "magento" => normalize_base_url(address)
                .map(Self::Magento)
                .map_err(|e| TenantError::Invalid(e.to_string())),
            other => Err(TenantError::Invalid(format!(
                "platform must be shopify or magento, not {other:?}"
            ))),
        }
    }
}

/// A tenant as shown to operators and its own users.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TenantView {
    /// Id.
    pub id: Uuid,
    /// `shopify` or `magento`.
    pub platform: tenants::Platform,
    /// Shop domain (Shopify).
    pub shop_domain: Option<String>,
    /// Base URL (Magento).
    pub base_url: Option<String>,
    /// `active`, `uninstalled`, `purged`.
    pub status: tenants::Status,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub installed_at: Option<i64>,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub uninstalled_at: Option<i64>,
}

impl From<tenants::Model> for TenantView {
    fn from(t: tenants::Model) -> Self {
        Self {
            id: t.id,
            platform: t.platform,
            shop_domain: t.shop_domain,
            base_url: t.base_url,
            status: t.status,
            created_at: t.created_at,
            installed_at: t.installed_at,
            uninstalled_at: t.uninstalled_at,
        }
    }
}

/// What creating a tenant returns: the tenant and its owner's first API key (shown once).
#[derive(Debug)]
pub struct CreatedTenant {
    /// The tenant.
    pub tenant: TenantView,
    /// The owner user.
    pub owner: UserId,
    /// The API key, shown once and stored only as a hash.
    pub owner_api_key: SecretString,
    /// When the owner's key expires, Unix ms.
    pub owner_key_expires_at: i64,
}

/// Name of the secret holding a Shopify Admin API token.
pub const SHOPIFY_TOKEN_SECRET: &str = "shopify.offline_token";

/// Creates a tenant with an owner user and an API key valid [`DEFAULT_KEY_DAYS`]; optionally
/// stores a Shopify Admin API token (custom apps created in the merchant's admin).
pub async fn create_tenant(
    db: &DatabaseConnection,
    keyring: &Keyring,
    address: PlatformAddress,
    access_token: Option<SecretString>,
    operator: &Actor,
) -> Result<CreatedTenant, TenantError> {
    create_tenant_with_key_days(
        db,
        keyring,
        address,
        access_token,
        DEFAULT_KEY_DAYS,
        operator,
    )
    .await
}

/// [`create_tenant`] with the owner key valid `key_days` (1 to [`MAX_KEY_DAYS`]).
pub async fn create_tenant_with_key_days(
    db: &DatabaseConnection,
    keyring: &Keyring,
    address: PlatformAddress,
    access_token: Option<SecretString>,
    key_days: u32,
    operator: &Actor,
) -> Result<CreatedTenant, TenantError> {
    let now = now_ms();
    let expires_at = api_keys::expiry(now, Some(key_days))?;
    let tenant_id = TenantId::new();
    let (platform, shop, base, label) = match &address {
        PlatformAddress::Shopify(s) => (
            tenants::Platform::Shopify,
            Some(s.to_string()),
            None,
            s.to_string(),
        ),
        PlatformAddress::Magento(b) => {
            (tenants::Platform::Magento, None, Some(b.clone()), b.clone())
        }
    };
    if access_token.is_some() && platform != tenants::Platform::Shopify {
        return Err(TenantError::Invalid(
            "--access-token applies to Shopify tenants only".into(),
        ));
    }
    let txn = begin_write(db).await?;
    let existing = tenants::Entity::find()
        .filter(match &address {
            PlatformAddress::Shopify(s) => tenants::Column::ShopDomain.eq(s.as_str()),
            PlatformAddress::Magento(b) => tenants::Column::BaseUrl.eq(b.as_str()),
        })
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(TenantError::Exists(label));
    }
    let model = tenants::ActiveModel {
        id: Set(tenant_id.as_uuid()),
        platform: Set(platform),
        shop_domain: Set(shop),
        base_url: Set(base),
        status: Set(tenants::Status::Active),
        created_at: Set(now),
        installed_at: Set(Some(now)),
        uninstalled_at: Set(None),
        purged_at: Set(None),
    };
    let tenant = tenants::Entity::insert(model.clone())
        .exec_with_returning(&txn)
        .await?;
    audit_chain::append(
        &txn,
        PLATFORM_CHAIN,
        operator,
        "tenant.created",
        Subject::new("tenant", tenant_id.to_string()),
        serde_json::json!({"platform": platform}),
    )
    .await?;
    let ctx = tenancy::admit(Principal::Operator(operator.clone()), &tenant)
        .map_err(|e| TenantError::Unexpected(e.into()))?;
    audit_chain::record(
        &txn,
        &ctx,
        "tenant.created",
        Subject::new("tenant", tenant_id.to_string()),
        serde_json::json!({"platform": platform}),
    )
    .await?;
    let owner = users::create_user_in(&txn, &ctx, "owner", "Owner", Role::Owner).await?;
    let key = api_keys::create_api_key_in(&txn, &ctx, owner, "initial owner key", now, expires_at)
        .await?
        .api_key;
    if let Some(token) = access_token {
        secrets::put(
            &txn,
            keyring,
            &ctx,
            SHOPIFY_TOKEN_SECRET,
            token.expose_secret().as_bytes(),
        )
        .await
        .map_err(|e| TenantError::Unexpected(e.into()))?;
    }
    txn.commit().await?;
    Ok(CreatedTenant {
        tenant: tenant.into(),
        owner,
        owner_api_key: key,
        owner_key_expires_at: expires_at,
    })
}

/// Every tenant (operator view).
pub async fn list_tenants(db: &DatabaseConnection) -> Result<Vec<TenantView>, DbErr> {
    Ok(tenants::Entity::find()
        .order_by_asc(tenants::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(TenantView::from)
        .collect())
}

/// Finds a tenant by id, shop domain or Magento base URL (operator tools).
pub async fn resolve(db: &DatabaseConnection, key: &str) -> Result<tenants::Model, TenantError> {
    let found = if let Ok(id) = Uuid::parse_str(key) {
        tenants::Entity::find_by_id(id).one(db).await?
    } else if let Ok(shop) = ShopDomain::parse(key) {
        tenants::Entity::find()
            .filter(tenants::Column::ShopDomain.eq(shop.as_str()))
            .one(db)
            .await?
    } else if let Ok(base) = normalize_base_url(key) {
        tenants::Entity::find()
            .filter(tenants::Column::BaseUrl.eq(base))
            .one(db)
            .await?
    } else {
        None
    };
    found.ok_or(TenantError::NotFound)
}

/// The context's own tenant.
pub async fn current(db: &DatabaseConnection, ctx: &TenantCtx) -> Result<TenantView, TenantError> {
    tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(db)
        .await?
        .map(TenantView::from)
        .ok_or(TenantError::NotFound)
}
