//! The standing inventory: how much data of each class the tenant holds in LeakGuard's own
//! store and how old it is, and each Magento class of the policy as the module's latest real
//! report left it.

use leakguard_domain::retention::{DataClass, Policy, age_bucket, cutoff_ms};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::{RetentionError, current_policy};
use crate::db::entities::webhook_deliveries;
use crate::tenancy::{TenantCtx, scoped};

/// How much data of a class the tenant holds and how old it is.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InventoryItem {
    /// Class.
    pub class: DataClass,
    /// Always `server` (LeakGuard's own store).
    pub source: &'static str,
    /// Rows holding the data.
    pub rows: i64,
    /// Rows per age bucket.
    pub by_age: BTreeMap<String, i64>,
    /// Rows past the policy's limit (each is a finding until the next run clears it).
    pub overdue: i64,
    /// Oldest anchor time, Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest: Option<i64>,
}

/// An alert the module reported for a class.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ClassAlert {
    /// `cc_number_enc_present`, `cc_cid_enc_present`, ...
    pub code: String,
    /// Rows that held the data.
    pub rows: i64,
}

/// What the latest real (not dry-run) Magento report says about one class of the current policy.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MagentoClassState {
    /// Class.
    pub class: DataClass,
    /// Always `magento`.
    pub source: &'static str,
    /// The current policy's version and limit for the class.
    pub policy_version: u32,
    /// The current limit.
    pub max_age_days: u32,
    /// The latest report (`retention_reports.id`), none before the first report.
    pub report_id: Option<Uuid>,
    /// When the module finished that run (or the server received it), Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reported_at: Option<i64>,
    /// Policy version the module applied in that run.
    pub applied_policy_version: Option<i64>,
    /// The class's status in the report (`complete`, `unsupported`), none if absent.
    pub status: Option<String>,
    /// Rows the run changed.
    pub rows_affected: Option<i64>,
    /// The module's reason when the class was not applied.
    pub reason: Option<String>,
    /// Alerts of the run.
    pub alerts: Vec<ClassAlert>,
    /// Why the class needs attention: `never_reported`, `not_in_report`, `not_complete`,
    /// `alerts`, `policy_not_applied` (the run used an older policy version). Empty when fine.
    pub attention: Vec<&'static str>,
}

/// One line of the inventory: LeakGuard's own store, or a Magento class as last reported.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum InventoryEntry {
    /// Own-store data counted now.
    Store(InventoryItem),
    /// A Magento class, from the module's latest report.
    Magento(MagentoClassState),
}

/// The Magento classes of the policy as the latest real module report left them.
async fn magento_states(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    policy: &Policy,
) -> Result<Vec<MagentoClassState>, RetentionError> {
    use crate::db::entities::retention_reports;
    let latest = scoped::<retention_reports::Entity>(ctx)
        .filter(retention_reports::Column::DryRun.eq(false))
        .order_by_desc(retention_reports::Column::ReceivedAt)
        .order_by_desc(retention_reports::Column::Id)
        .one(db)
        .await?;
    let body: Option<serde_json::Value> = latest
        .as_ref()
        .and_then(|r| serde_json::from_str(&r.report).ok());
    let reported: Vec<serde_json::Value> = body
        .as_ref()
        .and_then(|b| b.get("classes"))
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    let mut states = Vec::new();
    for rule in policy.classes.iter().filter(|r| r.class.on_magento()) {
        let name = serde_json::to_value(rule.class)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let entry = reported
            .iter()
            .find(|c| c.get("class").and_then(|v| v.as_str()) == Some(name.as_str()));
        let text = |key: &str| {
            entry
                .and_then(|c| c.get(key))
                .and_then(|v| v.as_str())
                .map(|s| s.chars().take(500).collect::<String>())
        };
        let alerts: Vec<ClassAlert> = entry
            .and_then(|c| c.get("alerts"))
            .and_then(|a| a.as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|a| {
                        Some(ClassAlert {
                            code: a.get("code")?.as_str()?.chars().take(64).collect(),
                            rows: a.get("rows")?.as_i64()?,
                        })
                    })
                    .filter(|a| a.rows > 0)
                    .collect()
            })
            .unwrap_or_default();
        let status = text("status");
        let applied = latest.as_ref().map(|r| r.policy_version);
        let mut attention = Vec::new();
        match (&latest, entry) {
            (None, _) => attention.push("never_reported"),
            (Some(_), None) => attention.push("not_in_report"),
            (Some(_), Some(_)) => {
                if status.as_deref() != Some("complete") {
                    attention.push("not_complete");
                }
                if !alerts.is_empty() {
                    attention.push("alerts");
                }
            }
        }
        if applied.is_some_and(|v| v < i64::from(policy.version)) {
            attention.push("policy_not_applied");
        }
        states.push(MagentoClassState {
            class: rule.class,
            source: "magento",
            policy_version: policy.version,
            max_age_days: rule.max_age_days,
            report_id: latest.as_ref().map(|r| r.id),
            reported_at: latest
                .as_ref()
                .map(|r| r.finished_at.unwrap_or(r.received_at)),
            applied_policy_version: applied,
            status,
            rows_affected: entry
                .and_then(|c| c.get("rows_affected"))
                .and_then(|v| v.as_i64()),
            reason: text("reason"),
            alerts,
            attention,
        });
    }
    Ok(states)
}

/// The standing inventory: LeakGuard's own store counted now, then (Magento tenants) each
/// Magento class of the policy as the module's latest real report left it.
pub async fn inventory(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    now: i64,
) -> Result<Vec<InventoryEntry>, RetentionError> {
    let policy = current_policy(db, ctx).await?;
    let mut entries = vec![InventoryEntry::Store(
        own_store_inventory(db, ctx, &policy, now).await?,
    )];
    let platform = crate::db::entities::tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(db)
        .await?
        .map(|t| t.platform);
    if platform == Some(crate::db::entities::tenants::Platform::Magento) {
        entries.extend(
            magento_states(db, ctx, &policy)
                .await?
                .into_iter()
                .map(InventoryEntry::Magento),
        );
    }
    Ok(entries)
}

async fn own_store_inventory(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    policy: &Policy,
    now: i64,
) -> Result<InventoryItem, RetentionError> {
    let cutoff = policy
        .rule(DataClass::WebhookPayloads)
        .map(|r| cutoff_ms(r, now))
        .unwrap_or(i64::MIN);
    let mut item = InventoryItem {
        class: DataClass::WebhookPayloads,
        source: "server",
        rows: 0,
        by_age: BTreeMap::new(),
        overdue: 0,
        oldest: None,
    };
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = scoped::<webhook_deliveries::Entity>(ctx)
            .filter(webhook_deliveries::Column::Payload.is_not_null());
        if let Some(last) = after {
            q = q.filter(webhook_deliveries::Column::Id.gt(last));
        }
        let rows: Vec<(Uuid, i64)> = q
            .select_only()
            .column(webhook_deliveries::Column::Id)
            .column(webhook_deliveries::Column::ReceivedAt)
            .order_by_asc(webhook_deliveries::Column::Id)
            .limit(10_000)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.0);
        for (_, received) in rows {
            item.rows += 1;
            *item
                .by_age
                .entry(age_bucket(now - received).to_owned())
                .or_insert(0) += 1;
            if received < cutoff {
                item.overdue += 1;
            }
            item.oldest = Some(item.oldest.map_or(received, |o| o.min(received)));
        }
    }
    Ok(item)
}
