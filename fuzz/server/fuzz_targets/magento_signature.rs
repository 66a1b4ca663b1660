//! The Magento module's `v1` request signature: what the secret signs verifies; any field
//! lengthened by one byte, another secret or any other header is refused; the nonce and
//! timestamp checks accept only their documented shapes.
#![no_main]

use app_server::magento::signature::{
    MAX_SKEW_SECS, sign, timestamp_within_window, valid_nonce, verify,
};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_750_000_000;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(6, |&b| b == 0xff);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (secret, timestamp, nonce, method, path) = (next(), next(), next(), next(), next());
    let body = next().into_bytes();
    let secret = secret.as_bytes();

    let header = sign(secret, &timestamp, &nonce, &method, &path, &body);
    assert!(
        verify(secret, &timestamp, &nonce, &method, &path, &body, &header),
        "a signed request is refused"
    );
    assert!(
        !verify(
            b"another secret",
            &timestamp,
            &nonce,
            &method,
            &path,
            &body,
            &header
        ) || secret == b"another secret",
        "another secret verifies"
    );
    let longer = |s: &str| format!("{s}x");
    assert!(
        !verify(
            secret,
            &longer(&timestamp),
            &nonce,
            &method,
            &path,
            &body,
            &header
        ),
        "timestamp"
    );
    assert!(
        !verify(
            secret,
            &timestamp,
            &longer(&nonce),
            &method,
            &path,
            &body,
            &header
        ),
        "nonce"
    );
    assert!(
        !verify(
            secret,
            &timestamp,
            &nonce,
            &longer(&method),
            &path,
            &body,
            &header
        ),
        "method"
    );
    assert!(
        !verify(
            secret,
            &timestamp,
            &nonce,
            &method,
            &longer(&path),
            &body,
            &header
        ),
        "path"
    );
    let mut changed = body.clone();
    changed.push(b'x');
    assert!(
        !verify(
            secret, &timestamp, &nonce, &method, &path, &changed, &header
        ),
        "a changed body verifies"
    );
    if let Some(first) = body.first() {
        let mut flipped = body.clone();
        flipped[0] = first ^ 0x20;
        assert!(
            !verify(
                secret, &timestamp, &nonce, &method, &path, &flipped, &header
            ),
            "a flipped body verifies"
        );
    }

    // Any other text as the header verifies only when it is the signature itself.
    let presented = String::from_utf8_lossy(data);
    if verify(
        secret, &timestamp, &nonce, &method, &path, &body, &presented,
    ) {
        assert_eq!(
            presented, header,
            "a header other than the signature verifies"
        );
    }

    if valid_nonce(&nonce) {
        assert!(
            nonce.len() == 32
                && nonce
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    if let Some(ts) = timestamp_within_window(&timestamp, NOW) {
        assert!(
            (NOW - ts).abs() <= MAX_SKEW_SECS,
            "a timestamp outside the window passes"
        );
        assert!(
            timestamp.bytes().all(|b| b.is_ascii_digit()),
            "a non-decimal timestamp passes"
        );
    }
});
