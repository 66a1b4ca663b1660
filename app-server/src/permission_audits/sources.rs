//! Choosing the snapshot source of a tenant from its platform: the Shopify Admin API with the
//! shop's stored token, or the Magento module's latest permission report.

use leakguard_domain::permissions::Platform;
use sea_orm::{DatabaseConnection, QueryOrder};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

use super::AuditsError;
use super::magento_source::{MagentoSource, ModuleReports};
use super::shopify_source::{
    APP_INSTALLATIONS_QUERY, AdminGraphql, CURRENT_APP_INSTALLATION_QUERY, GraphqlError,
    HttpAdminGraphql, ShopifySource,
};
use super::source::{Collected, SnapshotSource, SourceError};
use crate::config::ShopifySettings;
use crate::db::entities::{permission_snapshots, shopify_installations, tenants};
use crate::shopify::ShopifyAdapter;
use crate::shopify::admin_api::{self, AdminApiError};
use crate::tenancy::{TenantCtx, scoped};

/// The Admin API version used when none is configured.
pub const DEFAULT_API_VERSION: &str = "2026-10";

/// The module's reports as stored by the Magento adapter (`permission_snapshots`).
pub struct StoredReports {
    db: DatabaseConnection,
}

impl StoredReports {
    /// Reads from `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl ModuleReports for StoredReports {
    async fn latest(&self, ctx: &TenantCtx) -> Result<Option<(Value, i64)>, SourceError> {
        let Some(row) = scoped::<permission_snapshots::Entity>(ctx)
            .order_by_desc(permission_snapshots::Column::ReceivedAt)
            .order_by_desc(permission_snapshots::Column::Id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let report: Value = serde_json::from_str(&row.snapshot).map_err(|e| {
            SourceError::Unexpected(anyhow::anyhow!(
                "stored permission snapshot is not JSON: {e}"
            ))
        })?;
        Ok(Some((report, row.received_at)))
    }
}

/// The Admin API client of an installed app (`shopify::admin_api`: token refresh, throttling,
/// typed `ACCESS_DENIED`), for the audit's two queries.
pub struct InstalledAdminGraphql<'a> {
    state: &'a ShopifyAdapter,
    ctx: TenantCtx,
    now_ms: i64,
}

fn graphql_error(e: AdminApiError) -> GraphqlError {
    match e {
        AdminApiError::AccessDenied { path } => GraphqlError::AccessDenied { path },
        AdminApiError::Throttled => GraphqlError::Throttled,
        other => GraphqlError::Failed(other.to_string()),
    }
}

impl AdminGraphql for InstalledAdminGraphql<'_> {
    async fn execute(&self, query: &'static str, variables: Value) -> Result<Value, GraphqlError> {
        use crate::shopify::app_installations::{
            AppInstallations, OwnInstallation, app_installations, own_installation,
        };
        let bad =
            |e: serde_json::Error| GraphqlError::Failed(format!("unexpected Admin API data: {e}"));
        if query == APP_INSTALLATIONS_QUERY {
            let vars: app_installations::Variables =
                serde_json::from_value(variables).map_err(bad)?;
            let data =
                admin_api::query::<AppInstallations>(self.state, &self.ctx, vars, self.now_ms)
                    .await
                    .map_err(graphql_error)?;
            serde_json::to_value(data).map_err(bad)
        } else if query == CURRENT_APP_INSTALLATION_QUERY {
            let data = admin_api::query::<OwnInstallation>(
                self.state,
                &self.ctx,
                own_installation::Variables {},
                self.now_ms,
            )
            .await
            .map_err(graphql_error)?;
            serde_json::to_value(data).map_err(bad)
        } else {
            Err(GraphqlError::Failed("unknown audit query".into()))
        }
    }
}

/// A tenant's source.
pub enum PlatformSource<'a> {
    /// Shopify Admin API of an app installed through OAuth or managed install.
    ShopifyInstalled(ShopifySource<InstalledAdminGraphql<'a>>),
    /// Shopify Admin API with a token pasted from a custom app (`tenant create --access-token`).
    Shopify(ShopifySource<HttpAdminGraphql>),
    /// The Magento module's report.
    Magento(MagentoSource<StoredReports>),
    /// Nothing to read from (e.g. no Shopify token stored yet).
    Unavailable(Platform, String),
}

impl SnapshotSource for PlatformSource<'_> {
    fn platform(&self) -> Platform {
        match self {
            Self::Shopify(_) | Self::ShopifyInstalled(_) => Platform::Shopify,
            Self::Magento(_) => Platform::Magento,
            Self::Unavailable(p, _) => *p,
        }
    }

    fn collect(&self, ctx: &TenantCtx) -> impl Future<Output = Result<Collected, SourceError>> {
        let ctx = ctx.clone();
        async move {
            match self {
                Self::Shopify(s) => s.collect(&ctx).await,
                Self::ShopifyInstalled(s) => s.collect(&ctx).await,
                Self::Magento(s) => s.collect(&ctx).await,
                Self::Unavailable(_, why) => Err(SourceError::Unavailable(why.clone())),
            }
        }
    }
}

/// What permission audits read the platforms with: the Shopify adapter (stored tokens, the
/// Admin API client) and the Shopify settings (endpoint and version for a pasted token).
#[derive(Clone)]
pub struct AuditSources {
    /// The Shopify adapter.
    pub shopify: ShopifyAdapter,
    /// `[shopify]` settings.
    pub shopify_settings: ShopifySettings,
}

/// The source for a tenant.
pub async fn for_tenant<'a>(
    sources: &'a AuditSources,
    ctx: &TenantCtx,
    tenant: &tenants::Model,
    now_ms: i64,
) -> Result<PlatformSource<'a>, AuditsError> {
    let state = &sources.shopify;
    match tenant.platform {
        tenants::Platform::Shopify => {
            let installed = scoped::<shopify_installations::Entity>(ctx)
                .one(&state.db)
                .await?
                .is_some_and(|i| i.uninstalled_at.is_none());
            if installed && state.shopify.config.is_some() {
                return Ok(PlatformSource::ShopifyInstalled(ShopifySource::new(
                    InstalledAdminGraphql {
                        state,
                        ctx: ctx.clone(),
                        now_ms,
                    },
                    state.db.clone(),
                )));
            }
            let Some(shop) = tenant.shop_domain.as_deref() else {
                return Ok(PlatformSource::Unavailable(
                    Platform::Shopify,
                    "the tenant has no shop domain".into(),
                ));
            };
            let token = crate::secrets::get(
                &state.db,
                &state.keyring,
                ctx,
                crate::tenants::SHOPIFY_TOKEN_SECRET,
            )
            .await
            .map_err(|e| AuditsError::Unexpected(e.into()))?;
            let Some(token) = token else {
                return Ok(PlatformSource::Unavailable(
                    Platform::Shopify,
                    "LeakGuard holds no Admin API token for this shop yet; finish the app installation first".into(),
                ));
            };
            let base = sources
                .shopify_settings
                .admin_base_url
                .clone()
                .unwrap_or_else(|| format!("https://{shop}"));
            let version = sources
                .shopify_settings
                .api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
            let endpoint = format!(
                "{}/admin/api/{version}/graphql.json",
                base.trim_end_matches('/')
            );
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| AuditsError::Unexpected(e.into()))?;
            Ok(PlatformSource::Shopify(ShopifySource::new(
                HttpAdminGraphql::new(http, endpoint, token),
                state.db.clone(),
            )))
        }
        tenants::Platform::Magento => Ok(PlatformSource::Magento(MagentoSource::new(
            StoredReports::new(state.db.clone()),
            now_ms,
        ))),
    }
}
