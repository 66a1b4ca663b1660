//! Shopify's two HMAC schemes: webhook bodies and signed admin queries. A signature made
//! with the secret verifies; a changed body, an extra query parameter or another secret never
//! does; and an accepted header is exactly the MAC of the body.
#![no_main]

use app_server::shopify::hmac::{
    QUERY_TIMESTAMP_TOLERANCE_SECS, QueryError, parse_query, query_message, sign_query_message,
    sign_webhook, verify_query, webhook_hmac_valid,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"shpss_fuzz_secret";
const OTHER: &[u8] = b"shpss_other_secret";
const NOW: i64 = 1_750_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector & 1 == 0 {
        webhook(selector, rest);
    } else {
        query(&String::from_utf8_lossy(rest));
    }
});

fn webhook(selector: u8, body: &[u8]) {
    let header = sign_webhook(SECRET, body);
    assert!(
        webhook_hmac_valid(&[SECRET], body, &header),
        "a signed body does not verify"
    );
    assert!(
        webhook_hmac_valid(&[OTHER, SECRET], body, &header),
        "rotation breaks verification"
    );
    assert!(
        !webhook_hmac_valid(&[OTHER], body, &header),
        "another secret verifies"
    );
    assert!(
        !webhook_hmac_valid(&[], body, &header),
        "no secret verifies"
    );
    if !body.is_empty() {
        let mut changed = body.to_vec();
        let at = usize::from(selector) % changed.len();
        changed[at] ^= 1 << (selector % 8);
        assert!(
            !webhook_hmac_valid(&[SECRET], &changed, &header),
            "a changed body verifies"
        );
        let mut longer = body.to_vec();
        longer.push(b' ');
        assert!(
            !webhook_hmac_valid(&[SECRET], &longer, &header),
            "an extended body verifies"
        );
        assert!(
            !webhook_hmac_valid(&[SECRET], &body[1..], &header),
            "a shortened body verifies"
        );
    }
    // The body read as a header: accepted only when it decodes to the very MAC.
    let presented = String::from_utf8_lossy(body);
    if webhook_hmac_valid(&[SECRET], b"{}", &presented) {
        let expected = B64.decode(sign_webhook(SECRET, b"{}")).unwrap_or_default();
        assert_eq!(
            B64.decode(presented.trim()).unwrap_or_default(),
            expected,
            "a header that is not the MAC was accepted"
        );
    }
}

fn query(raw: &str) {
    match verify_query(raw, &[SECRET], NOW) {
        Ok(params) => {
            let timestamp: i64 = params
                .get("timestamp")
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(i64::MIN);
            assert!(
                (NOW - timestamp).abs() <= QUERY_TIMESTAMP_TOLERANCE_SECS,
                "a stale query was accepted"
            );
            assert!(
                params.contains_key("hmac"),
                "an unsigned query was accepted"
            );
        }
        Err(QueryError::MissingHmac) => assert!(!parse_query(raw).contains_key("hmac")),
        Err(_) => {}
    }

    // Sign what the fuzzer sent, the way Shopify does, then tamper with it.
    let mut params = parse_query(raw);
    params.remove("hmac");
    params.remove("signature");
    params.insert("timestamp".to_owned(), NOW.to_string());
    let message = query_message(&params, false);
    let signed = format!("{message}&hmac={}", sign_query_message(SECRET, &message));
    let verified = match verify_query(&signed, &[SECRET], NOW) {
        Ok(verified) => verified,
        Err(e) => panic!("a query signed with the secret is refused ({e}): {signed:?}"),
    };
    for (key, value) in &params {
        assert_eq!(
            verified.get(key),
            Some(value),
            "parameter {key:?} changed in the round trip"
        );
    }
    assert_eq!(
        verify_query(&signed, &[OTHER], NOW),
        Err(QueryError::BadHmac),
        "another secret verifies"
    );
    assert_eq!(
        verify_query(&format!("{signed}&lg_added=1"), &[SECRET], NOW),
        Err(QueryError::BadHmac),
        "an added parameter verifies"
    );
    let late = NOW + QUERY_TIMESTAMP_TOLERANCE_SECS + 1;
    assert_eq!(
        verify_query(&signed, &[SECRET], late),
        Err(QueryError::Stale),
        "a stale query verifies"
    );
}
