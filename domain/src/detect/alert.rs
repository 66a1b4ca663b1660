//! Alerts: episodes of findings per principal and rule, and their plain-language
//! explanation.
//!
//! Owns the alert record the engine keeps open while activity continues and hands back when
//! it closes. The explanation is derived from the alert's numbers, never stored instead of
//! them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::signal::{CategorySet, Identity, PrincipalKey};

/// Which detector raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// Volume of personal data far above the principal's usual hour.
    MassExtraction,
    /// A principal never seen before (or dormant) reads personal data.
    FirstSeenPrincipal,
    /// A whole-database dump by an unexpected principal or at an unexpected time.
    UnexpectedDump,
    /// `SELECT … INTO OUTFILE|DUMPFILE`.
    IntoOutfile,
    /// Admin grid or Data Transfer exports beyond the admin's usual volume.
    ExportBeyondBaseline,
    /// An integration's REST volume far above its usual hour.
    IntegrationRestVolume,
    /// A Shopify bulk operation over customers or orders off its schedule.
    ShopifyBulkExport,
    /// An app or integration newly granted customer or order scopes.
    ScopeGrant,
    /// A burst of failed admin logins followed by a success.
    LoginBurstThenSuccess,
    /// Database logging switched off.
    LoggingDisabled,
    /// Daily volume drifting above the baseline over several days.
    LowAndSlow,
}

impl RuleId {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::MassExtraction => "mass_extraction",
            RuleId::FirstSeenPrincipal => "first_seen_principal",
            RuleId::UnexpectedDump => "unexpected_dump",
            RuleId::IntoOutfile => "into_outfile",
            RuleId::ExportBeyondBaseline => "export_beyond_baseline",
            RuleId::IntegrationRestVolume => "integration_rest_volume",
            RuleId::ShopifyBulkExport => "shopify_bulk_export",
            RuleId::ScopeGrant => "scope_grant",
            RuleId::LoginBurstThenSuccess => "login_burst_then_success",
            RuleId::LoggingDisabled => "logging_disabled",
            RuleId::LowAndSlow => "low_and_slow",
        }
    }

    /// Quiet time after which an episode of this rule closes.
    pub fn episode_gap_s(self) -> i64 {
        match self {
            RuleId::LowAndSlow => 48 * 3600,
            RuleId::MassExtraction
            | RuleId::IntegrationRestVolume
            | RuleId::ExportBeyondBaseline
            | RuleId::FirstSeenPrincipal => 3600,
            _ => 2 * 3600,
        }
    }
}

/// How urgent an alert is. Only ever rises within an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Review today.
    Medium,
    /// Review now.
    High,
}

/// What `records_estimate` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordsMethod {
    /// Rows returned (slow log); joins and re-reads can over-count.
    RowsSent,
    /// Statements (general or audit log); rows are not known.
    Statements,
    /// Records exported, viewed or returned as the source counted them.
    Records,
    /// Requests.
    Requests,
    /// Events.
    Events,
}

impl RecordsMethod {
    fn noun(self) -> &'static str {
        match self {
            RecordsMethod::RowsSent => "rows",
            RecordsMethod::Statements => "statements on",
            RecordsMethod::Records => "records",
            RecordsMethod::Requests => "requests for",
            RecordsMethod::Events => "events on",
        }
    }
}

/// One alert episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Sequence number within the engine state.
    pub id: u64,
    /// The detector.
    pub rule: RuleId,
    /// Highest severity reached.
    pub severity: Severity,
    /// Who, as the first signal named them.
    pub principal: Identity,
    /// Key of the principal.
    pub key: PrincipalKey,
    /// Start of the activity that triggered the alert (unix seconds).
    pub started_at: i64,
    /// When the engine raised the alert (unix seconds, input clock).
    pub detected_at: i64,
    /// Last activity appended.
    pub last_seen_at: i64,
    /// Records (or statements, requests) involved so far.
    pub records_estimate: u64,
    /// What `records_estimate` counts.
    pub records_method: RecordsMethod,
    /// Tables or resources involved (at most 16).
    pub tables: BTreeSet<String>,
    /// Data categories involved.
    pub categories: CategorySet,
    /// Ids of the signals that make up the episode (at most 64).
    pub evidence: Vec<u64>,
    /// The last signal appended (a signal touching several categories counts once).
    #[serde(default)]
    pub last_signal: Option<u64>,
    /// The number compared (hour volume, failures, minutes off schedule…).
    pub observed: f64,
    /// What it was compared with (usual hour, schedule…); 0 when there is no baseline.
    pub expected: f64,
    /// A fact the explanation needs beyond the numbers (scopes granted, a schedule).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context: String,
}

const MAX_TABLES: usize = 16;
const MAX_EVIDENCE: usize = 64;

impl Alert {
    /// Adds tables, capped.
    pub fn add_tables(&mut self, tables: &[String]) {
        for table in tables {
            if self.tables.len() >= MAX_TABLES {
                break;
            }
            if !self.tables.contains(table) {
                self.tables.insert(table.clone());
            }
        }
    }

    /// Adds a signal id, capped.
    pub fn add_evidence(&mut self, id: u64) {
        self.last_signal = Some(id);
        if self.evidence.len() < MAX_EVIDENCE && self.evidence.last() != Some(&id) {
            self.evidence.push(id);
        }
    }

    /// The plain-language explanation, with the numbers.
    pub fn explanation(&self) -> String {
        let who = self.principal.describe();
        let categories = match self.categories.names().as_slice() {
            [] => "database".to_owned(),
            names => names.join("/"),
        };
        let span = format!(
            "{}–{} UTC",
            clock_text(self.started_at),
            clock_text(self.last_seen_at.max(self.started_at))
        );
        let day = day_text(self.started_at);
        let records = group_thousands(self.records_estimate);
        let noun = self.records_method.noun();
        let ratio = if self.expected > 0.0 {
            self.observed / self.expected
        } else {
            0.0
        };
        match self.rule {
            RuleId::MassExtraction | RuleId::IntegrationRestVolume => format!(
                "{who} read {records} {noun} {categories} data {day} {span}, {} in one hour, {}x their usual hour ({}).",
                group_thousands(self.observed as u64),
                ratio_text(ratio),
                group_thousands(self.expected.round() as u64)
            ),
            RuleId::ExportBeyondBaseline => {
                if self.expected > 0.0 {
                    format!(
                        "{who} exported {records} {categories} records {day} {span}, {}x their usual export hour ({}).",
                        ratio_text(ratio),
                        group_thousands(self.expected.round() as u64)
                    )
                } else {
                    format!(
                        "{who} exported {records} {categories} records {day} {span}; they had never exported {categories} data before."
                    )
                }
            }
            RuleId::FirstSeenPrincipal => format!(
                "{who}, first seen {}, read {records} {noun} {categories} data {day} {span}.",
                day_time_text(self.expected as i64)
            ),
            RuleId::UnexpectedDump => format!(
                "{who} dumped {} tables ({records} {noun} {categories} data) {day} {span}; {}.",
                self.tables.len(),
                self.context
            ),
            RuleId::IntoOutfile => format!(
                "{who} wrote query results to a server file (INTO OUTFILE/DUMPFILE) {records} times {day} {span}, touching {categories} tables."
            ),
            RuleId::LoggingDisabled => format!(
                "{who} switched database logging off {day} {span} ({records} statements); activity after it is not recorded."
            ),
            RuleId::ShopifyBulkExport => format!(
                "{who} ran a bulk export of {records} {categories} objects {day} {span}; {}.",
                self.context
            ),
            RuleId::ScopeGrant => format!(
                "{who} was granted access to {categories} data {day} {} UTC: {}.",
                clock_text(self.started_at),
                self.context
            ),
            RuleId::LoginBurstThenSuccess => format!(
                "{who} logged in {day} {} UTC after {} failed admin logins in the preceding 30 minutes{}.",
                clock_text(self.detected_at),
                self.observed as u64,
                self.context
            ),
            RuleId::LowAndSlow => format!(
                "{who} read {records} {noun} {categories} data above their usual {} a day over {} active days starting {}, {}x their usual daily volume.",
                group_thousands(self.expected.round() as u64),
                self.context,
                day_text(self.started_at).trim_start_matches("on "),
                ratio_text(ratio)
            ),
        }
    }
}

fn ratio_text(ratio: f64) -> String {
    if ratio >= 10.0 || ratio <= 0.0 {
        format!("{}", ratio.round() as u64)
    } else {
        format!("{ratio:.1}")
    }
}

/// `48213` → `48,213`.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn datetime(at: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn clock_text(at: i64) -> String {
    let t = datetime(at);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn day_text(at: i64) -> String {
    let t = datetime(at);
    format!("on {}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn day_time_text(at: i64) -> String {
    format!("{} {}", day_text(at), clock_text(at))
}

/// RFC 3339 UTC text of a unix time (`2026-11-28T02:00:00Z`).
pub fn rfc3339(at: i64) -> String {
    let t = datetime(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(group_thousands(48_213), "48,213");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000_000), "1,000,000");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
