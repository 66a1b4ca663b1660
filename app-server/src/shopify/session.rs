//! The embedded app's credentials: a session token on API calls, the signed `/app` document
//! load, and the staff users they name.
//!
//! A session token is an alternative credential of `TenantCtx`: verified (see
//! `session_token`), its shop's active tenant found, and its `sub` mapped to a user
//! (`external_id = shopify:{sub}`), created on first sight. A new staff member's role comes from
//! Shopify, never from the token: one online token exchange tells whether they are the shop's
//! account owner (role `owner`); everyone else starts as `viewer` and an owner or admin grants
//! more. If Shopify cannot be asked, the user starts as `viewer`.

use leakguard_domain::audit::Subject;
use leakguard_domain::ids::{TenantId, UserId};
use leakguard_domain::shop::ShopDomain;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::ShopifyAdapter;
use super::{ShopifyError, oauth, session_token};
use crate::audit_chain;
use crate::db::entities::{tenants, users};
use crate::db::{begin_write, now_ms};
use crate::tenancy::{self, CallerKind, Principal, Refusal, Role, TenantCtx, scoped};

/// Why a session token did not yield a tenant context.
#[derive(Debug, thiserror::Error)]
pub enum SessionAuthError {
    /// Invalid, expired or foreign token: a fresh token may succeed (401 + retry header).
    #[error(transparent)]
    Token(#[from] session_token::SessionTokenError),
    /// The token is valid but names no staff user.
    #[error("the session token names no user")]
    NoUser,
    /// The staff member's user is deactivated in LeakGuard.
    #[error("the user is deactivated")]
    UserDeactivated,
    /// LeakGuard has no active tenant for the shop (404).
    #[error("LeakGuard is not installed on this shop")]
    NotInstalled,
    /// Anything else.
    #[error(transparent)]
    Other(#[from] ShopifyError),
}

/// Tells a bearer credential that is a JWT from an API key.
pub fn looks_like_session_token(credential: &str) -> bool {
    credential.starts_with("eyJ") && credential.matches('.').count() == 2
}

/// Resolves a session token to a user context of the shop's tenant.
pub async fn authenticate(
    state: &ShopifyAdapter,
    token: &str,
    now: i64,
) -> Result<TenantCtx, SessionAuthError> {
    let config = state
        .shopify
        .config
        .as_ref()
        .ok_or(ShopifyError::NotConfigured)?;
    let claims =
        session_token::verify(token, &config.api_key, &config.secrets(), super::secs(now))?;
    let sub = claims.sub.clone().ok_or(SessionAuthError::NoUser)?;
    if sub.len() > 64 || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(SessionAuthError::NoUser);
    }
    let tenant = tenants::Entity::find()
        .filter(tenants::Column::ShopDomain.eq(claims.shop.as_str()))
        .one(&state.db)
        .await
        .map_err(ShopifyError::from)?
        .ok_or(SessionAuthError::NotInstalled)?;
    if tenancy::rule(CallerKind::ShopifySession, tenant.status).is_none() {
        return Err(SessionAuthError::NotInstalled);
    }
    let tenant_id = TenantId(tenant.id);
    let external_id = format!("shopify:{sub}");
    let lookup = TenantCtx::system(tenant_id, "shopify.session");
    let user = match find_user(state, &lookup, &external_id).await? {
        Some(user) => user,
        None => {
            let role = first_sight_role(state, &claims.shop, token).await;
            create_user(state, &lookup, &external_id, &sub, role).await?
        }
    };
    tenancy::admit(Principal::ShopifySession(&user), &tenant).map_err(|refusal| match refusal {
        Refusal::UserDeactivated => SessionAuthError::UserDeactivated,
        _ => SessionAuthError::NotInstalled,
    })
}

async fn find_user(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    external_id: &str,
) -> Result<Option<users::Model>, ShopifyError> {
    Ok(scoped::<users::Entity>(ctx)
        .filter(users::Column::ExternalId.eq(external_id))
        .one(&state.db)
        .await?)
}

async fn first_sight_role(state: &ShopifyAdapter, shop: &ShopDomain, token: &str) -> Role {
    match oauth::exchange_session_token(state, shop, token, true).await {
        Ok(online)
            if online
                .associated_user
                .as_ref()
                .is_some_and(|u| u.account_owner) =>
        {
            Role::Owner
        }
        Ok(_) => Role::Viewer,
        Err(e) => {
            tracing::warn!(error = %e, "Could not ask Shopify for a new staff member's role; starting as viewer.");
            Role::Viewer
        }
    }
}

async fn create_user(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    external_id: &str,
    sub: &str,
    role: Role,
) -> Result<users::Model, ShopifyError> {
    let txn = begin_write(&state.db).await?;
    // Another request may have created the user meanwhile.
    if let Some(user) = scoped::<users::Entity>(ctx)
        .filter(users::Column::ExternalId.eq(external_id))
        .one(&txn)
        .await?
    {
        return Ok(user);
    }
    let model = users::Model {
        id: UserId::new().as_uuid(),
        tenant_id: ctx.tenant_id().as_uuid(),
        external_id: external_id.to_owned(),
        display_name: format!("Shopify staff {sub}"),
        role,
        created_at: now_ms(),
        deactivated_at: None,
    };
    users::Entity::insert(users::ActiveModel {
        id: Set(model.id),
        tenant_id: Set(model.tenant_id),
        external_id: Set(model.external_id.clone()),
        display_name: Set(model.display_name.clone()),
        role: Set(model.role),
        created_at: Set(model.created_at),
        deactivated_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "user.created",
        Subject::new("user", model.id.to_string()),
        serde_json::json!({"role": role.as_str(), "via": "shopify_session_token"}),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// What the `/app` document load resolves to.
#[derive(Debug)]
pub enum AppLoad {
    /// No session token on the URL: render the bounce page that gets App Bridge to reload
    /// with one.
    Bounce {
        /// The shop (for the CSP).
        shop: ShopDomain,
        /// The API key for App Bridge.
        api_key: String,
    },
    /// The app page for an installed shop.
    Ready {
        /// The shop (for the CSP).
        shop: ShopDomain,
        /// The API key for App Bridge.
        api_key: String,
        /// The tenant.
        tenant: TenantId,
    },
}

/// The embedded document load: checks the signed query and its session token, and on a shop
/// without a usable token runs the token exchange (managed install creates the tenant here).
pub async fn app_load(
    state: &ShopifyAdapter,
    raw_query: &str,
    now: i64,
) -> Result<AppLoad, SessionAuthError> {
    let config = state
        .shopify
        .config
        .as_ref()
        .ok_or(ShopifyError::NotConfigured)?;
    let (params, shop) = oauth::verify_admin_query(config, raw_query, now)?;
    let api_key = config.api_key.clone();
    let Some(id_token) = params.get("id_token").filter(|t| !t.is_empty()) else {
        return Ok(AppLoad::Bounce { shop, api_key });
    };
    let claims = session_token::verify(
        id_token,
        &config.api_key,
        &config.secrets(),
        super::secs(now),
    )?;
    if claims.shop != shop {
        return Err(SessionAuthError::Token(
            session_token::SessionTokenError::BadShop,
        ));
    }
    let tenant = match oauth::has_usable_token(state, &shop).await? {
        Some(t) => t,
        None => {
            let response = oauth::exchange_session_token(state, &shop, id_token, false).await?;
            let tenant = oauth::install_tenant(state, &shop, &response, now).await?;
            oauth::after_install(state, tenant).await;
            tenant
        }
    };
    Ok(AppLoad::Ready {
        shop,
        api_key,
        tenant,
    })
}
