//! The server's base URL: parsed with the `url` crate, HTTPS everywhere, plain HTTP only to a
//! loopback host.
//!
//! The agent sends its bearer credential with every batch, so a plain `http://` URL to another
//! host would hand that credential to anyone on the path. Every way a URL enters the agent
//! (the config file, `run --server`, `enroll --server`, the stored credential) goes through
//! [`parse`]. It must not resolve names: `localhost` is the only name taken as loopback.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why a server URL was refused. Messages never repeat the URL (it could carry a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    /// Not a URL at all.
    #[error("not a valid URL ({0})")]
    Syntax(url::ParseError),
    /// A scheme other than `https` or `http`.
    #[error("must start with https://")]
    Scheme,
    /// `http://` to a host that is not loopback.
    #[error(
        "plain http:// is only allowed to a loopback host (127.0.0.0/8, ::1, localhost); use https://"
    )]
    PlaintextToRemoteHost,
    /// `user:password@` in the URL.
    #[error("must not contain a user name or password")]
    Userinfo,
    /// `?query` or `#fragment`.
    #[error("must not contain a query or fragment")]
    QueryOrFragment,
    /// No host (`https:///x`).
    #[error("must name a host")]
    NoHost,
}

/// Parses and checks a server base URL.
pub fn parse(text: &str) -> Result<Url, ServerUrlError> {
    let url = Url::parse(text.trim()).map_err(ServerUrlError::Syntax)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ServerUrlError::Userinfo);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ServerUrlError::QueryOrFragment);
    }
    let host = url.host().ok_or(ServerUrlError::NoHost)?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&host) => Ok(url),
        "http" => Err(ServerUrlError::PlaintextToRemoteHost),
        _ => Err(ServerUrlError::Scheme),
    }
}

/// Whether plain HTTP to this URL is acceptable (it is checked, and loopback).
pub fn is_plaintext_loopback(url: &Url) -> bool {
    url.scheme() == "http" && url.host().is_some_and(|host| is_loopback(&host))
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(address) => Ipv4Addr::is_loopback(address),
        Host::Ipv6(address) => Ipv6Addr::is_loopback(address),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn https_to_any_host_is_accepted() {
        for text in [
            "https://leakguard.example.com",
            "https://leakguard.example.com/",
            "https://10.0.0.5:8443/base",
            "https://[2001:db8::1]",
        ] {
            assert!(parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn plain_http_is_accepted_only_to_loopback_hosts() {
        for text in [
            "http://127.0.0.1:8080",
            "http://127.45.6.7",
            "http://[::1]:9000/",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            assert!(parse(text).is_ok(), "{text}");
        }
        for text in [
            "http://leakguard.example.com",
            "http://10.0.0.5:8080",
            "http://128.0.0.1",
            "http://0.0.0.0:8080",
            "http://[::ffff:10.0.0.1]",
            "http://[2001:db8::1]",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
        ] {
            assert_eq!(
                parse(text),
                Err(ServerUrlError::PlaintextToRemoteHost),
                "{text}"
            );
        }
    }

    #[test]
    fn odd_urls_are_refused_with_their_cause() {
        assert!(matches!(
            parse("leakguard.example.com"),
            Err(ServerUrlError::Syntax(_))
        ));
        assert_eq!(parse("ftp://example.com"), Err(ServerUrlError::Scheme));
        assert_eq!(
            parse("https://agent:hunter2@example.com"),
            Err(ServerUrlError::Userinfo)
        );
        assert_eq!(
            parse("https://example.com/?x=1"),
            Err(ServerUrlError::QueryOrFragment)
        );
        let message = parse("https://agent:hunter2@example.com")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn only_checked_loopback_http_counts_as_plaintext_loopback() {
        assert!(is_plaintext_loopback(&parse("http://127.0.0.1:9").unwrap()));
        assert!(!is_plaintext_loopback(
            &parse("https://127.0.0.1:9").unwrap()
        ));
    }
}
