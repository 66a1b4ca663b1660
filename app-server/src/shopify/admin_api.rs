//! The Admin GraphQL API client: queries are checked at compile time against the schema subset
//! in `app-server/graphql/` (`graphql_client`, `build_query()`), and posted with our reqwest.
//!
//! - Throttling: a `THROTTLED` error (on HTTP 200 or 429) waits for the leaky bucket to hold
//!   the query's cost, computed from `extensions.cost.throttleStatus`, and retries.
//! - `errors[]` on HTTP 200 is read every time: `ACCESS_DENIED` is [`AdminApiError::AccessDenied`]
//!   (a missing scope, or `read_apps` on a public app); partial data with other errors is
//!   returned with the errors logged by code only (a null protected field means "not approved").
//! - HTTP 401 means the token was revoked: it is dropped and the shop marked for re-auth.

use graphql_client::GraphQLQuery;
use leakguard_domain::audit::Subject;
use sea_orm::ColumnTrait;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use sea_orm::sea_query::Expr;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::time::Duration;

use super::ShopifyAdapter;
use super::{ShopifyError, oauth};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::shopify_installations;
use crate::tenancy::{TenantCtx, scoped};

/// `currentAppInstallation { accessScopes }`: the scopes the merchant granted to LeakGuard.
#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/current_app_installation.graphql",
    response_derives = "Debug"
)]
pub struct CurrentAppInstallation;

/// Admin API failures callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum AdminApiError {
    /// The app lacks a scope for a field (GraphQL `ACCESS_DENIED`).
    #[error("access denied by Shopify for {path}")]
    AccessDenied {
        /// The GraphQL path that was denied.
        path: String,
    },
    /// Still throttled after the retries.
    #[error("throttled by Shopify")]
    Throttled,
    /// GraphQL errors and no data (codes only).
    #[error("GraphQL errors: {0}")]
    GraphQl(String),
    /// Token, transport or HTTP failures.
    #[error(transparent)]
    Shopify(#[from] ShopifyError),
}

impl From<sea_orm::DbErr> for AdminApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Shopify(e.into())
    }
}

const MAX_ATTEMPTS: usize = 4;

/// How long to wait for the bucket to hold the query's cost, from a response's extensions.
pub fn throttle_wait(extensions: Option<&Value>) -> Duration {
    let cost = extensions.and_then(|e| e.get("cost"));
    let requested = cost
        .and_then(|c| c.get("requestedQueryCost"))
        .and_then(Value::as_f64)
        .unwrap_or(50.0);
    let status = cost.and_then(|c| c.get("throttleStatus"));
    let available = status
        .and_then(|s| s.get("currentlyAvailable"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let rate = status
        .and_then(|s| s.get("restoreRate"))
        .and_then(Value::as_f64)
        .filter(|r| *r > 0.0)
        .unwrap_or(50.0);
    let secs = ((requested - available).max(0.0) / rate).clamp(0.05, 10.0);
    Duration::from_secs_f64(secs)
}

fn error_code(error: &Value) -> Option<&str> {
    error
        .get("extensions")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
}

/// The Admin GraphQL endpoint of an installation's shop.
pub(super) fn graphql_url(
    state: &ShopifyAdapter,
    installation: &shopify_installations::Model,
) -> Result<String, ShopifyError> {
    let config = state
        .shopify
        .config
        .as_ref()
        .ok_or(ShopifyError::NotConfigured)?;
    let shop =
        leakguard_domain::shop::ShopDomain::parse(&installation.shop_domain).map_err(|e| {
            ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidShopDomain,
                e.to_string(),
            ))
        })?;
    Ok(format!(
        "{}/admin/api/{}/graphql.json",
        config.shop_base(&shop),
        config.api_version
    ))
}

/// Posts a query for the tenant's shop and returns its data.
pub async fn query<Q: GraphQLQuery>(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    variables: Q::Variables,
    now: i64,
) -> Result<Q::ResponseData, AdminApiError> {
    let installation = scoped::<shopify_installations::Entity>(ctx)
        .one(&state.db)
        .await?
        .ok_or(ShopifyError::ReauthRequired)?;
    let url = graphql_url(state, &installation)?;
    let body = serde_json::to_value(Q::build_query(variables))
        .map_err(|e| ShopifyError::Unexpected(e.into()))?;
    for _ in 0..MAX_ATTEMPTS {
        let token = oauth::access_token(state, ctx, now).await?;
        let response = state
            .shopify
            .http
            .post(&url)
            .header("X-Shopify-Access-Token", token.expose_secret())
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| ShopifyError::Upstream(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if status == 401 {
            oauth::drop_token(state, ctx, "admin_api_401").await?;
            return Err(ShopifyError::ReauthRequired.into());
        }
        let raw: Value = if (200..300).contains(&status) || status == 429 {
            response.json().await.unwrap_or(Value::Null)
        } else {
            return Err(ShopifyError::Upstream(format!("Admin API answered HTTP {status}")).into());
        };
        let errors = raw
            .get("errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if status == 429 || errors.iter().any(|e| error_code(e) == Some("THROTTLED")) {
            tokio::time::sleep(throttle_wait(raw.get("extensions"))).await;
            continue;
        }
        if let Some(denied) = errors
            .iter()
            .find(|e| error_code(e) == Some("ACCESS_DENIED"))
        {
            let path = denied
                .get("path")
                .map(Value::to_string)
                .unwrap_or_else(|| "(no path)".into());
            return Err(AdminApiError::AccessDenied { path });
        }
        let codes: Vec<String> = errors
            .iter()
            .map(|e| error_code(e).unwrap_or("UNKNOWN").to_owned())
            .collect();
        match raw.get("data").filter(|d| !d.is_null()) {
            Some(data) => {
                if !codes.is_empty() {
                    tracing::warn!(codes = ?codes, "Admin API returned partial data with errors.");
                }
                return serde_json::from_value(data.clone()).map_err(|_| {
                    ShopifyError::Upstream("Admin API data does not match the query".into()).into()
                });
            }
            None => return Err(AdminApiError::GraphQl(codes.join(","))),
        }
    }
    Err(AdminApiError::Throttled)
}

/// Reads `currentAppInstallation.accessScopes` and records them as the granted scopes (with an
/// audit entry when they changed). Returns the scopes.
pub async fn sync_granted_scopes(
    state: &ShopifyAdapter,
    ctx: &TenantCtx,
    now: i64,
) -> Result<Vec<String>, AdminApiError> {
    let data =
        query::<CurrentAppInstallation>(state, ctx, current_app_installation::Variables {}, now)
            .await?;
    let mut scopes: Vec<String> = data
        .current_app_installation
        .access_scopes
        .into_iter()
        .map(|s| s.handle)
        .collect();
    scopes.sort();
    let joined = scopes.join(",");
    let txn = begin_write(&state.db).await?;
    let before = scoped::<shopify_installations::Entity>(ctx)
        .one(&txn)
        .await?
        .map(|i| i.granted_scopes)
        .unwrap_or_default();
    if before != joined {
        shopify_installations::Entity::update_many()
            .col_expr(
                shopify_installations::Column::GrantedScopes,
                Expr::value(joined.clone()),
            )
            .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now))
            .filter(shopify_installations::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
            .exec(&txn)
            .await?;
        audit_chain::record(
            &txn,
            ctx,
            "shopify.scopes_updated",
            Subject::new("tenant", ctx.tenant_id().to_string()),
            serde_json::json!({"current": scopes, "source": "currentAppInstallation"}),
        )
        .await
        .map_err(ShopifyError::from)?;
    }
    txn.commit().await?;
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_wait_follows_the_bucket() {
        let ext = serde_json::json!({"cost": {"requestedQueryCost": 102, "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": 2, "restoreRate": 50}}});
        assert_eq!(throttle_wait(Some(&ext)), Duration::from_secs(2));
        let plenty = serde_json::json!({"cost": {"requestedQueryCost": 1, "throttleStatus": {"currentlyAvailable": 900, "restoreRate": 1000}}});
        assert_eq!(throttle_wait(Some(&plenty)), Duration::from_millis(50));
    }
}
