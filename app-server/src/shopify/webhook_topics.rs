//! What each non-compliance topic does once its delivery is processed: orders, customers and
//! bulk operations become `shopify_signals`; `app/scopes_update` records the granted scopes;
//! `app/uninstalled` marks the tenant uninstalled and drops its tokens, but only once Shopify
//! confirms it ([`confirm_uninstall`]): a replayed or re-labelled uninstall of a shop that
//! still has LeakGuard installed changes nothing but an audit entry.

use leakguard_domain::audit::Subject;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::ShopifyAdapter;
use super::{ShopifyError, compliance};
use crate::audit_chain;
use crate::db::entities::{shopify_installations, shopify_signals, tenants, webhook_deliveries};
use crate::tenancy::{TenantCtx, scoped};
use secrecy::ExposeSecret;

/// What Shopify says about an uninstall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UninstallCheck {
    /// The Admin API refused the shop's token (401), or refused to refresh it: uninstalled.
    TokenRevoked,
    /// No usable token to ask with (never installed through OAuth, or dropped already): the
    /// body's binding to the shop is all there is, and it held at intake.
    NoToken,
    /// The Admin API still answers the shop's token: the app is installed; nothing happens.
    TokenWorks,
}

/// Asks the Admin API whether the tenant's token still works. Transport and upstream errors
/// are returned (the delivery is retried later), never taken as an answer.
pub async fn confirm_uninstall(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    now: i64,
) -> Result<UninstallCheck, ShopifyError> {
    let active = tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(&state.db)
        .await?
        .is_some_and(|t| t.status == tenants::Status::Active);
    let installation = scoped::<shopify_installations::Entity>(ctx)
        .one(&state.db)
        .await?
        .filter(|i| !i.needs_reauth && i.uninstalled_at.is_none());
    let Some(installation) = installation.filter(|_| active) else {
        return Ok(UninstallCheck::NoToken);
    };
    // A plain `{ shop { id } }` call with the stored access token. The token is not refreshed
    // here (the refresh path's future is not `Send`, and processing runs in spawned tasks):
    // when the stored token has expired the answer is [`UninstallCheck::NoToken`] and the
    // binding checked at intake is what holds.
    let expired = installation.access_expires_at.is_some_and(|at| at <= now);
    let stored =
        crate::secrets::get(&state.db, &state.keyring, ctx, super::ACCESS_TOKEN_SECRET).await?;
    let Some(token) = stored.filter(|_| !expired) else {
        return Ok(UninstallCheck::NoToken);
    };
    let url = super::admin_api::graphql_url(state, &installation)?;
    let status = state
        .shopify
        .http
        .post(&url)
        .header("X-Shopify-Access-Token", token.expose_secret())
        .header("accept", "application/json")
        .json(&serde_json::json!({"query": "{ shop { id } }"}))
        .send()
        .await
        .map_err(|e| ShopifyError::Upstream(e.without_url().to_string()))?
        .status()
        .as_u16();
    match status {
        401 => {
            super::oauth::drop_token(state, ctx, "admin_api_401").await?;
            Ok(UninstallCheck::TokenRevoked)
        }
        // 200 (with data or a scope error) or 429 (throttled): the token is alive.
        200..=299 | 429 => Ok(UninstallCheck::TokenWorks),
        other => Err(ShopifyError::Upstream(format!(
            "Admin API answered HTTP {other}"
        ))),
    }
}

fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        _ => None,
    }
}

/// The customer a customer or order payload is about.
pub fn payload_customer_id(topic: &str, payload: &Value) -> Option<String> {
    if topic.starts_with("customers/") {
        id_text(payload.get("id"))
    } else {
        id_text(payload.get("customer").and_then(|c| c.get("id")))
    }
}

pub(super) async fn store_signal<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
) -> Result<(), ShopifyError> {
    let resource =
        id_text(payload.get("id")).or_else(|| id_text(payload.get("admin_graphql_api_id")));
    let id = Uuid::now_v7();
    shopify_signals::Entity::insert(shopify_signals::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(id),
        delivery_id: Set(row.id),
        topic: Set(row.topic.clone()),
        resource_id: Set(resource),
        customer_id: Set(payload_customer_id(&row.topic, payload)),
        received_at: Set(row.received_at),
        payload: Set(payload.to_string()),
    })
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "shopify.signal_stored",
        Subject::new("shopify_signal", id.to_string()),
        serde_json::json!({"topic": row.topic, "delivery": row.id.to_string()}),
    )
    .await?;
    Ok(())
}

pub(super) async fn app_uninstalled<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    check: UninstallCheck,
    now: i64,
) -> Result<(), ShopifyError> {
    let Some(tenant) = tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let installation = scoped::<shopify_installations::Entity>(ctx)
        .one(txn)
        .await?;
    // An uninstall from before the latest (re)install is stale: ignore it.
    let stale = installation
        .as_ref()
        .is_some_and(|i| i.installed_at > row.received_at);
    if tenant.status != tenants::Status::Active || stale {
        return Ok(());
    }
    if check == UninstallCheck::TokenWorks {
        audit_chain::record(
            txn,
            ctx,
            "shopify.app_uninstall_unconfirmed",
            Subject::new("tenant", tenant.id.to_string()),
            serde_json::json!({
                "delivery": row.id.to_string(),
                "reason": "the Admin API still accepts the shop's token",
            }),
        )
        .await?;
        return Ok(());
    }
    let shop_redact_due = now + compliance::SHOP_REDACT_AFTER_MS + compliance::DEADLINE_MS;
    tenants::Entity::update_many()
        .col_expr(
            tenants::Column::Status,
            Expr::value(tenants::Status::Uninstalled),
        )
        .col_expr(tenants::Column::UninstalledAt, Expr::value(now))
        .filter(tenants::Column::Id.eq(tenant.id))
        .exec(txn)
        .await?;
    shopify_installations::Entity::update_many()
        .col_expr(
            shopify_installations::Column::UninstalledAt,
            Expr::value(now),
        )
        .col_expr(
            shopify_installations::Column::ShopRedactDueAt,
            Expr::value(shop_redact_due),
        )
        .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            shopify_installations::Column::AccessExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .filter(shopify_installations::Column::TenantId.eq(tenant.id))
        .exec(txn)
        .await?;
    crate::secrets::delete(txn, ctx, super::ACCESS_TOKEN_SECRET).await?;
    crate::secrets::delete(txn, ctx, super::REFRESH_TOKEN_SECRET).await?;
    audit_chain::record(
        txn,
        ctx,
        "shopify.app_uninstalled",
        Subject::new("tenant", tenant.id.to_string()),
        serde_json::json!({
            "delivery": row.id.to_string(),
            "shop_redact_due_at": shop_redact_due,
            "confirmed_by": match check {
                UninstallCheck::TokenRevoked => "admin_api_401",
                _ => "shop_binding",
            },
        }),
    )
    .await?;
    Ok(())
}

pub(super) async fn scopes_update<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
    now: i64,
) -> Result<(), ShopifyError> {
    let scopes = |key: &str| -> Vec<String> {
        payload
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let current = scopes("current");
    let previous = scopes("previous");
    let updated = shopify_installations::Entity::update_many()
        .col_expr(
            shopify_installations::Column::GrantedScopes,
            Expr::value(current.join(",")),
        )
        .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now))
        .filter(shopify_installations::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .exec(txn)
        .await?;
    audit_chain::record(
        txn,
        ctx,
        "shopify.scopes_updated",
        Subject::new("tenant", ctx.tenant_id().to_string()),
        serde_json::json!({
            "current": current,
            "previous": previous,
            "source": "app/scopes_update",
            "delivery": row.id.to_string(),
            "installation_known": updated.rows_affected == 1,
        }),
    )
    .await?;
    Ok(())
}
