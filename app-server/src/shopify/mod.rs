//! The Shopify adapter: OAuth install and token exchange, session tokens, webhooks (with the
//! privacy compliance topics), the Admin GraphQL client, and the data it keeps per shop.
//!
//! It owns the `shopify_*` tables and the `source = 'shopify'` rows of `webhook_deliveries`.
//! It must not be imported by domain modules (it is an adapter), and it never logs a token,
//! an HMAC, a secret or a customer's personal data: customers appear in the audit chain only
//! as keyed hashes (`customer_ref`) under a per-tenant key that `shop/redact` destroys.

pub mod admin_api;
pub mod app_installations;
pub mod compliance;
pub mod hmac;
pub mod oauth;
mod offline_token;
pub mod session;
pub mod session_token;
pub mod webhook_binding;
pub mod webhook_processing;
pub mod webhook_topics;
pub mod webhooks;

use leakguard_domain::shop::ShopDomain;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use crate::config::Settings;

/// Admin API version used when none is configured (the `[webhooks] api_version` of the TOML).
pub const DEFAULT_API_VERSION: &str = "2026-07";
/// Scopes requested when none are configured (the TOML's `[access_scopes]`).
pub const DEFAULT_SCOPES: &str = "read_customers,read_orders";
/// Secret names.
pub const ACCESS_TOKEN_SECRET: &str = crate::tenants::SHOPIFY_TOKEN_SECRET;
/// The refresh token of an expiring offline token.
pub const REFRESH_TOKEN_SECRET: &str = "shopify.refresh_token";
/// The per-tenant key of customer references (destroyed by `shop/redact`).
pub const PII_KEY_SECRET: &str = "shopify.pii_key";

/// The app's credentials and endpoints, when configured.
#[derive(Clone, Debug)]
pub struct ShopifyConfig {
    /// Client id (API key).
    pub api_key: String,
    secret: SecretString,
    previous_secret: Option<SecretString>,
    /// Comma-separated scopes.
    pub scopes: String,
    /// Admin API version.
    pub api_version: String,
    /// Replaces `https://{shop}` in every outgoing call when set.
    pub admin_base_url: Option<String>,
    /// Public base URL of this server.
    pub public_url: String,
}

impl ShopifyConfig {
    /// Reads the settings; `None` unless both the API key and the secret are set.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let s = &settings.shopify;
        let api_key = s.api_key.clone().filter(|k| !k.trim().is_empty())?;
        let secret = s
            .api_secret
            .clone()
            .filter(|k| !k.expose_secret().is_empty())?;
        Some(Self {
            api_key,
            secret,
            previous_secret: s
                .previous_api_secret
                .clone()
                .filter(|k| !k.expose_secret().is_empty()),
            scopes: s
                .scopes
                .clone()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_SCOPES.into()),
            api_version: s
                .api_version
                .clone()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_API_VERSION.into()),
            admin_base_url: s
                .admin_base_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            public_url: settings.effective_public_url(),
        })
    }

    /// The current secret, then the previous one (rotation window).
    pub fn secrets(&self) -> Vec<&[u8]> {
        let mut out = vec![self.secret.expose_secret().as_bytes()];
        if let Some(previous) = &self.previous_secret {
            out.push(previous.expose_secret().as_bytes());
        }
        out
    }

    /// The current secret.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// `https://{shop}`, or the configured replacement.
    pub fn shop_base(&self, shop: &ShopDomain) -> String {
        match &self.admin_base_url {
            Some(base) => base.clone(),
            None => format!("https://{shop}"),
        }
    }

    /// The OAuth callback URL.
    pub fn redirect_uri(&self) -> String {
        format!("{}/shopify/callback", self.public_url)
    }
}

/// Shopify runtime state shared by the process.
pub struct Shopify {
    /// The configuration, when the app is configured.
    pub config: Option<ShopifyConfig>,
    /// Client for the token endpoint and the Admin API (no redirects followed).
    pub http: reqwest::Client,
    refresh_locks: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
    /// Bounds webhook processing spawned by intake, so a burst of deliveries cannot take every
    /// pooled connection away from intake itself (processing of one tenant serialises on its
    /// audit chain head anyway).
    pub processing_permits: Arc<tokio::sync::Semaphore>,
}

/// What the adapter's services use of the server: the pool, the keyring that opens the shops'
/// sealed tokens, and the app client. Cheap to clone (handles only).
#[derive(Clone)]
pub struct ShopifyAdapter {
    /// Database pool.
    pub db: sea_orm::DatabaseConnection,
    /// Master keys of sealed secrets (the shops' access and refresh tokens).
    pub keyring: crate::crypto::Keyring,
    /// The app: configuration, HTTP client, refresh locks.
    pub shopify: Arc<Shopify>,
    /// Tenants waiting for detection (a processed webhook queues its tenant).
    pub detection: crate::alerts::DetectionQueue,
}

/// Webhook deliveries processed at once per process.
pub const PROCESSING_CONCURRENCY: usize = 2;

impl Shopify {
    /// Builds the runtime from the settings.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the Shopify HTTP client: {e}"))?;
        Ok(Self {
            config: ShopifyConfig::from_settings(settings),
            http,
            refresh_locks: Mutex::new(HashMap::new()),
            processing_permits: Arc::new(tokio::sync::Semaphore::new(PROCESSING_CONCURRENCY)),
        })
    }

    /// The per-shop lock that serialises token refreshes in this process.
    pub fn refresh_lock(&self, tenant: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = match self.refresh_locks.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        locks.entry(tenant).or_default().clone()
    }
}

/// Errors of the adapter that callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum ShopifyError {
    /// The app has no API key or secret configured.
    #[error("the Shopify app is not configured")]
    NotConfigured,
    /// Bad input, with a message safe to show.
    #[error("{0}")]
    Invalid(crate::invalid_input::InvalidInput),
    /// A signature, state or token check failed (message safe to show).
    #[error("{0}")]
    Unauthorized(String),
    /// The shop must authorise the app again (token revoked or missing).
    #[error("the shop must authorise the app again")]
    ReauthRequired,
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// Shopify answered with an error.
    #[error("Shopify request failed: {0}")]
    Upstream(String),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for ShopifyError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<crate::audit_chain::AuditError> for ShopifyError {
    fn from(e: crate::audit_chain::AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<crate::secrets::SecretError> for ShopifyError {
    fn from(e: crate::secrets::SecretError) -> Self {
        Self::Unexpected(e.into())
    }
}

/// Unix seconds from Unix milliseconds.
pub fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// RFC 3339 text of a Unix-ms time.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
