//! What binds a Shopify delivery's unsigned headers to its signed body, through the pure steps
//! of webhook intake: reading the headers (`DeliveryHeaders::from_lookup`), the HMAC over the
//! raw body, the payload binding (`webhook_binding::check_payload`) and the trigger time
//! (`webhook_binding::check_triggered_at`).
//!
//! Invariants: header values come out trimmed and non-empty, `X-Shopify-*` before `Shopify-*`;
//! the HMAC covers the bytes as received, so a body that re-serialises differently does not
//! verify under the original's header; a body that names a shop (`shop_domain`,
//! `myshopify_domain`) is accepted only for that shop and refused for any other; a body accepted
//! under a compliance topic names the shop in the header and is refused under every other
//! topic that acts (so it cannot be relabelled); a trigger time is accepted exactly when it lies
//! inside the retry window.
#![no_main]

use app_server::shopify::hmac::{sign_webhook, webhook_hmac_valid};
use app_server::shopify::webhook_binding::{
    BindingError, FUTURE_SKEW_MS, STALE_AFTER_MS, check_payload, check_triggered_at,
};
use app_server::shopify::webhooks::DeliveryHeaders;
use leakguard_domain::shop::ShopDomain;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const SECRET: &[u8] = b"shpss_fuzz_secret";
/// Unix ms; 2026-12-05.
const NOW_MS: i64 = 1_796_500_000_000;

const COMPLIANCE_TOPICS: [&str; 3] = ["shop/redact", "customers/redact", "customers/data_request"];
/// Every topic whose delivery causes an action, besides the compliance ones.
const ACTING_TOPICS: [&str; 6] = [
    "app/uninstalled",
    "orders/create",
    "orders/updated",
    "orders/delete",
    "customers/create",
    "customers/update",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // Layout: topic, shop, webhook id and trigger-time header lines, then the raw body.
    let mut parts = rest.splitn(5, |&b| b == b'\n');
    let mut line = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (topic, shop, webhook_id, triggered_at) = (line(), line(), line(), line());
    let body = parts.next().unwrap_or_default();

    headers(selector, &topic, &shop, &webhook_id, &triggered_at);
    raw_body_hmac(body);
    if let Ok(shop) = ShopDomain::parse(&shop)
        && let Ok(payload) = serde_json::from_slice::<Value>(body)
    {
        binding(&topic, &shop, &payload);
    }
    trigger_time(&triggered_at, selector, rest);
});

/// Headers from either family: the lookup trims, drops empty values, prefers `X-Shopify-*`.
fn headers(selector: u8, topic: &str, shop: &str, webhook_id: &str, triggered_at: &str) {
    let legacy = selector & 1 == 1;
    let events = selector & 2 == 2;
    let sent = [
        ("topic", topic),
        ("shop-domain", shop),
        ("webhook-id", webhook_id),
        ("triggered-at", triggered_at),
    ];
    let lookup = |name: &str| {
        sent.iter().find_map(|(suffix, value)| {
            let legacy_name = format!("x-shopify-{suffix}");
            let events_name = format!("shopify-{suffix}");
            if legacy && name == legacy_name {
                Some((*value).to_owned())
            } else if events && name == events_name {
                Some(format!(" events:{value} "))
            } else {
                None
            }
        })
    };
    let read = DeliveryHeaders::from_lookup(lookup);
    let read_values = [
        &read.topic,
        &read.shop_domain,
        &read.webhook_id,
        &read.triggered_at,
    ];
    for ((_, value), read_value) in sent.iter().zip(read_values) {
        // A present legacy header wins even when it is blank (and then reads as missing).
        let expected = if legacy {
            Some(value.trim().to_owned()).filter(|v| !v.is_empty())
        } else if events {
            Some(format!(" events:{value} ").trim().to_owned())
        } else {
            None
        };
        assert_eq!(
            read_value, &expected,
            "a header was read wrong (legacy {legacy}, events {events})"
        );
    }
    assert_eq!(read.hmac, None, "an HMAC header appeared from nowhere");
}

/// The HMAC is over the raw bytes: a body that parses to the same JSON but is not the same
/// bytes is not signed by the original header.
fn raw_body_hmac(body: &[u8]) {
    let header = sign_webhook(SECRET, body);
    assert!(
        webhook_hmac_valid(&[SECRET], body, &header),
        "a signed body does not verify"
    );
    if let Ok(payload) = serde_json::from_slice::<Value>(body) {
        let reserialised = serde_json::to_vec(&payload).unwrap_or_default();
        assert_eq!(
            webhook_hmac_valid(&[SECRET], &reserialised, &header),
            reserialised == body,
            "the HMAC does not cover the raw bytes"
        );
    }
}

fn names_shop(payload: &Value) -> bool {
    payload.get("shop_domain").is_some() || payload.get("myshopify_domain").is_some()
}

fn other_shop(shop: &ShopDomain) -> ShopDomain {
    let other = if shop.as_str() == "other-shop.myshopify.com" {
        "another-shop.myshopify.com"
    } else {
        "other-shop.myshopify.com"
    };
    match ShopDomain::parse(other) {
        Ok(other) => other,
        Err(e) => panic!("the other shop does not parse: {e}"),
    }
}

fn binding(topic: &str, shop: &ShopDomain, payload: &Value) {
    let accepted = check_payload(topic, shop, payload);
    if let Err(error) = &accepted {
        assert!(
            matches!(error, BindingError::Mismatch(_)),
            "check_payload refused with {error:?}"
        );
        return;
    }
    assert!(payload.is_object(), "a body that is not an object was bound");
    for key in ["shop_domain", "myshopify_domain"] {
        if let Some(named) = payload.get(key) {
            assert!(
                named
                    .as_str()
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case(shop.as_str())),
                "a body naming another shop in {key} was bound to {shop}"
            );
        }
    }
    let other = other_shop(shop);
    if names_shop(payload) {
        assert!(
            check_payload(topic, &other, payload).is_err(),
            "a body naming {shop} was bound to {other} under {topic:?}"
        );
    }
    if COMPLIANCE_TOPICS.contains(&topic) {
        assert!(
            payload
                .get("shop_domain")
                .and_then(Value::as_str)
                .is_some_and(|s| s.trim().eq_ignore_ascii_case(shop.as_str())),
            "a {topic} body that does not name the shop was bound"
        );
        for relabelled in COMPLIANCE_TOPICS.iter().chain(&ACTING_TOPICS) {
            if *relabelled != topic {
                assert!(
                    check_payload(relabelled, shop, payload).is_err(),
                    "a {topic} body was also accepted as {relabelled}"
                );
            }
        }
    }
}

/// A fuzzed header parses or is refused without panicking; a generated one at a fuzzed
/// distance from now is accepted exactly inside the window.
fn trigger_time(header: &str, selector: u8, rest: &[u8]) {
    match check_triggered_at(Some(header), NOW_MS) {
        Ok(()) => {
            let at = OffsetDateTime::parse(header, &Rfc3339)
                .map(|t| t.unix_timestamp_nanos() / 1_000_000);
            let window = i128::from(NOW_MS - STALE_AFTER_MS)..=i128::from(NOW_MS + FUTURE_SKEW_MS);
            assert!(
                at.as_ref().is_ok_and(|at| window.contains(at)),
                "trigger time {header:?} accepted outside the window"
            );
        }
        Err(BindingError::Stale(_) | BindingError::BadTriggeredAt) => {}
        Err(other) => panic!("check_triggered_at refused with {other:?}"),
    }

    let mut distance = [0u8; 8];
    for (slot, byte) in distance.iter_mut().zip(rest.iter().rev()) {
        *slot = *byte;
    }
    // Seconds within ±8 hours, so both edges of the window are reached.
    let offset_ms = (i64::from_le_bytes(distance) % (8 * 3600)) * 1000;
    let at_ms = NOW_MS + offset_ms;
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000) else {
        return;
    };
    let at = if selector & 4 == 4 {
        at.to_offset(time::macros::offset!(+05:30))
    } else {
        at
    };
    let Ok(formatted) = at.format(&Rfc3339) else {
        return;
    };
    let inside = (-STALE_AFTER_MS..=FUTURE_SKEW_MS).contains(&offset_ms);
    assert_eq!(
        check_triggered_at(Some(&formatted), NOW_MS).is_ok(),
        inside,
        "trigger time {formatted} ({offset_ms} ms from now) misjudged"
    );
}
