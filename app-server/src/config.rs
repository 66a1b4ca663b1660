//! Typed configuration: defaults < optional TOML file < `LEAKGUARD_*` environment.
//!
//! Nested keys use a double underscore in the environment (`LEAKGUARD_SHOPIFY__API_KEY`).
//! Everything is validated at start and a bad value is reported with its key. Secrets are
//! `SecretString`s: they never appear in `Debug` output or logs.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when stderr is not a terminal, pretty otherwise.
    Auto,
    /// One JSON object per line (production).
    Json,
    /// Human-readable (local development).
    Pretty,
}

/// Background jobs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobSettings {
    /// Run the scheduler inside `serve`.
    pub enabled: bool,
    /// Seconds a job lease lasts without renewal; a crashed owner's lease expires after this.
    pub lease_ttl_secs: u64,
    /// Cron expression (six fields, seconds first, UTC) of the audit checkpoint job.
    pub audit_checkpoint_cron: String,
    /// Seconds beyond the longest gap between two checkpoint slots that an audit entry may wait
    /// for its signed checkpoint; `audit verify` fails for older uncovered entries.
    pub audit_checkpoint_grace_secs: u64,
    /// Cron expression of the tick that starts due permission audits.
    pub permission_audit_cron: String,
    /// A tenant's permission audit schedule until it sets its own (six fields, UTC).
    pub permission_audit_default_schedule: String,
    /// Cron expression of the job that prunes expired nonces, SSO token ids and sessions.
    pub prune_cron: String,
    /// Cron expression of the daily retention enforcement (a missed day runs at start).
    pub retention_cron: String,
    /// Cron expression of the job that raises incident deadline reminders (also run at start).
    pub incident_reminder_cron: String,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            lease_ttl_secs: 60,
            audit_checkpoint_cron: "0 */5 * * * *".into(),
            audit_checkpoint_grace_secs: 600,
            permission_audit_cron: "30 */5 * * * *".into(),
            permission_audit_default_schedule: "0 0 3 * * *".into(),
            prune_cron: "30 */10 * * * *".into(),
            retention_cron: "0 15 3 * * *".into(),
            incident_reminder_cron: "0 10 * * * *".into(),
        }
    }
}

/// Shopify app credentials and endpoints.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ShopifySettings {
    /// The app's client id (API key).
    pub api_key: Option<String>,
    /// The app's client secret.
    pub api_secret: Option<SecretString>,
    /// The previous client secret, accepted while a rotation is under way.
    pub previous_api_secret: Option<SecretString>,
    /// Comma-separated access scopes requested at install.
    pub scopes: Option<String>,
    /// Admin API version, e.g. `2026-10`.
    pub api_version: Option<String>,
    /// When set, every call that would go to `https://{shop}` goes here instead (tests, staging).
    pub admin_base_url: Option<String>,
}

/// Agent batch ingest limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    /// Batches processed at once per process; more are answered 429 with `Retry-After`.
    pub max_in_flight: usize,
    /// Batches of one tenant processed at once; more are answered `429 tenant_busy`, so one
    /// tenant never holds more than this many of the `max_in_flight` slots.
    pub per_tenant_in_flight: usize,
    /// Batches decoded, parsed and stored at once (this bounds the memory batches in work
    /// take; the rest wait their turn). Defaults to half the CPUs, at least one: decoding is
    /// CPU work, and the other half keeps answering requests.
    pub processing_slots: usize,
    /// Seconds a batch body may take to arrive; slower ones are answered 408.
    pub body_timeout_secs: u64,
    /// Records a tenant's agents may store per UTC day; more are answered
    /// `429 quota_exceeded` until midnight UTC.
    pub daily_records_per_tenant: u64,
    /// Seconds a refused agent is told to wait.
    pub retry_after_secs: u64,
    /// Largest compressed batch body, bytes.
    pub max_batch_bytes: usize,
    /// Largest batch after zstd decompression, bytes (a zip bomb stops here).
    pub max_decompressed_bytes: usize,
}

/// Half the CPUs this process may use, at least one.
fn default_processing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            max_in_flight: 8,
            per_tenant_in_flight: 2,
            processing_slots: default_processing_slots(),
            body_timeout_secs: 30,
            daily_records_per_tenant: 5_000_000,
            retry_after_secs: 5,
            // The agent closes a batch after 4 MiB of log input (aggregated records; zstd
            // takes JSON to a fifth or less).
            max_batch_bytes: 8 * 1024 * 1024,
            max_decompressed_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Console sign-in from the Magento admin.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// Lifetime of a console session, seconds.
    pub session_ttl_secs: u64,
    /// Lifetime of an enrollment token (module and agent), seconds.
    pub enrollment_token_ttl_secs: u64,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            session_ttl_secs: 8 * 3600,
            enrollment_token_ttl_secs: 24 * 3600,
        }
    }
}

/// Outbound delivery to the tenants' destinations (the outbox worker).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundSettings {
    /// Let destinations resolve to loopback, private, link-local or cloud-metadata addresses
    /// (self-hosted installs and tests). Off: such a destination is refused, at creation and
    /// again on every connection.
    pub allow_private_networks: bool,
    /// Cron expression of the delivery job (six fields, UTC).
    pub delivery_cron: String,
    /// Attempts before an entry becomes a dead letter.
    pub max_attempts: u32,
    /// Delay after the first failed attempt, seconds; doubles per attempt, with jitter.
    pub backoff_base_secs: u64,
    /// Longest delay between two attempts, seconds.
    pub backoff_max_secs: u64,
    /// Time one delivery (connect, TLS, request, answer) may take, seconds.
    pub request_timeout_secs: u64,
    /// Most entries sent to one destination per pass (one syslog connection carries them all).
    pub batch_size: u64,
    /// Seconds a claimed entry stays with its worker; an entry whose worker died is due again
    /// after this (the job lease keeps a live worker's entries from a second one).
    pub claim_secs: u64,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            delivery_cron: "*/5 * * * * *".into(),
            max_attempts: 12,
            backoff_base_secs: 10,
            backoff_max_secs: 3600,
            request_timeout_secs: 10,
            batch_size: 500,
            claim_secs: 900,
        }
    }
}

/// The server's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on.
    pub listen: String,
    /// Directory for the SQLite database and generated key files.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; empty means SQLite in the data directory.
    pub database_url: Option<SecretString>,
    /// Most database connections per process.
    pub database_max_connections: u32,
    /// Public base URL of this server (used in OAuth redirects and links).
    pub public_url: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (`RUST_LOG` syntax), e.g. `info` or `app_server=debug,info`.
    pub log_level: String,
    /// Base64 of a 32-byte master key for secrets at rest (overrides the key file).
    pub master_key: Option<SecretString>,
    /// Comma-separated base64 keys that may still decrypt older secrets during a rotation.
    pub previous_master_keys: Option<SecretString>,
    /// Key file for secrets at rest (default: `<data_dir>/master.key`).
    pub master_key_file: Option<PathBuf>,
    /// Ed25519 key file that signs audit checkpoints (default: `<data_dir>/audit-signing.key`).
    pub signing_key_file: Option<PathBuf>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Background jobs.
    pub jobs: JobSettings,
    /// Shopify app.
    pub shopify: ShopifySettings,
    /// Agent batch ingest.
    pub ingest: IngestSettings,
    /// Console sessions and enrollment tokens.
    pub console: ConsoleSettings,
    /// Outbound delivery.
    pub outbound: OutboundSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./leakguard-data"),
            database_url: None,
            database_max_connections: 10,
            public_url: None,
            log_format: LogFormat::Auto,
            log_level: "info".into(),
            master_key: None,
            previous_master_keys: None,
            master_key_file: None,
            signing_key_file: None,
            shutdown_timeout_secs: 30,
            max_body_bytes: 8 * 1024 * 1024,
            jobs: JobSettings::default(),
            shopify: ShopifySettings::default(),
            ingest: IngestSettings::default(),
            console: ConsoleSettings::default(),
            outbound: OutboundSettings::default(),
        }
    }
}

/// `LEAKGUARD_*` variables that are command inputs or test knobs, not settings.
const NOT_SETTINGS: &[&str] = &["LEAKGUARD_TENANT_ACCESS_TOKEN", "LEAKGUARD_TEST_"];

/// A configuration value that is wrong, with its key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key} (env LEAKGUARD_{env}): {reason}")]
pub struct ConfigError {
    /// Dotted key, e.g. `jobs.lease_ttl_secs`.
    pub key: String,
    /// The environment variable's suffix.
    pub env: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    fn new(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            env: key.replace('.', "__").to_ascii_uppercase(),
            reason: reason.into(),
        }
    }
}

impl Settings {
    /// Loads defaults, then the file named by `file` or `LEAKGUARD_CONFIG`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, anyhow::Error> {
        Self::load_from(file, std::env::vars())
    }

    /// Like [`Settings::load`] with an explicit environment (tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, anyhow::Error> {
        let env: std::collections::HashMap<String, String> = env
            .into_iter()
            .filter(|(k, _)| {
                k.starts_with("LEAKGUARD_") && !NOT_SETTINGS.iter().any(|n| k.starts_with(n))
            })
            .collect();
        let mut builder = config::Config::builder();
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("LEAKGUARD_CONFIG").map(PathBuf::from));
        let mut env = env;
        env.remove("LEAKGUARD_CONFIG");
        if let Some(path) = &file {
            builder = builder.add_source(config::File::from(path.as_path()).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("LEAKGUARD")
                .prefix_separator("_")
                .separator("__")
                .source(Some(env.into_iter().collect())),
        );
        let raw = builder
            .build()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        let settings: Settings = raw
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that deserialise but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError::new("listen", format!("not an address: {e}")))?;
        if let Some(url) = &self.database_url {
            let url = url.expose_secret();
            if !(url.is_empty()
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
            {
                return Err(ConfigError::new(
                    "database_url",
                    "must start with postgres://, postgresql:// or sqlite:",
                ));
            }
        }
        if let Some(public) = &self.public_url {
            let parsed = url::Url::parse(public)
                .map_err(|e| ConfigError::new("public_url", format!("not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::new("public_url", "must be http or https"));
            }
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::new(
                "database_max_connections",
                "must be at least 1",
            ));
        }
        if self.jobs.lease_ttl_secs < 5 {
            return Err(ConfigError::new(
                "jobs.lease_ttl_secs",
                "must be at least 5",
            ));
        }
        if self.outbound.max_attempts == 0 {
            return Err(ConfigError::new(
                "outbound.max_attempts",
                "must be at least 1",
            ));
        }
        if self.outbound.backoff_base_secs == 0
            || self.outbound.backoff_max_secs < self.outbound.backoff_base_secs
        {
            return Err(ConfigError::new(
                "outbound.backoff_base_secs",
                "must be at least 1 and at most outbound.backoff_max_secs",
            ));
        }
        if !(1..=60).contains(&self.outbound.request_timeout_secs) {
            return Err(ConfigError::new(
                "outbound.request_timeout_secs",
                "must be 1 to 60",
            ));
        }
        if self.outbound.claim_secs <= self.outbound.request_timeout_secs {
            return Err(ConfigError::new(
                "outbound.claim_secs",
                "must be more than outbound.request_timeout_secs",
            ));
        }
        if !(1..=5000).contains(&self.outbound.batch_size) {
            return Err(ConfigError::new("outbound.batch_size", "must be 1 to 5000"));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::new("max_body_bytes", "must be at least 1024"));
        }
        for (key, cron) in [
            (
                "jobs.audit_checkpoint_cron",
                &self.jobs.audit_checkpoint_cron,
            ),
            ("jobs.retention_cron", &self.jobs.retention_cron),
            (
                "jobs.incident_reminder_cron",
                &self.jobs.incident_reminder_cron,
            ),
            (
                "jobs.permission_audit_cron",
                &self.jobs.permission_audit_cron,
            ),
            ("outbound.delivery_cron", &self.outbound.delivery_cron),
        ] {
            if let Err(e) =
                tokio_cron_scheduler::Job::new_async(cron.as_str(), |_, _| Box::pin(async {}))
            {
                return Err(ConfigError::new(key, format!("not a cron expression: {e}")));
            }
        }
        if let Err(e) =
            crate::permission_audits::schedule::parse(&self.jobs.permission_audit_default_schedule)
        {
            return Err(ConfigError::new(
                "jobs.permission_audit_default_schedule",
                e,
            ));
        }
        if let Err(e) =
            tokio_cron_scheduler::Job::new_async(self.jobs.prune_cron.as_str(), |_, _| {
                Box::pin(async {})
            })
        {
            return Err(ConfigError::new(
                "jobs.prune_cron",
                format!("not a cron expression: {e}"),
            ));
        }
        if self.ingest.max_in_flight == 0 {
            return Err(ConfigError::new(
                "ingest.max_in_flight",
                "must be at least 1",
            ));
        }
        if self.ingest.per_tenant_in_flight == 0
            || self.ingest.per_tenant_in_flight > self.ingest.max_in_flight
        {
            return Err(ConfigError::new(
                "ingest.per_tenant_in_flight",
                "must be at least 1 and at most ingest.max_in_flight",
            ));
        }
        if self.ingest.processing_slots == 0 {
            return Err(ConfigError::new(
                "ingest.processing_slots",
                "must be at least 1",
            ));
        }
        if !(1..=600).contains(&self.ingest.body_timeout_secs) {
            return Err(ConfigError::new(
                "ingest.body_timeout_secs",
                "must be 1 to 600",
            ));
        }
        if self.ingest.max_batch_bytes < 1024 {
            return Err(ConfigError::new(
                "ingest.max_batch_bytes",
                "must be at least 1024",
            ));
        }
        if self.ingest.max_decompressed_bytes < self.ingest.max_batch_bytes {
            return Err(ConfigError::new(
                "ingest.max_decompressed_bytes",
                "must be at least ingest.max_batch_bytes",
            ));
        }
        if self.console.session_ttl_secs < 60 {
            return Err(ConfigError::new(
                "console.session_ttl_secs",
                "must be at least 60",
            ));
        }
        if self.console.enrollment_token_ttl_secs < 60 {
            return Err(ConfigError::new(
                "console.enrollment_token_ttl_secs",
                "must be at least 60",
            ));
        }
        if let Some(base) = &self.shopify.admin_base_url {
            url::Url::parse(base).map_err(|e| {
                ConfigError::new("shopify.admin_base_url", format!("not a URL: {e}"))
            })?;
        }
        Ok(())
    }

    /// The database URL actually used: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.expose_secret().is_empty() => url.expose_secret().to_owned(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("leakguard.db").display()
            ),
        }
    }

    /// True unless the public URL is plain HTTP on a loopback host (local development), so
    /// cookies carry `Secure` everywhere else.
    pub fn cookies_secure(&self) -> bool {
        let public = self.effective_public_url();
        match url::Url::parse(&public) {
            Ok(u) if u.scheme() == "http" => !matches!(
                u.host_str(),
                Some("127.0.0.1") | Some("localhost") | Some("[::1]")
            ),
            _ => true,
        }
    }

    /// The public URL, or one derived from the listen address.
    pub fn effective_public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }
}

/// A database URL with any password replaced, for log lines.
pub fn redact_database_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparsable database url>".into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert!(s.effective_database_url().starts_with("sqlite://"));
    }

    #[test]
    fn environment_overrides_the_file_and_nested_keys_use_double_underscores() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("leakguard.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nlog_level = \"debug\"\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&file),
            env(&[
                ("LEAKGUARD_LISTEN", "127.0.0.1:9001"),
                ("LEAKGUARD_SHOPIFY__API_KEY", "abc"),
                ("LEAKGUARD_JOBS__LEASE_TTL_SECS", "30"),
            ]),
        )
        .unwrap();
        assert_eq!(s.listen, "127.0.0.1:9001");
        assert_eq!(s.log_level, "debug");
        assert_eq!(s.shopify.api_key.as_deref(), Some("abc"));
        assert_eq!(s.jobs.lease_ttl_secs, 30);
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = Settings::load_from(None, env(&[("LEAKGUARD_LISTEN", "nope")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        let err = Settings::load_from(None, env(&[("LEAKGUARD_JOBS__LEASE_TTL_SECS", "1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("jobs.lease_ttl_secs"), "{err}");
        let err = Settings::load_from(None, env(&[("LEAKGUARD_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = Settings::load_from(None, env(&[("LEAKGUARD_LISTNE", "127.0.0.1:1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listne"), "{err}");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = Settings::load_from(
            None,
            env(&[
                (
                    "LEAKGUARD_MASTER_KEY",
                    "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3Qtc2hvdw==",
                ),
                (
                    "LEAKGUARD_DATABASE_URL",
                    "postgres://u:hunter2@localhost/db",
                ),
            ]),
        )
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2"));
        assert!(!debug.contains("c2VjcmV0"));
        assert_eq!(
            redact_database_url("postgres://u:hunter2@localhost/db"),
            "postgres://u:***@localhost/db"
        );
    }
}
