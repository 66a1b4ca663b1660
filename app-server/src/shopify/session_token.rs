//! Session tokens (App Bridge ID tokens): HS256 JWTs signed with the app's client secret.
//!
//! Checked here, beyond what the official library does: `alg` is HS256 and nothing else (a
//! `none` token never parses), `dest` and `iss` name the same host, `iss` is that host's
//! `/admin`, and the host is an anchored `*.myshopify.com` shop. `exp` and `nbf` get the
//! library's 10 s tolerance: valid while `nbf - 10 <= now < exp + 10`. The clock is a parameter.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use leakguard_domain::shop::ShopDomain;
use serde::Deserialize;

/// Clock tolerance for `exp` and `nbf`, seconds.
pub const LEEWAY_SECS: i64 = 10;

/// Why a session token was refused. The message is safe to show; it never echoes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionTokenError {
    /// Not a JWT, a bad header, or an algorithm other than HS256.
    #[error("the session token is malformed")]
    Malformed,
    /// The signature does not verify under the client secret.
    #[error("the session token signature is invalid")]
    BadSignature,
    /// `aud` is not this app's API key.
    #[error("the session token is for another app")]
    WrongAudience,
    /// Past `exp` (plus tolerance).
    #[error("the session token has expired")]
    Expired,
    /// Before `nbf` (minus tolerance).
    #[error("the session token is not valid yet")]
    NotYetValid,
    /// `dest`/`iss` do not name one valid shop.
    #[error("the session token names no valid shop")]
    BadShop,
}

#[derive(Debug, Deserialize)]
struct RawClaims {
    iss: String,
    dest: String,
    #[serde(default)]
    sub: Option<String>,
    exp: i64,
    nbf: i64,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    sid: Option<String>,
}

/// A verified session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaims {
    /// The shop (from `dest`).
    pub shop: ShopDomain,
    /// Staff user id, when the token is for a person.
    pub sub: Option<String>,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Token id.
    pub jti: Option<String>,
    /// Session id.
    pub sid: Option<String>,
}

fn host_of(url: &str, path: &str) -> Option<ShopDomain> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.strip_suffix(path)?;
    ShopDomain::parse(host)
        .ok()
        .filter(|shop| shop.as_str() == host)
}

/// Verifies a session token at `now_secs` under one of `secrets` (current, then previous).
pub fn verify(
    token: &str,
    api_key: &str,
    secrets: &[&[u8]],
    now_secs: i64,
) -> Result<SessionClaims, SessionTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| SessionTokenError::Malformed)?;
    if header.alg != Algorithm::HS256 {
        return Err(SessionTokenError::Malformed);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_audience(&[api_key]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
    let mut last = SessionTokenError::BadSignature;
    let mut claims = None;
    for secret in secrets {
        match jsonwebtoken::decode::<RawClaims>(
            token,
            &DecodingKey::from_secret(secret),
            &validation,
        ) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind as K;
                last = match e.kind() {
                    K::InvalidSignature => SessionTokenError::BadSignature,
                    K::InvalidAudience => SessionTokenError::WrongAudience,
                    _ => SessionTokenError::Malformed,
                };
                // A wrong audience is wrong under every secret.
                if last != SessionTokenError::BadSignature {
                    return Err(last);
                }
            }
        }
    }
    let claims = claims.ok_or(last)?;
    if now_secs >= claims.exp + LEEWAY_SECS {
        return Err(SessionTokenError::Expired);
    }
    if now_secs < claims.nbf - LEEWAY_SECS {
        return Err(SessionTokenError::NotYetValid);
    }
    let dest = host_of(&claims.dest, "").ok_or(SessionTokenError::BadShop)?;
    let iss = host_of(&claims.iss, "/admin").ok_or(SessionTokenError::BadShop)?;
    if dest != iss {
        return Err(SessionTokenError::BadShop);
    }
    Ok(SessionClaims {
        shop: dest,
        sub: claims.sub.filter(|s| !s.is_empty()),
        exp: claims.exp,
        jti: claims.jti,
        sid: claims.sid,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SPEC_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJjbGllbnQtaWQtMTIzIiwiaXNzIjoiaHR0cHM6Ly9zb21lLXNob3AubXlzaG9waWZ5LmNvbS9hZG1pbiIsImRlc3QiOiJodHRwczovL3NvbWUtc2hvcC5teXNob3BpZnkuY29tIiwic3ViIjoiNDIiLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMDYwLCJqdGkiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCJzaWQiOiJvcmFjbGUtc2Vzc2lvbi1pZCJ9.7Bdg50W_J9uS-ZfnqV2go4ZJxQKJaeS2VR_1pN54BVQ";

    #[test]
    fn the_spec_token_verifies_inside_its_window_only() {
        let claims = verify(SPEC_TOKEN, "client-id-123", &[b"hush"], 1_700_000_000).unwrap();
        assert_eq!(claims.shop.as_str(), "some-shop.myshopify.com");
        assert_eq!(claims.sub.as_deref(), Some("42"));
        assert!(verify(SPEC_TOKEN, "client-id-123", &[b"hush"], 1_700_000_069).is_ok());
        assert_eq!(
            verify(SPEC_TOKEN, "client-id-123", &[b"hush"], 1_700_000_070),
            Err(SessionTokenError::Expired)
        );
        assert_eq!(
            verify(SPEC_TOKEN, "client-id-123", &[b"hush"], 1_700_000_071),
            Err(SessionTokenError::Expired)
        );
        assert!(verify(SPEC_TOKEN, "client-id-123", &[b"hush"], 1_699_999_990).is_ok());
        assert_eq!(
            verify(SPEC_TOKEN, "client-id-123", &[b"hush"], 1_699_999_989),
            Err(SessionTokenError::NotYetValid)
        );
    }

    #[test]
    fn the_spec_token_is_refused_for_another_key_or_secret() {
        assert_eq!(
            verify(SPEC_TOKEN, "other-key", &[b"hush"], 1_700_000_000),
            Err(SessionTokenError::WrongAudience)
        );
        assert_eq!(
            verify(SPEC_TOKEN, "client-id-123", &[b"other"], 1_700_000_000),
            Err(SessionTokenError::BadSignature)
        );
        assert!(
            verify(
                SPEC_TOKEN,
                "client-id-123",
                &[b"new", b"hush"],
                1_700_000_000
            )
            .is_ok()
        );
    }

    #[test]
    fn an_unsigned_token_is_malformed() {
        let parts: Vec<&str> = SPEC_TOKEN.split('.').collect();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        for token in [
            format!("{none_header}.{}.", parts[1]),
            format!("{none_header}.{}.{}", parts[1], parts[2]),
            "not-a-jwt".to_owned(),
        ] {
            assert_eq!(
                verify(&token, "client-id-123", &[b"hush"], 1_700_000_000),
                Err(SessionTokenError::Malformed)
            );
        }
    }
}
