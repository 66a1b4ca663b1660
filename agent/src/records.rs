//! Turning parsed log entries into wire records: fingerprint, mask, aggregate.
//!
//! Owns the privacy boundary of the agent: everything a parser hands over passes through
//! here, and only [`leakguard_domain::agent_wire::Record`]s come out. It does no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use leakguard_domain::agent_wire::{
    AppLogAggregate, HttpAggregate, Principal, Record, SecurityEvent, SecurityEventKind,
    SqlAggregate,
};

use crate::masking::words_are_safe;
pub use crate::masking::{detail_key, mask_detail, safe_token};
use crate::sql::{self, Fingerprinter, StatementClass};
use crate::timefmt;

/// One SQL statement as a parser saw it.
#[derive(Debug, Default)]
pub struct Statement<'a> {
    /// Unix seconds, when known.
    pub ts: Option<i64>,
    /// Database account.
    pub db_user: Option<&'a str>,
    /// Client host or IP.
    pub db_host: Option<&'a str>,
    /// The raw statement bytes (may hold personal data; never leaves this module).
    pub query: &'a [u8],
    /// Slow log `Rows_sent`.
    pub rows_sent: Option<u64>,
    /// Slow log `Rows_examined`.
    pub rows_examined: Option<u64>,
    /// Slow log `Query_time`.
    pub query_time_s: Option<f64>,
    /// The line was cut at the line cap.
    pub truncated: bool,
}

/// One HTTP request from an access log, already reduced to the admin/REST shape.
#[derive(Debug)]
pub struct HttpRequest {
    /// Unix seconds.
    pub ts: Option<i64>,
    /// `admin` or `rest`.
    pub area: &'static str,
    /// Method.
    pub method: String,
    /// Masked route.
    pub route: String,
    /// Client IP.
    pub ip: String,
    /// Status.
    pub status: u16,
    /// Response bytes.
    pub bytes: u64,
    /// Largest page size parameter.
    pub page_size: Option<u64>,
    /// Whether the route is an export or token endpoint.
    pub sensitive: bool,
}

struct FingerprintInfo {
    query_id: String,
    fingerprint: Option<String>,
    tables: Vec<String>,
    class: StatementClass,
    sensitive_read: bool,
}

#[derive(Default)]
struct SqlSums {
    count: u64,
    rows_sent: Option<u64>,
    rows_examined: Option<u64>,
    query_time_s: Option<f64>,
    truncated: bool,
}

#[derive(Hash, PartialEq, Eq, Clone)]
struct SqlKey {
    principal: Principal,
    query_id: Arc<str>,
    minute: Option<i64>,
}

/// The dump reads of one principal in one minute: one `db_dump` event.
#[derive(Default)]
struct DumpSums {
    count: u64,
    /// Distinct tables, at most [`MAX_TRACKED_DUMP_TABLES`].
    tables: BTreeSet<String>,
    /// Distinct tables seen, counted on past the tracking cap as new statements arrive.
    tables_total: u64,
}

/// Tables listed on one `db_dump` event; `details.tables_total` gives the full count.
pub const MAX_DUMP_EVENT_TABLES: usize = 100;
/// Distinct tables remembered per dump event; beyond it `tables_total` counts statements with
/// an unseen table (a bound on memory for a dump of a very large schema).
const MAX_TRACKED_DUMP_TABLES: usize = 10_000;

#[derive(Hash, PartialEq, Eq)]
struct HttpKey {
    minute: Option<i64>,
    area: &'static str,
    method: String,
    route: String,
    ip: String,
    status: u16,
}

#[derive(Hash, PartialEq, Eq)]
struct AppKey {
    minute: Option<i64>,
    channel: String,
    level: String,
    template_id: String,
}

/// Counters of what the privacy pass did, for metrics.
#[derive(Debug, Default, Clone, Copy)]
pub struct PrivacyCounters {
    /// Fingerprints withheld by the masking check.
    pub masked: u64,
    /// Statements seen.
    pub statements: u64,
}

/// Collects the records of one batch.
pub struct Processor {
    fingerprinter: Fingerprinter,
    cache: HashMap<Vec<u8>, Arc<FingerprintInfo>>,
    sql: HashMap<SqlKey, (Arc<FingerprintInfo>, SqlSums)>,
    sql_order: Vec<SqlKey>,
    sensitive: HashMap<(SqlKey, SecurityEventKind), u64>,
    sensitive_order: Vec<(SqlKey, SecurityEventKind)>,
    dumps: HashMap<(Principal, Option<i64>), DumpSums>,
    dump_order: Vec<(Principal, Option<i64>)>,
    events: Vec<Record>,
    http: HashMap<HttpKey, (u64, u64, Option<u64>)>,
    http_order: Vec<HttpKey>,
    app: HashMap<AppKey, (u64, Option<String>)>,
    app_order: Vec<AppKey>,
    counters: PrivacyCounters,
    /// Whether any record was produced since the last take.
    dirty: bool,
}

impl Default for Processor {
    fn default() -> Self {
        Self::new()
    }
}

impl Processor {
    /// An empty processor.
    pub fn new() -> Self {
        Self {
            fingerprinter: Fingerprinter::new(),
            cache: HashMap::new(),
            sql: HashMap::new(),
            sql_order: Vec::new(),
            sensitive: HashMap::new(),
            sensitive_order: Vec::new(),
            dumps: HashMap::new(),
            dump_order: Vec::new(),
            events: Vec::new(),
            http: HashMap::new(),
            http_order: Vec::new(),
            app: HashMap::new(),
            app_order: Vec::new(),
            counters: PrivacyCounters::default(),
            dirty: false,
        }
    }

    /// What the privacy pass did so far.
    pub fn counters(&self) -> PrivacyCounters {
        self.counters
    }

    /// Whether records are waiting.
    pub fn has_records(&self) -> bool {
        self.dirty
    }

    /// Number of records waiting.
    pub fn record_count(&self) -> usize {
        self.sql.len()
            + self.sensitive.len()
            + self.dumps.len()
            + self.events.len()
            + self.http.len()
            + self.app.len()
    }

    fn info(&mut self, query: &[u8]) -> Arc<FingerprintInfo> {
        let fingerprint = self.fingerprinter.fingerprint(query);
        if let Some(info) = self.cache.get(fingerprint) {
            return info.clone();
        }
        let key = fingerprint.to_vec();
        let mut shipped = key.clone();
        let class = sql::classify(query, &key);
        if class == StatementClass::AccountChange {
            sql::redact_account_fingerprint(&mut shipped);
        }
        let found = sql::tables(&key);
        let sensitive_read =
            key.starts_with(b"select") && found.iter().any(|t| sql::is_sensitive_table(t));
        let tables = found
            .into_iter()
            .filter(|t| shippable_table(&key, t))
            .collect();
        let info = Arc::new(FingerprintInfo {
            query_id: sql::query_id(&key),
            fingerprint: if sql::passes_mask(&shipped) {
                String::from_utf8(shipped).ok()
            } else {
                None
            },
            tables,
            class,
            sensitive_read,
        });
        if self.cache.len() >= 20_000 {
            self.cache.clear();
        }
        // Classification depends on raw bytes for logging switches, so only cache plain shapes.
        if class == StatementClass::Plain || class == StatementClass::IntoOutfile {
            self.cache.insert(key, info.clone());
        }
        info
    }

    /// Adds one statement.
    pub fn statement(&mut self, statement: &Statement<'_>) {
        self.dirty = true;
        self.counters.statements += 1;
        let attributes = sql::comment_attributes(statement.query);
        let info = self.info(statement.query);
        if info.fingerprint.is_none() {
            self.counters.masked += 1;
        }
        let principal = Principal {
            db_user: statement.db_user.map(str::to_owned),
            db_host: statement.db_host.map(str::to_owned),
            admin_user_id: attributes.admin_user_id.clone(),
            admin_username: None,
            integration_id: attributes.integration_id.clone(),
            route: attributes.route.clone(),
        };
        let minute = statement.ts.map(timefmt::minute_of);
        let key = SqlKey {
            principal: principal.clone(),
            query_id: Arc::from(info.query_id.as_str()),
            minute,
        };
        let event_kind = match info.class {
            StatementClass::Plain if info.sensitive_read => {
                Some(SecurityEventKind::DbSensitiveTableRead)
            }
            StatementClass::Plain => None,
            StatementClass::Dump => Some(SecurityEventKind::DbDump),
            StatementClass::IntoOutfile => Some(SecurityEventKind::DbIntoOutfile),
            StatementClass::LoggingDisabled => Some(SecurityEventKind::DbLoggingDisabled),
            StatementClass::AccountChange => Some(SecurityEventKind::DbAccountChange),
        };
        match event_kind {
            // A dump reads table after table: one event per principal and minute, with the
            // tables it read.
            Some(SecurityEventKind::DbDump) => {
                let dump_key = (principal.clone(), minute);
                let sums = match self.dumps.get_mut(&dump_key) {
                    Some(sums) => sums,
                    None => {
                        self.dump_order.push(dump_key.clone());
                        self.dumps.entry(dump_key).or_default()
                    }
                };
                sums.count += 1;
                for table in &info.tables {
                    if sums.tables.contains(table) {
                        continue;
                    }
                    sums.tables_total += 1;
                    if sums.tables.len() < MAX_TRACKED_DUMP_TABLES {
                        sums.tables.insert(table.clone());
                    }
                }
            }
            // Reads of credential tables repeat: one event per shape and minute with a count.
            Some(kind @ SecurityEventKind::DbSensitiveTableRead) => {
                let event_key = (key.clone(), kind);
                match self.sensitive.get_mut(&event_key) {
                    Some(count) => *count += 1,
                    None => {
                        self.sensitive.insert(event_key.clone(), 1);
                        self.sensitive_order.push(event_key);
                    }
                }
            }
            Some(kind) => {
                self.events.push(Record::SecurityEvent(SecurityEvent {
                    kind,
                    ts: statement.ts.map(timefmt::rfc3339),
                    principal: principal.clone(),
                    ip: None,
                    forwarded_ip: None,
                    query_id: Some(info.query_id.clone()),
                    fingerprint: info.fingerprint.clone(),
                    tables: info.tables.clone(),
                    entity_type: None,
                    entity_ids: Vec::new(),
                    count: Some(1),
                    result: None,
                    request_id: attributes.request_id.clone(),
                    details: BTreeMap::new(),
                }));
            }
            None => {}
        }
        let entry = match self.sql.get_mut(&key) {
            Some(entry) => entry,
            None => {
                self.sql_order.push(key.clone());
                self.sql
                    .entry(key)
                    .or_insert_with(|| (info.clone(), SqlSums::default()))
            }
        };
        let sums = &mut entry.1;
        sums.count += 1;
        sums.truncated |= statement.truncated;
        if let Some(rows) = statement.rows_sent {
            let sum = sums.rows_sent.get_or_insert(0);
            *sum = sum.saturating_add(rows);
        }
        if let Some(rows) = statement.rows_examined {
            let sum = sums.rows_examined.get_or_insert(0);
            *sum = sum.saturating_add(rows);
        }
        if let Some(seconds) = statement.query_time_s {
            *sums.query_time_s.get_or_insert(0.0) += seconds;
        }
    }

    /// Adds one security event (already free of personal data).
    pub fn security_event(&mut self, event: SecurityEvent) {
        self.dirty = true;
        self.events.push(Record::SecurityEvent(event));
    }

    /// Adds one access-log request.
    pub fn http_request(&mut self, request: HttpRequest) {
        self.dirty = true;
        let minute = request.ts.map(timefmt::minute_of);
        if request.sensitive {
            let mut details = BTreeMap::new();
            details.insert(
                "method".to_owned(),
                serde_json::Value::from(request.method.clone()),
            );
            details.insert(
                "route".to_owned(),
                serde_json::Value::from(request.route.clone()),
            );
            details.insert("status".to_owned(), serde_json::Value::from(request.status));
            details.insert("bytes".to_owned(), serde_json::Value::from(request.bytes));
            if let Some(size) = request.page_size {
                details.insert("page_size".to_owned(), serde_json::Value::from(size));
            }
            self.events.push(Record::SecurityEvent(SecurityEvent {
                kind: SecurityEventKind::HttpSensitiveRequest,
                ts: request.ts.map(timefmt::rfc3339),
                principal: Principal::default(),
                ip: Some(request.ip.clone()),
                forwarded_ip: None,
                query_id: None,
                fingerprint: None,
                tables: Vec::new(),
                entity_type: None,
                entity_ids: Vec::new(),
                count: None,
                result: Some(request.status.to_string()),
                request_id: None,
                details,
            }));
        }
        let key = HttpKey {
            minute,
            area: request.area,
            method: request.method,
            route: request.route,
            ip: request.ip,
            status: request.status,
        };
        match self.http.get_mut(&key) {
            Some(entry) => {
                entry.0 += 1;
                entry.1 = entry.1.saturating_add(request.bytes);
                entry.2 = max_option(entry.2, request.page_size);
            }
            None => {
                self.http.insert(
                    HttpKey {
                        minute: key.minute,
                        area: key.area,
                        method: key.method.clone(),
                        route: key.route.clone(),
                        ip: key.ip.clone(),
                        status: key.status,
                    },
                    (1, request.bytes, request.page_size),
                );
                self.http_order.push(key);
            }
        }
    }

    /// Adds one application log record.
    pub fn app_log(&mut self, ts: Option<i64>, channel: &str, level: &str, first_line: &[u8]) {
        self.dirty = true;
        let fingerprint = self.fingerprinter.fingerprint(first_line).to_vec();
        let template_id = sql::query_id(&fingerprint);
        let template = (sql::passes_mask(&fingerprint) && words_are_safe(first_line))
            .then(|| String::from_utf8(fingerprint).ok())
            .flatten();
        let key = AppKey {
            minute: ts.map(timefmt::minute_of),
            channel: safe_token(channel, 32),
            level: safe_token(level, 16),
            template_id,
        };
        match self.app.get_mut(&key) {
            Some(entry) => entry.0 += 1,
            None => {
                self.app.insert(
                    AppKey {
                        minute: key.minute,
                        channel: key.channel.clone(),
                        level: key.level.clone(),
                        template_id: key.template_id.clone(),
                    },
                    (1, template),
                );
                self.app_order.push(key);
            }
        }
    }

    /// Takes the records collected so far, in a stable order.
    pub fn take_records(&mut self) -> Vec<Record> {
        let mut records = Vec::with_capacity(self.sql.len() + self.events.len());
        for key in self.sql_order.drain(..) {
            if let Some((info, sums)) = self.sql.remove(&key) {
                records.push(Record::SqlAggregate(SqlAggregate {
                    minute: key.minute.map(timefmt::rfc3339),
                    db_user: key.principal.db_user.clone(),
                    principal: key.principal,
                    query_id: info.query_id.clone(),
                    fingerprint: info.fingerprint.clone(),
                    tables: info.tables.clone(),
                    count: sums.count,
                    rows_sent: sums.rows_sent,
                    rows_examined: sums.rows_examined,
                    query_time_s: sums.query_time_s.map(|s| (s * 1e6).round() / 1e6),
                    masked: info.fingerprint.is_none(),
                    truncated: sums.truncated,
                }));
            }
        }
        let sensitive_order: Vec<_> = self.sensitive_order.drain(..).collect();
        for key in sensitive_order {
            if let Some(count) = self.sensitive.remove(&key) {
                let (sql_key, kind) = key;
                let info = self.cache_lookup(&sql_key.query_id);
                records.push(Record::SecurityEvent(SecurityEvent {
                    kind,
                    ts: sql_key.minute.map(timefmt::rfc3339),
                    principal: sql_key.principal,
                    ip: None,
                    forwarded_ip: None,
                    query_id: Some(sql_key.query_id.to_string()),
                    fingerprint: info.as_ref().and_then(|i| i.fingerprint.clone()),
                    tables: info.map(|i| i.tables.clone()).unwrap_or_default(),
                    entity_type: None,
                    entity_ids: Vec::new(),
                    count: Some(count),
                    result: None,
                    request_id: None,
                    details: BTreeMap::new(),
                }));
            }
        }
        for key in std::mem::take(&mut self.dump_order) {
            if let Some(sums) = self.dumps.remove(&key) {
                let (principal, minute) = key;
                let mut details = BTreeMap::new();
                details.insert(
                    "tables_total".to_owned(),
                    serde_json::Value::from(sums.tables_total),
                );
                records.push(Record::SecurityEvent(SecurityEvent {
                    kind: SecurityEventKind::DbDump,
                    ts: minute.map(timefmt::rfc3339),
                    principal,
                    ip: None,
                    forwarded_ip: None,
                    query_id: None,
                    fingerprint: None,
                    tables: sums
                        .tables
                        .into_iter()
                        .take(MAX_DUMP_EVENT_TABLES)
                        .collect(),
                    entity_type: None,
                    entity_ids: Vec::new(),
                    count: Some(sums.count),
                    result: None,
                    request_id: None,
                    details,
                }));
            }
        }
        records.append(&mut self.events);
        for key in self.http_order.drain(..) {
            if let Some((count, bytes, page_size)) = self.http.remove(&key) {
                records.push(Record::HttpAggregate(HttpAggregate {
                    minute: key.minute.map(timefmt::rfc3339),
                    area: key.area.to_owned(),
                    method: key.method,
                    route: key.route,
                    ip: key.ip,
                    status: key.status,
                    count,
                    bytes,
                    max_page_size: page_size,
                }));
            }
        }
        for key in self.app_order.drain(..) {
            if let Some((count, template)) = self.app.remove(&key) {
                records.push(Record::AppLogAggregate(AppLogAggregate {
                    minute: key.minute.map(timefmt::rfc3339),
                    channel: key.channel,
                    level: key.level,
                    template,
                    template_id: key.template_id,
                    count,
                }));
            }
        }
        self.dirty = false;
        records
    }

    fn cache_lookup(&self, query_id: &str) -> Option<Arc<FingerprintInfo>> {
        self.cache
            .values()
            .find(|info| info.query_id == query_id)
            .cloned()
    }
}

fn max_option(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Table names leave the host under the same fail-closed rule as fingerprints, even when the
/// fingerprint itself is withheld: an unterminated backtick makes the rest of a statement
/// (literals included) one "name", and in `FROM jane.doe@example.com` the local part of an
/// address looks like `db.table`.
///
/// A name holding `?` had a literal inside it (the fingerprint masked it), so it is not a table
/// name; and the local-part check reads the fingerprint without backticks, since quoted parts
/// (`` `ann`.`lee`@host ``) join into one name.
fn shippable_table(fingerprint: &[u8], table: &str) -> bool {
    if !sql::passes_mask(table.as_bytes())
        || table.bytes().any(|b| b.is_ascii_whitespace() || b == b'?')
    {
        return false;
    }
    let name = table.as_bytes();
    let unquoted: Vec<u8> = fingerprint.iter().copied().filter(|&b| b != b'`').collect();
    !unquoted
        .windows(name.len() + 1)
        .any(|w| w.ends_with(b"@") && w[..name.len()].eq_ignore_ascii_case(name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn quoted_parts_that_end_at_an_address_are_no_table() {
        // Found by the agent_log_lines fuzz target: backticked parts join into one name that
        // ends in the local part of an address.
        assert!(!shippable_table(
            b"select * from `cus_id?abc?etails?`.`ann.lee`@mailbox.example",
            "cus_id?abc?etails?.ann.lee"
        ));
        assert!(!shippable_table(
            b"select * from `ann`.`lee`@mailbox.example",
            "ann.lee"
        ));
        assert!(!shippable_table(b"select `a?b` from t", "a?b"));
        assert!(shippable_table(
            b"select * from `sales_order` where customer_email = ?",
            "sales_order"
        ));
    }

    #[test]
    fn sums_of_huge_figures_saturate_instead_of_overflowing() {
        // Found by the agent_log_lines fuzz target: two access-log lines with byte counts near
        // 2^64 overflowed the per-minute sum.
        let mut processor = Processor::new();
        for _ in 0..2 {
            processor.http_request(HttpRequest {
                ts: Some(1_795_853_881),
                area: "admin",
                method: "GET".into(),
                route: "/admin/sales/order/".into(),
                ip: "10.0.0.1".into(),
                status: 200,
                bytes: u64::MAX - 1,
                page_size: None,
                sensitive: false,
            });
            processor.statement(&Statement {
                ts: Some(1_795_853_881),
                db_user: Some("magento"),
                query: b"SELECT * FROM sales_order",
                rows_sent: Some(u64::MAX),
                rows_examined: Some(u64::MAX),
                ..Statement::default()
            });
        }
        let records = processor.take_records();
        let http = records.iter().find_map(|r| match r {
            Record::HttpAggregate(h) => Some(h),
            _ => None,
        });
        assert_eq!(http.map(|h| (h.count, h.bytes)), Some((2, u64::MAX)));
        let sql = records.iter().find_map(|r| match r {
            Record::SqlAggregate(a) => Some(a),
            _ => None,
        });
        assert_eq!(
            sql.map(|a| (a.count, a.rows_sent, a.rows_examined)),
            Some((2, Some(u64::MAX), Some(u64::MAX)))
        );
    }

    #[test]
    fn statements_of_one_shape_add_up_per_minute() {
        let mut processor = Processor::new();
        for (id, ts) in [(1, 1_795_853_881), (2, 1_795_853_890), (3, 1_795_853_941)] {
            let query = format!("SELECT * FROM customer_entity WHERE entity_id = {id}");
            processor.statement(&Statement {
                ts: Some(ts),
                db_user: Some("magento"),
                query: query.as_bytes(),
                rows_sent: Some(1),
                rows_examined: Some(2),
                ..Statement::default()
            });
        }
        let records = processor.take_records();
        assert_eq!(records.len(), 2);
        let Record::SqlAggregate(first) = &records[0] else {
            panic!("not an aggregate")
        };
        assert_eq!(first.count, 2);
        assert_eq!(first.rows_examined, Some(4));
        assert_eq!(first.minute.as_deref(), Some("2026-11-28T08:18:00Z"));
        assert_eq!(
            first.fingerprint.as_deref(),
            Some("select * from customer_entity where entity_id = ?")
        );
    }

    #[test]
    fn an_unterminated_backtick_never_ships_the_rest_of_the_statement_as_a_table() {
        // Found by the `agent_log_lines` fuzz target.
        let mut processor = Processor::new();
        processor.statement(&Statement {
            query: b"SELECT e.email FROM custom`er jane@example.com x",
            ..Statement::default()
        });
        let records = processor.take_records();
        let json = serde_json::to_string(&records).unwrap();
        assert!(!json.contains("jane"), "{json}");
        let Record::SqlAggregate(aggregate) = &records[0] else {
            panic!("not an aggregate")
        };
        assert!(aggregate.masked, "the fingerprint holds the address");
        assert!(
            aggregate
                .tables
                .iter()
                .all(|t| sql::passes_mask(t.as_bytes()))
        );
    }

    #[test]
    fn the_local_part_of_an_unquoted_address_is_not_a_table() {
        // Found by the `agent_log_lines` fuzz target.
        let mut processor = Processor::new();
        processor.statement(&Statement {
            query: b"DELETE FROM jane.doe@example.com JOIN customer_address_entity",
            ..Statement::default()
        });
        let records = processor.take_records();
        let json = serde_json::to_string(&records).unwrap();
        assert!(!json.contains("jane"), "{json}");
        // A real table in the same statement still ships.
        let mut processor = Processor::new();
        processor.statement(&Statement {
            query: b"SELECT * FROM db.customer_entity WHERE email = 'jane.doe@example.com'",
            ..Statement::default()
        });
        let Record::SqlAggregate(aggregate) = &processor.take_records()[0] else {
            panic!("not an aggregate")
        };
        assert_eq!(aggregate.tables, ["db.customer_entity"]);
    }
}
