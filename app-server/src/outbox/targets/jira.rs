//! Jira Cloud REST v3: one issue per subject (a finding), found again by its label
//! `leakguard-<hash of the subject key>` through the JQL search rather than created twice.
//! An event about a subject without an issue creates it (summary, Atlassian Document Format
//! description, labels, priority from the severity); an event about a subject that has one adds
//! a comment; a closing event also moves the issue through a transition into the `done` status
//! category when the workflow offers one. A test event always creates an issue. Auth is Basic
//! `email:API token`. Re-sending an event adds at most one more comment: the issue itself is
//! never created twice once the search can see it.

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{DeliveryError, excerpt, status_is_transient};
use crate::outbox::net::{self, AddressPolicy};
use crate::outbox::{Envelope, EventType, Severity};

/// `{"base_url", "project_key", "issue_type", "email"}`; the API token is the secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `https://<site>.atlassian.net`.
    pub base_url: String,
    /// The project issues are created in.
    pub project_key: String,
    /// The issue type's name (`Task`, `Bug`, …).
    pub issue_type: String,
    /// The account the API token belongs to.
    pub email: String,
}

impl Config {
    /// The parsed base URL.
    pub fn parsed(&self) -> Result<url::Url, String> {
        let url = url::Url::parse(&self.base_url).map_err(|_| "base_url is not a URL")?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("base_url must be http or https".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("base_url must not carry credentials".into());
        }
        Ok(url)
    }

    /// Checks what needs no network.
    pub fn check(&self) -> Result<(), String> {
        self.parsed()?;
        let key_ok = !self.project_key.is_empty()
            && self.project_key.len() <= 32
            && self
                .project_key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            return Err("project_key must be 1 to 32 letters, digits or _".into());
        }
        if self.issue_type.trim().is_empty() || self.issue_type.len() > 60 {
            return Err("issue_type must be 1 to 60 characters".into());
        }
        if !self.email.contains('@') || self.email.len() > 254 {
            return Err("email must be the token owner's address".into());
        }
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }
}

/// The label that finds a subject's issue again.
pub fn label(event: &Envelope) -> String {
    let digest = Sha256::digest(event.subject_key().as_bytes());
    format!("leakguard-{}", &hex::encode(digest)[..20])
}

/// Jira's default priority names for our severities.
fn priority(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Highest",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Lowest",
    }
}

/// An ADF document of paragraphs.
pub fn adf(paragraphs: &[String]) -> Value {
    let content: Vec<Value> = paragraphs
        .iter()
        .map(|p| json!({"type": "paragraph", "content": [{"type": "text", "text": p}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": content})
}

fn describe(event: &Envelope) -> Vec<String> {
    vec![
        format!("{} ({})", event.title, event.event_type.as_str()),
        format!(
            "Severity {}; {} {}; event {} at {}.",
            event.severity.as_str(),
            event.subject.kind,
            event.subject.id,
            event.id,
            crate::api_time::format(event.occurred_at)
        ),
        format!("Details: {}", event.data),
    ]
}

/// The body of the issue a subject gets.
pub fn issue_body(config: &Config, event: &Envelope) -> Value {
    let summary: String = format!("[LeakGuard] {}", event.title)
        .chars()
        .take(250)
        .collect();
    json!({"fields": {
        "project": {"key": config.project_key},
        "issuetype": {"name": config.issue_type},
        "summary": summary,
        "description": adf(&describe(event)),
        "labels": ["leakguard", label(event)],
        "priority": {"name": priority(event.severity)},
    }})
}

struct Client<'a> {
    http: &'a reqwest::Client,
    config: &'a Config,
    auth: String,
}

/// A JSON answer; Jira's documented examples are JSON text, so a mock serving them sends a
/// JSON string holding the document: that is read as the document.
fn json_of(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::String(inner)) => serde_json::from_str(&inner).unwrap_or(Value::Null),
        Ok(v) => v,
        Err(_) => Value::Null,
    }
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
                    "Jira did not answer in time"
                } else {
                    "could not reach Jira"
                })
            })?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(json_of(&text));
        }
        let answer = json_of(&text);
        let mut detail: Vec<String> = answer["errorMessages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(errors) = answer["errors"].as_object() {
            detail.extend(
                errors
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(""))),
            );
        }
        let message = format!(
            "Jira answered {status} to {what}: {}",
            excerpt(&detail.join("; "), 300)
        );
        Err(if status_is_transient(status) {
            DeliveryError::transient(message)
        } else {
            DeliveryError::permanent(message)
        })
    }

    async fn find(&self, event: &Envelope) -> Result<Option<String>, DeliveryError> {
        let jql = format!(
            "project = \"{}\" AND labels = \"{}\"",
            self.config.project_key,
            label(event)
        );
        let found = self
            .call(
                self.http
                    .get(self.config.url("/rest/api/3/search/jql"))
                    .query(&[
                        ("jql", jql.as_str()),
                        ("fields", "status"),
                        ("maxResults", "1"),
                    ]),
                "the issue search",
            )
            .await?;
        Ok(found["issues"][0]["key"].as_str().map(str::to_owned))
    }

    async fn create(&self, event: &Envelope) -> Result<(), DeliveryError> {
        let created = self
            .call(
                self.http
                    .post(self.config.url("/rest/api/3/issue"))
                    .json(&issue_body(self.config, event)),
                "the new issue",
            )
            .await?;
        created["key"]
            .as_str()
            .map(|_| ())
            .ok_or_else(|| DeliveryError::transient("Jira created no issue key"))
    }

    async fn comment(&self, key: &str, event: &Envelope) -> Result<(), DeliveryError> {
        self.call(
            self.http
                .post(self.config.url(&format!("/rest/api/3/issue/{key}/comment")))
                .json(&json!({"body": adf(&describe(event))})),
            "the comment",
        )
        .await
        .map(|_| ())
    }

    async fn close(&self, key: &str) -> Result<(), DeliveryError> {
        let path = format!("/rest/api/3/issue/{key}/transitions");
        let offered = self
            .call(self.http.get(self.config.url(&path)), "the transition list")
            .await?;
        let done = offered["transitions"].as_array().and_then(|all| {
            all.iter()
                .find(|t| t["to"]["statusCategory"]["key"] == "done")
                .and_then(|t| t["id"].as_str())
        });
        let Some(id) = done else { return Ok(()) };
        self.call(
            self.http
                .post(self.config.url(&path))
                .json(&json!({"transition": {"id": id}})),
            "the transition",
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
    token: &SecretString,
    event: &Envelope,
) -> Result<(), DeliveryError> {
    let url = config.parsed().map_err(DeliveryError::permanent)?;
    net::check_url(policy, &url)
        .await
        .map_err(DeliveryError::permanent)?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        config.email,
        token.expose_secret()
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
        Some(key) => {
            client.comment(&key, event).await?;
            if event.event_type.closes() {
                client.close(&key).await?;
            }
            Ok(())
        }
        // Nothing to close: the subject never had an issue.
        None if event.event_type.closes() => Ok(()),
        None => client.create(event).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::outbox::EnvelopeSubject;

    #[test]
    fn an_issue_has_an_adf_description_the_subject_label_and_a_priority() {
        let event = Envelope {
            id: uuid::Uuid::nil(),
            event_type: EventType::PermissionFindingOpened,
            tenant_id: uuid::Uuid::nil(),
            occurred_at: 0,
            subject: EnvelopeSubject {
                kind: "permission_finding".into(),
                id: "f1".into(),
            },
            severity: Severity::Critical,
            title: "Permission finding: escalation (critical)".into(),
            data: json!({}),
        };
        let config = Config {
            base_url: "https://acme.atlassian.net".into(),
            project_key: "PRIV".into(),
            issue_type: "Task".into(),
            email: "ops@acme.example".into(),
        };
        let body = issue_body(&config, &event);
        assert_eq!(body["fields"]["description"]["type"], "doc");
        assert_eq!(body["fields"]["description"]["version"], 1);
        assert_eq!(body["fields"]["priority"]["name"], "Highest");
        let label = body["fields"]["labels"][1].as_str().unwrap();
        assert!(label.starts_with("leakguard-") && !label.contains(' '));
        assert_eq!(json_of("\"{\\\"key\\\":\\\"ED-1\\\"}\"")["key"], "ED-1");
    }
}
