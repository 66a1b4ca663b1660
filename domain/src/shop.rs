//! Validated tenant addresses: Shopify shop domains and Magento base URLs.
//!
//! A shop domain is the only tenant key Shopify sends; a lax check here lets an attacker
//! redirect OAuth or tokens to a host they own (`evil.com/x.myshopify.com`,
//! `x.myshopify.com.evil.test`), so the rule is anchored and strict.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A `*.myshopify.com` domain, lowercased.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShopDomain(String);

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not `NAME.myshopify.com`.
    #[error("shop must be NAME.myshopify.com (letters, digits and hyphens)")]
    BadShop,
    /// Not an absolute http(s) URL without credentials, query or fragment.
    #[error(
        "base URL must be an absolute https URL (http only for localhost) without user, query or fragment"
    )]
    BadBaseUrl,
}

impl ShopDomain {
    /// Parses and lowercases a shop domain.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let lower = input.trim().to_ascii_lowercase();
        let name = lower
            .strip_suffix(".myshopify.com")
            .ok_or(AddressError::BadShop)?;
        let valid = !name.is_empty()
            && name.len() <= 60
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if valid {
            Ok(Self(lower))
        } else {
            Err(AddressError::BadShop)
        }
    }

    /// The domain text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ShopDomain {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ShopDomain> for String {
    fn from(value: ShopDomain) -> Self {
        value.0
    }
}

impl fmt::Display for ShopDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ShopDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShopDomain({})", self.0)
    }
}

/// Normalises a Magento base URL: scheme and host lowercased, no trailing slash.
pub fn normalize_base_url(input: &str) -> Result<String, AddressError> {
    let trimmed = input.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed.split_once("://").ok_or(AddressError::BadBaseUrl)?;
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = authority.to_ascii_lowercase();
    let host = authority.split(':').next().unwrap_or_default();
    let local = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    let ok_scheme = scheme == "https" || (scheme == "http" && local);
    let ok_authority = !authority.is_empty()
        && !authority.contains('@')
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    // Printable ASCII only: a control byte (`\0`, a vertical tab…) has no place in a store
    // URL, and trailing ones would make the result differ on a second pass.
    let ok_path = path
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#'));
    if ok_scheme && ok_authority && ok_path {
        Ok(format!("{scheme}://{authority}{path}"))
    } else {
        Err(AddressError::BadBaseUrl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domains_are_lowercased_and_anchored() {
        assert_eq!(
            ShopDomain::parse("My-Shop.myshopify.com").map(String::from),
            Ok("my-shop.myshopify.com".to_owned())
        );
        for bad in [
            "evil.com/x.myshopify.com",
            "x.myshopify.com.evil.test",
            "x.myshopify.com/",
            ".myshopify.com",
            "-x.myshopify.com",
            "a.b.myshopify.com",
            "x.myshopify.co",
            "x@y.myshopify.com",
        ] {
            assert_eq!(ShopDomain::parse(bad), Err(AddressError::BadShop), "{bad}");
        }
    }

    #[test]
    fn base_urls_with_control_bytes_are_refused_and_normalising_is_idempotent() {
        // Found by the `session_tokens` fuzz target: a vertical tab before the trailing `/`
        // was kept, then trimmed on a second pass.
        for bad in [
            "https://shop.example/\0\u{e3}\u{b}\u{b}/",
            "https://shop.example/a\tb",
            "https://shop.example/\u{7f}",
        ] {
            assert_eq!(
                normalize_base_url(bad),
                Err(AddressError::BadBaseUrl),
                "{bad:?}"
            );
        }
        for good in [
            "HTTPS://Shop.Example/magento/",
            "http://localhost:8080/a/b%20c",
        ] {
            let once = normalize_base_url(good);
            assert!(once.is_ok(), "{good}");
            assert_eq!(
                normalize_base_url(once.as_deref().unwrap_or_default()),
                once
            );
        }
    }

    #[test]
    fn base_urls_must_be_https_unless_local() {
        assert_eq!(
            normalize_base_url("HTTPS://Shop.Example.com/"),
            Ok("https://shop.example.com".into())
        );
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080/magento"),
            Ok("http://127.0.0.1:8080/magento".into())
        );
        for bad in [
            "http://shop.example.com",
            "ftp://x",
            "https://user:pw@x.com",
            "https://x.com/?a=1",
            "x.com",
        ] {
            assert_eq!(
                normalize_base_url(bad),
                Err(AddressError::BadBaseUrl),
                "{bad}"
            );
        }
    }
}
