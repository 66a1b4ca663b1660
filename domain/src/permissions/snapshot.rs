//! What an audit run sees: principals (apps, integrations, admin users) with their grants, and
//! the store-wide settings, as one model for Shopify and Magento.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Where a snapshot comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Shopify access scopes.
    Shopify,
    /// Magento ACL resources.
    Magento,
}

/// What kind of principal holds grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A third-party Shopify app installation.
    App,
    /// LeakGuard's own installation.
    OwnApp,
    /// A Magento integration (API consumer).
    Integration,
    /// A Magento admin user.
    AdminUser,
}

/// An app, integration or admin user with its grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Stable key across snapshots, e.g. `shopify_app:gid://shopify/App/123`.
    pub key: String,
    /// Kind.
    pub kind: PrincipalKind,
    /// Display name (app title, integration name, admin user name).
    pub name: String,
    /// Granted scopes (Shopify) or ACL resources (Magento).
    pub grants: BTreeSet<String>,
    /// Facts the rules use: `all_resources` (bool), `status` (`active`/`inactive`),
    /// `last_login_days` (integer), `external` (bool), `token_type`, `endpoint` …
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

impl Principal {
    pub(super) fn attr_bool(&self, name: &str) -> bool {
        self.attributes
            .get(name)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }

    pub(super) fn attr_i64(&self, name: &str) -> Option<i64> {
        self.attributes
            .get(name)
            .and_then(serde_json::Value::as_i64)
    }

    pub(super) fn is_active(&self) -> bool {
        self.attributes
            .get("status")
            .and_then(serde_json::Value::as_str)
            .is_none_or(|s| s == "active")
    }
}

/// Everything visible at one audit run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Platform.
    pub platform: Platform,
    /// Principals, any order.
    pub principals: Vec<Principal>,
    /// False when part of the picture could not be read (e.g. Shopify without `read_apps`).
    pub complete: bool,
    /// Store-wide facts: `bearer_tokens_enabled` (Magento `oauth/consumer/enable_integration_as_bearer`).
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
}

impl Snapshot {
    pub(super) fn index(&self) -> BTreeMap<&str, &Principal> {
        self.principals
            .iter()
            .map(|p| (p.key.as_str(), p))
            .collect()
    }
}
