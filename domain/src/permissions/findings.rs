//! The rules: a snapshot, the previous one and the tenant's policy give the findings a tenant
//! admin reviews, each with a key that stays the same across runs.

use super::risk::{Level, expand, grant_risk, principal_level, reaches_pii};
use super::snapshot::{Platform, Principal, PrincipalKind, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
