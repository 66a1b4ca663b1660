//! Splunk HTTP Event Collector: one `POST <url>` per batch, the events as concatenated JSON
//! envelopes (`time` in epoch seconds with milliseconds, `host`, `source`, `sourcetype`,
//! `index`, `event`), `Authorization: Splunk <token>` and an `X-Splunk-Request-Channel`. A
//! batch is all or nothing. 200 with `code` 0 is success; 400 (bad data), 401/403 (token) and
//! other refusals are final; 429 and 503 (server busy) are retried. HEC cannot de-duplicate a
//! re-sent batch; the envelope's `id` lets a search do it. Indexer acknowledgement (polling
//! `/services/collector/ack`) is not used yet: a 200 means Splunk accepted the batch.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{DeliveryError, excerpt, status_is_transient};
use crate::outbox::Envelope;
use crate::outbox::net::{self, AddressPolicy};

/// `{"url", "index"?, "sourcetype"?}`; the HEC token is the destination's secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The collector endpoint, e.g. `https://splunk.example:8088/services/collector/event`.
    pub url: String,
    /// Target index (the token's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Sourcetype (`leakguard:event` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sourcetype: Option<String>,
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

    /// Checks what needs no network.
    pub fn check(&self) -> Result<(), String> {
        self.parsed()?;
        for (name, value) in [("index", &self.index), ("sourcetype", &self.sourcetype)] {
            if value
                .as_deref()
                .is_some_and(|v| v.is_empty() || v.len() > 128 || v.contains(char::is_control))
            {
                return Err(format!("{name} must be 1 to 128 printable characters"));
            }
        }
        Ok(())
    }
}

/// The request body of a batch: one HEC envelope per event, concatenated.
pub fn body(config: &Config, hostname: &str, events: &[Envelope]) -> String {
    let mut out = String::with_capacity(events.len() * 600);
    for event in events {
        let mut envelope = json!({
            "time": event.occurred_at as f64 / 1000.0,
            "host": hostname,
            "source": format!("leakguard:{}", event.tenant_id),
            "sourcetype": config.sourcetype.as_deref().unwrap_or("leakguard:event"),
            "event": event,
        });
        if let Some(index) = &config.index {
            envelope["index"] = Value::from(index.as_str());
        }
        out.push_str(&envelope.to_string());
        out.push('\n');
    }
    out
}

/// Sends a batch.
pub async fn send_batch(
    http: &reqwest::Client,
    policy: AddressPolicy,
    config: &Config,
    token: &SecretString,
    hostname: &str,
    events: &[Envelope],
) -> Result<(), DeliveryError> {
    let url = config.parsed().map_err(DeliveryError::permanent)?;
    net::check_url(policy, &url)
        .await
        .map_err(DeliveryError::permanent)?;
    let response = http
        .post(url)
        .header("Authorization", format!("Splunk {}", token.expose_secret()))
        .header("X-Splunk-Request-Channel", uuid::Uuid::now_v7().to_string())
        .header("Content-Type", "application/json")
        .body(body(config, hostname, events))
        .send()
        .await
        .map_err(|e| {
            DeliveryError::transient(if e.is_timeout() {
                "Splunk did not answer in time"
            } else {
                "could not reach Splunk"
            })
        })?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status == 200 && answer["code"].as_i64().unwrap_or(0) == 0 {
        return Ok(());
    }
    let detail = answer["text"].as_str().map_or(text.clone(), str::to_owned);
    let message = format!(
        "Splunk answered {status} (code {}): {}",
        answer["code"]
            .as_i64()
            .map_or("-".into(), |c| c.to_string()),
        excerpt(&detail, 200)
    );
    Err(if status_is_transient(status) {
        DeliveryError::transient(message)
    } else {
        DeliveryError::permanent(message)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::outbox::{EnvelopeSubject, EventType, Severity};

    #[test]
    fn a_batch_is_one_hec_envelope_per_event_with_the_time_in_seconds() {
        let event = Envelope {
            id: uuid::Uuid::nil(),
            event_type: EventType::RetentionFindingOpened,
            tenant_id: uuid::Uuid::nil(),
            occurred_at: 1_772_645_025_123,
            subject: EnvelopeSubject {
                kind: "finding".into(),
                id: "1".into(),
            },
            severity: Severity::High,
            title: "t".into(),
            data: json!({}),
        };
        let config = Config {
            url: "https://splunk.example:8088/services/collector/event".into(),
            index: Some("security".into()),
            sourcetype: None,
        };
        let text = body(&config, "lg-01", &[event.clone(), event]);
        let envelopes: Vec<Value> = serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(envelopes.len(), 2);
        assert_eq!(envelopes[0]["time"], 1_772_645_025.123);
        assert_eq!(envelopes[0]["index"], "security");
        assert_eq!(envelopes[0]["sourcetype"], "leakguard:event");
        assert_eq!(envelopes[0]["event"]["type"], "retention_finding.opened");
    }
}
