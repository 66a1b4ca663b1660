//! PagerDuty Events API v2: `POST <events_url>` with the routing key in the body. An event
//! about a subject triggers (or updates) one alert, found again by a `dedup_key` stable per
//! subject (`leakguard/<tenant>/<kind>/<id>`); a closing event resolves it. A re-sent event
//! lands on the same alert, so PagerDuty absorbs duplicates. 202 is success; 400 (an invalid
//! event) and other refusals are permanent; 429 and 5xx are retried.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{DeliveryError, excerpt, status_is_transient};
use crate::outbox::net::{self, AddressPolicy};
use crate::outbox::{Envelope, Severity};

/// PagerDuty's public endpoint.
pub const DEFAULT_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// `{"events_url"}`; the routing key is the destination's secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Events API v2 enqueue URL (PagerDuty's own by default).
    #[serde(default = "default_url")]
    pub events_url: String,
}

fn default_url() -> String {
    DEFAULT_EVENTS_URL.to_owned()
}

impl Config {
    /// The parsed URL.
    pub fn url(&self) -> Result<url::Url, String> {
        let url = url::Url::parse(&self.events_url).map_err(|_| "events_url is not a URL")?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("events_url must be http or https".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("events_url must not carry credentials".into());
        }
        Ok(url)
    }

    /// Checks what needs no network.
    pub fn check(&self) -> Result<(), String> {
        self.url().map(|_| ())
    }
}

/// PagerDuty's severity for ours.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// The request body of one event.
pub fn body(routing_key: &str, event: &Envelope) -> Value {
    let dedup_key = event.subject_key();
    if event.event_type.closes() {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
    }
    let summary: String = event.title.chars().take(1024).collect();
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "client": "LeakGuard",
        "payload": {
            "summary": summary,
            "source": format!("leakguard/{}", event.tenant_id),
            "severity": severity(event.severity),
            "timestamp": crate::api_time::format(event.occurred_at),
            "component": event.subject.kind,
            "group": event.tenant_id.to_string(),
            "class": event.event_type.as_str(),
            "custom_details": {
                "event_id": event.id.to_string(),
                "type": event.event_type.as_str(),
                "data": event.data,
            },
        },
    })
}

/// Sends one event.
pub async fn send(
    http: &reqwest::Client,
    policy: AddressPolicy,
    config: &Config,
    routing_key: &SecretString,
    event: &Envelope,
) -> Result<(), DeliveryError> {
    let url = config.url().map_err(DeliveryError::permanent)?;
    net::check_url(policy, &url)
        .await
        .map_err(DeliveryError::permanent)?;
    let response = http
        .post(url)
        .json(&body(routing_key.expose_secret(), event))
        .send()
        .await
        .map_err(|e| {
            DeliveryError::transient(if e.is_timeout() {
                "PagerDuty did not answer in time"
            } else {
                "could not reach PagerDuty"
            })
        })?;
    let status = response.status().as_u16();
    if status == 202 || status == 200 {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<Value>(&text)
        .ok()
        .map(|v| {
            let message = v["message"].as_str().unwrap_or_default().to_owned();
            let errors = v["errors"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            format!("{message} {errors}")
        })
        .unwrap_or(text);
    let message = format!("PagerDuty answered {status}: {}", excerpt(&detail, 300));
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
    use crate::outbox::{EnvelopeSubject, EventType};

    fn event(event_type: EventType) -> Envelope {
        Envelope {
            id: uuid::Uuid::now_v7(),
            event_type,
            tenant_id: uuid::Uuid::nil(),
            occurred_at: 1_772_645_025_123,
            subject: EnvelopeSubject {
                kind: "permission_finding".into(),
                id: "f1".into(),
            },
            severity: Severity::High,
            title: "Permission finding: escalation (high)".into(),
            data: json!({"kind": "escalation"}),
        }
    }

    #[test]
    fn opening_triggers_and_resolving_resolves_the_same_alert() {
        let opened = body("key", &event(EventType::PermissionFindingOpened));
        let resolved = body("key", &event(EventType::PermissionFindingResolved));
        assert_eq!(opened["event_action"], "trigger");
        assert_eq!(resolved["event_action"], "resolve");
        assert_eq!(opened["dedup_key"], resolved["dedup_key"]);
        assert_eq!(
            opened["dedup_key"],
            "leakguard/00000000-0000-0000-0000-000000000000/permission_finding/f1"
        );
        assert_eq!(opened["payload"]["severity"], "error");
        assert_eq!(opened["payload"]["timestamp"], "2026-03-04T17:23:45.123Z");
    }
}
