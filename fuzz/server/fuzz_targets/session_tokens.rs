//! Bearer tokens from outside: Shopify session tokens (HS256 JWTs), Magento single sign-on
//! tokens, shop domains and store base URLs. A token is accepted only when its signature is
//! the HMAC of its header and claims under the secret; a token signed with the secret and
//! then changed, or signed with another secret, is refused; accepted claims keep the rules
//! (shop, audience, lifetime, clock); address normalisation is idempotent.
#![no_main]

use app_server::magento::sso;
use app_server::shopify::session::looks_like_session_token;
use app_server::shopify::session_token::{self, LEEWAY_SECS, SessionTokenError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::{Hmac, KeyInit, Mac};
use leakguard_domain::shop::{ShopDomain, normalize_base_url};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const SECRET: &[u8] = b"fuzz-client-secret";
const OTHER: &[u8] = b"fuzz-other-secret";
const API_KEY: &str = "fuzz-api-key";
const BASE_URL: &str = "https://shop.example";
const NOW: i64 = 1_750_000_000;

fn mac(secret: &[u8], signing_input: &str) -> Vec<u8> {
    let mut m = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    m.update(signing_input.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn signed_token(header: &str, claims: &[u8], secret: &[u8]) -> String {
    let input = format!("{}.{}", B64URL.encode(header), B64URL.encode(claims));
    let signature = B64URL.encode(mac(secret, &input));
    format!("{input}.{signature}")
}

/// An accepted token's signature is the MAC of what precedes it.
fn assert_really_signed(token: &str) {
    let (input, signature) = token.rsplit_once('.').unwrap_or_default();
    assert_eq!(
        B64URL.decode(signature).unwrap_or_default(),
        mac(SECRET, input),
        "a token whose signature is not the MAC was accepted"
    );
}

fn tampered(token: &str, at: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = at % bytes.len().max(1);
    if let Some(byte) = bytes.get_mut(at) {
        *byte = if *byte == b'A' { b'B' } else { b'A' };
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn shopify(token: &str, signed: bool, at: usize) {
    match session_token::verify(token, API_KEY, &[SECRET], NOW) {
        Ok(claims) => {
            assert_really_signed(token);
            assert!(
                NOW < claims.exp + LEEWAY_SECS,
                "an expired session token was accepted"
            );
            assert!(
                ShopDomain::parse(claims.shop.as_str()).is_ok(),
                "an invalid shop was accepted"
            );
            assert_eq!(
                session_token::verify(token, API_KEY, &[OTHER], NOW),
                Err(SessionTokenError::BadSignature),
                "another secret verifies"
            );
            assert!(
                session_token::verify(token, "another-app", &[SECRET], NOW).is_err(),
                "another audience verifies"
            );
            let changed = tampered(token, at);
            if changed != token {
                assert!(
                    session_token::verify(&changed, API_KEY, &[SECRET], NOW).is_err(),
                    "a changed token verifies"
                );
            }
        }
        Err(_) if signed => {}
        Err(_) => {}
    }
}

fn magento(token: &str, at: usize) {
    let _ = sso::peek_issuer(token);
    if let Ok(claims) = sso::verify_token(token, SECRET, BASE_URL, NOW) {
        assert_really_signed(token);
        assert_eq!(claims.aud, sso::AUDIENCE, "another audience was accepted");
        assert!(
            claims.exp > claims.iat && claims.exp - claims.iat <= sso::MAX_LIFETIME_SECS,
            "lifetime"
        );
        assert!(
            NOW <= claims.exp + sso::LEEWAY_SECS,
            "an expired sign-in token was accepted"
        );
        assert_eq!(
            normalize_base_url(&claims.iss).ok().as_deref(),
            Some(BASE_URL),
            "another issuer"
        );
        assert!(
            sso::verify_token(token, OTHER, BASE_URL, NOW).is_err(),
            "another secret verifies"
        );
        assert!(
            sso::verify_token(token, SECRET, "https://other.example", NOW).is_err(),
            "another store verifies"
        );
        let changed = tampered(token, at);
        if changed != token {
            assert!(
                sso::verify_token(&changed, SECRET, BASE_URL, NOW).is_err(),
                "a changed token verifies"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(selector) * 7;
    let text = String::from_utf8_lossy(rest);
    match selector % 4 {
        // Arbitrary text as a token.
        0 => {
            let _ = looks_like_session_token(&text);
            shopify(&text, false, at);
            magento(&text, at);
        }
        // Fuzzed claims, correctly signed.
        1 => {
            let token = signed_token(r#"{"alg":"HS256","typ":"JWT"}"#, rest, SECRET);
            assert!(
                looks_like_session_token(&token) || rest.is_empty() || !token.starts_with("eyJ")
            );
            shopify(&token, true, at);
            magento(&token, at);
        }
        // Fuzzed header and claims separated by a zero byte, correctly signed.
        2 => {
            let (header, claims) = text.split_once('\u{0}').unwrap_or((&text, "{}"));
            let token = signed_token(header, claims.as_bytes(), SECRET);
            shopify(&token, true, at);
            magento(&token, at);
        }
        // Addresses.
        _ => {
            if let Ok(shop) = ShopDomain::parse(&text) {
                assert!(shop.as_str().ends_with(".myshopify.com"), "shop {shop:?}");
                assert_eq!(
                    ShopDomain::parse(shop.as_str()).as_ref(),
                    Ok(&shop),
                    "shop parse is not idempotent"
                );
            }
            if let Ok(url) = normalize_base_url(&text) {
                assert_eq!(
                    normalize_base_url(&url).as_ref(),
                    Ok(&url),
                    "base URL normalisation is not idempotent"
                );
                assert!(
                    url.starts_with("https://") || url.starts_with("http://"),
                    "url {url:?}"
                );
            }
        }
    }
});
