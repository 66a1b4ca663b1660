//! Permission audits of third-party apps, integrations and admin users: one model for Shopify
//! and Magento, the risk table of scopes and ACL resources, the diff between two snapshots, the
//! findings a tenant admin reviews, and when an accepted risk re-opens.
//!
//! Pure: snapshots come in, findings go out. Fetching them (Shopify Admin API, the Magento
//! module's permission report) and storing them is the server's job.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
    fn attr_bool(&self, name: &str) -> bool {
        self.attributes
            .get(name)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }

    fn attr_i64(&self, name: &str) -> Option<i64> {
        self.attributes
            .get(name)
            .and_then(serde_json::Value::as_i64)
    }

    fn is_active(&self) -> bool {
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
    fn index(&self) -> BTreeMap<&str, &Principal> {
        self.principals
            .iter()
            .map(|p| (p.key.as_str(), p))
            .collect()
    }
}

/// How risky a grant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// No personal data.
    None,
    /// Indirect exposure.
    Low,
    /// Personal data of some kind, or indirect paths to it.
    Medium,
    /// Customer identity, contact details, orders.
    High,
    /// Payment data, bulk changes to personal data, or creation of privileged principals.
    Critical,
}

/// The risk of one grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRisk {
    /// Level.
    pub level: Level,
    /// Reaches customers' personal data.
    pub personal_data: bool,
    /// Reaches payment data.
    pub payment_data: bool,
    /// Can create or empower other principals.
    pub creates_principals: bool,
    /// Why, in a sentence for the console.
    pub reason: &'static str,
}

const fn risk(
    level: Level,
    personal_data: bool,
    payment_data: bool,
    creates_principals: bool,
    reason: &'static str,
) -> GrantRisk {
    GrantRisk {
        level,
        personal_data,
        payment_data,
        creates_principals,
        reason,
    }
}

/// The maintained table of Shopify access scopes (specs/shopify.md §4 risk tiers).
pub fn shopify_scope_risk(scope: &str) -> GrantRisk {
    use Level::*;
    match scope {
        "read_customer_payment_methods" => risk(
            Critical,
            true,
            true,
            false,
            "reads customers' stored payment instruments",
        ),
        "read_all_orders" => risk(
            Critical,
            true,
            true,
            false,
            "lifts the 60-day window: the full order history with addresses",
        ),
        "write_customers" => risk(
            Critical,
            true,
            false,
            false,
            "can read and change every customer record in bulk",
        ),
        "write_orders" => risk(
            Critical,
            true,
            true,
            false,
            "can read and change orders, addresses and transactions",
        ),
        "read_customer_merge" | "write_customer_merge" => risk(
            Critical,
            true,
            false,
            false,
            "reads or merges customer identities",
        ),
        "read_customers" => risk(
            High,
            true,
            false,
            false,
            "reads customer identity, addresses and contact details",
        ),
        "read_orders" => risk(
            High,
            true,
            false,
            false,
            "reads orders with names, addresses and contact details (60 days)",
        ),
        "read_draft_orders" | "write_draft_orders" => risk(
            High,
            true,
            false,
            false,
            "reads draft orders with customer details",
        ),
        "read_checkouts" | "write_checkouts" | "unauthenticated_read_checkouts" => risk(
            High,
            true,
            false,
            false,
            "reads checkouts, including abandoned ones with contact details",
        ),
        "read_customer_events" | "write_pixels" => risk(
            High,
            true,
            false,
            false,
            "reads customer browsing events (web pixels)",
        ),
        "read_users" => risk(
            High,
            true,
            false,
            false,
            "reads staff members' personal data",
        ),
        "read_audit_events" => risk(High, true, false, false, "reads the store's admin activity"),
        "read_companies" | "write_companies" => {
            risk(Medium, true, false, false, "reads B2B company contacts")
        }
        "read_order_edits" | "write_order_edits" => {
            risk(Medium, true, false, false, "reads order edits")
        }
        "read_payment_terms" | "read_payment_mandate" | "write_payment_mandate" => risk(
            Medium,
            false,
            true,
            false,
            "reads payment terms or mandates",
        ),
        "read_privacy_settings" | "write_privacy_settings" => risk(
            Medium,
            false,
            false,
            false,
            "reads or changes privacy settings",
        ),
        "write_script_tags" | "write_themes" => risk(
            Medium,
            true,
            true,
            false,
            "can inject scripts that skim checkout data",
        ),
        "unauthenticated_read_customers"
        | "unauthenticated_write_customers"
        | "unauthenticated_read_customer_tags"
        | "customer_read_customers"
        | "customer_read_orders"
        | "customer_read_draft_orders"
        | "customer_read_store_credit_accounts" => risk(
            Medium,
            true,
            false,
            false,
            "reads one customer's data through the storefront or customer account",
        ),
        "read_apps" => risk(
            Low,
            false,
            false,
            false,
            "lists installed apps and their scopes",
        ),
        "write_users" | "write_staff" => {
            risk(Critical, true, false, true, "can change staff accounts")
        }
        _ => risk(
            None,
            false,
            false,
            false,
            "not known to reach personal or payment data",
        ),
    }
}

/// The maintained table of Magento ACL resources (specs/magento.md §4.3).
pub fn magento_resource_risk(resource: &str) -> GrantRisk {
    use Level::*;
    match resource {
        "Magento_Backend::all" => risk(
            Critical,
            true,
            true,
            true,
            "all resources: every customer, order and payment, and every admin and integration",
        ),
        "Magento_Integration::integrations"
        | "Magento_User::acl_users"
        | "Magento_User::acl_roles"
        | "Magento_User::acl" => risk(
            Critical,
            false,
            false,
            true,
            "can create or empower admins and integrations",
        ),
        "Magento_Sales::transactions"
        | "Magento_Sales::transactions_fetch"
        | "Magento_Sales::review_payment"
        | "Magento_Sales::capture" => risk(
            Critical,
            true,
            true,
            false,
            "reads or acts on payment transactions",
        ),
        "Magento_ImportExport::export" | "Magento_ImportExport::import_export" => risk(
            Critical,
            true,
            false,
            false,
            "exports whole tables of customers and orders",
        ),
        "Magento_Customer::customer"
        | "Magento_Customer::manage"
        | "Magento_Customer::actions"
        | "Magento_Customer::delete"
        | "Magento_Customer::reset_password"
        | "Magento_Customer::invalidate_tokens" => risk(
            High,
            true,
            false,
            false,
            "reads or changes customer records",
        ),
        "Magento_Sales::sales"
        | "Magento_Sales::sales_operation"
        | "Magento_Sales::sales_order"
        | "Magento_Sales::actions"
        | "Magento_Sales::actions_view"
        | "Magento_Sales::create"
        | "Magento_Sales::actions_edit" => risk(
            High,
            true,
            false,
            false,
            "reads or edits orders with addresses",
        ),
        "Magento_Sales::sales_invoice"
        | "Magento_Sales::shipment"
        | "Magento_Sales::sales_creditmemo" => {
            risk(Medium, true, false, false, "reads documents with addresses")
        }
        "Magento_Customer::online"
        | "Magento_Newsletter::subscriber"
        | "Magento_Cart::cart"
        | "Magento_Cart::manage" => risk(Medium, true, false, false, "reads customer contact data"),
        r if r.starts_with("Magento_Reports::customers")
            || r == "Magento_Reports::report"
            || r == "Magento_Reports::shopcart" =>
        {
            risk(Medium, true, false, false, "reports with customer data")
        }
        "Magento_Customer::group" => risk(Low, false, false, false, "customer groups only"),
        _ => risk(
            None,
            false,
            false,
            false,
            "not known to reach personal or payment data",
        ),
    }
}

/// Expands Shopify's implication `write_X` ⇒ `read_X`; Magento grants are taken as given.
pub fn expand(platform: Platform, grants: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = grants.clone();
    if platform == Platform::Shopify {
        for g in grants {
            if let Some(rest) = g.strip_prefix("write_") {
                out.insert(format!("read_{rest}"));
            }
        }
    }
    out
}

/// Risk of one grant on a platform.
pub fn grant_risk(platform: Platform, grant: &str) -> GrantRisk {
    match platform {
        Platform::Shopify => shopify_scope_risk(grant.trim()),
        Platform::Magento => magento_resource_risk(grant.trim()),
    }
}

/// The highest risk among grants.
pub fn principal_level(platform: Platform, principal: &Principal) -> Level {
    if principal.attr_bool("all_resources") {
        return Level::Critical;
    }
    expand(platform, &principal.grants)
        .iter()
        .map(|g| grant_risk(platform, g).level)
        .max()
        .unwrap_or(Level::None)
}

fn reaches_pii(platform: Platform, grants: &BTreeSet<String>) -> bool {
    expand(platform, grants)
        .iter()
        .any(|g| grant_risk(platform, g).personal_data)
}

/// One change between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A principal appeared.
    Added {
        /// Its key.
        principal: String,
        /// Its grants.
        grants: BTreeSet<String>,
    },
    /// A principal disappeared.
    Removed {
        /// Its key.
        principal: String,
    },
    /// A principal gained grants.
    Escalated {
        /// Its key.
        principal: String,
        /// The new grants.
        added: BTreeSet<String>,
    },
    /// A principal lost grants.
    Reduced {
        /// Its key.
        principal: String,
        /// The grants gone.
        removed: BTreeSet<String>,
    },
}

/// What changed from `prev` to `next` (principal keys in order; escalation before reduction).
pub fn diff(prev: &Snapshot, next: &Snapshot) -> Vec<Change> {
    let (a, b) = (prev.index(), next.index());
    let mut changes = Vec::new();
    for (key, p) in &b {
        match a.get(key) {
            None => changes.push(Change::Added {
                principal: (*key).to_owned(),
                grants: p.grants.clone(),
            }),
            Some(old) => {
                let (old_g, new_g) = (
                    expand(next.platform, &old.grants),
                    expand(next.platform, &p.grants),
                );
                let added: BTreeSet<String> = new_g.difference(&old_g).cloned().collect();
                let removed: BTreeSet<String> = old_g.difference(&new_g).cloned().collect();
                let became_all = p.attr_bool("all_resources") && !old.attr_bool("all_resources");
                if !added.is_empty() || became_all {
                    let mut added = added;
                    if became_all {
                        added.insert("Magento_Backend::all".into());
                    }
                    changes.push(Change::Escalated {
                        principal: (*key).to_owned(),
                        added,
                    });
                }
                if !removed.is_empty() {
                    changes.push(Change::Reduced {
                        principal: (*key).to_owned(),
                        removed,
                    });
                }
            }
        }
    }
    for key in a.keys() {
        if !b.contains_key(key) {
            changes.push(Change::Removed {
                principal: (*key).to_owned(),
            });
        }
    }
    changes
}

/// A tenant's policy: allow-listed principals with the most they may hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Policy {
    /// Principal key → maximum grants. A principal not listed is not allow-listed.
    #[serde(default)]
    pub allowed: BTreeMap<String, BTreeSet<String>>,
    /// Admin users who have not logged in for this many days are stale (default 90).
    #[serde(default)]
    pub stale_admin_days: Option<i64>,
}

/// Kinds of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An allow-listed principal holds more than its maximum.
    PolicyViolation,
    /// A principal that reaches personal data is not allow-listed and is new since the last run.
    NewPrincipalWithPii,
    /// A principal gained grants that reach personal or payment data.
    Escalation,
    /// A principal reaching personal data is not on the allow-list (standing).
    NotAllowListed,
    /// LeakGuard itself holds scopes it does not use.
    OwnAppOverGranted,
    /// A Magento integration or admin role with all resources.
    AllResources,
    /// Magento integration tokens usable as bearer tokens.
    BearerTokensEnabled,
    /// An admin user with personal-data access who has not logged in for long.
    StaleAdmin,
    /// An admin user from outside the merchant's organisation.
    ExternalAdmin,
    /// The audit could not see everything.
    IncompleteAudit,
}

impl FindingKind {
    /// Every kind, in declaration order.
    pub const ALL: [FindingKind; 10] = [
        Self::PolicyViolation,
        Self::NewPrincipalWithPii,
        Self::Escalation,
        Self::NotAllowListed,
        Self::OwnAppOverGranted,
        Self::AllResources,
        Self::BearerTokensEnabled,
        Self::StaleAdmin,
        Self::ExternalAdmin,
        Self::IncompleteAudit,
    ];

    /// The stored form (snake_case, as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PolicyViolation => "policy_violation",
            Self::NewPrincipalWithPii => "new_principal_with_pii",
            Self::Escalation => "escalation",
            Self::NotAllowListed => "not_allow_listed",
            Self::OwnAppOverGranted => "own_app_over_granted",
            Self::AllResources => "all_resources",
            Self::BearerTokensEnabled => "bearer_tokens_enabled",
            Self::StaleAdmin => "stale_admin",
            Self::ExternalAdmin => "external_admin",
            Self::IncompleteAudit => "incomplete_audit",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The first part of a finding key. A new unlisted principal and the same principal still
    /// unlisted at the next run are one finding (its kind moves on, its review carries over).
    pub fn key_base(self) -> &'static str {
        match self {
            Self::NewPrincipalWithPii => Self::NotAllowListed.as_str(),
            other => other.as_str(),
        }
    }

    /// A short label for the console.
    pub fn label(self) -> &'static str {
        match self {
            Self::PolicyViolation => "Exceeds allow-list",
            Self::NewPrincipalWithPii => "New, reaches personal data",
            Self::Escalation => "Gained access",
            Self::NotAllowListed => "Not allow-listed",
            Self::OwnAppOverGranted => "LeakGuard over-granted",
            Self::AllResources => "All resources",
            Self::BearerTokensEnabled => "Bearer tokens enabled",
            Self::StaleAdmin => "Stale admin",
            Self::ExternalAdmin => "External admin",
            Self::IncompleteAudit => "Incomplete audit",
        }
    }
}

impl Level {
    /// The stored form (lowercase, as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::None,
            Self::Low,
            Self::Medium,
            Self::High,
            Self::Critical,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

/// One finding for review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identity across runs: kind + principal. The same finding in the next run has the
    /// same key, so its review carries over.
    pub key: String,
    /// Kind.
    pub kind: FindingKind,
    /// Severity.
    pub severity: Level,
    /// Principal key, when it concerns one.
    pub principal: Option<String>,
    /// The grants the finding is about (for accepted risks: what was accepted).
    pub grants: BTreeSet<String>,
    /// A sentence for the console.
    pub message: String,
}

fn finding(
    kind: FindingKind,
    severity: Level,
    principal: Option<&Principal>,
    grants: BTreeSet<String>,
    message: String,
) -> Finding {
    let pkey = principal.map(|p| p.key.clone());
    let key = format!("{}:{}", kind.key_base(), pkey.as_deref().unwrap_or("*"));
    Finding {
        key,
        kind,
        severity,
        principal: pkey,
        grants,
        message,
    }
}

fn risky(platform: Platform, grants: &BTreeSet<String>) -> BTreeSet<String> {
    expand(platform, grants)
        .into_iter()
        .filter(|g| grant_risk(platform, g).level >= Level::Medium)
        .collect()
}

/// Evaluates a snapshot against the previous one and the policy. `own_scopes_used` lists the
/// scopes LeakGuard's own features call; our installation holding more is a finding.
pub fn evaluate(
    prev: Option<&Snapshot>,
    next: &Snapshot,
    policy: &Policy,
    own_scopes_used: &BTreeSet<String>,
) -> Vec<Finding> {
    let platform = next.platform;
    let mut out = Vec::new();
    let previous = prev.map(Snapshot::index).unwrap_or_default();
    let stale_days = policy.stale_admin_days.unwrap_or(90);

    if !next.complete {
        out.push(finding(
            FindingKind::IncompleteAudit,
            Level::Medium,
            None,
            BTreeSet::new(),
            "Part of the store's apps could not be read; the audit covers only what is visible."
                .into(),
        ));
    }
    if next
        .settings
        .get("bearer_tokens_enabled")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        out.push(finding(
            FindingKind::BearerTokensEnabled,
            Level::High,
            None,
            BTreeSet::new(),
            "Integration access tokens can be used as standalone bearer tokens (oauth/consumer/enable_integration_as_bearer); a leaked token is enough to read data.".into(),
        ));
    }

    for p in &next.principals {
        let expanded = expand(platform, &p.grants);
        let pii = reaches_pii(platform, &p.grants) || p.attr_bool("all_resources");
        let level = principal_level(platform, p);

        if p.kind == PrincipalKind::OwnApp {
            let unused: BTreeSet<String> = expanded
                .iter()
                .filter(|g| !expand(platform, own_scopes_used).contains(*g))
                .cloned()
                .collect();
            if !unused.is_empty() {
                out.push(finding(
                    FindingKind::OwnAppOverGranted,
                    Level::Low,
                    Some(p),
                    unused.clone(),
                    format!("LeakGuard holds scopes it does not use: {}.", join(&unused)),
                ));
            }
            continue;
        }
        if !p.is_active() {
            continue;
        }

        if p.attr_bool("all_resources") || p.grants.contains("Magento_Backend::all") {
            out.push(finding(
                FindingKind::AllResources,
                Level::Critical,
                Some(p),
                BTreeSet::from(["Magento_Backend::all".to_owned()]),
                format!("{} has access to all resources.", p.name),
            ));
        }

        match policy.allowed.get(&p.key) {
            Some(max) => {
                let max = expand(platform, max);
                let over: BTreeSet<String> = expanded.difference(&max).cloned().collect();
                if !over.is_empty() {
                    out.push(finding(
                        FindingKind::PolicyViolation,
                        level.max(Level::Medium),
                        Some(p),
                        over.clone(),
                        format!(
                            "{} holds more than its allowed grants: {}.",
                            p.name,
                            join(&over)
                        ),
                    ));
                }
            }
            None if pii => {
                let is_new = prev.is_some() && !previous.contains_key(p.key.as_str());
                let (kind, text) = if is_new {
                    (
                        FindingKind::NewPrincipalWithPii,
                        "is new and reaches personal data",
                    )
                } else {
                    (
                        FindingKind::NotAllowListed,
                        "reaches personal data and is not on the allow-list",
                    )
                };
                let grants = risky(platform, &p.grants);
                out.push(finding(
                    kind,
                    level,
                    Some(p),
                    grants.clone(),
                    format!("{} {text}: {}.", p.name, join(&grants)),
                ));
            }
            None => {}
        }

        if let Some(old) = previous.get(p.key.as_str()) {
            let gained: BTreeSet<String> = expanded
                .difference(&expand(platform, &old.grants))
                .filter(|g| {
                    let r = grant_risk(platform, g);
                    r.personal_data || r.payment_data || r.creates_principals
                })
                .cloned()
                .collect();
            if !gained.is_empty() {
                let severity = gained
                    .iter()
                    .map(|g| grant_risk(platform, g).level)
                    .max()
                    .unwrap_or(Level::Medium);
                out.push(finding(
                    FindingKind::Escalation,
                    severity,
                    Some(p),
                    gained.clone(),
                    format!("{} gained {}.", p.name, join(&gained)),
                ));
            }
        }

        if p.kind == PrincipalKind::AdminUser && pii {
            if p.attr_i64("last_login_days")
                .is_some_and(|d| d >= stale_days)
            {
                out.push(finding(
                    FindingKind::StaleAdmin,
                    Level::Medium,
                    Some(p),
                    BTreeSet::new(),
                    format!("{} has not logged in for {stale_days} days or more but can read personal data.", p.name),
                ));
            }
            if p.attr_bool("external") {
                out.push(finding(
                    FindingKind::ExternalAdmin,
                    Level::High,
                    Some(p),
                    BTreeSet::new(),
                    format!(
                        "{} is from outside the organisation and can read personal data.",
                        p.name
                    ),
                ));
            }
        }
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.key.cmp(&b.key)));
    out
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// A hash of a grant set, to tell whether an accepted risk still covers the same grants.
pub fn grants_hash(grants: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    for g in grants {
        h.update(g.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

/// A tenant admin's decision on a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Seen; stays listed as acknowledged.
    Acknowledge,
    /// Accepted until `until_ms`, for the grants seen at acceptance.
    AcceptRisk {
        /// Why (required).
        justification: String,
        /// Expiry, Unix ms.
        until_ms: i64,
        /// [`grants_hash`] of the finding's grants when accepted.
        grants_hash: String,
    },
    /// To be revoked (becomes a ticket).
    MarkForRevocation,
}

/// The state a finding shows in the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingState {
    /// Needs review.
    Open,
    /// Acknowledged.
    Acknowledged,
    /// Risk accepted and still valid.
    RiskAccepted,
    /// Marked for revocation.
    RevocationRequested,
}

/// The state of a finding given its last decision: an accepted risk re-opens when it expires or
/// when the finding's grants are no longer the ones accepted (the grant grew or changed).
pub fn state(decision: Option<&Decision>, finding: &Finding, now_ms: i64) -> FindingState {
    match decision {
        None => FindingState::Open,
        Some(Decision::Acknowledge) => FindingState::Acknowledged,
        Some(Decision::MarkForRevocation) => FindingState::RevocationRequested,
        Some(Decision::AcceptRisk {
            until_ms,
            grants_hash: accepted,
            ..
        }) => {
            if now_ms >= *until_ms || *accepted != grants_hash(&finding.grants) {
                FindingState::Open
            } else {
                FindingState::RiskAccepted
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn app(key: &str, grants: &[&str]) -> Principal {
        Principal {
            key: key.into(),
            kind: PrincipalKind::App,
            name: key.into(),
            grants: grants.iter().map(|s| (*s).to_owned()).collect(),
            attributes: BTreeMap::new(),
        }
    }

    fn shop(principals: Vec<Principal>) -> Snapshot {
        Snapshot {
            platform: Platform::Shopify,
            principals,
            complete: true,
            settings: BTreeMap::new(),
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn write_scopes_imply_read_scopes() {
        assert!(expand(Platform::Shopify, &set(&["write_customers"])).contains("read_customers"));
        assert_eq!(
            principal_level(Platform::Shopify, &app("a", &["read_products"])),
            Level::None
        );
        assert_eq!(
            principal_level(
                Platform::Shopify,
                &app("a", &["read_customer_payment_methods"])
            ),
            Level::Critical
        );
    }

    #[test]
    fn an_app_gaining_read_customers_is_an_escalation() {
        let before = shop(vec![app("reviews", &["read_products"])]);
        let after = shop(vec![app("reviews", &["read_products", "read_customers"])]);
        assert_eq!(
            diff(&before, &after),
            vec![Change::Escalated {
                principal: "reviews".into(),
                added: set(&["read_customers"])
            }]
        );
        let policy = Policy {
            allowed: BTreeMap::from([(
                "reviews".to_owned(),
                set(&["read_products", "read_customers"]),
            )]),
            ..Policy::default()
        };
        let findings = evaluate(Some(&before), &after, &policy, &BTreeSet::new());
        let esc = findings
            .iter()
            .find(|f| f.kind == FindingKind::Escalation)
            .unwrap();
        assert_eq!(esc.severity, Level::High);
        assert_eq!(esc.grants, set(&["read_customers"]));
        // Allow-listed up to read_customers: no policy violation.
        assert!(
            !findings
                .iter()
                .any(|f| f.kind == FindingKind::PolicyViolation)
        );
    }

    #[test]
    fn a_new_unlisted_app_with_pii_access_and_a_violation_are_found() {
        let before = shop(vec![app("erp", &["read_orders"])]);
        let after = shop(vec![
            app("erp", &["write_orders"]),
            app("spy", &["read_customers"]),
        ]);
        let policy = Policy {
            allowed: BTreeMap::from([("erp".to_owned(), set(&["read_orders"]))]),
            ..Policy::default()
        };
        let findings = evaluate(Some(&before), &after, &policy, &BTreeSet::new());
        let kinds: BTreeSet<_> = findings.iter().map(|f| f.kind).collect();
        assert!(kinds.contains(&FindingKind::NewPrincipalWithPii));
        assert!(kinds.contains(&FindingKind::PolicyViolation));
        let v = findings
            .iter()
            .find(|f| f.kind == FindingKind::PolicyViolation)
            .unwrap();
        assert_eq!(v.grants, set(&["write_orders"]));
        assert_eq!(v.severity, Level::Critical);
        // Reductions and removals are diffed too.
        let gone = diff(&after, &shop(vec![app("erp", &["read_orders"])]));
        assert!(gone.contains(&Change::Reduced {
            principal: "erp".into(),
            removed: set(&["write_orders"])
        }));
        assert!(gone.contains(&Change::Removed {
            principal: "spy".into()
        }));
    }

    #[test]
    fn our_own_app_holding_unused_scopes_is_a_finding() {
        let mut own = app(
            "leakguard",
            &["read_customers", "read_orders", "write_products"],
        );
        own.kind = PrincipalKind::OwnApp;
        let findings = evaluate(
            None,
            &shop(vec![own]),
            &Policy::default(),
            &set(&["read_customers", "read_orders"]),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, FindingKind::OwnAppOverGranted);
        assert_eq!(
            findings[0].grants,
            set(&["read_products", "write_products"])
        );
    }

    #[test]
    fn magento_all_resources_bearer_stale_and_external_admins() {
        let mut integ = Principal {
            key: "magento_integration:7".into(),
            kind: PrincipalKind::Integration,
            name: "ERP sync".into(),
            grants: set(&["Magento_Backend::all"]),
            attributes: BTreeMap::new(),
        };
        integ.attributes.insert("all_resources".into(), true.into());
        let mut admin = Principal {
            key: "magento_admin:3".into(),
            kind: PrincipalKind::AdminUser,
            name: "contractor".into(),
            grants: set(&["Magento_Customer::manage"]),
            attributes: BTreeMap::new(),
        };
        admin
            .attributes
            .insert("last_login_days".into(), 120.into());
        admin.attributes.insert("external".into(), true.into());
        let snap = Snapshot {
            platform: Platform::Magento,
            principals: vec![integ, admin],
            complete: true,
            settings: BTreeMap::from([("bearer_tokens_enabled".to_owned(), true.into())]),
        };
        let kinds: BTreeSet<_> = evaluate(None, &snap, &Policy::default(), &BTreeSet::new())
            .iter()
            .map(|f| f.kind)
            .collect();
        for k in [
            FindingKind::AllResources,
            FindingKind::BearerTokensEnabled,
            FindingKind::StaleAdmin,
            FindingKind::ExternalAdmin,
            FindingKind::NotAllowListed,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
        }
    }

    #[test]
    fn an_accepted_risk_reopens_when_it_expires_or_the_grant_grows() {
        let before = shop(vec![app("crm", &["read_customers"])]);
        let f1 = evaluate(None, &before, &Policy::default(), &BTreeSet::new()).remove(0);
        assert_eq!(f1.kind, FindingKind::NotAllowListed);
        let accepted = Decision::AcceptRisk {
            justification: "CRM sync contracted under DPA".into(),
            until_ms: 1_000,
            grants_hash: grants_hash(&f1.grants),
        };
        assert_eq!(state(Some(&accepted), &f1, 999), FindingState::RiskAccepted);
        assert_eq!(
            state(Some(&accepted), &f1, 1_000),
            FindingState::Open,
            "expired"
        );

        let after = shop(vec![app(
            "crm",
            &["read_customers", "read_customer_payment_methods"],
        )]);
        let f2 = evaluate(Some(&before), &after, &Policy::default(), &BTreeSet::new())
            .into_iter()
            .find(|f| f.kind == FindingKind::NotAllowListed)
            .unwrap();
        assert_eq!(f2.key, f1.key, "same finding identity across runs");
        assert_eq!(
            state(Some(&accepted), &f2, 10),
            FindingState::Open,
            "grant grew"
        );
        assert_eq!(state(None, &f2, 10), FindingState::Open);
        assert_eq!(
            state(Some(&Decision::MarkForRevocation), &f2, 10),
            FindingState::RevocationRequested
        );
    }

    #[test]
    fn a_new_unlisted_principal_keeps_its_finding_key_at_the_next_run() {
        let before = shop(vec![]);
        let first = shop(vec![app("spy", &["read_customers"])]);
        let new = evaluate(Some(&before), &first, &Policy::default(), &BTreeSet::new());
        assert_eq!(new[0].kind, FindingKind::NewPrincipalWithPii);
        let standing = evaluate(Some(&first), &first, &Policy::default(), &BTreeSet::new());
        assert_eq!(standing[0].kind, FindingKind::NotAllowListed);
        assert_eq!(new[0].key, standing[0].key);
        for k in FindingKind::ALL {
            assert_eq!(FindingKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for l in [
            Level::None,
            Level::Low,
            Level::Medium,
            Level::High,
            Level::Critical,
        ] {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
    }

    #[test]
    fn an_incomplete_audit_says_so() {
        let mut snap = shop(vec![]);
        snap.complete = false;
        let findings = evaluate(None, &snap, &Policy::default(), &BTreeSet::new());
        assert_eq!(findings[0].kind, FindingKind::IncompleteAudit);
    }
}
