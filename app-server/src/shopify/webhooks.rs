//! Webhook intake and processing.
//!
//! Intake ([`receive`]) verifies the HMAC over the raw body bytes before anything is parsed,
//! strips payment fields, and inserts the delivery into `webhook_deliveries`; the unique
//! (source, delivery id) index makes a repeat a no-op that still answers 200. Nothing is stored
//! for a bad or missing HMAC. The work happens afterwards ([`process_delivery`]): spawned right
//! after the insert, and retried with back-off by [`retry_deliveries_job`] for deliveries that
//! failed or whose processor died. A delivery is claimed with one conditional `UPDATE`, so
//! however many processors race, one runs it; its effects, the audit entries and the
//! `processed` mark commit in one transaction. A processed delivery keeps no payload: the data
//! lives on in the signal or compliance rows (or nowhere), and the delivery row is the receipt.
//!
//! Payload retention: these keys are dropped at any depth before a payload is stored, because
//! leak detection needs none of them and a retention policy would not keep them:
//! [`DROPPED_KEYS`].

use leakguard_domain::audit::Subject;
use leakguard_domain::ids::TenantId;
use leakguard_domain::shop::ShopDomain;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

use super::{ShopifyConfig, ShopifyError, compliance, hmac};
use crate::audit_chain;
use crate::db::entities::{shopify_installations, shopify_signals, tenants, webhook_deliveries};
use crate::db::{begin_write, now_ms};
use crate::state::AppState;
use crate::tenancy::{TenantCtx, scoped};

/// The `source` of Shopify rows in `webhook_deliveries`.
pub const SOURCE: &str = "shopify";
/// Payment and payment-instrument keys removed from every stored payload.
pub const DROPPED_KEYS: &[&str] = &[
    "payment_details",
    "payment_method",
    "payment_methods",
    "payment_terms",
    "payment_gateway_names",
    "gateway",
    "transactions",
    "credit_card_bin",
    "credit_card_company",
    "credit_card_name",
    "credit_card_number",
    "credit_card_wallet",
    "credit_card_expiration_month",
    "credit_card_expiration_year",
    "avs_result_code",
    "cvv_result_code",
    "receipt",
    "authorization",
    "card",
    "checkout_token",
    "cart_token",
    "token",
];
/// How long a claimed delivery belongs to its processor before the job may take it over.
const CLAIM_MS: i64 = 5 * 60 * 1000;
/// Attempts before a delivery is given up (`dead`) and left for an operator.
pub const MAX_ATTEMPTS: i32 = 12;

/// The delivery headers, from either family (`X-Shopify-*` or the Events `shopify-*`).
#[derive(Clone, Debug, Default)]
pub struct DeliveryHeaders {
    /// Base64 HMAC.
    pub hmac: Option<String>,
    /// e.g. `orders/create`.
    pub topic: Option<String>,
    /// The shop.
    pub shop_domain: Option<String>,
    /// Delivery id (the dedup key).
    pub webhook_id: Option<String>,
    /// Payload API version.
    pub api_version: Option<String>,
}

impl DeliveryHeaders {
    /// Reads the headers through a case-insensitive lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let either = |suffix: &str| {
            get(&format!("x-shopify-{suffix}"))
                .or_else(|| get(&format!("shopify-{suffix}")))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            hmac: either("hmac-sha256"),
            topic: either("topic"),
            shop_domain: either("shop-domain"),
            webhook_id: either("webhook-id"),
            api_version: either("api-version"),
        }
    }
}

/// Why a delivery was refused (nothing was stored).
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// No HMAC header (401: compliance topics must never get a 2xx unsigned).
    #[error("the webhook is not signed")]
    MissingHmac,
    /// The HMAC does not match under the current or the previous secret (401).
    #[error("the webhook signature is invalid")]
    BadHmac,
    /// Empty body (400).
    #[error("the webhook has no body")]
    EmptyBody,
    /// Topic, shop, webhook id or API version missing, or a bad value (400).
    #[error("{0}")]
    BadRequest(String),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] ShopifyError),
}

/// What intake did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Stored; processing should start.
    Stored(Uuid),
    /// Seen before; nothing was stored.
    Duplicate,
}

/// Removes [`DROPPED_KEYS`] at any depth.
pub fn strip_payment_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !DROPPED_KEYS.contains(&k.as_str()));
            for v in map.values_mut() {
                strip_payment_fields(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_payment_fields),
        _ => {}
    }
}

fn valid_topic(topic: &str) -> bool {
    topic.len() <= 128
        && topic.contains('/')
        && topic
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/_.-".contains(&b))
}

/// Verifies and stores a delivery. The HMAC is checked over `body` exactly as received, before
/// any parsing; a refused delivery leaves no trace.
pub async fn receive(
    db: &DatabaseConnection,
    config: &ShopifyConfig,
    headers: &DeliveryHeaders,
    body: &[u8],
    now: i64,
) -> Result<Receipt, ReceiveError> {
    let presented = headers.hmac.as_deref().ok_or(ReceiveError::MissingHmac)?;
    if !hmac::webhook_hmac_valid(&config.secrets(), body, presented) {
        return Err(ReceiveError::BadHmac);
    }
    if body.is_empty() {
        return Err(ReceiveError::EmptyBody);
    }
    let (Some(topic), Some(shop), Some(webhook_id), Some(_version)) = (
        headers.topic.as_deref(),
        headers.shop_domain.as_deref(),
        headers.webhook_id.as_deref(),
        headers.api_version.as_deref(),
    ) else {
        return Err(ReceiveError::BadRequest(
            "missing webhook headers (topic, shop domain, webhook id, API version)".into(),
        ));
    };
    if !valid_topic(topic) {
        return Err(ReceiveError::BadRequest("invalid webhook topic".into()));
    }
    if webhook_id.len() > 255 {
        return Err(ReceiveError::BadRequest("invalid webhook id".into()));
    }
    let shop = ShopDomain::parse(shop)
        .map_err(|_| ReceiveError::BadRequest("invalid shop domain".into()))?;
    let mut payload: Value = serde_json::from_slice(body)
        .map_err(|_| ReceiveError::BadRequest("the webhook body is not JSON".into()))?;
    strip_payment_fields(&mut payload);
    let stored = serde_json::to_vec(&payload).map_err(|e| ShopifyError::Unexpected(e.into()))?;
    let tenant = tenants::Entity::find()
        .select_only()
        .column(tenants::Column::Id)
        .filter(tenants::Column::ShopDomain.eq(shop.as_str()))
        .into_tuple::<Uuid>()
        .one(db)
        .await
        .map_err(ShopifyError::from)?;
    let id = Uuid::now_v7();
    let inserted = webhook_deliveries::Entity::insert(webhook_deliveries::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant),
        source: Set(SOURCE.into()),
        delivery_id: Set(webhook_id.to_owned()),
        topic: Set(topic.to_owned()),
        shop_domain: Set(shop.to_string()),
        received_at: Set(now),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        payload: Set(Some(stored)),
    })
    .on_conflict(
        OnConflict::columns([
            webhook_deliveries::Column::Source,
            webhook_deliveries::Column::DeliveryId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map_err(ShopifyError::from)?;
    Ok(if inserted == 1 {
        Receipt::Stored(id)
    } else {
        Receipt::Duplicate
    })
}

/// Intake for the HTTP endpoint: [`receive`], then processing spawned in the background so the
/// response does not wait for it (Shopify allows 5 s in total).
pub async fn accept(
    state: Arc<AppState>,
    headers: &DeliveryHeaders,
    body: &[u8],
) -> Result<Receipt, ReceiveError> {
    let config = state
        .shopify
        .config
        .as_ref()
        .ok_or(ShopifyError::NotConfigured)?;
    let receipt = receive(&state.db, config, headers, body, now_ms()).await?;
    if let Receipt::Stored(id) = receipt {
        let permits = state.shopify.processing_permits.clone();
        tokio::spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            if let Err(e) = process_delivery(&state, id, now_ms()).await {
                tracing::warn!(delivery = %id, error = %e, "Webhook processing failed; the retry job takes it over.");
            }
        });
    }
    Ok(receipt)
}

/// How a processing attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processed {
    /// This call ran the delivery to completion.
    Done,
    /// Another processor holds it, or it is finished already.
    NotClaimed,
}

async fn claim(db: &DatabaseConnection, id: Uuid, now: i64) -> Result<bool, sea_orm::DbErr> {
    let claimable = webhook_deliveries::Column::Status
        .is_in(["pending", "failed", "processing"])
        .and(webhook_deliveries::Column::NextAttemptAt.lte(now));
    let updated = webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::Status,
            Expr::value("processing"),
        )
        .col_expr(
            webhook_deliveries::Column::Attempts,
            Expr::col(webhook_deliveries::Column::Attempts).add(1),
        )
        .col_expr(
            webhook_deliveries::Column::NextAttemptAt,
            Expr::value(now + CLAIM_MS),
        )
        .filter(webhook_deliveries::Column::Id.eq(id))
        .filter(webhook_deliveries::Column::Source.eq(SOURCE))
        .filter(claimable)
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

fn backoff_ms(attempts: i32) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 10) - 1).unwrap_or(0);
    std::cmp::Ord::min(30_000i64 * 2i64.pow(exp), 6 * 3600 * 1000)
}

/// Claims and processes one stored delivery at `now`. On failure the delivery is marked
/// `failed` with its next attempt time (or `dead` after [`MAX_ATTEMPTS`]).
pub async fn process_delivery(
    state: &AppState,
    id: Uuid,
    now: i64,
) -> Result<Processed, ShopifyError> {
    if !claim(&state.db, id, now).await? {
        return Ok(Processed::NotClaimed);
    }
    let Some(row) = webhook_deliveries::Entity::find_by_id(id)
        .one(&state.db)
        .await?
    else {
        return Ok(Processed::NotClaimed);
    };
    match run(state, &row, now).await {
        Ok(()) => Ok(Processed::Done),
        Err(e) => {
            let dead = row.attempts >= MAX_ATTEMPTS;
            webhook_deliveries::Entity::update_many()
                .col_expr(
                    webhook_deliveries::Column::Status,
                    Expr::value(if dead { "dead" } else { "failed" }),
                )
                .col_expr(
                    webhook_deliveries::Column::NextAttemptAt,
                    Expr::value(now + backoff_ms(row.attempts)),
                )
                .col_expr(
                    webhook_deliveries::Column::LastError,
                    Expr::value(error_category(&e)),
                )
                .filter(webhook_deliveries::Column::Id.eq(id))
                .filter(webhook_deliveries::Column::Status.eq("processing"))
                .filter(webhook_deliveries::Column::Attempts.eq(row.attempts))
                .exec(&state.db)
                .await?;
            Err(e)
        }
    }
}

/// A short, PII-free description of a processing error for the delivery row.
fn error_category(e: &ShopifyError) -> String {
    match e {
        ShopifyError::Unexpected(_) => "internal error (see server log)".into(),
        other => other.to_string().chars().take(200).collect(),
    }
}

async fn run(
    state: &AppState,
    row: &webhook_deliveries::Model,
    now: i64,
) -> Result<(), ShopifyError> {
    let txn = begin_write(&state.db).await?;
    let tenant = match row.tenant_id {
        Some(t) => Some(t),
        None => {
            tenants::Entity::find()
                .select_only()
                .column(tenants::Column::Id)
                .filter(tenants::Column::ShopDomain.eq(row.shop_domain.as_str()))
                .into_tuple::<Uuid>()
                .one(&txn)
                .await?
        }
    };
    // Mark it processed first, conditionally on our claim still standing: a processor whose
    // claim expired and was taken over finds zero rows here (on PostgreSQL it waits for the row
    // lock, then re-checks) and rolls back, so effects happen exactly once.
    let marked = webhook_deliveries::Entity::update_many()
        .col_expr(webhook_deliveries::Column::Status, Expr::value("processed"))
        .col_expr(webhook_deliveries::Column::TenantId, Expr::value(tenant))
        .col_expr(
            webhook_deliveries::Column::Payload,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(
            webhook_deliveries::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(webhook_deliveries::Column::Id.eq(row.id))
        .filter(webhook_deliveries::Column::Status.eq("processing"))
        .filter(webhook_deliveries::Column::Attempts.eq(row.attempts))
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(());
    }
    let payload: Option<Value> = row
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_slice(p).ok());
    if let (Some(tenant), Some(payload)) = (tenant, payload) {
        let ctx = TenantCtx::system(TenantId(tenant), "shopify.webhooks");
        dispatch(&txn, state, &ctx, row, &payload, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn dispatch<C: ConnectionTrait>(
    txn: &C,
    state: &AppState,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
    now: i64,
) -> Result<(), ShopifyError> {
    match row.topic.as_str() {
        "app/uninstalled" => app_uninstalled(txn, ctx, row, now).await,
        "app/scopes_update" => scopes_update(txn, ctx, row, payload, now).await,
        "customers/data_request" => {
            compliance::data_request(txn, &state.keyring, ctx, row, payload, now).await
        }
        "customers/redact" => {
            compliance::customer_redact(txn, &state.keyring, ctx, row, payload, now).await
        }
        "shop/redact" => compliance::shop_redact(txn, ctx, row, now).await,
        topic
            if topic == "bulk_operations/finish"
                || topic.starts_with("customers/")
                || topic.starts_with("orders/") =>
        {
            store_signal(txn, ctx, row, payload).await
        }
        _ => Ok(()),
    }
}

fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        _ => None,
    }
}

/// The customer a customer or order payload is about.
pub fn payload_customer_id(topic: &str, payload: &Value) -> Option<String> {
    if topic.starts_with("customers/") {
        id_text(payload.get("id"))
    } else {
        id_text(payload.get("customer").and_then(|c| c.get("id")))
    }
}

async fn store_signal<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
) -> Result<(), ShopifyError> {
    let resource =
        id_text(payload.get("id")).or_else(|| id_text(payload.get("admin_graphql_api_id")));
    let id = Uuid::now_v7();
    shopify_signals::Entity::insert(shopify_signals::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(id),
        delivery_id: Set(row.id),
        topic: Set(row.topic.clone()),
        resource_id: Set(resource),
        customer_id: Set(payload_customer_id(&row.topic, payload)),
        received_at: Set(row.received_at),
        payload: Set(payload.to_string()),
    })
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "shopify.signal_stored",
        Subject::new("shopify_signal", id.to_string()),
        serde_json::json!({"topic": row.topic, "delivery": row.id.to_string()}),
    )
    .await?;
    Ok(())
}

async fn app_uninstalled<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    now: i64,
) -> Result<(), ShopifyError> {
    let Some(tenant) = tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let installation = scoped::<shopify_installations::Entity>(ctx)
        .one(txn)
        .await?;
    // An uninstall from before the latest (re)install is stale: ignore it.
    let stale = installation
        .as_ref()
        .is_some_and(|i| i.installed_at > row.received_at);
    if tenant.status != "active" || stale {
        return Ok(());
    }
    let shop_redact_due = now + compliance::SHOP_REDACT_AFTER_MS + compliance::DEADLINE_MS;
    tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value("uninstalled"))
        .col_expr(tenants::Column::UninstalledAt, Expr::value(now))
        .filter(tenants::Column::Id.eq(tenant.id))
        .exec(txn)
        .await?;
    shopify_installations::Entity::update_many()
        .col_expr(
            shopify_installations::Column::UninstalledAt,
            Expr::value(now),
        )
        .col_expr(
            shopify_installations::Column::ShopRedactDueAt,
            Expr::value(shop_redact_due),
        )
        .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            shopify_installations::Column::AccessExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .filter(shopify_installations::Column::TenantId.eq(tenant.id))
        .exec(txn)
        .await?;
    crate::secrets::delete(txn, ctx, super::ACCESS_TOKEN_SECRET).await?;
    crate::secrets::delete(txn, ctx, super::REFRESH_TOKEN_SECRET).await?;
    audit_chain::record(
        txn,
        ctx,
        "shopify.app_uninstalled",
        Subject::new("tenant", tenant.id.to_string()),
        serde_json::json!({
            "delivery": row.id.to_string(),
            "shop_redact_due_at": shop_redact_due,
        }),
    )
    .await?;
    Ok(())
}

async fn scopes_update<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    row: &webhook_deliveries::Model,
    payload: &Value,
    now: i64,
) -> Result<(), ShopifyError> {
    let scopes = |key: &str| -> Vec<String> {
        payload
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let current = scopes("current");
    let previous = scopes("previous");
    let updated = shopify_installations::Entity::update_many()
        .col_expr(
            shopify_installations::Column::GrantedScopes,
            Expr::value(current.join(",")),
        )
        .col_expr(shopify_installations::Column::UpdatedAt, Expr::value(now))
        .filter(shopify_installations::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .exec(txn)
        .await?;
    audit_chain::record(
        txn,
        ctx,
        "shopify.scopes_updated",
        Subject::new("tenant", ctx.tenant_id().to_string()),
        serde_json::json!({
            "current": current,
            "previous": previous,
            "source": "app/scopes_update",
            "delivery": row.id.to_string(),
            "installation_known": updated.rows_affected == 1,
        }),
    )
    .await?;
    Ok(())
}

/// Job: processes every delivery that is due (pending too long, failed and due for retry, or
/// claimed by a processor that died). Returns how many ran to completion.
pub async fn retry_deliveries_job(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let due: Vec<Uuid> = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::Id)
        .filter(webhook_deliveries::Column::Source.eq(SOURCE))
        .filter(webhook_deliveries::Column::Status.is_in(["pending", "failed", "processing"]))
        .filter(webhook_deliveries::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_deliveries::Column::NextAttemptAt)
        .limit(200)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut done = 0;
    for id in due {
        match process_delivery(state, id, now).await {
            Ok(Processed::Done) => done += 1,
            Ok(Processed::NotClaimed) => {}
            Err(e) => {
                tracing::warn!(delivery = %id, error = %e, "Webhook retry failed.");
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payment_fields_are_stripped_at_any_depth() {
        let mut v = serde_json::json!({
            "id": 1,
            "email": "a@example.com",
            "payment_details": {"credit_card_number": "•••• 4242"},
            "transactions": [{"amount": "1"}],
            "line_items": [{"id": 2, "token": "x", "title": "Mug"}],
            "payment_gateway_names": ["bogus"],
        });
        strip_payment_fields(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"id": 1, "email": "a@example.com", "line_items": [{"id": 2, "title": "Mug"}]})
        );
    }

    #[test]
    fn both_header_families_are_read() {
        let lookup = |family: &'static str| {
            move |name: &str| name.starts_with(family).then(|| format!("value of {name}"))
        };
        let classic = DeliveryHeaders::from_lookup(lookup("x-shopify-"));
        assert_eq!(classic.topic.as_deref(), Some("value of x-shopify-topic"));
        let events = DeliveryHeaders::from_lookup(lookup("shopify-"));
        assert_eq!(
            events.webhook_id.as_deref(),
            Some("value of shopify-webhook-id")
        );
    }

    #[test]
    fn back_off_grows_and_is_capped() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert!(backoff_ms(12) <= 6 * 3600 * 1000);
    }
}
