//! The privacy compliance topics and what the tenant admin sees of them.
//!
//! - `customers/data_request`: a report of every personal datum LeakGuard holds about the
//!   customer for the tenant, stored for the tenant admin to download; due in 30 days and
//!   `open` until an admin has downloaded it.
//! - `customers/redact`: the customer's signals are deleted, their reports purged and every
//!   stored webhook payload that names them dropped.
//! - `shop/redact`: every personal datum of the tenant is deleted (signals, reports, payloads,
//!   tokens, staff users and API keys) and the per-tenant key of customer references is
//!   destroyed, so the hashes left in the audit chain can no longer be linked to anyone. Only
//!   for a tenant uninstalled for 48 hours or more; earlier the delivery waits until then, and a
//!   tenant that is not uninstalled is never purged.
//!
//! Each records a `shopify_compliance_requests` row and its evidence in the audit chain, in the
//! same transaction. Audit entries carry customer references (keyed hashes), never an id, an
//! email or a phone number.

use hmac::{Hmac, KeyInit, Mac};
use leakguard_domain::audit::Subject;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

use super::webhook_processing::Outcome;
use super::{ShopifyError, rfc3339, webhooks};
use crate::audit_chain;
use crate::crypto::Keyring;
use crate::db::entities::{
    api_keys, console_sessions, findings, shopify_compliance_requests as requests,
    shopify_installations, shopify_signals, signals, tenants, users, webhook_deliveries,
};
use crate::db::{begin_write, now_ms};
use crate::secrets;
use crate::tenancy::{TenantCtx, scoped};

/// Time allowed to complete a compliance request.
pub const DEADLINE_MS: i64 = 30 * 24 * 3600 * 1000;
/// Shopify sends `shop/redact` this long after an uninstall.
pub const SHOP_REDACT_AFTER_MS: i64 = 48 * 3600 * 1000;

/// The keyed reference of a customer inside a tenant: HMAC-SHA256 under the tenant's
/// reference key, 32 hex digits. With `create`, a missing key is generated (and stored sealed).
pub async fn customer_ref<C: ConnectionTrait>(
    db: &C,
    keyring: &Keyring,
    ctx: &TenantCtx,
    customer_id: &str,
    create: bool,
) -> Result<Option<String>, ShopifyError> {
    use secrecy::ExposeSecret;
    let key = match secrets::get(db, keyring, ctx, super::PII_KEY_SECRET).await? {
        Some(k) => k.expose_secret().to_owned(),
        None if create => {
            let raw: [u8; 32] = rand::random();
            let key = hex::encode(raw);
            secrets::put(db, keyring, ctx, super::PII_KEY_SECRET, key.as_bytes()).await?;
            key
        }
        None => return Ok(None),
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .map_err(|e| ShopifyError::Unexpected(anyhow::anyhow!("reference key: {e}")))?;
    mac.update(b"shopify-customer:");
    mac.update(customer_id.as_bytes());
    Ok(Some(hex::encode(&mac.finalize().into_bytes()[..16])))
}

fn customer_id_of(payload: &Value) -> Option<String> {
    match payload.get("customer")?.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn ids(payload: &Value, key: &str) -> Vec<String> {
    payload
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| match v {
                    Value::Number(n) => Some(n.to_string()),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Signals about a customer: by customer id, or by one of the given order ids.
async fn customer_signals<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    customer_id: &str,
    order_ids: &[String],
) -> Result<Vec<shopify_signals::Model>, ShopifyError> {
    let mut condition = shopify_signals::Column::CustomerId.eq(customer_id);
    if !order_ids.is_empty() {
        condition = condition.or(shopify_signals::Column::Topic
            .starts_with("orders/")
            .and(shopify_signals::Column::ResourceId.is_in(order_ids.to_vec())));
    }
    Ok(scoped::<shopify_signals::Entity>(ctx)
        .filter(condition)
        .order_by_asc(shopify_signals::Column::ReceivedAt)
        .all(db)
        .await?)
}

/// A compliance request row to record for a delivery.
struct NewRequest {
    shopify_request_id: Option<String>,
    customer_ref: Option<String>,
    status: requests::Status,
    report: Option<String>,
}

async fn insert_request<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    new: NewRequest,
    now: i64,
) -> Result<Uuid, ShopifyError> {
    let NewRequest {
        shopify_request_id,
        customer_ref,
        status,
        report,
    } = new;
    let id = Uuid::now_v7();
    requests::Entity::insert(requests::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(id),
        delivery_id: Set(row.id),
        topic: Set(<requests::Topic as sea_orm::ActiveEnum>::try_from_value(
            &row.topic,
        )?),
        shopify_request_id: Set(shopify_request_id),
        customer_ref: Set(customer_ref),
        received_at: Set(row.received_at),
        due_at: Set(row.received_at + DEADLINE_MS),
        status: Set(status),
        completed_at: Set((status == requests::Status::Done).then_some(now)),
        report: Set(report),
        report_purged_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(id)
}

/// Stores a finished compliance request for `row` and records `action` for it in the audit
/// chain, in the caller's transaction.
async fn record_done<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    customer_ref: Option<String>,
    action: &str,
    details: serde_json::Value,
    now: i64,
) -> Result<(), ShopifyError> {
    let request = insert_request(
        txn,
        ctx,
        row,
        NewRequest {
            shopify_request_id: None,
            customer_ref,
            status: requests::Status::Done,
            report: None,
        },
        now,
    )
    .await?;
    audit_chain::record(
        txn,
        ctx,
        action,
        Subject::new("compliance_request", request.to_string()),
        details,
    )
    .await?;
    Ok(())
}

/// `customers/data_request`: builds and stores the report.
pub async fn data_request<C: ConnectionTrait>(
    txn: &C,
    keyring: &Keyring,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
    now: i64,
) -> Result<(), ShopifyError> {
    let customer_id = customer_id_of(payload).ok_or_else(|| {
        ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidWebhook,
            "data request without a customer id",
        ))
    })?;
    let orders = ids(payload, "orders_requested");
    let customer_ref = customer_ref(txn, keyring, ctx, &customer_id, true).await?;
    let signals = customer_signals(txn, ctx, &customer_id, &orders).await?;
    let earlier = match &customer_ref {
        Some(r) => {
            scoped::<requests::Entity>(ctx)
                .filter(requests::Column::CustomerRef.eq(r.as_str()))
                .order_by_asc(requests::Column::ReceivedAt)
                .all(txn)
                .await?
        }
        None => Vec::new(),
    };
    let report = serde_json::json!({
        "kind": "leakguard.shopify.customer_data_report",
        "version": 1,
        "generated_at": rfc3339(now),
        "shop_domain": row.shop_domain,
        "shopify_data_request_id": payload.get("data_request").and_then(|d| d.get("id")),
        "customer": payload.get("customer"),
        "orders_requested": orders,
        "held_data": {
            "shopify_signals": signals.iter().map(|s| serde_json::json!({
                "topic": s.topic,
                "resource_id": s.resource_id,
                "received_at": rfc3339(s.received_at),
                "payload": serde_json::from_str::<Value>(&s.payload).unwrap_or(Value::Null),
            })).collect::<Vec<_>>(),
            "privacy_requests": earlier.iter().map(|r| serde_json::json!({
                "topic": r.topic,
                "received_at": rfc3339(r.received_at),
                "status": r.status,
            })).collect::<Vec<_>>(),
        },
        "not_held": "LeakGuard keeps no payment data (payment fields are dropped on receipt), and \
                     raw webhook payloads are discarded once processed.",
    });
    let shopify_request_id = payload
        .get("data_request")
        .and_then(|d| d.get("id"))
        .map(|v| v.to_string().trim_matches('"').to_owned());
    let request = insert_request(
        txn,
        ctx,
        row,
        NewRequest {
            shopify_request_id,
            customer_ref: customer_ref.clone(),
            status: requests::Status::Open,
            report: Some(report.to_string()),
        },
        now,
    )
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "shopify.customer_data_request_reported",
        Subject::new("compliance_request", request.to_string()),
        serde_json::json!({
            "customer_ref": customer_ref,
            "delivery": row.id.to_string(),
            "signals": signals.len(),
            "due_at": row.received_at + DEADLINE_MS,
        }),
    )
    .await?;
    Ok(())
}

/// True when a stored payload names the customer or one of the orders.
fn payload_mentions(topic: &str, payload: &Value, customer_id: &str, orders: &[String]) -> bool {
    if webhooks::payload_customer_id(topic, payload).as_deref() == Some(customer_id)
        || customer_id_of(payload).as_deref() == Some(customer_id)
    {
        return true;
    }
    topic.starts_with("orders/")
        && payload
            .get("id")
            .map(|v| v.to_string().trim_matches('"').to_owned())
            .is_some_and(|id| orders.contains(&id))
}

/// `customers/redact`: deletes the customer's data.
pub async fn customer_redact<C: ConnectionTrait>(
    txn: &C,
    keyring: &Keyring,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
    now: i64,
) -> Result<(), ShopifyError> {
    let customer_id = customer_id_of(payload).ok_or_else(|| {
        ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidWebhook,
            "redaction without a customer id",
        ))
    })?;
    let orders = ids(payload, "orders_to_redact");
    let customer_ref = customer_ref(txn, keyring, ctx, &customer_id, true).await?;
    let signal_ids: Vec<Uuid> = customer_signals(txn, ctx, &customer_id, &orders)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let signals_deleted = if signal_ids.is_empty() {
        0
    } else {
        shopify_signals::Entity::delete_many()
            .filter(shopify_signals::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
            .filter(shopify_signals::Column::Id.is_in(signal_ids))
            .exec(txn)
            .await?
            .rows_affected
    };
    let reports_purged = match &customer_ref {
        Some(r) => {
            requests::Entity::update_many()
                .col_expr(
                    requests::Column::Report,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(requests::Column::ReportPurgedAt, Expr::value(now))
                .filter(requests::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
                .filter(requests::Column::CustomerRef.eq(r.as_str()))
                .filter(requests::Column::Report.is_not_null())
                .exec(txn)
                .await?
                .rows_affected
        }
        None => 0,
    };
    // Stored payloads not yet processed (or of topics kept raw) that name the customer.
    let held = scoped::<webhook_deliveries::Entity>(ctx)
        .filter(webhook_deliveries::Column::Payload.is_not_null())
        .filter(webhook_deliveries::Column::Id.ne(row.id))
        .all(txn)
        .await?;
    let mut payloads_dropped = 0u64;
    for delivery in held {
        let mentions = delivery
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_slice::<Value>(p).ok())
            .is_some_and(|p| payload_mentions(&delivery.topic, &p, &customer_id, &orders));
        if mentions {
            webhook_deliveries::Entity::update_many()
                .col_expr(
                    webhook_deliveries::Column::Payload,
                    Expr::value(Option::<Vec<u8>>::None),
                )
                .filter(webhook_deliveries::Column::Id.eq(delivery.id))
                .exec(txn)
                .await?;
            payloads_dropped += 1;
        }
    }
    record_done(
        txn,
        ctx,
        row,
        customer_ref.clone(),
        "shopify.customer_redacted",
        serde_json::json!({
            "customer_ref": customer_ref,
            "delivery": row.id.to_string(),
            "orders": orders.len(),
            "signals_deleted": signals_deleted,
            "reports_purged": reports_purged,
            "payloads_dropped": payloads_dropped,
        }),
        now,
    )
    .await?;
    Ok(())
}

/// `shop/redact`: deletes every personal datum of the tenant and marks it purged, only for a
/// tenant that is uninstalled and has been for 48 hours (Shopify sends `shop/redact` 48 h after
/// an uninstall). Earlier, the delivery is deferred until the 48 hours are over and runs then;
/// for a tenant that is not uninstalled (still installed, installed again, already purged) the
/// redaction is refused: nothing is deleted and the refusal is on the record.
pub async fn shop_redact<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    now: i64,
) -> Result<Outcome, ShopifyError> {
    let tenant = ctx.tenant_id().as_uuid();
    let Some(record) = tenants::Entity::find_by_id(tenant).one(txn).await? else {
        return Ok(Outcome::Done);
    };
    let uninstalled_at = match (record.status, record.uninstalled_at) {
        (tenants::Status::Uninstalled, Some(at)) => at,
        (status, _) => {
            let reason = match status {
                tenants::Status::Purged => "already_purged",
                _ => "not_uninstalled",
            };
            record_done(
                txn,
                ctx,
                row,
                None,
                "shopify.shop_redact_skipped",
                serde_json::json!({"delivery": row.id.to_string(), "reason": reason}),
                now,
            )
            .await?;
            return Ok(Outcome::Done);
        }
    };
    let due = uninstalled_at + SHOP_REDACT_AFTER_MS;
    if now < due {
        audit_chain::record(
            txn,
            ctx,
            "shopify.shop_redact_deferred",
            Subject::new("tenant", tenant.to_string()),
            serde_json::json!({"delivery": row.id.to_string(), "runs_at": due}),
        )
        .await?;
        return Ok(Outcome::Deferred(due));
    }
    let signals_deleted = shopify_signals::Entity::delete_many()
        .filter(shopify_signals::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    let reports_purged = requests::Entity::update_many()
        .col_expr(
            requests::Column::Report,
            Expr::value(Option::<String>::None),
        )
        .col_expr(requests::Column::ReportPurgedAt, Expr::value(now))
        .filter(requests::Column::TenantId.eq(tenant))
        .filter(requests::Column::Report.is_not_null())
        .exec(txn)
        .await?
        .rows_affected;
    let payloads_dropped = webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::Payload,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(webhook_deliveries::Column::TenantId.eq(tenant))
        .filter(webhook_deliveries::Column::Payload.is_not_null())
        .exec(txn)
        .await?
        .rows_affected;
    let mut secrets_deleted = 0;
    for name in [
        super::ACCESS_TOKEN_SECRET,
        super::REFRESH_TOKEN_SECRET,
        super::PII_KEY_SECRET,
    ] {
        if secrets::delete(txn, ctx, name).await? {
            secrets_deleted += 1;
        }
    }
    // Tables other adapters fill (staff sessions, detection signals and findings) may name
    // people too; a Shopify tenant normally has none, but the purge covers them all.
    let sessions_deleted = console_sessions::Entity::delete_many()
        .filter(console_sessions::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    let detection_rows_deleted = signals::Entity::delete_many()
        .filter(signals::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected
        + findings::Entity::delete_many()
            .filter(findings::Column::TenantId.eq(tenant))
            .exec(txn)
            .await?
            .rows_affected
        + crate::alerts::purge_tenant(txn, tenant).await?;
    let api_keys_deleted = api_keys::Entity::delete_many()
        .filter(api_keys::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    let users_deleted = users::Entity::delete_many()
        .filter(users::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?
        .rows_affected;
    shopify_installations::Entity::update_many()
        .col_expr(
            shopify_installations::Column::GrantedScopes,
            Expr::value(""),
        )
        .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            shopify_installations::Column::AccessExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            shopify_installations::Column::RefreshExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .filter(shopify_installations::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?;
    tenants::Entity::update_many()
        .col_expr(
            tenants::Column::Status,
            Expr::value(tenants::Status::Purged),
        )
        .col_expr(tenants::Column::PurgedAt, Expr::value(now))
        .filter(tenants::Column::Id.eq(tenant))
        .exec(txn)
        .await?;
    record_done(
        txn,
        ctx,
        row,
        None,
        "shopify.shop_redacted",
        serde_json::json!({
            "delivery": row.id.to_string(),
            "signals_deleted": signals_deleted,
            "reports_purged": reports_purged,
            "payloads_dropped": payloads_dropped,
            "secrets_deleted": secrets_deleted,
            "api_keys_deleted": api_keys_deleted,
            "console_sessions_deleted": sessions_deleted,
            "detection_rows_deleted": detection_rows_deleted,
            "users_deleted": users_deleted,
        }),
        now,
    )
    .await?;
    Ok(Outcome::Done)
}

/// A compliance request as the tenant admin sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    /// Id.
    pub id: Uuid,
    /// The compliance topic.
    pub topic: requests::Topic,
    /// Shopify's id of a data request.
    pub shopify_request_id: Option<String>,
    /// Keyed reference of the customer.
    pub customer_ref: Option<String>,
    /// RFC 3339.
    pub received_at: String,
    /// RFC 3339: received + 30 days.
    pub due_at: String,
    /// `open` or `done`.
    pub status: requests::Status,
    /// RFC 3339.
    pub completed_at: Option<String>,
    /// A report can be downloaded.
    pub report_available: bool,
    /// RFC 3339, when the report was purged by a redaction.
    pub report_purged_at: Option<String>,
}

impl From<requests::Model> for RequestView {
    fn from(r: requests::Model) -> Self {
        Self {
            id: r.id,
            topic: r.topic,
            shopify_request_id: r.shopify_request_id,
            customer_ref: r.customer_ref,
            received_at: rfc3339(r.received_at),
            due_at: rfc3339(r.due_at),
            status: r.status,
            completed_at: r.completed_at.map(rfc3339),
            report_available: r.report.is_some(),
            report_purged_at: r.report_purged_at.map(rfc3339),
        }
    }
}

/// The tenant's compliance requests, newest first.
pub async fn list_requests(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
) -> Result<Vec<RequestView>, ShopifyError> {
    Ok(scoped::<requests::Entity>(ctx)
        .order_by_desc(requests::Column::ReceivedAt)
        .all(db)
        .await?
        .into_iter()
        .map(RequestView::from)
        .collect())
}

/// One compliance request of the tenant.
pub async fn get_request(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<RequestView, ShopifyError> {
    scoped::<requests::Entity>(ctx)
        .filter(requests::Column::Id.eq(id))
        .one(db)
        .await?
        .map(RequestView::from)
        .ok_or(ShopifyError::NotFound)
}

/// The report of a data request, for the tenant admin. Every download is audited; the first
/// completes the request (the merchant now has what the customer asked for).
pub async fn download_report(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<Value, ShopifyError> {
    let txn = begin_write(db).await?;
    let request = scoped::<requests::Entity>(ctx)
        .filter(requests::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(ShopifyError::NotFound)?;
    let report = request.report.ok_or(ShopifyError::NotFound)?;
    let now = now_ms();
    let completes = request.status != requests::Status::Done;
    if completes {
        requests::Entity::update_many()
            .col_expr(
                requests::Column::Status,
                Expr::value(requests::Status::Done),
            )
            .col_expr(requests::Column::CompletedAt, Expr::value(now))
            .filter(requests::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
            .filter(requests::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    audit_chain::record(
        &txn,
        ctx,
        "shopify.customer_data_report_downloaded",
        Subject::new("compliance_request", id.to_string()),
        serde_json::json!({"completed_request": completes}),
    )
    .await?;
    txn.commit().await?;
    serde_json::from_str(&report).map_err(|e| ShopifyError::Unexpected(e.into()))
}

/// What the admin block shows for one customer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerFindings {
    /// The customer GID as asked.
    pub customer_id: String,
    /// Data-access findings about this customer.
    pub findings: Vec<Finding>,
    /// Privacy requests about this customer.
    pub data_requests: Vec<DataRequest>,
}

/// One finding.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// Id.
    pub id: String,
    /// Kind, e.g. `mass_export`.
    pub kind: String,
    /// `critical`, `high`, `medium`, `low`.
    pub severity: String,
    /// Title.
    pub title: String,
    /// RFC 3339.
    pub detected_at: String,
    /// Who accessed the data.
    pub principal: String,
}

/// One privacy request in the admin block.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DataRequest {
    /// Compliance topic.
    pub topic: requests::Topic,
    /// RFC 3339.
    pub received_at: String,
    /// RFC 3339.
    pub due_at: String,
    /// `open` or `done`.
    pub status: requests::Status,
}

/// Parses `gid://shopify/Customer/123` (or `123`) into the numeric id.
pub fn parse_customer_gid(gid: &str) -> Option<String> {
    let id = gid.strip_prefix("gid://shopify/Customer/").unwrap_or(gid);
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.to_owned())
}

/// The findings and privacy requests of one customer of the tenant. A customer the tenant holds
/// nothing about (including another tenant's) gets empty lists, exactly like an unknown one.
pub async fn customer_findings(
    db: &DatabaseConnection,
    keyring: &Keyring,
    ctx: &TenantCtx,
    gid: &str,
) -> Result<CustomerFindings, ShopifyError> {
    let customer_id = parse_customer_gid(gid).ok_or_else(|| {
        ShopifyError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidCustomerId,
            "customer id must be gid://shopify/Customer/<id>",
        ))
    })?;
    let customer_ref = customer_ref(db, keyring, ctx, &customer_id, false).await?;
    let data_requests = match customer_ref {
        Some(r) => scoped::<requests::Entity>(ctx)
            .filter(requests::Column::CustomerRef.eq(r))
            .order_by_desc(requests::Column::ReceivedAt)
            .all(db)
            .await?
            .into_iter()
            .map(|r| DataRequest {
                topic: r.topic,
                received_at: rfc3339(r.received_at),
                due_at: rfc3339(r.due_at),
                status: r.status,
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(CustomerFindings {
        customer_id: format!("gid://shopify/Customer/{customer_id}"),
        // Detection findings are produced by the detection pipeline, which does not yet attribute
        // findings to Shopify customers; the list stays empty until it does.
        findings: Vec::new(),
        data_requests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_gids_parse_strictly() {
        assert_eq!(
            parse_customer_gid("gid://shopify/Customer/191167").as_deref(),
            Some("191167")
        );
        assert_eq!(parse_customer_gid("191167").as_deref(), Some("191167"));
        for bad in [
            "gid://shopify/Order/1",
            "gid://shopify/Customer/",
            "1 OR 1=1",
            "",
        ] {
            assert_eq!(parse_customer_gid(bad), None, "{bad}");
        }
    }
}
