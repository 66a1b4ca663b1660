//! Talking to the server: enrollment, the stored credential, and the shipper that drains
//! the spool.
//!
//! Owns HTTP (reqwest with rustls), retries with exponential back-off and full jitter on the
//! monotonic clock, and `Retry-After`. The credential is written with mode 0600 and never
//! logged.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use leakguard_domain::agent_wire::{
    BATCHES_PATH, BatchAck, ENROLL_PATH, EnrollRequest, EnrollResponse, bearer_token,
};
use serde::{Deserialize, Serialize};

use crate::events::Events;
use crate::server_url;
use crate::spool::SpoolReader;

/// What enrollment stored.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credential {
    /// Server base URL it was issued by.
    pub server: String,
    /// Agent id.
    pub agent_id: String,
    /// Secret.
    pub credential: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("server", &self.server)
            .field("agent_id", &self.agent_id)
            .field("credential", &"[redacted]")
            .finish()
    }
}

/// Path of the credential file in a state directory.
pub fn credential_path(state_dir: &Path) -> PathBuf {
    state_dir.join("credential.json")
}

/// Loads the stored credential.
pub fn load_credential(state_dir: &Path) -> anyhow::Result<Credential> {
    let path = credential_path(state_dir);
    let bytes = fs::read(&path).with_context(|| {
        format!(
            "cannot read credential {} (run `leakguard-agent enroll` first)",
            path.display()
        )
    })?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("invalid credential file {}", path.display()))
}

/// Stores a credential with mode 0600 (atomically).
pub fn store_credential(state_dir: &Path, credential: &Credential) -> anyhow::Result<()> {
    fs::create_dir_all(state_dir)
        .with_context(|| format!("cannot create state dir {}", state_dir.display()))?;
    let path = credential_path(state_dir);
    let temp = path.with_extension("json.tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .with_context(|| format!("cannot write {}", temp.display()))?;
    file.write_all(&serde_json::to_vec(credential)?)?;
    file.sync_all()?;
    fs::rename(&temp, &path)?;
    fs::File::open(state_dir)?.sync_all()?;
    Ok(())
}

/// Checks a server base URL ([`server_url::parse`]): HTTPS, or plain HTTP to loopback only.
pub fn checked_server(server: &str) -> anyhow::Result<url::Url> {
    server_url::parse(server).map_err(|error| anyhow::anyhow!("invalid server URL: {error}"))
}

/// Builds the HTTP client for `server` (see [`http_client`]); it speaks HTTPS only unless
/// `server` is a plain-HTTP loopback URL.
pub fn http_client_for(ca_file: Option<&Path>, server: &str) -> anyhow::Result<reqwest::Client> {
    let server = checked_server(server)?;
    client_builder(ca_file, !server_url::is_plaintext_loopback(&server))?
        .build()
        .context("cannot build the HTTP client")
}

/// Builds the HTTP client (rustls with aws-lc-rs; optional extra CA). It follows no
/// redirect, so the credential goes nowhere but the checked server URL ([`enroll`] and
/// [`ship_loop`] check it).
pub fn http_client(ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    client_builder(ca_file, false)?
        .build()
        .context("cannot build the HTTP client")
}

fn client_builder(
    ca_file: Option<&Path>,
    https_only: bool,
) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("leakguard-agent/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .https_only(https_only);
    if let Some(path) = ca_file {
        let pem =
            fs::read(path).with_context(|| format!("cannot read CA file {}", path.display()))?;
        let certificate = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("invalid CA file {}", path.display()))?;
        builder = builder.add_root_certificate(certificate);
    }
    Ok(builder)
}

fn url(server: &str, path: &str) -> String {
    format!("{}{}", server.trim_end_matches('/'), path)
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Enrolls with a one-time token and stores the credential.
pub async fn enroll(
    client: &reqwest::Client,
    server: &str,
    token: &str,
    state_dir: &Path,
) -> anyhow::Result<Credential> {
    checked_server(server)?;
    let request = EnrollRequest {
        token: token.to_owned(),
        hostname: hostname(),
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let response = client
        .post(url(server, ENROLL_PATH))
        .json(&request)
        .send()
        .await
        .with_context(|| format!("cannot reach {server}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("enrollment refused by {server}: HTTP {}", status.as_u16());
    }
    let answer: EnrollResponse = response.json().await.context("invalid enrollment answer")?;
    if answer.agent_id.contains('.') || answer.agent_id.is_empty() {
        bail!("invalid agent id in enrollment answer");
    }
    let credential = Credential {
        server: server.to_owned(),
        agent_id: answer.agent_id,
        credential: answer.credential,
    };
    store_credential(state_dir, &credential)?;
    Ok(credential)
}

/// Outcome of one send.
#[derive(Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Stored (or already stored).
    Delivered {
        /// The server had it already.
        duplicate: bool,
    },
    /// Rejected for good (4xx other than 401/403/408/429).
    Rejected(u16),
    /// Try again after this long (from `Retry-After`), or after back-off when `None`.
    Retry(Option<Duration>),
}

/// Sends one encoded batch.
pub async fn send_batch(
    client: &reqwest::Client,
    credential: &Credential,
    body: Vec<u8>,
) -> SendOutcome {
    let result = client
        .post(url(&credential.server, BATCHES_PATH))
        .header(
            "Authorization",
            format!(
                "Bearer {}",
                bearer_token(&credential.agent_id, &credential.credential)
            ),
        )
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "zstd")
        .body(body)
        .send()
        .await;
    let response = match result {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(error = %error, "Sending a batch failed; it will be retried.");
            return SendOutcome::Retry(None);
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|seconds| Duration::from_secs(seconds.min(3600)));
    match status {
        200..=299 => {
            let ack = response.json::<BatchAck>().await.ok();
            if let Some(rejected) = ack.map(|a| a.rejected).filter(|n| *n > 0) {
                // The server found personal data the host's masking let through; the records
                // were dropped there. Counted only: what they held stays unknown here too.
                tracing::warn!(
                    rejected,
                    "The server refused records that failed its masking check."
                );
            }
            SendOutcome::Delivered {
                duplicate: ack.is_some_and(|a| a.duplicate),
            }
        }
        429 | 503 => SendOutcome::Retry(retry_after),
        401 | 403 => {
            tracing::error!(
                status,
                "The server refused the agent's credential; re-enroll the agent."
            );
            SendOutcome::Retry(Some(retry_after.unwrap_or(Duration::from_secs(60))))
        }
        408 => SendOutcome::Retry(retry_after),
        400..=499 => SendOutcome::Rejected(status),
        _ => SendOutcome::Retry(retry_after),
    }
}

/// Exponential back-off with full jitter: a random delay in `[0, min(cap, base·2^attempt)]`,
/// at least `base / 2`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, random: u64) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let millis = u64::try_from(ceiling.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let floor = u64::try_from(base.as_millis() / 2).unwrap_or(0);
    Duration::from_millis((random % millis).max(floor))
}

/// A small xorshift generator seeded from the pid and time: jitter needs no cryptography.
pub struct Jitter(u64);

impl Default for Jitter {
    fn default() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ (u64::from(std::process::id()) << 32);
        Self(seed | 1)
    }
}

impl Jitter {
    /// Next random number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Shipper settings.
#[derive(Clone)]
pub struct ShipOptions {
    /// First back-off.
    pub base_backoff: Duration,
    /// Longest back-off.
    pub max_backoff: Duration,
    /// Give up after this many failed attempts on one batch (`--once`); answers with a
    /// `Retry-After` do not count. `None` = never.
    pub max_attempts: Option<u32>,
}

impl Default for ShipOptions {
    fn default() -> Self {
        Self {
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_attempts: None,
        }
    }
}

/// Drains the spool until `stop` is set (or, with `until_drained`, until the spool is empty
/// and `producer_done` is set). Returns an error when a batch exhausted `max_attempts`.
pub async fn ship_loop(
    mut reader: SpoolReader,
    client: reqwest::Client,
    credential: Credential,
    options: ShipOptions,
    events: Arc<dyn Events>,
    stop: Arc<AtomicBool>,
    producer_done: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    // The credential file is outside the config's checks: never send it in clear text.
    checked_server(&credential.server)?;
    let mut jitter = Jitter::default();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Some(entry) = reader.next(events.as_ref()) else {
            if producer_done.load(Ordering::Relaxed) && reader.shared().is_drained() {
                reader.collect_garbage();
                return Ok(());
            }
            let shared = reader.shared().clone();
            let _ =
                tokio::task::spawn_blocking(move || shared.wait(Duration::from_millis(200))).await;
            reader.collect_garbage();
            continue;
        };
        let mut attempt = 0u32;
        loop {
            match send_batch(&client, &credential, entry.body.clone()).await {
                SendOutcome::Delivered { duplicate } => {
                    events.batch_acked(duplicate);
                    reader.ack(&entry);
                    break;
                }
                SendOutcome::Rejected(status) => {
                    events.batch_dropped(status);
                    reader.ack(&entry);
                    break;
                }
                SendOutcome::Retry(after) => {
                    events.send_retry();
                    // A server that names a `Retry-After` is busy, not broken: only failures
                    // without one count towards `max_attempts`.
                    if after.is_none() {
                        attempt += 1;
                    }
                    if options.max_attempts.is_some_and(|max| attempt >= max) {
                        bail!(
                            "the server did not accept a batch after {attempt} attempts; it stays in the spool"
                        );
                    }
                    let delay = after.unwrap_or_else(|| {
                        backoff(
                            attempt,
                            options.base_backoff,
                            options.max_backoff,
                            jitter.next_u64(),
                        )
                    });
                    // tokio's timer is monotonic: wall-clock jumps do not shorten or stretch it.
                    let deadline = tokio::time::Instant::now() + delay;
                    while tokio::time::Instant::now() < deadline {
                        if stop.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        tokio::time::sleep(
                            Duration::from_millis(100).min(deadline - tokio::time::Instant::now()),
                        )
                        .await;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        for attempt in 0..20 {
            for random in [0, 1, 12_345, u64::MAX] {
                let delay = backoff(attempt, base, cap, random);
                assert!(delay <= cap && delay >= base / 2, "{attempt} {delay:?}");
            }
        }
        assert!(backoff(10, base, cap, u64::MAX - 1) > backoff(1, base, cap, u64::MAX - 1));
    }
}
