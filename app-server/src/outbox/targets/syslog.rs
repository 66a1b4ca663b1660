//! Syslog over TLS: RFC 5424 messages, RFC 5425 transport with octet-counting framing
//! (`MSG-LEN SP SYSLOG-MSG`), rustls with the server certificate verified against the CA the
//! tenant configured, and an optional client certificate (its private key is the
//! destination's secret).
//!
//! A batch goes over one connection and counts as delivered once every frame is written and
//! the TLS session closed cleanly; syslog has no acknowledgement, and a receiver cannot
//! de-duplicate a batch re-sent after a lost connection, so every message carries the event id
//! (`[leakguard@32473 event="…"]`) for the SIEM to de-duplicate on. 32473 is the private
//! enterprise number RFC 5424 reserves for examples; it stands until LeakGuard has its own.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

use super::DeliveryError;
use crate::outbox::net::{self, AddressPolicy};
use crate::outbox::{Envelope, Severity};

/// The MSG part of each message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// ArcSight Common Event Format.
    Cef,
    /// The event envelope as JSON.
    Json,
}

/// `{"host", "port", "ca_pem", "format", "client_cert_pem"?}`; the client key, when a client
/// certificate is given, is the destination's secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The syslog server's name (checked against its certificate) or address.
    pub host: String,
    /// Its TLS port (6514 by RFC 5425).
    #[serde(default = "default_port")]
    pub port: u16,
    /// The CA certificate(s) that signed the server's certificate, PEM.
    pub ca_pem: String,
    /// CEF or JSON.
    #[serde(default = "default_format")]
    pub format: Format,
    /// The client certificate chain, PEM (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_pem: Option<String>,
}

fn default_port() -> u16 {
    6514
}

fn default_format() -> Format {
    Format::Json
}

fn certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| "a certificate is not valid PEM")?;
    if certs.is_empty() {
        return Err("no certificate in the PEM text".into());
    }
    Ok(certs)
}

impl Config {
    /// Checks what needs no network.
    pub fn check(&self) -> Result<(), String> {
        if self.host.is_empty() || self.host.len() > 253 || self.host.contains(['/', ' ', '@']) {
            return Err("host must be a host name or an address".into());
        }
        if self.port == 0 {
            return Err("port must be 1 to 65535".into());
        }
        ServerName::try_from(self.host.clone()).map_err(|_| "host is not a valid name")?;
        certs(&self.ca_pem).map_err(|e| format!("ca_pem: {e}"))?;
        if let Some(pem) = &self.client_cert_pem {
            certs(pem).map_err(|e| format!("client_cert_pem: {e}"))?;
        }
        Ok(())
    }

    /// The secret is the client key when a client certificate is set, and absent otherwise.
    pub fn check_client_key(&self, secret: Option<&str>) -> Result<(), String> {
        match (&self.client_cert_pem, secret.filter(|s| !s.is_empty())) {
            (Some(_), Some(key)) => PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map(|_| ())
                .map_err(|_| "secret must be the client certificate's private key, PEM".into()),
            (Some(_), None) => Err("a client certificate needs its private key as secret".into()),
            (None, Some(_)) => Err("secret is only taken with client_cert_pem".into()),
            (None, None) => Ok(()),
        }
    }
}

/// Syslog severity (RFC 5424 §6.2.1) of ours.
fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// CEF severity 0–10 of ours.
fn cef_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 10,
        Severity::High => 8,
        Severity::Medium => 5,
        Severity::Low => 3,
        Severity::Info => 1,
    }
}

/// Facility local0 (16).
const FACILITY: u8 = 16;

/// Printable US-ASCII without spaces, at most `max` characters, or the NILVALUE.
fn header_field(value: &str, max: usize) -> String {
    let field: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() { "-".into() } else { field }
}

/// A PARAM-VALUE with `"`, `\` and `]` escaped.
fn param_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn cef_header(value: &str) -> String {
    value.replace('\\', "\\\\").replace('|', "\\|")
}

fn cef_extension(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// The CEF line of an event.
pub fn cef(event: &Envelope) -> String {
    format!(
        "CEF:0|LeakGuard|LeakGuard Server|{}|{}|{}|{}|rt={} externalId={} cs1Label=tenant cs1={} cs2Label=subject cs2={} cs3Label=data cs3={} msg={}",
        cef_header(env!("CARGO_PKG_VERSION")),
        cef_header(event.event_type.as_str()),
        cef_header(&event.title),
        cef_severity(event.severity),
        event.occurred_at,
        event.id,
        event.tenant_id,
        cef_extension(&format!("{}/{}", event.subject.kind, event.subject.id)),
        cef_extension(&event.data.to_string()),
        cef_extension(&event.title),
    )
}

/// One RFC 5424 message.
pub fn message(event: &Envelope, hostname: &str, format: Format) -> String {
    let body = match format {
        Format::Cef => cef(event),
        Format::Json => serde_json::to_string(event).unwrap_or_default(),
    };
    format!(
        "<{pri}>1 {time} {host} leakguard - {msgid} [leakguard@32473 event=\"{event}\" tenant=\"{tenant}\" type=\"{kind}\" subject=\"{subject}\" severity=\"{severity}\"] \u{feff}{body}",
        pri = FACILITY * 8 + syslog_severity(event.severity),
        time = crate::api_time::format(event.occurred_at),
        host = header_field(hostname, 255),
        msgid = header_field(event.event_type.as_str(), 32),
        event = event.id,
        tenant = event.tenant_id,
        kind = param_value(event.event_type.as_str()),
        subject = param_value(&format!("{}/{}", event.subject.kind, event.subject.id)),
        severity = event.severity.as_str(),
    )
}

/// `MSG-LEN SP SYSLOG-MSG` (RFC 5425 §4.3), the length in bytes.
pub fn frame(message: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(message.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(message.as_bytes());
}

fn tls_config(
    config: &Config,
    client_key: Option<&SecretString>,
) -> Result<rustls::ClientConfig, DeliveryError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs(&config.ca_pem).map_err(DeliveryError::permanent)? {
        roots
            .add(cert)
            .map_err(|_| DeliveryError::permanent("ca_pem holds an unusable certificate"))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|_| DeliveryError::permanent("no TLS version available"))?
    .with_root_certificates(roots);
    match (&config.client_cert_pem, client_key) {
        (Some(chain), Some(key)) => {
            let chain = certs(chain).map_err(DeliveryError::permanent)?;
            let key = PrivateKeyDer::from_pem_slice(key.expose_secret().as_bytes())
                .map_err(|_| DeliveryError::permanent("the client key is not valid PEM"))?;
            builder.with_client_auth_cert(chain, key).map_err(|_| {
                DeliveryError::permanent("the client key does not fit its certificate")
            })
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// Sends `events` over one TLS connection, all or nothing.
pub async fn send_batch(
    policy: AddressPolicy,
    config: &Config,
    client_key: Option<&SecretString>,
    hostname: &str,
    events: &[Envelope],
) -> Result<(), DeliveryError> {
    let tls = tls_config(config, client_key)?;
    let server_name = ServerName::try_from(config.host.clone())
        .map_err(|_| DeliveryError::permanent("host is not a valid name"))?;
    let addrs = net::resolve(policy, &config.host, config.port)
        .await
        .map_err(|e| {
            if e == net::REFUSED {
                DeliveryError::permanent(e)
            } else {
                DeliveryError::transient(e)
            }
        })?;
    let mut tcp = None;
    for addr in addrs {
        if let Ok(stream) = tokio::net::TcpStream::connect(addr).await {
            tcp = Some(stream);
            break;
        }
    }
    let tcp =
        tcp.ok_or_else(|| DeliveryError::transient("could not connect to the syslog server"))?;
    let _ = tcp.set_nodelay(true);
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(server_name, tcp)
        .await
        .map_err(|e| {
            DeliveryError::transient(format!("TLS handshake with the syslog server failed: {e}"))
        })?;
    let mut buffer = Vec::with_capacity(events.len() * 512);
    for event in events {
        frame(&message(event, hostname, config.format), &mut buffer);
    }
    let lost = |_| DeliveryError::transient("the syslog server closed the connection");
    stream.write_all(&buffer).await.map_err(lost)?;
    stream.flush().await.map_err(lost)?;
    stream.shutdown().await.map_err(lost)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::outbox::{EnvelopeSubject, EventType};

    fn event() -> Envelope {
        Envelope {
            id: uuid::Uuid::nil(),
            event_type: EventType::RetentionFindingOpened,
            tenant_id: uuid::Uuid::nil(),
            occurred_at: 0,
            subject: EnvelopeSubject {
                kind: "finding".into(),
                id: "a]b\"c".into(),
            },
            severity: Severity::Critical,
            title: "Stored card | number = x".into(),
            data: serde_json::json!({"rows": 3}),
        }
    }

    #[test]
    fn a_message_has_the_rfc_5424_header_and_escaped_structured_data() {
        let text = message(&event(), "lg host", Format::Json);
        assert!(
            text.starts_with("<130>1 1970-01-01T00:00:00.000Z lghost leakguard - retention_finding.opened [leakguard@32473 "),
            "{text}"
        );
        assert!(text.contains(r#"subject="finding/a\]b\"c""#), "{text}");
        assert!(text.contains("] \u{feff}{"), "{text}");
    }

    #[test]
    fn the_frame_counts_bytes_not_characters() {
        let mut out = Vec::new();
        frame("é€", &mut out);
        assert_eq!(out, "5 é€".as_bytes());
    }

    #[test]
    fn cef_escapes_pipes_in_the_header_and_equals_in_the_extension() {
        let line = cef(&event());
        assert!(line.contains("|Stored card \\| number = x|10|"), "{line}");
        assert!(line.contains("msg=Stored card | number \\= x"), "{line}");
    }
}
