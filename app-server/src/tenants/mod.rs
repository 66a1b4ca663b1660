//! Tenants, their users and API keys.
//!
//! Creating a tenant is an operator action (platform chain) that also opens the tenant's own
//! chain. Users and keys are always read through the tenant context.

use base64::Engine;
use leakguard_domain::audit::{Actor, Subject};
use leakguard_domain::ids::{TenantId, UserId};
use leakguard_domain::shop::{ShopDomain, normalize_base_url};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit_chain::{self, AuditError, PLATFORM_CHAIN};
use crate::crypto::Keyring;
use crate::db::entities::{api_keys, tenants, users};
use crate::db::{begin_write, now_ms};
use crate::secrets;
use crate::tenancy::{Role, TenantCtx, scoped};

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
#[derive(Clone, Debug, Serialize)]
pub struct TenantView {
    /// Id.
    pub id: Uuid,
    /// `shopify` or `magento`.
    pub platform: String,
    /// Shop domain (Shopify).
    pub shop_domain: Option<String>,
    /// Base URL (Magento).
    pub base_url: Option<String>,
    /// `active`, `uninstalled`, `purged`.
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub installed_at: Option<i64>,
    /// Unix ms.
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
}

/// Name of the secret holding a Shopify Admin API token.
pub const SHOPIFY_TOKEN_SECRET: &str = "shopify.offline_token";

/// Creates a tenant with an owner user and an API key; optionally stores a Shopify Admin API
/// token (custom apps created in the merchant's admin).
pub async fn create_tenant(
    db: &DatabaseConnection,
    keyring: &Keyring,
    address: PlatformAddress,
    access_token: Option<SecretString>,
    operator: &Actor,
) -> Result<CreatedTenant, TenantError> {
    let tenant_id = TenantId::new();
    let now = now_ms();
    let (platform, shop, base, label) = match &address {
        PlatformAddress::Shopify(s) => ("shopify", Some(s.to_string()), None, s.to_string()),
        PlatformAddress::Magento(b) => ("magento", None, Some(b.clone()), b.clone()),
    };
    if access_token.is_some() && platform != "shopify" {
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
        platform: Set(platform.into()),
        shop_domain: Set(shop),
        base_url: Set(base),
        status: Set("active".into()),
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
    let ctx = TenantCtx::from_parts(tenant_id, None, Role::Owner, operator.clone());
    audit_chain::record(
        &txn,
        &ctx,
        "tenant.created",
        Subject::new("tenant", tenant_id.to_string()),
        serde_json::json!({"platform": platform}),
    )
    .await?;
    let owner = create_user_in(&txn, &ctx, "owner", "Owner", Role::Owner).await?;
    let key = create_api_key_in(&txn, &ctx, owner, "initial owner key").await?;
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

/// A user as shown in the API.
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Platform id (Shopify user id, Magento admin id) or a label.
    pub external_id: String,
    /// Name shown in the console.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Unix ms.
    pub created_at: i64,
}

impl From<users::Model> for UserView {
    fn from(u: users::Model) -> Self {
        Self {
            id: u.id,
            external_id: u.external_id,
            display_name: u.display_name,
            role: u.role,
            created_at: u.created_at,
        }
    }
}

async fn create_user_in<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    external_id: &str,
    display_name: &str,
    role: Role,
) -> Result<UserId, TenantError> {
    let user_id = UserId::new();
    users::Entity::insert(users::ActiveModel {
        id: Set(user_id.as_uuid()),
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        external_id: Set(external_id.to_owned()),
        display_name: Set(display_name.to_owned()),
        role: Set(role.as_str().into()),
        created_at: Set(now_ms()),
    })
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "user.created",
        Subject::new("user", user_id.to_string()),
        serde_json::json!({"role": role.as_str()}),
    )
    .await?;
    Ok(user_id)
}

/// Adds a user to the context's tenant (admins only; only an owner may add owners).
pub async fn create_user(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    external_id: &str,
    display_name: &str,
    role: Role,
) -> Result<UserView, TenantError> {
    let external_id = external_id.trim();
    let display_name = display_name.trim();
    if external_id.is_empty() || external_id.len() > 255 {
        return Err(TenantError::Invalid(
            "external_id must be 1 to 255 characters".into(),
        ));
    }
    if display_name.is_empty() || display_name.len() > 255 {
        return Err(TenantError::Invalid(
            "display_name must be 1 to 255 characters".into(),
        ));
    }
    if role == Role::Owner && ctx.role() != Role::Owner {
        return Err(TenantError::Invalid(
            "only an owner may add an owner".into(),
        ));
    }
    let txn = begin_write(db).await?;
    let taken = scoped::<users::Entity>(ctx)
        .filter(users::Column::ExternalId.eq(external_id))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(TenantError::Exists(format!("user {external_id}")));
    }
    let id = create_user_in(&txn, ctx, external_id, display_name, role).await?;
    let user = scoped::<users::Entity>(ctx)
        .filter(users::Column::Id.eq(id.as_uuid()))
        .one(&txn)
        .await?
        .ok_or(TenantError::NotFound)?;
    txn.commit().await?;
    Ok(user.into())
}

/// The tenant's users.
pub async fn list_users(db: &DatabaseConnection, ctx: &TenantCtx) -> Result<Vec<UserView>, DbErr> {
    Ok(scoped::<users::Entity>(ctx)
        .order_by_asc(users::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(UserView::from)
        .collect())
}

/// One user of the tenant; another tenant's user is `NotFound`.
pub async fn get_user(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<UserView, TenantError> {
    scoped::<users::Entity>(ctx)
        .filter(users::Column::Id.eq(id))
        .one(db)
        .await?
        .map(UserView::from)
        .ok_or(TenantError::NotFound)
}

const KEY_PREFIX: &str = "lgk_";

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

async fn create_api_key_in<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    user: UserId,
    label: &str,
) -> Result<SecretString, TenantError> {
    let raw: [u8; 32] = rand::random();
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    let id = Uuid::now_v7();
    api_keys::Entity::insert(api_keys::ActiveModel {
        id: Set(id),
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        user_id: Set(user.as_uuid()),
        key_hash: Set(hash_key(&key)),
        label: Set(label.to_owned()),
        created_at: Set(now_ms()),
        revoked_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "api_key.created",
        Subject::new("api_key", id.to_string()),
        serde_json::json!({"user": user.to_string(), "label": label}),
    )
    .await?;
    Ok(SecretString::from(key))
}

/// Issues an API key for a user of the tenant.
pub async fn create_api_key(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    user: Uuid,
    label: &str,
) -> Result<SecretString, TenantError> {
    let txn = begin_write(db).await?;
    let user = scoped::<users::Entity>(ctx)
        .filter(users::Column::Id.eq(user))
        .one(&txn)
        .await?
        .ok_or(TenantError::NotFound)?;
    let key = create_api_key_in(&txn, ctx, UserId(user.id), label).await?;
    txn.commit().await?;
    Ok(key)
}

/// Resolves an API key to its tenant context. `None` for an unknown or revoked key, or one
/// whose tenant has been purged.
pub async fn authenticate_api_key(
    db: &DatabaseConnection,
    presented: &str,
) -> Result<Option<TenantCtx>, DbErr> {
    if !presented.starts_with(KEY_PREFIX) || presented.len() > 128 {
        return Ok(None);
    }
    let Some(key) = api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(hash_key(presented)))
        .filter(api_keys::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let tenant = tenants::Entity::find_by_id(key.tenant_id).one(db).await?;
    if tenant.as_ref().is_none_or(|t| t.status == "purged") {
        return Ok(None);
    }
    let Some(user) = users::Entity::find_by_id(key.user_id)
        .filter(users::Column::TenantId.eq(key.tenant_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&user.role) else {
        return Ok(None);
    };
    Ok(Some(TenantCtx::user(
        TenantId(key.tenant_id),
        UserId(user.id),
        role,
        "api_key",
    )))
}

/// Creates the user with this external id, or brings its name and role up to date, inside the
/// caller's transaction (sign-in from a platform that owns the user's identity and role).
pub async fn upsert_external_user<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    external_id: &str,
    display_name: &str,
    role: Role,
) -> Result<UserId, TenantError> {
    let existing = scoped::<users::Entity>(ctx)
        .filter(users::Column::ExternalId.eq(external_id))
        .one(txn)
        .await?;
    let Some(user) = existing else {
        return create_user_in(txn, ctx, external_id, display_name, role).await;
    };
    if user.display_name != display_name || user.role != role.as_str() {
        users::Entity::update_many()
            .col_expr(
                users::Column::DisplayName,
                sea_orm::sea_query::Expr::value(display_name),
            )
            .col_expr(
                users::Column::Role,
                sea_orm::sea_query::Expr::value(role.as_str()),
            )
            .filter(users::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
            .filter(users::Column::Id.eq(user.id))
            .exec(txn)
            .await?;
        audit_chain::record(
            txn,
            ctx,
            "user.updated",
            Subject::new("user", user.id.to_string()),
            serde_json::json!({"role": role.as_str(), "previous_role": user.role}),
        )
        .await?;
    }
    Ok(UserId(user.id))
}
