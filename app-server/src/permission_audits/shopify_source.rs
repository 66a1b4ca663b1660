//! The Shopify snapshot source: every app installation with its granted scopes
//! (`appInstallations`, paginated), and LeakGuard's own (`currentAppInstallation`).
//!
//! `appInstallations` needs `read_apps`, which Shopify Support grants only to custom-distribution
//! apps (specs/shopify.md §0). Without it the query answers `ACCESS_DENIED`; the source then
//! reports what is visible (our own installation, else the last `app/scopes_update` in the audit
//! chain), marks the snapshot incomplete and tells the tenant admin how to get the grant.
//!
//! The GraphQL transport is the small [`AdminGraphql`] trait, so tests speak to a local fake
//! Shopify over real HTTP. This module reads; it writes nothing.

use leakguard_domain::permissions::{Platform, Principal, PrincipalKind, Snapshot};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use super::source::{Collected, SnapshotSource, SourceError};
use crate::db::entities::audit_entries;
use crate::tenancy::{TenantCtx, scoped};

/// The scopes LeakGuard's own features call (shopify-extension/shopify.app.toml).
pub const OWN_SCOPES_USED: [&str; 3] = ["read_customers", "read_orders", "read_apps"];

/// Every installed app with its scopes, one page at a time.
pub const APP_INSTALLATIONS_QUERY: &str = "query AppInstallations($first: Int!, $after: String) { \
appInstallations(first: $first, after: $after) { \
edges { cursor node { id app { id title handle developerName } accessScopes { handle } } } \
pageInfo { hasNextPage endCursor } } }";

/// Our own installation (any app may read it).
pub const CURRENT_APP_INSTALLATION_QUERY: &str = "query CurrentAppInstallation { \
currentAppInstallation { id app { id title handle } accessScopes { handle } } }";

/// Page size of `appInstallations` (at most 250).
const PAGE_SIZE: i64 = 100;
/// Shopify stops paging at 25,000 objects.
const MAX_PAGES: usize = 250;

/// What the tenant admin reads when `read_apps` is missing.
pub const READ_APPS_NOTICE: &str = "LeakGuard could not list the other apps installed on your store, \
so this audit covers only LeakGuard's own access. Listing every app and its permissions needs the \
read_apps permission, and Shopify grants it only to custom-distribution apps, only through Shopify \
Support (apps from the public App Store cannot get it). To audit every app: install LeakGuard as a \
custom-distribution app for your store or your Shopify Plus organization, then contact Shopify \
Support from your admin (Help, then Contact support) and ask them to enable the read_apps access \
scope for that app. The next audit after they confirm will include every installed app.";

/// Failures of a GraphQL call the source branches on.
#[derive(Debug, thiserror::Error)]
pub enum GraphqlError {
    /// `ACCESS_DENIED`: a scope is missing (here: `read_apps`).
    #[error("access denied by Shopify for {path}")]
    AccessDenied {
        /// The denied GraphQL path.
        path: String,
    },
    /// Still throttled after the retries.
    #[error("throttled by Shopify")]
    Throttled,
    /// Token revoked or the shop unreachable; safe to show.
    #[error("{0}")]
    Failed(String),
}

/// Posts one Admin GraphQL query and returns its `data`.
pub trait AdminGraphql: Send + Sync {
    /// Runs `query` with `variables`.
    fn execute(
        &self,
        query: &'static str,
        variables: Value,
    ) -> impl Future<Output = Result<Value, GraphqlError>> + Send;
}

/// An Admin GraphQL client over reqwest with throttle handling: a `THROTTLED` error (HTTP 200
/// or 429) waits until the leaky bucket holds the query's cost, read from
/// `extensions.cost.throttleStatus`, then retries.
pub struct HttpAdminGraphql {
    http: reqwest::Client,
    endpoint: String,
    token: SecretString,
    max_attempts: usize,
}

impl HttpAdminGraphql {
    /// A client for `endpoint` (`…/admin/api/{version}/graphql.json`).
    pub fn new(http: reqwest::Client, endpoint: String, token: SecretString) -> Self {
        Self {
            http,
            endpoint,
            token,
            max_attempts: 5,
        }
    }
}

/// How long to wait for the bucket to hold the query's cost.
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
    Duration::from_secs_f64(((requested - available).max(0.0) / rate).clamp(0.001, 10.0))
}

fn error_code(error: &Value) -> Option<&str> {
    error
        .get("extensions")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
}

impl AdminGraphql for HttpAdminGraphql {
    async fn execute(&self, query: &'static str, variables: Value) -> Result<Value, GraphqlError> {
        {
            let body = json!({"query": query, "variables": variables});
            for _ in 0..self.max_attempts {
                let response = self
                    .http
                    .post(&self.endpoint)
                    .header("X-Shopify-Access-Token", self.token.expose_secret())
                    .header("accept", "application/json")
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| {
                        GraphqlError::Failed(format!("Shopify is unreachable: {}", e.without_url()))
                    })?;
                let status = response.status().as_u16();
                if status == 401 {
                    return Err(GraphqlError::Failed(
                        "Shopify refused LeakGuard's access token; reinstall or re-authorize the app".into(),
                    ));
                }
                if !(200..300).contains(&status) && status != 429 {
                    return Err(GraphqlError::Failed(format!(
                        "the Shopify Admin API answered HTTP {status}"
                    )));
                }
                let raw: Value = response.json().await.unwrap_or(Value::Null);
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
                    return Err(GraphqlError::AccessDenied { path });
                }
                return match raw.get("data").filter(|d| !d.is_null()) {
                    Some(data) => Ok(data.clone()),
                    None => {
                        let codes: Vec<&str> = errors
                            .iter()
                            .map(|e| error_code(e).unwrap_or("UNKNOWN"))
                            .collect();
                        Err(GraphqlError::Failed(format!(
                            "the Shopify Admin API returned errors: {}",
                            codes.join(", ")
                        )))
                    }
                };
            }
            Err(GraphqlError::Throttled)
        }
    }
}

/// Reads a Shopify store's app installations through an [`AdminGraphql`] transport.
pub struct ShopifySource<G> {
    graphql: G,
    db: DatabaseConnection,
}

impl<G: AdminGraphql> ShopifySource<G> {
    /// A source over `graphql`; `db` is read for the `app/scopes_update` history.
    pub fn new(graphql: G, db: DatabaseConnection) -> Self {
        Self { graphql, db }
    }
}

fn scopes_of(node: &Value) -> BTreeSet<String> {
    node.get("accessScopes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.get("handle").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn text(node: &Value, path: &[&str]) -> Option<String> {
    let mut v = node;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str().map(str::to_owned)
}

fn principal_from(node: &Value, own_app_id: Option<&str>) -> Option<Principal> {
    let app_id = text(node, &["app", "id"])?;
    let own = own_app_id == Some(app_id.as_str());
    let mut attributes = BTreeMap::new();
    if let Some(install) = text(node, &["id"]) {
        attributes.insert("installation_id".into(), Value::String(install));
    }
    if let Some(dev) = text(node, &["app", "developerName"]) {
        attributes.insert("developer".into(), Value::String(dev));
    }
    Some(Principal {
        key: format!("shopify_app:{app_id}"),
        kind: if own {
            PrincipalKind::OwnApp
        } else {
            PrincipalKind::App
        },
        name: text(node, &["app", "title"]).unwrap_or_else(|| app_id.clone()),
        grants: scopes_of(node),
        attributes,
    })
}

/// The latest scopes LeakGuard was granted according to `app/scopes_update` (and scope syncs)
/// recorded in the tenant's audit chain, with the number of changes seen.
async fn scopes_history(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
) -> Result<(Option<BTreeSet<String>>, usize), SourceError> {
    let rows = scoped::<audit_entries::Entity>(ctx)
        .filter(audit_entries::Column::Action.eq("shopify.scopes_updated"))
        .order_by_desc(audit_entries::Column::Seq)
        .all(db)
        .await?;
    let latest = rows.first().and_then(|row| {
        let details: Value = serde_json::from_str(&row.details).ok()?;
        let current = details.get("current")?.as_array()?;
        Some(
            current
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        )
    });
    Ok((latest, rows.len()))
}

impl<G: AdminGraphql> SnapshotSource for ShopifySource<G> {
    fn platform(&self) -> Platform {
        Platform::Shopify
    }

    fn collect(&self, ctx: &TenantCtx) -> impl Future<Output = Result<Collected, SourceError>> {
        let ctx = ctx.clone();
        async move {
            let own_scopes_used: BTreeSet<String> =
                OWN_SCOPES_USED.iter().map(|s| (*s).to_owned()).collect();
            let own = match self
                .graphql
                .execute(CURRENT_APP_INSTALLATION_QUERY, json!({}))
                .await
            {
                Ok(data) => data
                    .get("currentAppInstallation")
                    .and_then(|node| principal_from(node, text(node, &["app", "id"]).as_deref())),
                Err(GraphqlError::AccessDenied { .. }) => None,
                Err(e) => return Err(SourceError::Unavailable(e.to_string())),
            };
            let own_app_id = own
                .as_ref()
                .map(|p| p.key.trim_start_matches("shopify_app:").to_owned());

            let mut principals: Vec<Principal> = Vec::new();
            let mut after: Option<String> = None;
            let mut complete = true;
            for _ in 0..MAX_PAGES {
                let page = self
                    .graphql
                    .execute(
                        APP_INSTALLATIONS_QUERY,
                        json!({"first": PAGE_SIZE, "after": after}),
                    )
                    .await;
                let data = match page {
                    Ok(data) => data,
                    Err(GraphqlError::AccessDenied { .. }) => {
                        complete = false;
                        break;
                    }
                    Err(e) => return Err(SourceError::Unavailable(e.to_string())),
                };
                let connection = data.get("appInstallations").cloned().unwrap_or(Value::Null);
                for edge in connection
                    .get("edges")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    if let Some(p) = edge
                        .get("node")
                        .and_then(|n| principal_from(n, own_app_id.as_deref()))
                    {
                        principals.push(p);
                    }
                }
                let info = connection.get("pageInfo");
                let more = info
                    .and_then(|i| i.get("hasNextPage"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                after = info
                    .and_then(|i| i.get("endCursor"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if !more || after.is_none() {
                    break;
                }
            }

            let (history, changes) = scopes_history(&self.db, &ctx).await?;
            let own = match own {
                Some(p) => Some(p),
                None => history.map(|grants| Principal {
                    key: "shopify_app:leakguard".into(),
                    kind: PrincipalKind::OwnApp,
                    name: "LeakGuard".into(),
                    grants,
                    attributes: BTreeMap::from([(
                        "source".to_owned(),
                        Value::String("app/scopes_update".into()),
                    )]),
                }),
            };
            if let Some(mut own) = own {
                own.attributes
                    .insert("scope_changes_recorded".into(), Value::from(changes));
                match principals.iter_mut().find(|p| p.key == own.key) {
                    Some(listed) => {
                        listed.kind = PrincipalKind::OwnApp;
                        listed.attributes.extend(own.attributes);
                    }
                    None => principals.push(own),
                }
            } else if !complete {
                return Err(SourceError::Unavailable(
                    "Shopify denied access to the store's apps and to LeakGuard's own installation"
                        .into(),
                ));
            }
            principals.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(Collected {
                snapshot: Snapshot {
                    platform: Platform::Shopify,
                    principals,
                    complete,
                    settings: BTreeMap::new(),
                },
                notice: (!complete).then(|| READ_APPS_NOTICE.to_owned()),
                own_scopes_used,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_wait_follows_the_bucket() {
        let ext = json!({"cost": {"requestedQueryCost": 102, "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": 2, "restoreRate": 50}}});
        assert_eq!(throttle_wait(Some(&ext)), Duration::from_secs(2));
        let plenty = json!({"cost": {"requestedQueryCost": 1, "throttleStatus": {"currentlyAvailable": 900, "restoreRate": 1000}}});
        assert_eq!(throttle_wait(Some(&plenty)), Duration::from_millis(1));
    }

    #[test]
    fn an_installation_node_becomes_a_principal() {
        let node = json!({"id": "gid://shopify/AppInstallation/9", "app": {"id": "gid://shopify/App/1", "title": "Reviews"}, "accessScopes": [{"handle": "read_products"}, {"handle": "read_customers"}]});
        let p = principal_from(&node, Some("gid://shopify/App/2"))
            .unwrap_or_else(|| panic!("no principal"));
        assert_eq!(p.key, "shopify_app:gid://shopify/App/1");
        assert_eq!(p.kind, PrincipalKind::App);
        assert_eq!(p.name, "Reviews");
        assert!(p.grants.contains("read_customers"));
        let own = principal_from(&node, Some("gid://shopify/App/1"))
            .unwrap_or_else(|| panic!("no principal"));
        assert_eq!(own.kind, PrincipalKind::OwnApp);
    }
}
