//! Signed webhooks: `POST <url>` with the event envelope as JSON (`id`, `type`, `tenant_id`,
//! `occurred_at`, `subject`, `severity`, `title`, `data`) and
//! `X-LeakGuard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under
//! the destination's secret. A receiver verifies it by recomputing the HMAC over the bytes it
//! received, comparing in constant time, and refusing a `t` older than a few minutes; it
//! de-duplicates on the envelope's `id` (also sent as `X-LeakGuard-Event-Id`), which a
//! re-delivery keeps. Any 2xx is success; 429, 408 and 5xx are retried; other answers are final.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{DeliveryError, excerpt, status_is_transient};
use crate::outbox::Envelope;
use crate::outbox::net::{self, AddressPolicy};

/// `{"url"}`; the HMAC key is the destination's secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where events are posted.
    pub url: String,
}

impl Config {
    /// The parsed URL.
    pub fn parsed(&self) -> Result<url::Url, String> {
        let url = url::Url::parse(&self.url).map_err(|_| "url is not a URL")?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("url must be http or https".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("url must not carry credentials".into());
        }
        Ok(url)
    }
}

/// The `X-LeakGuard-Signature` value of `body` sent at `unix_secs`.
pub fn signature(key: &[u8], unix_secs: i64, body: &[u8]) -> String {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={unix_secs},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Sends one event.
pub async fn send(
    http: &reqwest::Client,
    policy: AddressPolicy,
    config: &Config,
    key: &SecretString,
    event: &Envelope,
) -> Result<(), DeliveryError> {
    let url = config.parsed().map_err(DeliveryError::permanent)?;
    net::check_url(policy, &url)
        .await
        .map_err(DeliveryError::permanent)?;
    let body = serde_json::to_vec(event).map_err(|_| DeliveryError::permanent("unencodable"))?;
    let now = crate::db::now_ms() / 1000;
    let response = http
        .post(url)
        .header("Content-Type", "application/json")
        .header(
            "X-LeakGuard-Signature",
            signature(key.expose_secret().as_bytes(), now, &body),
        )
        .header("X-LeakGuard-Event-Id", event.id.to_string())
        .body(body)
        .send()
        .await
        .map_err(|e| {
            DeliveryError::transient(if e.is_timeout() {
                "the webhook did not answer in time"
            } else {
                "could not reach the webhook"
            })
        })?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let message = format!("the webhook answered {status}: {}", excerpt(&text, 200));
    Err(if status_is_transient(status) {
        DeliveryError::transient(message)
    } else {
        DeliveryError::permanent(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_time_a_dot_and_the_body() {
        let sig = signature(b"Jefe", 1_700_000_000, b"{}");
        assert!(sig.starts_with("t=1700000000,v1="));
        assert_eq!(sig.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(sig, signature(b"Jefe", 1_700_000_001, b"{}"));
        assert_ne!(sig, signature(b"Jefe", 1_700_000_000, b"{ }"));
    }
}
