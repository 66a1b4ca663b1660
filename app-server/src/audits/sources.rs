//! Choosing the snapshot source of a tenant from its platform: the Shopify Admin API with the
//! shop's stored token, or the Magento module's latest permission report.

use leakguard_domain::permissions::Platform;
use sea_orm::{DatabaseConnection, QueryOrder};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

use super::AuditsError;
use super::magento_source::{MagentoSource, ModuleReports};
use super::shopify_source::{HttpAdminGraphql, ShopifySource};
use super::source::{Collected, SnapshotSource, SourceError};
use crate::db::entities::{permission_snapshots, tenants};
use crate::startup::AppState;
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

/// A tenant's source.
pub enum PlatformSource {
    /// Shopify Admin API.
    Shopify(ShopifySource<HttpAdminGraphql>),
    /// The Magento module's report.
    Magento(MagentoSource<StoredReports>),
    /// Nothing to read from (e.g. no Shopify token stored yet).
    Unavailable(Platform, String),
}

impl SnapshotSource for PlatformSource {
    fn platform(&self) -> Platform {
        match self {
            Self::Shopify(_) => Platform::Shopify,
            Self::Magento(_) => Platform::Magento,
            Self::Unavailable(p, _) => *p,
        }
    }

    fn collect(
        &self,
        ctx: &TenantCtx,
    ) -> impl Future<Output = Result<Collected, SourceError>> + Send {
        let ctx = ctx.clone();
        async move {
            match self {
                Self::Shopify(s) => s.collect(&ctx).await,
                Self::Magento(s) => s.collect(&ctx).await,
                Self::Unavailable(_, why) => Err(SourceError::Unavailable(why.clone())),
            }
        }
    }
}

/// The source for a tenant.
pub async fn for_tenant(
    state: &AppState,
    ctx: &TenantCtx,
    tenant: &tenants::Model,
    now_ms: i64,
) -> Result<PlatformSource, AuditsError> {
    match tenant.platform.as_str() {
        "shopify" => {
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
            let base = state
                .settings
                .shopify
                .admin_base_url
                .clone()
                .unwrap_or_else(|| format!("https://{shop}"));
            let version = state
                .settings
                .shopify
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
        _ => Ok(PlatformSource::Magento(MagentoSource::new(
            StoredReports::new(state.db.clone()),
            now_ms,
        ))),
    }
}
