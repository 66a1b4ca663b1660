//! Webhook intake.
//!
//! Intake ([`receive`]) verifies the HMAC over the raw body bytes before anything is parsed,
//! then binds the unsigned headers to the signed body (`webhook_binding`: the body must have
//! the topic's shape and name no other shop; the trigger time must lie inside Shopify's retry
//! window), strips payment fields, and inserts the delivery into `webhook_deliveries`; the
//! unique (source, delivery id) index makes a repeat a no-op that still answers 200. Nothing is
//! stored for a refused delivery. The work happens afterwards (`webhook_processing`): spawned
//! right after the insert, and retried with back-off by [`retry_deliveries_job`]. A processed
//! delivery keeps no payload: the data lives on in the signal or compliance rows (or nowhere),
//! and the delivery row is the receipt.
//!
//! Payload retention: these keys are dropped at any depth before a payload is stored, because
//! leak detection needs none of them and a retention policy would not keep them:
//! [`DROPPED_KEYS`].

use leakguard_domain::shop::ShopDomain;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use super::ShopifyAdapter;
use super::webhook_binding::{self, BindingError};
use super::{ShopifyConfig, ShopifyError, hmac};
use crate::db::entities::{tenants, webhook_deliveries};
use crate::db::now_ms;

pub use super::webhook_processing::{
    MAX_ATTEMPTS, Processed, backoff_ms, process_delivery, retry_deliveries_job,
};
pub use super::webhook_topics::payload_customer_id;

/// The `source` of Shopify rows in `webhook_deliveries`.
pub const SOURCE: webhook_deliveries::Source = webhook_deliveries::Source::Shopify;
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
    /// When Shopify triggered the delivery (RFC 3339).
    pub triggered_at: Option<String>,
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
            triggered_at: either("triggered-at"),
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
    /// The body does not fit the topic or shop headers (401), or the delivery is stale (400).
    #[error(transparent)]
    Binding(#[from] BindingError),
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
    webhook_binding::check_payload(topic, &shop, &payload)?;
    webhook_binding::check_triggered_at(headers.triggered_at.as_deref(), now)?;
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
        source: Set(SOURCE),
        delivery_id: Set(webhook_id.to_owned()),
        topic: Set(topic.to_owned()),
        shop_domain: Set(shop.to_string()),
        received_at: Set(now),
        status: Set(webhook_deliveries::Status::Pending),
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
    state: ShopifyAdapter,
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
}
