//! Where a tenant-supplied destination may connect: no loopback, private, link-local (cloud
//! metadata at 169.254.169.254 is link-local), shared, multicast or unspecified address,
//! unless the operator allows private networks (`outbound.allow_private_networks`, for
//! self-hosted installs and tests).
//!
//! The rule is applied after DNS resolution and on every connection: HTTP targets use a client
//! whose resolver ([`CheckedResolver`]) drops refused addresses and which follows no redirect;
//! an IP literal in a URL is checked before the request ([`check_url`]), since it is never
//! resolved; syslog connects only to addresses [`resolve`] returned. A name that resolves
//! to a public address at creation and to a private one later is refused at that later
//! connection. Must not: log the host of a refused destination with a credential beside it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Whether private addresses are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressPolicy {
    /// `outbound.allow_private_networks`.
    pub allow_private: bool,
}

/// Why a destination address was refused (safe to show: it names no address).
pub const REFUSED: &str = "the destination resolves to a loopback, private, link-local or metadata address, which this server does not connect to";

impl AddressPolicy {
    /// True if the server may connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        // 100.64.0.0/10, carrier-grade NAT (and some clouds' internal ranges).
        || (a == 100 && (64..128).contains(&b))
        // 0.0.0.0/8 and 240.0.0.0/4.
        || a == 0
        || a >= 240
        // 192.0.0.0/24 (IETF protocol assignments, includes some metadata endpoints).
        || (a == 192 && b == 0 && ip.octets()[2] == 0))
}

/// True for a globally routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                // 64:ff9b::/96 NAT64 could reach an internal IPv4 address.
                || (first == 0x64 && v6.segments()[1] == 0xff9b))
        }
    }
}

/// Resolves `host:port` and keeps the addresses the policy allows; an error when none is left.
pub async fn resolve(
    policy: AddressPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let found: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| "the destination host does not resolve".to_owned())?
            .collect(),
    };
    if found.is_empty() {
        return Err("the destination host does not resolve".into());
    }
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|a| policy.allows(a.ip()))
        .collect();
    if allowed.is_empty() {
        return Err(REFUSED.into());
    }
    Ok(allowed)
}

/// Checks an HTTP(S) URL: its scheme, and its host after resolution.
pub async fn check_url(policy: AddressPolicy, url: &url::Url) -> Result<(), String> {
    if !matches!(url.scheme(), "https" | "http") {
        return Err("the destination URL must be http or https".into());
    }
    let host = url
        .host_str()
        .ok_or_else(|| "the destination URL has no host".to_owned())?;
    let port = url.port_or_known_default().unwrap_or(443);
    resolve(policy, host, port).await.map(|_| ())
}

/// reqwest's resolver for destination clients: only the addresses the policy allows.
pub struct CheckedResolver(pub AddressPolicy);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve(policy, &host, 0)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client of destinations: the checked resolver, no redirects, the request timeout.
pub fn http_client(
    policy: AddressPolicy,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver(policy)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
        .user_agent(concat!("LeakGuard/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in ["8.8.8.8", "203.0.113.9", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }

    #[tokio::test]
    async fn a_private_address_is_refused_unless_the_operator_allows_it() {
        let strict = AddressPolicy {
            allow_private: false,
        };
        let open = AddressPolicy {
            allow_private: true,
        };
        assert_eq!(
            resolve(strict, "127.0.0.1", 6514).await,
            Err(REFUSED.into())
        );
        assert_eq!(
            resolve(strict, "localhost", 6514).await.map(|_| ()),
            Err(REFUSED.into())
        );
        assert_eq!(
            resolve(open, "127.0.0.1", 6514).await,
            Ok(vec!["127.0.0.1:6514".parse().unwrap()])
        );
        let url = url::Url::parse("http://[::1]:8080/v2/enqueue").unwrap();
        assert_eq!(check_url(strict, &url).await, Err(REFUSED.into()));
        assert_eq!(check_url(open, &url).await, Ok(()));
    }
}
