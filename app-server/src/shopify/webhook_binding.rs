//! What binds a delivery's unsigned headers to its signed body.
//!
//! Shopify's HMAC covers the body only: `X-Shopify-Topic`, `X-Shopify-Shop-Domain`,
//! `X-Shopify-Webhook-Id` and `X-Shopify-Triggered-At` travel outside it, and the app secret is
//! the same for every shop. A body captured from one delivery can therefore be re-sent under
//! another topic, shop and delivery id with a valid HMAC. These pure checks refuse that:
//!
//! - [`check_payload`]: the body must have the shape of the topic in the header (a
//!   `shop/redact` body holds `shop_id` and `shop_domain` and nothing else; a `customers/redact`
//!   body names a customer and no data request; an order has an `id` and `line_items`; ...),
//!   and every shop the body names (`shop_domain`, `myshopify_domain`, or `domain` for
//!   `app/uninstalled` without `myshopify_domain`) must be the shop in the header. Orders and
//!   customers name no shop: only their shape binds them.
//! - [`check_triggered_at`]: Shopify retries a failed delivery 8 times over 4 hours
//!   (docs: webhooks "verify deliveries" / "troubleshoot"; `shared/specs/shopify.md` §3.3) and
//!   every retry carries the original `X-Shopify-Triggered-At`. A delivery triggered more than
//!   [`STALE_AFTER_MS`] (the 4-hour retry window plus one hour for clocks and the last
//!   attempt's timeouts) ago, or more than [`FUTURE_SKEW_MS`] in the future, is refused. The
//!   header is optional: Shopify's own library does not require it, and being unsigned it
//!   proves nothing when present; it only stops a replay of a captured request as it was.
//!
//! Must not: do I/O, or echo payload values in its messages.

use leakguard_domain::shop::ShopDomain;
use serde_json::Value;

/// Deliveries triggered longer ago than this are stale: Shopify's 4-hour retry window + 1 h.
pub const STALE_AFTER_MS: i64 = 5 * 3600 * 1000;
/// How far in the future a trigger time may be (clock skew).
pub const FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// Why a delivery's headers do not fit its body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// The body is not what the topic or shop header says (401: treated like a bad signature).
    #[error("the webhook body does not match its topic or shop: {0}")]
    Mismatch(&'static str),
    /// Triggered outside Shopify's retry window (400).
    #[error("the webhook was triggered {0}")]
    Stale(&'static str),
    /// `X-Shopify-Triggered-At` is not an RFC 3339 time (400).
    #[error("X-Shopify-Triggered-At is not an RFC 3339 time")]
    BadTriggeredAt,
}

/// Checks `X-Shopify-Triggered-At` (when present) against `now` (Unix ms).
pub fn check_triggered_at(value: Option<&str>, now: i64) -> Result<(), BindingError> {
    let Some(value) = value else {
        return Ok(());
    };
    let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|_| BindingError::BadTriggeredAt)?;
    let at_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| BindingError::BadTriggeredAt)?;
    if now.saturating_sub(at_ms) > STALE_AFTER_MS {
        return Err(BindingError::Stale(
            "longer ago than Shopify's retry window (5 hours)",
        ));
    }
    if at_ms.saturating_sub(now) > FUTURE_SKEW_MS {
        return Err(BindingError::Stale("in the future"));
    }
    Ok(())
}

fn same_shop(value: Option<&Value>, shop: &ShopDomain) -> Option<bool> {
    value.map(|v| {
        v.as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(shop.as_str()))
    })
}

fn has(payload: &Value, key: &str) -> bool {
    payload.get(key).is_some_and(|v| !v.is_null())
}

/// Checks that `payload` has the shape of `topic` and names no shop but `shop`.
pub fn check_payload(topic: &str, shop: &ShopDomain, payload: &Value) -> Result<(), BindingError> {
    use BindingError::Mismatch;
    let Some(object) = payload.as_object() else {
        return Err(Mismatch("the body is not a JSON object"));
    };
    for key in ["shop_domain", "myshopify_domain"] {
        if same_shop(payload.get(key), shop) == Some(false) {
            return Err(Mismatch("the body names another shop"));
        }
    }
    let names_shop = same_shop(payload.get("shop_domain"), shop) == Some(true);
    let shop_id = payload.get("shop_id").is_some_and(Value::is_u64);
    let compliance = |what| {
        if names_shop && shop_id {
            Ok(())
        } else {
            Err(Mismatch(what))
        }
    };
    match topic {
        "shop/redact" => {
            compliance("shop/redact needs shop_id and shop_domain")?;
            if object.keys().any(|k| k != "shop_id" && k != "shop_domain") {
                return Err(Mismatch("shop/redact carries only shop_id and shop_domain"));
            }
            Ok(())
        }
        "customers/redact" => {
            compliance("customers/redact needs shop_id and shop_domain")?;
            if !payload.get("customer").is_some_and(Value::is_object)
                || has(payload, "data_request")
                || has(payload, "orders_requested")
            {
                return Err(Mismatch("not a customers/redact body"));
            }
            Ok(())
        }
        "customers/data_request" => {
            compliance("customers/data_request needs shop_id and shop_domain")?;
            if !payload.get("data_request").is_some_and(Value::is_object)
                || has(payload, "orders_to_redact")
            {
                return Err(Mismatch("not a customers/data_request body"));
            }
            Ok(())
        }
        "app/uninstalled" => {
            let bound = match payload.get("myshopify_domain") {
                Some(_) => true,
                None => same_shop(payload.get("domain"), shop) == Some(true),
            };
            if !bound || !has(payload, "id") || has(payload, "shop_domain") {
                return Err(Mismatch("not the Shop resource of the shop in the header"));
            }
            Ok(())
        }
        "app/scopes_update" => match payload.get("current") {
            Some(Value::Array(_)) => Ok(()),
            _ => Err(Mismatch("app/scopes_update needs current")),
        },
        "bulk_operations/finish" => match payload.get("admin_graphql_api_id") {
            Some(Value::String(id)) if id.starts_with("gid://shopify/BulkOperation/") => Ok(()),
            _ => Err(Mismatch("not a bulk operation")),
        },
        "orders/delete" => require_resource(payload),
        topic if topic.starts_with("orders/") => {
            require_resource(payload)?;
            match payload.get("line_items") {
                Some(Value::Array(_)) => Ok(()),
                _ => Err(Mismatch("an order carries line_items")),
            }
        }
        topic if topic.starts_with("customers/") => require_resource(payload),
        _ => Ok(()),
    }
}

/// A resource body: an `id` and no compliance fields.
fn require_resource(payload: &Value) -> Result<(), BindingError> {
    let id = payload
        .get("id")
        .is_some_and(|v| v.is_u64() || v.as_str().is_some_and(|s| !s.is_empty()));
    if !id || has(payload, "shop_domain") || has(payload, "data_request") {
        return Err(BindingError::Mismatch("not a resource body of that topic"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shop(s: &str) -> ShopDomain {
        ShopDomain::parse(s).unwrap()
    }

    #[test]
    fn an_order_body_relabelled_as_shop_redact_is_refused() {
        let order =
            json!({"id": 820982911946154508u64, "line_items": [{"id": 1}], "customer": {"id": 7}});
        let a = shop("shop-a.myshopify.com");
        let b = shop("shop-b.myshopify.com");
        assert!(check_payload("orders/create", &a, &order).is_ok());
        for topic in [
            "shop/redact",
            "customers/redact",
            "customers/data_request",
            "app/uninstalled",
        ] {
            assert!(
                matches!(
                    check_payload(topic, &b, &order),
                    Err(BindingError::Mismatch(_))
                ),
                "{topic}"
            );
        }
    }

    #[test]
    fn compliance_bodies_bind_their_shop_and_their_topic() {
        let a = shop("shop-a.myshopify.com");
        let b = shop("shop-b.myshopify.com");
        let redact = json!({"shop_id": 954889, "shop_domain": "shop-a.myshopify.com"});
        assert!(check_payload("shop/redact", &a, &redact).is_ok());
        assert!(check_payload("shop/redact", &b, &redact).is_err());
        let customer = json!({"shop_id": 954889, "shop_domain": "shop-a.myshopify.com", "customer": {"id": 1}, "orders_to_redact": []});
        assert!(check_payload("customers/redact", &a, &customer).is_ok());
        assert!(check_payload("shop/redact", &a, &customer).is_err());
        assert!(check_payload("customers/data_request", &a, &customer).is_err());
        let request = json!({"shop_id": 954889, "shop_domain": "shop-a.myshopify.com", "customer": {"id": 1}, "orders_requested": [], "data_request": {"id": 9}});
        assert!(check_payload("customers/data_request", &a, &request).is_ok());
        assert!(check_payload("customers/redact", &a, &request).is_err());
        let uninstalled = json!({"id": 954889, "domain": "shop.example.com", "myshopify_domain": "shop-a.myshopify.com"});
        assert!(check_payload("app/uninstalled", &a, &uninstalled).is_ok());
        assert!(check_payload("app/uninstalled", &b, &uninstalled).is_err());
        assert!(check_payload("app/uninstalled", &a, &redact).is_err());
    }

    #[test]
    fn trigger_times_outside_the_retry_window_are_stale() {
        let now = 1_796_000_000_000i64;
        let at = |ms: i64| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        assert!(check_triggered_at(None, now).is_ok());
        assert!(check_triggered_at(Some(&at(now - 4 * 3600 * 1000)), now).is_ok());
        assert!(check_triggered_at(Some(&at(now - STALE_AFTER_MS)), now).is_ok());
        assert!(matches!(
            check_triggered_at(Some(&at(now - STALE_AFTER_MS - 1000)), now),
            Err(BindingError::Stale(_))
        ));
        assert!(matches!(
            check_triggered_at(Some(&at(now + 3600 * 1000)), now),
            Err(BindingError::Stale(_))
        ));
        assert!(check_triggered_at(Some("2026-03-30T14:30:00.000000000Z"), now).is_err());
        assert_eq!(
            check_triggered_at(Some("yesterday"), now),
            Err(BindingError::BadTriggeredAt)
        );
    }
}
