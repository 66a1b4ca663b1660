//! The protocols: each destination kind parses its own configuration and turns envelopes into
//! its wire format. [`Sender::deliver`] sends a batch for one destination and answers one
//! result per envelope, in order.
//!
//! Errors are [`DeliveryError`]s: `permanent` when repeating the request cannot succeed (a
//! 4xx that is not about rate or time, a configuration the server refuses), and a message safe
//! to show the tenant: the credential is removed from it, and it quotes at most a short piece
//! of the destination's answer. Must not: follow a redirect, connect to an address
//! [`super::net`] refuses, or write a credential to a log.

pub mod jira;
pub mod pagerduty;
pub mod servicenow;
pub mod splunk_hec;
pub mod syslog;
pub mod webhook;

use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

use super::Envelope;
use super::net::{self, AddressPolicy};
use crate::config::OutboundSettings;
use crate::db::entities::outbound_destinations::Kind;

/// The shortest credential taken.
pub const MIN_SECRET_CHARS: usize = 8;

/// Why one delivery failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    /// Repeating cannot succeed: dead-letter now.
    pub permanent: bool,
    /// Safe to show: no credential, no address.
    pub message: String,
}

impl DeliveryError {
    /// A failure worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            message: message.into(),
        }
    }

    /// A failure no retry can fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }
}

/// A destination's parsed configuration.
#[derive(Clone, Debug)]
pub enum Target {
    /// PagerDuty Events API v2.
    Pagerduty(pagerduty::Config),
    /// Syslog over TLS.
    SyslogTls(syslog::Config),
    /// Splunk HTTP Event Collector.
    SplunkHec(splunk_hec::Config),
    /// A signed webhook.
    Webhook(webhook::Config),
    /// Jira Cloud REST v3.
    Jira(jira::Config),
    /// ServiceNow Table API.
    Servicenow(servicenow::Config),
}

impl Target {
    /// Parses and checks the configuration of `kind` (before any network check).
    pub fn parse(kind: Kind, config: &serde_json::Value) -> Result<Self, String> {
        let parse_err = |e: serde_json::Error| format!("config: {e}");
        match kind {
            Kind::Pagerduty => {
                let c: pagerduty::Config =
                    serde_json::from_value(config.clone()).map_err(parse_err)?;
                c.check()?;
                Ok(Self::Pagerduty(c))
            }
            Kind::SyslogTls => {
                let c: syslog::Config =
                    serde_json::from_value(config.clone()).map_err(parse_err)?;
                c.check()?;
                Ok(Self::SyslogTls(c))
            }
            Kind::SplunkHec => {
                let c: splunk_hec::Config =
                    serde_json::from_value(config.clone()).map_err(parse_err)?;
                c.check()?;
                Ok(Self::SplunkHec(c))
            }
            Kind::Webhook => {
                let c: webhook::Config =
                    serde_json::from_value(config.clone()).map_err(parse_err)?;
                c.parsed()?;
                Ok(Self::Webhook(c))
            }
            Kind::Jira => {
                let c: jira::Config = serde_json::from_value(config.clone()).map_err(parse_err)?;
                c.check()?;
                Ok(Self::Jira(c))
            }
            Kind::Servicenow => {
                let c: servicenow::Config =
                    serde_json::from_value(config.clone()).map_err(parse_err)?;
                c.check()?;
                Ok(Self::Servicenow(c))
            }
        }
    }

    /// The configuration as stored and shown (never a credential).
    pub fn config_json(&self) -> serde_json::Value {
        let value = match self {
            Self::Pagerduty(c) => serde_json::to_value(c),
            Self::SyslogTls(c) => serde_json::to_value(c),
            Self::SplunkHec(c) => serde_json::to_value(c),
            Self::Webhook(c) => serde_json::to_value(c),
            Self::Jira(c) => serde_json::to_value(c),
            Self::Servicenow(c) => serde_json::to_value(c),
        };
        value.unwrap_or_default()
    }

    /// Checks the credential the kind needs.
    pub fn check_secret(&self, secret: Option<&str>) -> Result<(), String> {
        match self {
            Self::Pagerduty(_) => match secret {
                Some(s) if (MIN_SECRET_CHARS..=256).contains(&s.trim().len()) => Ok(()),
                _ => Err(format!(
                    "secret must be the integration's routing key ({MIN_SECRET_CHARS} to 256 characters)"
                )),
            },
            Self::SyslogTls(c) => c.check_client_key(secret),
            Self::SplunkHec(_) | Self::Webhook(_) | Self::Jira(_) | Self::Servicenow(_) => {
                match secret {
                    Some(s) if (MIN_SECRET_CHARS..=256).contains(&s.trim().len()) => Ok(()),
                    _ => Err(format!(
                        "secret must be the token, password or signing key ({MIN_SECRET_CHARS} to 256 characters)"
                    )),
                }
            }
        }
    }

    /// Host and port it connects to, for the address check at creation.
    pub fn endpoint(&self) -> Result<(String, u16), String> {
        match self {
            Self::Pagerduty(c) => host_port(&c.url()?),
            Self::SyslogTls(c) => Ok((c.host.clone(), c.port)),
            Self::SplunkHec(c) => host_port(&c.parsed()?),
            Self::Webhook(c) => host_port(&c.parsed()?),
            Self::Jira(c) => host_port(&c.parsed()?),
            Self::Servicenow(c) => host_port(&c.parsed()?),
        }
    }

    /// True when the target takes a whole batch on one connection, all or nothing, so events
    /// about one subject may go together in order. Request-per-event targets take one event
    /// per subject per pass, so a failed one never lets a later one overtake it.
    pub fn batches_in_order(&self) -> bool {
        matches!(self, Self::SyslogTls(_) | Self::SplunkHec(_))
    }
}

fn host_port(url: &url::Url) -> Result<(String, u16), String> {
    let host = url.host_str().ok_or("the URL has no host")?.to_owned();
    Ok((host, url.port_or_known_default().unwrap_or(443)))
}

/// Speaks every protocol; one per process.
#[derive(Clone)]
pub struct Sender {
    /// Which addresses may be reached.
    pub policy: AddressPolicy,
    http: reqwest::Client,
    timeout: Duration,
    hostname: String,
}

impl Sender {
    /// A sender with the settings' address rule and timeout; `hostname` names this server in
    /// syslog headers.
    pub fn new(settings: &OutboundSettings, hostname: String) -> anyhow::Result<Self> {
        let policy = AddressPolicy {
            allow_private: settings.allow_private_networks,
        };
        let timeout = Duration::from_secs(settings.request_timeout_secs);
        Ok(Self {
            http: net::http_client(policy, timeout)?,
            policy,
            timeout,
            hostname,
        })
    }

    /// Sends `events` (in order) to one destination: one result per event.
    pub async fn deliver(
        &self,
        target: &Target,
        secret: Option<&SecretString>,
        events: &[Envelope],
    ) -> Vec<Result<(), DeliveryError>> {
        let mut results = match target {
            Target::Pagerduty(config) => match secret {
                Some(key) => {
                    let mut out = Vec::with_capacity(events.len());
                    for event in events {
                        out.push(
                            pagerduty::send(&self.http, self.policy, config, key, event).await,
                        );
                    }
                    out
                }
                None => {
                    vec![Err(DeliveryError::permanent("the routing key is missing")); events.len()]
                }
            },
            Target::Webhook(config) => match secret {
                Some(key) => {
                    let mut out = Vec::with_capacity(events.len());
                    for event in events {
                        out.push(webhook::send(&self.http, self.policy, config, key, event).await);
                    }
                    out
                }
                None => {
                    vec![Err(DeliveryError::permanent("the signing key is missing")); events.len()]
                }
            },
            Target::Jira(config) => match secret {
                Some(token) => {
                    let mut out = Vec::with_capacity(events.len());
                    for event in events {
                        out.push(jira::send(&self.http, self.policy, config, token, event).await);
                    }
                    out
                }
                None => {
                    vec![Err(DeliveryError::permanent("the API token is missing")); events.len()]
                }
            },
            Target::Servicenow(config) => match secret {
                Some(password) => {
                    let mut out = Vec::with_capacity(events.len());
                    for event in events {
                        out.push(
                            servicenow::send(&self.http, self.policy, config, password, event)
                                .await,
                        );
                    }
                    out
                }
                None => {
                    vec![Err(DeliveryError::permanent("the password is missing")); events.len()]
                }
            },
            Target::SplunkHec(config) => {
                let result = match secret {
                    Some(token) => {
                        splunk_hec::send_batch(
                            &self.http,
                            self.policy,
                            config,
                            token,
                            &self.hostname,
                            events,
                        )
                        .await
                    }
                    None => Err(DeliveryError::permanent("the HEC token is missing")),
                };
                vec![result; events.len()]
            }
            Target::SyslogTls(config) => {
                let result = tokio::time::timeout(
                    self.timeout,
                    syslog::send_batch(self.policy, config, secret, &self.hostname, events),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(DeliveryError::transient(
                        "the syslog server did not answer in time",
                    ))
                });
                vec![result; events.len()]
            }
        };
        // Removing a shorter "secret" would only garble the message; none is that short.
        if let Some(secret) = secret.map(ExposeSecret::expose_secret)
            && secret.len() >= MIN_SECRET_CHARS
        {
            for result in &mut results {
                if let Err(e) = result {
                    e.message = e.message.replace(secret, "[redacted]");
                }
            }
        }
        results
    }
}

/// At most `max` characters of a destination's answer, on one line.
pub fn excerpt(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    one_line.trim().to_owned()
}

/// Whether an HTTP status may succeed later (rate limit, time-out, server error).
pub fn status_is_transient(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429) || status >= 500
}
