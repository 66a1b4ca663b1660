//! The Magento snapshot source: the latest permission report the module sent
//! (`leakguard.magento.permission_snapshot.v1`, magento-module/README.md), turned into the
//! domain [`Snapshot`]. Storing the reports is the Magento adapter's job; this module reads
//! through [`ModuleReports`].

use leakguard_domain::permissions::{Platform, Principal, PrincipalKind, Snapshot};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use super::source::{Collected, SnapshotSource, SourceError};
use crate::tenancy::TenantCtx;

/// The schema id the module writes.
pub const SCHEMA_V1: &str = "leakguard.magento.permission_snapshot.v1";

/// Where the module's reports are kept.
pub trait ModuleReports: Send + Sync {
    /// The newest report of the tenant, with the time it was received (Unix ms).
    fn latest(
        &self,
        ctx: &TenantCtx,
    ) -> impl Future<Output = Result<Option<(Value, i64)>, SourceError>> + Send;
}

/// Days between an RFC 3339 time and `now_ms`.
fn days_since(rfc3339: &str, now_ms: i64) -> Option<i64> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()?;
    Some((now_ms - ms).div_euclid(86_400_000))
}

fn strings(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn host_of(base_url: &str) -> Option<String> {
    url::Url::parse(base_url)
        .ok()?
        .host_str()
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
}

/// An email domain is external when it is neither the store's host nor one of its parents.
fn is_external(domain: &str, store_host: Option<&str>) -> bool {
    let Some(host) = store_host else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    !(host == domain || host.ends_with(&format!(".{domain}")))
}

/// Turns the module's report into a snapshot. Unknown fields are ignored; a report with another
/// schema is refused.
pub fn snapshot_from_report(report: &Value, now_ms: i64) -> Result<Snapshot, String> {
    let schema = report.get("schema").and_then(Value::as_str).unwrap_or("");
    if schema != SCHEMA_V1 {
        return Err(format!("unsupported permission report schema {schema:?}"));
    }
    let store_host = report
        .get("base_url")
        .and_then(Value::as_str)
        .and_then(host_of);
    let mut principals = Vec::new();
    for i in report
        .get("integrations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = i.get("integration_id").and_then(Value::as_i64) else {
            continue;
        };
        let mut attributes = BTreeMap::new();
        let status = i.get("status").and_then(Value::as_str).unwrap_or("unknown");
        // `recreated` integrations are live ones whose tokens were re-issued.
        let status = if status == "recreated" {
            "active"
        } else {
            status
        };
        attributes.insert("status".into(), Value::from(status));
        for key in ["all_resources", "has_active_access_token"] {
            if let Some(v) = i.get(key).and_then(Value::as_bool) {
                attributes.insert(key.into(), Value::Bool(v));
            }
        }
        for key in ["endpoint", "email_domain", "setup_type"] {
            if let Some(v) = i.get(key).and_then(Value::as_str) {
                attributes.insert(key.into(), Value::from(v));
            }
        }
        principals.push(Principal {
            key: format!("magento_integration:{id}"),
            kind: PrincipalKind::Integration,
            name: i
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Integration {id}")),
            grants: strings(i.get("resources")),
            attributes,
        });
    }
    for a in report
        .get("admin_users")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = a.get("user_id").and_then(Value::as_i64) else {
            continue;
        };
        let mut attributes = BTreeMap::new();
        let active = a.get("is_active").and_then(Value::as_bool).unwrap_or(true);
        attributes.insert(
            "status".into(),
            Value::from(if active { "active" } else { "inactive" }),
        );
        if let Some(v) = a.get("all_resources").and_then(Value::as_bool) {
            attributes.insert("all_resources".into(), Value::Bool(v));
        }
        if let Some(role) = a.get("role_name").and_then(Value::as_str) {
            attributes.insert("role".into(), Value::from(role));
        }
        let last_login = a.get("last_login_at").and_then(Value::as_str);
        let created = a.get("created_at").and_then(Value::as_str);
        // Never logged in counts from the account's creation.
        if let Some(days) = last_login.or(created).and_then(|t| days_since(t, now_ms)) {
            attributes.insert("last_login_days".into(), Value::from(days));
        }
        if let Some(domain) = a.get("email_domain").and_then(Value::as_str) {
            attributes.insert("email_domain".into(), Value::from(domain));
            attributes.insert(
                "external".into(),
                Value::Bool(is_external(domain, store_host.as_deref())),
            );
        }
        principals.push(Principal {
            key: format!("magento_admin:{id}"),
            kind: PrincipalKind::AdminUser,
            name: a
                .get("username")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Admin {id}")),
            grants: strings(a.get("resources")),
            attributes,
        });
    }
    let mut settings = BTreeMap::new();
    if let Some(b) = report
        .get("integration_bearer_enabled")
        .and_then(Value::as_bool)
    {
        settings.insert("bearer_tokens_enabled".into(), Value::Bool(b));
    }
    Ok(Snapshot {
        platform: Platform::Magento,
        principals,
        complete: true,
        settings,
    })
}

/// Reads the latest module report.
pub struct MagentoSource<R> {
    reports: R,
    now_ms: i64,
}

impl<R: ModuleReports> MagentoSource<R> {
    /// A source over `reports`, evaluated at `now_ms`.
    pub fn new(reports: R, now_ms: i64) -> Self {
        Self { reports, now_ms }
    }
}

/// Reports older than this make the audit incomplete: the module may have stopped reporting.
const STALE_REPORT_MS: i64 = 3 * 86_400_000;

impl<R: ModuleReports> SnapshotSource for MagentoSource<R> {
    fn platform(&self) -> Platform {
        Platform::Magento
    }

    fn collect(&self, ctx: &TenantCtx) -> impl Future<Output = Result<Collected, SourceError>> {
        let ctx = ctx.clone();
        async move {
            let Some((report, received_at)) = self.reports.latest(&ctx).await? else {
                return Err(SourceError::Unavailable(
                    "The LeakGuard module has not sent a permission report yet. Run `bin/magento leakguard:permissions:report` on the Magento host, or wait for its cron.".into(),
                ));
            };
            let mut snapshot =
                snapshot_from_report(&report, self.now_ms).map_err(SourceError::Unavailable)?;
            let mut notice = None;
            if self.now_ms - received_at > STALE_REPORT_MS {
                snapshot.complete = false;
                notice = Some(format!(
                    "The newest permission report from the Magento module is {} days old; the module's cron may have stopped. This audit shows the permissions as they were then.",
                    (self.now_ms - received_at) / 86_400_000
                ));
            }
            Ok(Collected {
                snapshot,
                notice,
                own_scopes_used: BTreeSet::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakguard_domain::permissions::{FindingKind, Policy, evaluate};

    fn report() -> Value {
        serde_json::json!({
            "schema": SCHEMA_V1,
            "generated_at": "2026-11-28T03:17:00Z",
            "base_url": "https://shop.example",
            "integration_bearer_enabled": true,
            "integrations": [{
                "integration_id": 7, "name": "ERP sync", "email_domain": "vendor.example",
                "endpoint": "https://erp.vendor.example/cb", "status": "active", "setup_type": "manual",
                "all_resources": true, "resources": ["Magento_Backend::all"],
                "pii_resources": ["Magento_Backend::all"], "tokens": [], "has_active_access_token": true
            }],
            "admin_users": [{
                "user_id": 2, "username": "agency", "email_domain": "agency.example", "is_active": true,
                "created_at": "2026-01-01T00:00:00Z", "last_login_at": null, "login_count": 0,
                "role_id": 1, "role_name": "Administrators", "all_resources": false,
                "resources": ["Magento_Customer::manage"], "pii_resources": ["Magento_Customer::manage"]
            }, {
                "user_id": 3, "username": "owner", "email_domain": "shop.example", "is_active": true,
                "created_at": "2026-01-01T00:00:00Z", "last_login_at": "2026-11-27T00:00:00Z",
                "role_id": 1, "role_name": "Administrators", "all_resources": true,
                "resources": ["Magento_Backend::all"], "pii_resources": ["Magento_Backend::all"]
            }]
        })
    }

    #[test]
    fn the_module_report_becomes_a_snapshot_with_its_findings() {
        let now = 1_795_996_800_000; // 2026-11-30
        let snap = snapshot_from_report(&report(), now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(snap.principals.len(), 3);
        let agency = &snap.principals[1];
        assert_eq!(agency.key, "magento_admin:2");
        assert_eq!(agency.attributes["external"], Value::Bool(true));
        assert!(agency.attributes["last_login_days"].as_i64().unwrap_or(0) > 90);
        assert_eq!(
            snap.principals[2].attributes["external"],
            Value::Bool(false)
        );
        let kinds: BTreeSet<FindingKind> =
            evaluate(None, &snap, &Policy::default(), &BTreeSet::new())
                .into_iter()
                .map(|f| f.kind)
                .collect();
        for k in [
            FindingKind::AllResources,
            FindingKind::BearerTokensEnabled,
            FindingKind::StaleAdmin,
            FindingKind::ExternalAdmin,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing");
        }
    }

    #[test]
    fn a_report_of_another_schema_is_refused() {
        assert!(snapshot_from_report(&serde_json::json!({"schema": "x"}), 0).is_err());
    }
}
