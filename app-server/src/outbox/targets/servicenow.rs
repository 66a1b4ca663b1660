//! ServiceNow Table API: one `incident` record per subject, found again by its `correlation_id`
//! (`leakguard/<tenant>/<kind>/<id>`, the subject key) with
//! `GET /api/now/table/incident?sysparm_query=correlation_id=<key>&sysparm_limit=1` rather than
//! created twice. An event about a subject without a record creates it (`short_description`,
//! `description`, `urgency`/`impact` from the severity, `category`, `correlation_id`,
//! `correlation_display`); later events add `work_notes` with `PATCH`; a closing event also
//! sets the record resolved (`state` 6 with `close_code` and `close_notes`). A test event
//! always creates a record. Auth is Basic `username:password`.

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{DeliveryError, excerpt, status_is_transient};
use crate::outbox::net::{self, AddressPolicy};
use crate::outbox::{Envelope, EventType, Severity};

/// `{"instance_url", "username"}`; the password is the secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `https://<instance>.service-now.com`.
    pub instance_url: String,
    /// The integration user.
    pub username: String,
}

impl Config {
    /// The parsed instance URL.
    pub fn parsed(&self) -> Result<url::Url, String> {
        let url = url::Url::parse(&self.instance_url).map_err(|_| "instance_url is not a URL")?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("instance_url must be http or https".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("instance_url must not carry credentials".into());
        }
        Ok(url)
    }

    /// Checks what needs no network.
    pub fn check(&self) -> Result<(), String> {
        self.parsed()?;
        if self.username.trim().is_empty() || self.username.len() > 100 {
            return Err("username must be 1 to 100 characters".into());
        }
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.instance_url.trim_end_matches('/'))
    }
}

/// `urgency` and `impact` ("1" high … "3" low) of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "1",
        Severity::Medium => "2",
        Severity::Low | Severity::Info => "3",
    }
}

fn text_of(event: &Envelope) -> String {
    format!(
        "{} ({}). Severity {}; {} {}; event {} at {}. Details: {}",
        event.title,
        event.event_type.as_str(),
        event.severity.as_str(),
        event.subject.kind,
        event.subject.id,
        event.id,
        crate::api_time::format(event.occurred_at),
        event.data
    )
}

/// The body of the record a subject gets.
pub fn incident_body(event: &Envelope) -> Value {
    let short: String = format!("[LeakGuard] {}", event.title)
        .chars()
        .take(160)
        .collect();
    json!({
        "short_description": short,
        "description": text_of(event),
        "urgency": level(event.severity),
        "impact": level(event.severity),
        "category": "security",
        "correlation_id": event.subject_key(),
        "correlation_display": "LeakGuard",
    })
}

struct Client<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
    auth: String,
}

impl Client<'_> {
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<Value, DeliveryError> {
        let response = request
            .header("Authorization", &self.auth)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                DeliveryError::transient(if e.is_timeout() {
                    "ServiceNow did not answer in time"
                } else {
                    "could not reach ServiceNow"
                })
            })?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let detail = format!(
            "{} {}",
            answer["error"]["message"].as_str().unwrap_or_default(),
            answer["error"]["detail"].as_str().unwrap_or_default()
        );
        let message = format!(
            "ServiceNow answered {status} to {what}: {}",
            excerpt(&detail, 300)
        );
        Err(if status_is_transient(status) {
            DeliveryError::transient(message)
        } else {
            DeliveryError::permanent(message)
        })
    }

    async fn find(&self, event: &Envelope) -> Result<Option<String>, DeliveryError> {
        let query = format!("correlation_id={}", event.subject_key());
        let found = self
            .call(
                self.http
                    .get(self.config.url("/api/now/table/incident"))
                    .query(&[
                        ("sysparm_query", query.as_str()),
                        ("sysparm_limit", "1"),
                        ("sysparm_fields", "sys_id"),
                    ]),
                "the incident search",
            )
            .await?;
        Ok(found["result"][0]["sys_id"].as_str().map(str::to_owned))
    }

    async fn create(&self, event: &Envelope) -> Result<(), DeliveryError> {
        let created = self
            .call(
                self.http
                    .post(self.config.url("/api/now/table/incident"))
                    .json(&incident_body(event)),
                "the new incident",
            )
            .await?;
        created["result"]["sys_id"]
            .as_str()
            .map(|_| ())
            .ok_or_else(|| DeliveryError::transient("ServiceNow created no record"))
    }

    async fn update(&self, sys_id: &str, event: &Envelope) -> Result<(), DeliveryError> {
        let mut body = json!({"work_notes": text_of(event)});
        if event.event_type.closes() {
            body["state"] = "6".into();
            body["close_code"] = "Resolved by caller".into();
            body["close_notes"] = "LeakGuard no longer finds this.".into();
        }
        self.call(
            self.http
                .patch(
                    self.config
                        .url(&format!("/api/now/table/incident/{sys_id}")),
                )
                .json(&body),
            "the incident update",
        )
        .await
        .map(|_| ())
    }
}

/// Sends one event.
pub async fn send(
    http: &reqwest::Client,
    policy: AddressPolicy,
    config: &Config,
    password: &SecretString,
    event: &Envelope,
) -> Result<(), DeliveryError> {
    let url = config.parsed().map_err(DeliveryError::permanent)?;
    net::check_url(policy, &url)
        .await
        .map_err(DeliveryError::permanent)?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        config.username,
        password.expose_secret()
    ));
    let client = Client {
        http,
        config,
        auth: format!("Basic {basic}"),
    };
    if event.event_type == EventType::Test {
        return client.create(event).await;
    }
    match client.find(event).await? {
        Some(sys_id) => client.update(&sys_id, event).await,
        // Nothing to resolve: the subject never had a record.
        None if event.event_type.closes() => Ok(()),
        None => client.create(event).await,
    }
}
