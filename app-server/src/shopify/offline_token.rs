//! Keeping the shop's offline Admin API token usable: [`access_token`] refreshes it within five
//! minutes of expiry under a per-shop lock (in-process mutex, plus a row lock on PostgreSQL) and
//! stores the rotated pair in one transaction; [`drop_token`] deletes a revoked token and marks
//! the installation for re-auth; [`has_usable_token`] tells whether a shop needs a token
//! exchange at all.
//!
//! Token values go to `secrets::put` only; no token endpoint body is ever logged.

use leakguard_domain::audit::Subject;
use leakguard_domain::ids::TenantId;
use leakguard_domain::shop::ShopDomain;
use oauth2::RefreshToken;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use secrecy::{ExposeSecret, SecretString};

use super::oauth::{ShopifyTokenResponse, Transport, config, expiries, oauth_client, token_error};
use super::{ShopifyAdapter, ShopifyError};
use crate::audit_chain;
use crate::db::entities::{shopify_installations, tenants};
use crate::db::{begin_write, now_ms};
use crate::secrets;
use crate::tenancy::{TenantCtx, scoped};

/// Refresh an expiring token when it has less than this left.
pub const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;

/// A valid access token for the tenant's shop, refreshed first when it expires within five
/// minutes. Refreshes of one shop are serialised.
pub async fn access_token(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    now: i64,
) -> Result<SecretString, ShopifyError> {
    let installation = scoped::<shopify_installations::Entity>(ctx)
        .one(&state.db)
        .await?
        .ok_or(ShopifyError::ReauthRequired)?;
    if installation.needs_reauth || installation.uninstalled_at.is_some() {
        return Err(ShopifyError::ReauthRequired);
    }
    let fresh = |i: &shopify_installations::Model| {
        i.access_expires_at
            .is_none_or(|at| at - now > REFRESH_MARGIN_MS)
    };
    if fresh(&installation) {
        return secrets::get(&state.db, &state.keyring, ctx, super::ACCESS_TOKEN_SECRET)
            .await?
            .ok_or(ShopifyError::ReauthRequired);
    }
    let lock = state.shopify.refresh_lock(ctx.tenant_id().as_uuid());
    let _guard = lock.lock().await;
    match state.db.get_database_backend() {
        DbBackend::Postgres => {
            // Row lock across replicas: a second replica waits here, then sees the new expiry.
            let txn = begin_write(&state.db).await?;
            let current = scoped::<shopify_installations::Entity>(ctx)
                .lock_exclusive()
                .one(&txn)
                .await?
                .ok_or(ShopifyError::ReauthRequired)?;
            if fresh(&current) {
                txn.commit().await?;
                return secrets::get(&state.db, &state.keyring, ctx, super::ACCESS_TOKEN_SECRET)
                    .await?
                    .ok_or(ShopifyError::ReauthRequired);
            }
            let token = refresh_in(&txn, state, ctx, &current, now).await;
            match token {
                Ok(token) => {
                    txn.commit().await?;
                    Ok(token)
                }
                Err(e) => {
                    txn.rollback().await?;
                    if matches!(e, ShopifyError::ReauthRequired) {
                        drop_token(state, ctx, "refresh_refused").await?;
                    }
                    Err(e)
                }
            }
        }
        _ => {
            let current = scoped::<shopify_installations::Entity>(ctx)
                .one(&state.db)
                .await?
                .ok_or(ShopifyError::ReauthRequired)?;
            if fresh(&current) {
                return secrets::get(&state.db, &state.keyring, ctx, super::ACCESS_TOKEN_SECRET)
                    .await?
                    .ok_or(ShopifyError::ReauthRequired);
            }
            // SQLite has one writer: take the write lock only to store the result.
            let response = refresh_call(state, ctx, &current, now).await;
            let response = match response {
                Ok(r) => r,
                Err(ShopifyError::ReauthRequired) => {
                    drop_token(state, ctx, "refresh_refused").await?;
                    return Err(ShopifyError::ReauthRequired);
                }
                Err(e) => return Err(e),
            };
            let txn = begin_write(&state.db).await?;
            store_refreshed(&txn, state, ctx, &response, now).await?;
            txn.commit().await?;
            Ok(response.access_token_secret())
        }
    }
}

async fn refresh_call(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    installation: &shopify_installations::Model,
    now: i64,
) -> Result<ShopifyTokenResponse, ShopifyError> {
    let config = config(state)?;
    if installation.refresh_expires_at.is_some_and(|at| at <= now) {
        return Err(ShopifyError::ReauthRequired);
    }
    let refresh = secrets::get(&state.db, &state.keyring, ctx, super::REFRESH_TOKEN_SECRET)
        .await?
        .ok_or(ShopifyError::ReauthRequired)?;
    let shop = ShopDomain::parse(&installation.shop_domain).map_err(|e| {
        ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidShopDomain,
            e.to_string(),
        ))
    })?;
    let client = oauth_client(config, &shop)?;
    let adapter = Transport(state.shopify.http.clone());
    let refresh = RefreshToken::new(refresh.expose_secret().to_owned());
    client
        .exchange_refresh_token(&refresh)
        .request_async(&adapter)
        .await
        .map_err(|e| match token_error(e) {
            ShopifyError::Unauthorized(_) => ShopifyError::ReauthRequired,
            other => other,
        })
}

async fn store_refreshed<C: ConnectionTrait>(
    txn: &C,
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    response: &ShopifyTokenResponse,
    now: i64,
) -> Result<(), ShopifyError> {
    let (access_expires, refresh_expires) = expiries(response, now);
    let mut update = shopify_installations::Entity::update_many()
        .col_expr(
            shopify_installations::Column::AccessExpiresAt,
            Expr::value(access_expires),
        )
        .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now));
    // A refresh answer may omit the refresh token's lifetime: keep the one we had.
    if refresh_expires.is_some() {
        update = update.col_expr(
            shopify_installations::Column::RefreshExpiresAt,
            Expr::value(refresh_expires),
        );
    }
    update
        .filter(shopify_installations::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .exec(txn)
        .await?;
    secrets::put(
        txn,
        &state.keyring,
        ctx,
        super::ACCESS_TOKEN_SECRET,
        response.access_token.secret().as_bytes(),
    )
    .await?;
    if let Some(refresh) = &response.refresh_token {
        secrets::put(
            txn,
            &state.keyring,
            ctx,
            super::REFRESH_TOKEN_SECRET,
            refresh.secret().as_bytes(),
        )
        .await?;
    }
    audit_chain::record(
        txn,
        ctx,
        "shopify.token_refreshed",
        Subject::new("tenant", ctx.tenant_id().to_string()),
        serde_json::json!({"access_expires_at": access_expires, "rotated_refresh_token": response.refresh_token.is_some()}),
    )
    .await?;
    Ok(())
}

async fn refresh_in<C: ConnectionTrait>(
    txn: &C,
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    installation: &shopify_installations::Model,
    now: i64,
) -> Result<SecretString, ShopifyError> {
    let response = refresh_call(state, ctx, installation, now).await?;
    store_refreshed(txn, state, ctx, &response, now).await?;
    Ok(response.access_token_secret())
}

/// Deletes the shop's tokens and marks the installation for re-auth (a revoked token, or a
/// refresh Shopify refused).
pub async fn drop_token(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    reason: &str,
) -> Result<(), ShopifyError> {
    let txn = begin_write(&state.db).await?;
    shopify_installations::Entity::update_many()
        .col_expr(
            shopify_installations::Column::NeedsReauth,
            Expr::value(true),
        )
        .col_expr(
            shopify_installations::Column::UpdatedAt,
            Expr::value(now_ms()),
        )
        .filter(shopify_installations::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .exec(&txn)
        .await?;
    secrets::delete(&txn, ctx, super::ACCESS_TOKEN_SECRET).await?;
    secrets::delete(&txn, ctx, super::REFRESH_TOKEN_SECRET).await?;
    audit_chain::record(
        &txn,
        ctx,
        "shopify.reauth_required",
        Subject::new("tenant", ctx.tenant_id().to_string()),
        serde_json::json!({"reason": reason}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// True when the tenant of `shop` is active with a usable token (no exchange needed).
pub async fn has_usable_token(
    state: &ShopifyAdapter,
    shop: &ShopDomain,
) -> Result<Option<TenantId>, ShopifyError> {
    let Some(tenant) = tenants::Entity::find()
        .filter(tenants::Column::ShopDomain.eq(shop.as_str()))
        .filter(tenants::Column::Status.eq(tenants::Status::Active))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let ctx = TenantCtx::system(TenantId(tenant.id), "shopify.app");
    let usable = scoped::<shopify_installations::Entity>(&ctx)
        .one(&state.db)
        .await?
        .is_some_and(|i| !i.needs_reauth && i.uninstalled_at.is_none());
    Ok(usable.then_some(TenantId(tenant.id)))
}
