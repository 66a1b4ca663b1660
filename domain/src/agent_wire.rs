//! The agent wire format: what `leakguard-agent` sends to the server and what it gets back.
//!
//! Owns the JSON shapes of enrollment and batch upload, and the pure function that names a
//! batch for de-duplication. It must not do I/O. The server implements the receiving side
//! from these types alone, so every field is documented here.
//!
//! # Endpoints
//!
//! * [`ENROLL_PATH`] `POST /api/v1/agent/enroll`, JSON [`EnrollRequest`] → 200 JSON
//!   [`EnrollResponse`]. A bad or used token answers 401 (no body needed by the agent).
//! * [`BATCHES_PATH`] `POST /api/v1/agent/batches`, headers
//!   `Authorization: Bearer <agent_id>.<credential>` (see [`bearer_token`]),
//!   `Content-Type: application/json`, `Content-Encoding: zstd`; body: one zstd frame holding
//!   the JSON of one [`Batch`]. Answers:
//!   * 200 JSON [`BatchAck`]. `duplicate: true` when the [`DedupKey`] was already stored;
//!     the agent treats both as delivered.
//!   * 429 or 503 with `Retry-After: <seconds>`: the agent keeps the batch and retries later.
//!   * 401: the credential is unknown or revoked; the agent keeps the batch and backs off.
//!   * other 4xx (400, 413, 415, 422): the batch can never be accepted; the agent drops it
//!     and counts the drop.
//!   * 5xx: retried with back-off and jitter.
//!
//! # Delivery guarantee
//!
//! At-least-once. One batch covers one byte range `[start_offset, end_offset)` of one source
//! file, and a range is never split differently when it is sent again, so the server stores
//! a batch only when its [`DedupKey`] `(agent_id, file_id, start_offset)` is new. Aggregates
//! are partial sums for their range: the server adds aggregates with the same key across
//! batches.
//!
//! # Privacy
//!
//! Records never carry a raw SQL literal, a row value, an e-mail address, a name, a phone
//! number, a postal address, a card number, a password or a token. SQL appears only as a
//! pt-query-digest fingerprint, and only when a strict masking pass found nothing that looks
//! like personal data in it; otherwise `fingerprint` is absent and `masked` is true.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Path of the enrollment endpoint.
pub const ENROLL_PATH: &str = "/api/v1/agent/enroll";
/// Path of the batch upload endpoint.
pub const BATCHES_PATH: &str = "/api/v1/agent/batches";
/// Version of the record schema in [`Batch::schema`]. Additive changes keep the number.
pub const SCHEMA_VERSION: u32 = 1;
/// Largest decompressed batch body the server must accept. The agent cuts a batch after
/// 4 MiB of input (by default) or 5,000 records, whichever comes first, so real batches stay
/// far below this.
pub const MAX_BATCH_JSON_BYTES: usize = 32 * 1024 * 1024;

/// Body of `POST /api/v1/agent/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// One-time enrollment token shown to the merchant in the LeakGuard admin.
    pub token: String,
    /// The host's name (`gethostname`), for display.
    pub hostname: String,
    /// The agent's version (`CARGO_PKG_VERSION`).
    pub agent_version: String,
}

/// Answer to a successful enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    /// Server-assigned id of this agent (UUID text). Appears in every batch.
    pub agent_id: String,
    /// Secret credential; stored by the agent in a file of mode 0600 and sent only in the
    /// `Authorization` header. The bearer token is split at the first `.`, so `agent_id`
    /// never contains a `.`.
    pub credential: String,
}

/// The bearer token of a batch upload: `<agent_id>.<credential>`.
pub fn bearer_token(agent_id: &str, credential: &str) -> String {
    format!("{agent_id}.{credential}")
}

/// Splits a bearer token into `(agent_id, credential)` at the first `.`.
pub fn split_bearer_token(token: &str) -> Option<(&str, &str)> {
    let (agent_id, credential) = token.split_once('.')?;
    if agent_id.is_empty() || credential.is_empty() {
        return None;
    }
    Some((agent_id, credential))
}

/// What kind of log a source file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// MariaDB/MySQL slow query log (the only DB log with rows sent/examined).
    MariadbSlow,
    /// MariaDB/MySQL general query log.
    MariadbGeneral,
    /// MariaDB `server_audit` plugin CSV file.
    MariadbAudit,
    /// The LeakGuard Magento module's admin-action JSON-lines log.
    MagentoAdmin,
    /// Magento `var/log/*.log` (Monolog line format, multi-line records).
    Monolog,
    /// nginx or Apache access log in `combined` format.
    Nginx,
    /// Files appearing in Magento's `var/export/` directory. Offsets of such a source count
    /// observed files, not bytes.
    MagentoExport,
}

impl SourceKind {
    /// The kebab-case name used in configuration and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::MariadbSlow => "mariadb-slow",
            SourceKind::MariadbGeneral => "mariadb-general",
            SourceKind::MariadbAudit => "mariadb-audit",
            SourceKind::MagentoAdmin => "magento-admin",
            SourceKind::Monolog => "monolog",
            SourceKind::Nginx => "nginx",
            SourceKind::MagentoExport => "magento-export",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The source file a batch was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// Stable identity of the file on the host: `<dev>:<inode>:<headhash>` with the head hash
    /// as 16 lower-case hex digits, optionally followed by `:<generation>` when the file was
    /// truncated and read again from 0. Opaque to the server; stable for the life of a file.
    pub file_id: String,
    /// The file's path when the batch was read (informational; files get renamed).
    pub path: String,
    /// The log format.
    pub kind: SourceKind,
}

/// One upload: the records extracted from one byte range of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Record schema version, [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The sending agent (must match the bearer token).
    pub agent_id: String,
    /// Random id of this batch (UUID text), for logs only; de-duplication uses [`DedupKey`].
    pub batch_id: String,
    /// Where the records come from.
    pub source: SourceRef,
    /// First byte of the range (inclusive).
    pub start_offset: u64,
    /// End of the range (exclusive). `end_offset > start_offset`.
    pub end_offset: u64,
    /// Lines in the range (complete lines, including ones that produced no record).
    pub lines: u64,
    /// What was extracted. May be empty when the range held only headers.
    pub records: Vec<Record>,
}

impl Batch {
    /// The key the server de-duplicates on.
    pub fn dedup_key(&self) -> DedupKey {
        dedup_key(&self.agent_id, &self.source.file_id, self.start_offset)
    }
}

/// Identity of a batch for de-duplication: a batch sent again after a crash or a lost answer
/// has the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DedupKey {
    /// The agent.
    pub agent_id: String,
    /// [`SourceRef::file_id`].
    pub file_id: String,
    /// [`Batch::start_offset`].
    pub start_offset: u64,
}

/// Computes the de-duplication key of a batch.
pub fn dedup_key(agent_id: &str, file_id: &str, start_offset: u64) -> DedupKey {
    DedupKey {
        agent_id: agent_id.to_owned(),
        file_id: file_id.to_owned(),
        start_offset,
    }
}

impl fmt::Display for DedupKey {
    /// `<agent_id>/<file_id>/<start_offset>`, usable as a unique text column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.agent_id, self.file_id, self.start_offset
        )
    }
}

/// Server answer to a batch upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchAck {
    /// Records stored (0 for a duplicate).
    pub accepted: u64,
    /// True when a batch with the same [`DedupKey`] was stored before.
    pub duplicate: bool,
    /// Records refused because they carried personal data or a secret the agent should have
    /// masked (not stored; `accepted` does not count them). Absent from older servers.
    #[serde(default)]
    pub rejected: u64,
}

/// Who ran a statement or an action, as far as the host can tell.
///
/// Database statements carry `db_user`/`db_host`; statements issued by Magento also carry the
/// admin or integration parsed from the module's sqlcommenter comment
/// (`/*lg_admin='12',lg_integration='3',lg_route='customer_index_index',lg_req='abc'*/`).
/// Admin-log events carry `admin_user_id`/`admin_username`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Principal {
    /// Database account name (`magento` in `magento@127.0.0.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_user: Option<String>,
    /// Host or IP the database account connected from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_host: Option<String>,
    /// Magento `admin_user.user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_user_id: Option<String>,
    /// Magento admin login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_username: Option<String>,
    /// Magento `integration.integration_id` for REST calls by an integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// Magento full action name or REST route (`customer_index_index`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// One extracted record. Tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// SQL statements of one shape, summed per principal, tables and minute.
    SqlAggregate(SqlAggregate),
    /// One security-relevant event, shipped individually.
    SecurityEvent(SecurityEvent),
    /// Admin/REST HTTP requests of one route shape, summed per minute.
    HttpAggregate(HttpAggregate),
    /// Magento application log records of one message shape, summed per minute.
    AppLogAggregate(AppLogAggregate),
}

/// Sum of the statements with the same `(principal, query_id, tables, minute)` in a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqlAggregate {
    /// Start of the minute, RFC 3339 UTC (`2026-11-28T08:18:00Z`). Absent when the log gave
    /// no timestamp yet (a fresh file before its first timed line and nothing carried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<String>,
    /// Who ran the statements.
    pub principal: Principal,
    /// Same as `principal.db_user`, kept at top level for indexing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_user: Option<String>,
    /// pt-query-digest query id: upper-case hex of the last 8 bytes of MD5(fingerprint),
    /// 16 characters, without `0x`.
    pub query_id: String,
    /// pt-query-digest fingerprint; absent when `masked` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Tables named in the statement (lower-case, `db.table` when qualified), sorted, unique.
    pub tables: Vec<String>,
    /// Number of statements.
    pub count: u64,
    /// Sum of `Rows_sent` (slow log only, else absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_sent: Option<u64>,
    /// Sum of `Rows_examined` (slow log only, else absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_examined: Option<u64>,
    /// Sum of `Query_time` in seconds (slow log only, else absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_time_s: Option<f64>,
    /// True when the fingerprint failed the masking check and was withheld.
    pub masked: bool,
    /// True when at least one statement was longer than the line cap and was cut.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// What happened, for a [`SecurityEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityEventKind {
    /// Magento admin logged in.
    AdminLoginSuccess,
    /// Magento admin login failed.
    AdminLoginFailure,
    /// Magento admin logged out.
    AdminLogout,
    /// Admin opened a record (customer, order…).
    AdminRecordView,
    /// Admin grid exported (`mui/export/gridToCsv|Xml`).
    AdminGridExport,
    /// System > Data Transfer > Export run.
    AdminDataTransferExport,
    /// Admin downloaded an export file.
    AdminExportDownload,
    /// Admin exported a report.
    AdminReportExport,
    /// Admin mass action on a grid.
    AdminMassAction,
    /// An admin user was created, changed or deleted.
    AdminUserChange,
    /// An admin role was changed.
    AdminRoleChange,
    /// An integration was created, changed, activated or deleted.
    IntegrationChange,
    /// Store configuration changed.
    ConfigChange,
    /// Database login failed (general log `Access denied`, audit `FAILED_CONNECT`).
    DbLoginFailure,
    /// Database logging was turned off (`SET GLOBAL server_audit_logging=OFF`,
    /// `general_log=OFF`, `slow_query_log=OFF`, `SET sql_log_off`, `UNINSTALL`).
    DbLoggingDisabled,
    /// `SELECT … INTO OUTFILE|DUMPFILE`.
    DbIntoOutfile,
    /// A read of a credential table (`admin_user`, `oauth_token`, `oauth_consumer`,
    /// `core_config_data`, `integration`, `admin_passwords`).
    DbSensitiveTableRead,
    /// `CREATE USER`, `ALTER USER`, `GRANT`, `SET PASSWORD`, `DROP USER`, `REVOKE`
    /// (the password is never shipped).
    DbAccountChange,
    /// A whole-table dump (`SELECT /*!40001 SQL_NO_CACHE */`, mysqldump).
    DbDump,
    /// A file appeared in Magento's `var/export/`.
    ExportFileCreated,
    /// An admin or REST request to an export or token endpoint in the access log.
    HttpSensitiveRequest,
}

/// One security-relevant event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// What happened.
    pub kind: SecurityEventKind,
    /// When, RFC 3339 UTC; absent when the source gave no time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    /// Who.
    pub principal: Principal,
    /// Client IP of the request or connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// `X-Forwarded-For` client IP recorded by the Magento module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_ip: Option<String>,
    /// Query id of the statement, for database events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_id: Option<String>,
    /// Fingerprint of the statement, when it passed the masking check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Tables involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// Magento entity type (`customer`, `order`, `admin_user`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// Entity ids involved (numeric ids only; never more than 1,000, see `count`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entity_ids: Vec<String>,
    /// Number of records affected or exported, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `success`, `failure`, or a database error number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Request correlation id (Magento module `request_id`, sqlcommenter `lg_req`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Further facts with masked values: keys are snake_case, values never hold personal data
    /// (values that fail the masking check are replaced by `"[masked]"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, serde_json::Value>,
}

/// Sum of admin or REST requests of one shape in one minute (from access logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpAggregate {
    /// Start of the minute, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<String>,
    /// `admin` or `rest`.
    pub area: String,
    /// HTTP method.
    pub method: String,
    /// Path with ids, keys and numbers replaced by `?` and the query string removed
    /// (`/admin/mui/export/gridToCsv/key/?/`).
    pub route: String,
    /// Client IP.
    pub ip: String,
    /// HTTP status.
    pub status: u16,
    /// Number of requests.
    pub count: u64,
    /// Sum of response bytes.
    pub bytes: u64,
    /// Largest `pageSize` / `searchCriteria[pageSize]` / `paging[pageSize]` query parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u64>,
}

/// Sum of Magento log records of one masked message shape in one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppLogAggregate {
    /// Start of the minute, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<String>,
    /// Monolog channel (`main`).
    pub channel: String,
    /// Monolog level name (`CRITICAL`).
    pub level: String,
    /// First line of the message with quoted text, numbers and hex replaced by `?`; absent
    /// when the masking check failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Upper-case hex of the last 8 bytes of MD5(template before the masking check).
    pub template_id: String,
    /// Number of records.
    pub count: u64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_dedup_key_ignores_everything_but_agent_file_and_start() {
        let key = dedup_key("a1", "2049:77:00ff", 4096);
        assert_eq!(key.to_string(), "a1/2049:77:00ff/4096");
        assert_ne!(key, dedup_key("a1", "2049:77:00ff", 4097));
    }

    #[test]
    fn a_bearer_token_splits_at_the_first_dot() {
        let token = bearer_token("agent", "cred.with.dots");
        assert_eq!(
            split_bearer_token(&token),
            Some(("agent", "cred.with.dots"))
        );
        assert_eq!(split_bearer_token(".x"), None);
    }

    #[test]
    fn records_are_tagged_by_type() {
        let record = Record::SqlAggregate(SqlAggregate {
            minute: Some("2026-11-28T08:18:00Z".into()),
            principal: Principal {
                db_user: Some("magento".into()),
                ..Principal::default()
            },
            db_user: Some("magento".into()),
            query_id: "0123456789ABCDEF".into(),
            fingerprint: None,
            tables: vec!["customer_entity".into()],
            count: 2,
            rows_sent: Some(3),
            rows_examined: Some(4),
            query_time_s: Some(0.5),
            masked: true,
            truncated: false,
        });
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["type"], "sql_aggregate");
        assert!(json.get("fingerprint").is_none());
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
        let kind = serde_json::to_value(SourceKind::MariadbSlow).unwrap();
        assert_eq!(kind, "mariadb-slow");
    }
}
