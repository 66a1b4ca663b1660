//! The agent's configuration file (TOML).
//!
//! Owns parsing and validation; unknown keys are errors, and every error names the key or
//! source at fault. It must not read logs or touch the state directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leakguard_domain::agent_wire::SourceKind;
use serde::Deserialize;

use crate::parse::ParserOptions;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Server and state settings.
    pub agent: AgentSection,
    /// Disk spool limits.
    #[serde(default)]
    pub spool: SpoolSection,
    /// Tailing behaviour shared by all sources.
    #[serde(default)]
    pub tail: TailSection,
    /// The logs to read.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
}

/// `[agent]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// Base URL of the LeakGuard server, e.g. `https://leakguard.example.com`. Plain
    /// `http://` is refused unless the host is loopback (127.0.0.0/8, `::1`, `localhost`).
    pub server: String,
    /// Directory for the credential, checkpoints and spool (must be writable by the agent).
    pub state_dir: PathBuf,
    /// `host:port` of the local status endpoint (Prometheus text); empty to disable.
    #[serde(default = "default_status_listen")]
    pub status_listen: String,
    /// Extra PEM CA certificate file trusted for the server (for private CAs).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_status_listen() -> String {
    "127.0.0.1:9977".to_owned()
}

/// `[spool]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolSection {
    /// Largest total size of the spool in bytes; tailing pauses when it is reached.
    #[serde(default = "default_spool_max")]
    pub max_bytes: u64,
    /// Size at which a spool segment file is closed and a new one started.
    #[serde(default = "default_segment")]
    pub segment_bytes: u64,
}

fn default_spool_max() -> u64 {
    256 * 1024 * 1024
}

fn default_segment() -> u64 {
    64 * 1024 * 1024
}

impl Default for SpoolSection {
    fn default() -> Self {
        Self {
            max_bytes: default_spool_max(),
            segment_bytes: default_segment(),
        }
    }
}

/// `[tail]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailSection {
    /// Lines longer than this many bytes are cut and marked truncated.
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
    /// Milliseconds a batch may stay open before it is spooled.
    #[serde(default = "default_batch_ms")]
    pub batch_linger_ms: u64,
    /// Input bytes after which a batch is spooled at once.
    #[serde(default = "default_batch_bytes")]
    pub batch_max_bytes: u64,
    /// Milliseconds between glob rescans (inotify wakes the agent earlier).
    #[serde(default = "default_rescan_ms")]
    pub rescan_ms: u64,
    /// Milliseconds a rotated-away or deleted file must sit idle at EOF before it is closed
    /// and its unterminated last line flushed.
    #[serde(default = "default_grace_ms")]
    pub rotate_grace_ms: u64,
    /// Milliseconds an idle file stays open before its descriptor is closed.
    #[serde(default = "default_idle_close_ms")]
    pub idle_close_ms: u64,
    /// Seconds the checkpoint of a vanished file is kept.
    #[serde(default = "default_state_ttl")]
    pub state_ttl_s: u64,
    /// `beginning` (default) or `end`: where files without a checkpoint found at the first
    /// start are read from. Files appearing later are always read from the beginning.
    #[serde(default = "default_read_from")]
    pub read_from: String,
}

fn default_max_line() -> usize {
    1024 * 1024
}
fn default_batch_ms() -> u64 {
    1000
}
fn default_batch_bytes() -> u64 {
    4 * 1024 * 1024
}
fn default_rescan_ms() -> u64 {
    2000
}
fn default_grace_ms() -> u64 {
    5000
}
fn default_idle_close_ms() -> u64 {
    60_000
}
fn default_state_ttl() -> u64 {
    3600
}
fn default_read_from() -> String {
    "beginning".to_owned()
}

impl Default for TailSection {
    fn default() -> Self {
        Self {
            max_line_bytes: default_max_line(),
            batch_linger_ms: default_batch_ms(),
            batch_max_bytes: default_batch_bytes(),
            rescan_ms: default_rescan_ms(),
            rotate_grace_ms: default_grace_ms(),
            idle_close_ms: default_idle_close_ms(),
            state_ttl_s: default_state_ttl(),
            read_from: default_read_from(),
        }
    }
}

impl TailSection {
    /// Batch linger as a duration.
    pub fn batch_linger(&self) -> Duration {
        Duration::from_millis(self.batch_linger_ms)
    }
}

/// One `[[source]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique name; checkpoints are kept per name, so two sources never share state.
    pub name: String,
    /// Log format: `mariadb-slow`, `mariadb-general`, `mariadb-audit`, `magento-admin`,
    /// `monolog`, `nginx` or `magento-export` (a directory watched for new files).
    pub kind: SourceKind,
    /// Glob patterns of files to read (for `magento-export`: of files in the directory).
    /// Include rotated names (`slow.log*`) so renamed files are found after a restart.
    pub include: Vec<String>,
    /// Glob patterns to skip (compressed rotations are always skipped).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Offset from UTC of timestamps written without a zone (`+00:00`).
    #[serde(default = "default_offset")]
    pub utc_offset: String,
    /// Admin area path prefixes for access logs (the `backend.frontName` of `env.php`).
    #[serde(default = "default_admin_paths")]
    pub admin_paths: Vec<String>,
}

fn default_offset() -> String {
    "+00:00".to_owned()
}

fn default_admin_paths() -> Vec<String> {
    vec!["/admin".to_owned()]
}

impl SourceConfig {
    /// Parser options of this source.
    pub fn parser_options(&self) -> ParserOptions {
        ParserOptions {
            utc_offset_s: crate::timefmt::parse_utc_offset(&self.utc_offset).unwrap_or(0),
            admin_paths: self.admin_paths.clone(),
        }
    }
}

/// A configuration problem, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax or an unknown/mistyped key.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error, which names the key.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid config value {key}: {message}")]
    Invalid {
        /// Dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates text.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: path.to_owned(),
            message: error.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            key: key.to_owned(),
            message: message.to_owned(),
        };
        if let Err(error) = crate::server_url::parse(&self.agent.server) {
            return Err(invalid("agent.server", &error.to_string()));
        }
        if self.spool.segment_bytes < 4096 || self.spool.max_bytes < self.spool.segment_bytes {
            return Err(invalid(
                "spool",
                "segment_bytes must be >= 4096 and <= max_bytes",
            ));
        }
        if self.tail.max_line_bytes < 256 {
            return Err(invalid("tail.max_line_bytes", "must be at least 256"));
        }
        if self.tail.read_from != "beginning" && self.tail.read_from != "end" {
            return Err(invalid("tail.read_from", "must be `beginning` or `end`"));
        }
        let mut names = std::collections::HashSet::new();
        for (index, source) in self.sources.iter().enumerate() {
            let key = format!("source[{index}]");
            if source.name.is_empty()
                || !source
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(
                    &format!("{key}.name"),
                    "must be non-empty [A-Za-z0-9_-]",
                ));
            }
            if !names.insert(source.name.clone()) {
                return Err(invalid(&format!("{key}.name"), "duplicate source name"));
            }
            if source.include.is_empty() {
                return Err(invalid(
                    &format!("{key}.include"),
                    "needs at least one glob",
                ));
            }
            for pattern in source.include.iter().chain(&source.exclude) {
                if let Err(error) = glob::Pattern::new(pattern) {
                    return Err(invalid(
                        &format!("{key}.include"),
                        &format!("bad glob {pattern}: {error}"),
                    ));
                }
            }
            if crate::timefmt::parse_utc_offset(&source.utc_offset).is_none() {
                return Err(invalid(&format!("{key}.utc_offset"), "expected +HH:MM"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let text = "[agent]\nserver = \"https://x\"\nstate_dir = \"/tmp/x\"\nbogus = 1\n";
        let error = Config::parse(text, Path::new("a.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("bogus"), "{error}");
    }

    #[test]
    fn plain_http_to_a_remote_server_is_a_config_error() {
        let config =
            |server: &str| format!("[agent]\nserver = {server:?}\nstate_dir = \"/tmp/x\"\n");
        let error = Config::parse(&config("http://leakguard.example.com"), Path::new("a.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("agent.server") && error.contains("loopback"),
            "{error}"
        );
        assert!(Config::parse(&config("http://127.0.0.1:8080"), Path::new("a.toml")).is_ok());
        assert!(
            Config::parse(
                &config("https://leakguard.example.com"),
                Path::new("a.toml")
            )
            .is_ok()
        );
    }

    #[test]
    fn the_sample_config_is_valid() {
        let text = include_str!("../dist/agent.toml");
        let config = Config::parse(text, Path::new("agent.toml")).unwrap();
        assert!(config.sources.len() >= 6);
    }
}
