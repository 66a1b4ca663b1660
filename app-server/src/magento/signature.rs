//! The module's request signature, scheme `v1` (pure functions, no I/O).
//!
//! Message: `"v1\n" + timestamp + "\n" + nonce + "\n" + METHOD + "\n" + path_and_query + "\n"
//! + hex(sha256(raw body))`; key: the UTF-8 bytes of the tenant's module secret; header value
//! `v1=<64 lowercase hex>` of HMAC-SHA256. The comparison is constant-time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// How far the request timestamp may be from the server clock, seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// Header names.
pub const HEADER_KEY_ID: &str = "x-leakguard-key-id";
/// Unix seconds of signing.
pub const HEADER_TIMESTAMP: &str = "x-leakguard-timestamp";
/// 32 lowercase hex characters, used once.
pub const HEADER_NONCE: &str = "x-leakguard-nonce";
/// `v1=<hex>`.
pub const HEADER_SIGNATURE: &str = "x-leakguard-signature";

/// The signed text.
pub fn canonical_message(
    timestamp: &str,
    nonce: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> String {
    format!(
        "v1\n{timestamp}\n{nonce}\n{}\n{path_and_query}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(Sha256::digest(body))
    )
}

fn mac(secret: &[u8], message: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(message.as_bytes());
    mac
}

#[allow(clippy::panic)]
fn unreachable_hmac() -> ! {
    panic!("HMAC-SHA256 takes keys of any length")
}

/// The header value for a request (used by tests and tools; the module signs in PHP).
pub fn sign(
    secret: &[u8],
    timestamp: &str,
    nonce: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> String {
    let message = canonical_message(timestamp, nonce, method, path_and_query, body);
    format!(
        "v1={}",
        hex::encode(mac(secret, &message).finalize().into_bytes())
    )
}

/// True when `header` is a valid `v1` signature of the request (constant-time).
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    nonce: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let Some(hex_sig) = header.strip_prefix("v1=") else {
        return false;
    };
    if hex_sig.len() != 64
        || !hex_sig
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return false;
    }
    let Ok(presented) = hex::decode(hex_sig) else {
        return false;
    };
    let message = canonical_message(timestamp, nonce, method, path_and_query, body);
    mac(secret, &message).verify_slice(&presented).is_ok()
}

/// True for 32 lowercase hex characters.
pub fn valid_nonce(nonce: &str) -> bool {
    nonce.len() == 32
        && nonce
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses the timestamp header (decimal Unix seconds) and checks the window.
pub fn timestamp_within_window(timestamp: &str, now_secs: i64) -> Option<i64> {
    if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let ts: i64 = timestamp.parse().ok()?;
    ((now_secs - ts).abs() <= MAX_SKEW_SECS).then_some(ts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The module's own vectors: the PHP signer and this verifier must agree byte for byte.
    const VECTORS: &str =
        include_str!("../../../magento-module/Test/fixtures/signing-vectors.json");

    #[test]
    fn the_module_signing_vectors_verify_and_reproduce() {
        let vectors: Vec<serde_json::Value> = serde_json::from_str(VECTORS).unwrap();
        assert!(vectors.len() >= 5);
        for v in &vectors {
            let s = |k: &str| v[k].as_str().unwrap().to_owned();
            let ts = v["timestamp"].as_i64().unwrap().to_string();
            let (secret, nonce, method, path, body, sig) = (
                s("secret"),
                s("nonce"),
                s("method"),
                s("path"),
                s("body"),
                s("signature"),
            );
            assert_eq!(
                sign(
                    secret.as_bytes(),
                    &ts,
                    &nonce,
                    &method,
                    &path,
                    body.as_bytes()
                ),
                sig,
                "{}",
                v["name"]
            );
            assert!(verify(
                secret.as_bytes(),
                &ts,
                &nonce,
                &method,
                &path,
                body.as_bytes(),
                &sig
            ));
            assert!(valid_nonce(&nonce));
            assert!(timestamp_within_window(&ts, v["timestamp"].as_i64().unwrap()).is_some());
        }
    }

    #[test]
    fn any_change_to_the_request_breaks_the_signature() {
        let vectors: Vec<serde_json::Value> = serde_json::from_str(VECTORS).unwrap();
        let v = &vectors[1];
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        let ts = v["timestamp"].as_i64().unwrap().to_string();
        let sig = s("signature");
        let body = s("body");
        let secret = s("secret");
        let ok = |secret: &str, ts: &str, nonce: &str, m: &str, p: &str, b: &str, sig: &str| {
            verify(secret.as_bytes(), ts, nonce, m, p, b.as_bytes(), sig)
        };
        assert!(ok(
            &secret,
            &ts,
            &s("nonce"),
            &s("method"),
            &s("path"),
            &body,
            &sig
        ));
        assert!(!ok(
            "other",
            &ts,
            &s("nonce"),
            &s("method"),
            &s("path"),
            &body,
            &sig
        ));
        assert!(!ok(
            &secret,
            "1795853901",
            &s("nonce"),
            &s("method"),
            &s("path"),
            &body,
            &sig
        ));
        assert!(!ok(
            &secret,
            &ts,
            &"0".repeat(32),
            &s("method"),
            &s("path"),
            &body,
            &sig
        ));
        assert!(!ok(
            &secret,
            &ts,
            &s("nonce"),
            "PUT",
            &s("path"),
            &body,
            &sig
        ));
        assert!(!ok(
            &secret,
            &ts,
            &s("nonce"),
            &s("method"),
            "/api/v1/magento/eventz",
            &body,
            &sig
        ));
        assert!(!ok(
            &secret,
            &ts,
            &s("nonce"),
            &s("method"),
            &s("path"),
            &format!("{body} "),
            &sig
        ));
        assert!(!ok(
            &secret,
            &ts,
            &s("nonce"),
            &s("method"),
            &s("path"),
            &body,
            &sig.to_uppercase()
        ));
        assert!(!ok(
            &secret,
            &ts,
            &s("nonce"),
            &s("method"),
            &s("path"),
            &body,
            &sig[3..]
        ));
        assert!(!ok(
            &secret,
            &ts,
            &s("nonce"),
            &s("method"),
            &s("path"),
            &body,
            "v1=zz"
        ));
    }

    #[test]
    fn timestamps_outside_five_minutes_and_odd_nonces_are_refused() {
        assert!(timestamp_within_window("1000", 1300).is_some());
        assert!(timestamp_within_window("1000", 1301).is_none());
        assert!(timestamp_within_window("1301", 1000).is_none());
        assert!(timestamp_within_window("-5", 0).is_none());
        assert!(timestamp_within_window("1e3", 1000).is_none());
        assert!(timestamp_within_window("", 0).is_none());
        assert!(!valid_nonce(&"A".repeat(32)));
        assert!(!valid_nonce(&"a".repeat(31)));
        assert!(!valid_nonce(&"g".repeat(32)));
    }
}
