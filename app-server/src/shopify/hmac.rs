//! Shopify's two HMAC schemes, both HMAC-SHA256 keyed with the app's client secret and compared
//! in constant time:
//! - webhooks: base64 of the MAC over the raw body bytes (never re-serialised JSON);
//! - admin redirects (install, callback, `/app`): lowercase hex over the query without `hmac`
//!   and `signature`, pairs sorted by key and re-encoded as WHATWG form data with `%20` spaces.
//!
//! Nothing here logs or returns a MAC or a secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// How far `timestamp` may be from now, seconds (the official library's tolerance).
pub const QUERY_TIMESTAMP_TOLERANCE_SECS: i64 = 90;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    }
}

/// Base64 HMAC of a webhook body (tests, benchmarks and the fake Shopify use it to sign).
pub fn sign_webhook(secret: &[u8], body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    B64.encode(m.finalize().into_bytes())
}

/// True when `header` is the base64 HMAC of `body` under one of `secrets`.
pub fn webhook_hmac_valid(secrets: &[&[u8]], body: &[u8], header: &str) -> bool {
    let Ok(presented) = B64.decode(header.trim()) else {
        return false;
    };
    if presented.len() != 32 {
        return false;
    }
    secrets.iter().any(|secret| {
        let mut m = mac(secret);
        m.update(body);
        m.verify_slice(&presented).is_ok()
    })
}

/// Why a signed admin query was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No `hmac` parameter.
    #[error("the request is not signed")]
    MissingHmac,
    /// The HMAC does not match.
    #[error("the request signature is invalid")]
    BadHmac,
    /// `timestamp` missing or not an integer.
    #[error("the request has no valid timestamp")]
    MissingTimestamp,
    /// `timestamp` is more than 90 s away from now.
    #[error("the request timestamp is outside the allowed window; start again")]
    Stale,
}

/// Decoded query parameters; repeated keys are joined with `,` (as the official library does).
pub type QueryParams = BTreeMap<String, String>;

/// Parses a raw query string into decoded parameters.
pub fn parse_query(raw: &str) -> QueryParams {
    let mut params = QueryParams::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        params
            .entry(k.into_owned())
            .and_modify(|existing: &mut String| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }
    params
}

fn encode(value: &str, plus_for_space: bool) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    if plus_for_space {
        encoded
    } else {
        // byte_serialize writes a space as `+` and a literal `+` as `%2B`.
        encoded.replace('+', "%20")
    }
}

/// The signed message: every pair but `hmac` and `signature`, sorted by key, re-encoded.
pub fn query_message(params: &QueryParams, plus_for_space: bool) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "hmac" && k.as_str() != "signature")
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode(k, plus_for_space),
                encode(v, plus_for_space)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Lowercase hex HMAC of a message (tests and the fake Shopify sign with it).
pub fn sign_query_message(secret: &[u8], message: &str) -> String {
    let mut m = mac(secret);
    m.update(message.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Checks the `hmac` of an admin query under one of `secrets`, then its freshness against
/// `now_secs`. The `%20` form is tried first; the `+` form (older libraries) only when a value
/// holds a space.
pub fn verify_query(
    raw: &str,
    secrets: &[&[u8]],
    now_secs: i64,
) -> Result<QueryParams, QueryError> {
    let params = parse_query(raw);
    let presented = params.get("hmac").ok_or(QueryError::MissingHmac)?;
    let presented = hex::decode(presented.trim()).map_err(|_| QueryError::BadHmac)?;
    let mut messages = vec![query_message(&params, false)];
    if params.values().any(|v| v.contains(' ')) {
        messages.push(query_message(&params, true));
    }
    let valid = secrets.iter().any(|secret| {
        messages.iter().any(|message| {
            let mut m = mac(secret);
            m.update(message.as_bytes());
            m.verify_slice(&presented).is_ok()
        })
    });
    if !valid {
        return Err(QueryError::BadHmac);
    }
    let timestamp: i64 = params
        .get("timestamp")
        .and_then(|t| t.trim().parse().ok())
        .ok_or(QueryError::MissingTimestamp)?;
    if (now_secs - timestamp).abs() > QUERY_TIMESTAMP_TOLERANCE_SECS {
        return Err(QueryError::Stale);
    }
    Ok(params)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"hush";

    #[test]
    fn the_spec_query_vectors_match() {
        for (message, expected) in [
            (
                "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&timestamp=1337178173",
                "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20",
            ),
            (
                "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173",
                "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
            ),
            (
                "host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w&shop=some-shop.myshopify.com&timestamp=1700000000",
                "8f7ad4abe8fef0336d438d88898cefcf4184519a9a5de83bb15fe7fd165548ca",
            ),
            (
                "note=a%20b%26c%3Dd&shop=some-shop.myshopify.com&timestamp=1700000000",
                "706d8926764bde7dd5e1ab617c03a981f20877e6bb103949b41a89b25f5840ae",
            ),
            (
                "note=a+b%26c%3Dd&shop=some-shop.myshopify.com&timestamp=1700000000",
                "4fc7b088fdb780ec18a29422127ad8c5bbaeb21883176689e382e6b1629d554e",
            ),
        ] {
            assert_eq!(sign_query_message(SECRET, message), expected, "{message}");
        }
    }

    #[test]
    fn the_message_is_rebuilt_sorted_and_re_encoded_without_hmac() {
        let params = parse_query(
            "timestamp=1700000000&shop=some-shop.myshopify.com&note=a%20b%26c%3Dd&hmac=00&signature=x",
        );
        assert_eq!(
            query_message(&params, false),
            "note=a%20b%26c%3Dd&shop=some-shop.myshopify.com&timestamp=1700000000"
        );
        assert_eq!(
            query_message(&params, true),
            "note=a+b%26c%3Dd&shop=some-shop.myshopify.com&timestamp=1700000000"
        );
    }

    #[test]
    fn a_signed_query_verifies_in_both_space_forms_and_only_while_fresh() {
        let lib15 = "note=a%20b%26c%3Dd&shop=some-shop.myshopify.com&timestamp=1700000000&hmac=706d8926764bde7dd5e1ab617c03a981f20877e6bb103949b41a89b25f5840ae";
        let ruby = "note=a+b%26c%3Dd&shop=some-shop.myshopify.com&timestamp=1700000000&hmac=4fc7b088fdb780ec18a29422127ad8c5bbaeb21883176689e382e6b1629d554e";
        for q in [lib15, ruby] {
            assert!(verify_query(q, &[SECRET], 1_700_000_000).is_ok(), "{q}");
            assert!(verify_query(q, &[SECRET], 1_700_000_090).is_ok());
            assert_eq!(
                verify_query(q, &[SECRET], 1_700_000_091),
                Err(QueryError::Stale)
            );
            assert_eq!(
                verify_query(q, &[SECRET], 1_699_999_909),
                Err(QueryError::Stale)
            );
            assert_eq!(
                verify_query(q, &[b"other"], 1_700_000_000),
                Err(QueryError::BadHmac)
            );
        }
        assert!(verify_query(lib15, &[b"other", SECRET], 1_700_000_000).is_ok());
        assert_eq!(
            verify_query("shop=x.myshopify.com&timestamp=1", &[SECRET], 1),
            Err(QueryError::MissingHmac)
        );
        let tampered = lib15.replace("some-shop", "evil-shop");
        assert_eq!(
            verify_query(&tampered, &[SECRET], 1_700_000_000),
            Err(QueryError::BadHmac)
        );
    }

    #[test]
    fn the_spec_webhook_vector_matches_and_one_changed_digit_fails() {
        let body = br#"{"shop_id":954889,"shop_domain":"some-shop.myshopify.com"}"#;
        let expected = "Tr2c7Me17fTQwz4kN7AGPjEn0lRCShuYgLnmDSgxA4k=";
        assert_eq!(sign_webhook(SECRET, body), expected);
        assert!(webhook_hmac_valid(&[SECRET], body, expected));
        assert!(webhook_hmac_valid(&[b"new", SECRET], body, expected));
        let changed = br#"{"shop_id":954888,"shop_domain":"some-shop.myshopify.com"}"#;
        assert!(!webhook_hmac_valid(&[SECRET], changed, expected));
        assert!(!webhook_hmac_valid(&[SECRET], body, "not base64!"));
        assert!(!webhook_hmac_valid(&[SECRET], body, ""));
        assert!(!webhook_hmac_valid(&[SECRET], body, "AAAA"));
    }
}
