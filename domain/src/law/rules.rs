//! The rule schema and the table: one versioned rule per jurisdiction and effective period.
//!
//! The data is `domain/data/law/rules.toml`, embedded with `include_str!` and parsed once.
//! The types are owned and serde (de)serializable so a counsel override, a stored copy or an
//! API answer uses the same shape as the embedded file. Nothing here decides a case; see
//! `deadlines.rs` for that.

use super::LawError;
use super::triggers::DataElement;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use time::Date;

time::serde::format_description!(pub(crate) iso_date, Date, "[year]-[month]-[day]");

/// Whether the rule was checked against the statute text (research spec §1, marked [V]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Confirmed,
    /// Taken from a single weak source or from memory; shown, never relied on silently.
    Unconfirmed,
}

/// The event whose date starts the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStart {
    /// Discovery of the breach (or notification of it by a maintainer).
    Discovery,
    /// Determination that a breach occurred.
    Determination,
    /// Becoming aware of the breach.
    Aware,
}

impl ClockStart {
    pub fn describe(self) -> &'static str {
        match self {
            ClockStart::Discovery => "discovery",
            ClockStart::Determination => "determination",
            ClockStart::Aware => "awareness",
        }
    }
}

/// Calendar days, or US business days (weekends and federal holidays skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    #[default]
    Calendar,
    Business,
}

/// An event a relative deadline counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    IndividualNoticeSent,
}

/// When a notice is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Deadline {
    /// A number of days after the rule's clock start.
    Days {
        days: u32,
        #[serde(default)]
        count: DayCount,
    },
    /// A number of hours after the clock start (GDPR Art. 33, NYDFS 500.17).
    Hours { hours: u32 },
    /// A number of days after another event, e.g. notice to individuals.
    AfterEvent {
        event: Event,
        days: u32,
        #[serde(default)]
        count: DayCount,
    },
    /// No later than the notice to individuals.
    WithIndividualNotice,
    /// "In the most expedient time possible and without unreasonable delay": no fixed date.
    MostExpedientTime,
    /// "Without undue delay" (GDPR Art. 34): no fixed date.
    WithoutUndueDelay,
    /// "Without unreasonable delay": no fixed date.
    WithoutUnreasonableDelay,
    /// The statute states no time at all.
    NoneStated,
}

impl Deadline {
    /// A short description, e.g. `30 calendar days` or `15 calendar days after individual notice`.
    pub fn describe(&self) -> String {
        let unit = |count: &DayCount| match count {
            DayCount::Calendar => "calendar days",
            DayCount::Business => "US business days",
        };
        match self {
            Deadline::Days { days, count } => format!("{days} {}", unit(count)),
            Deadline::Hours { hours } => format!("{hours} hours"),
            Deadline::AfterEvent {
                event: Event::IndividualNoticeSent,
                days,
                count,
            } => format!("{days} {} after individual notice", unit(count)),
            Deadline::WithIndividualNotice => "with individual notice".to_owned(),
            Deadline::MostExpedientTime => "most expedient time".to_owned(),
            Deadline::WithoutUndueDelay => "without undue delay".to_owned(),
            Deadline::WithoutUnreasonableDelay => "without unreasonable delay".to_owned(),
            Deadline::NoneStated => "none stated".to_owned(),
        }
    }
}

/// `gt` (strictly more than) or `gte` (at least): the statutes differ and the word matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    Gt,
    Gte,
}

/// A head-count condition on the affected residents of the jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    pub comparator: Comparator,
    pub count: u64,
}

impl Threshold {
    pub fn is_met(self, affected: u64) -> bool {
        match self.comparator {
            Comparator::Gt => affected > self.count,
            Comparator::Gte => affected >= self.count,
        }
    }

    pub fn describe(self) -> String {
        match self.comparator {
            Comparator::Gt => format!("more than {}", self.count),
            Comparator::Gte => format!("at least {}", self.count),
        }
    }
}

/// A ground on which a statute lets notice be delayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TollingGround {
    /// A law-enforcement agency says notice would impede a criminal investigation.
    LawEnforcement,
}

/// Encryption as a way out of the notice duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeHarbour {
    /// Encrypted data is outside the rule unless the key or credential was also taken.
    EncryptedUnlessKeyCompromised,
    /// The rule applies whether or not the data was encrypted.
    None,
}

/// What counts as notifiable personal information in the jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiDefinition {
    pub citation: String,
    /// Elements that trigger notice together with a first name or initial and last name.
    #[serde(default)]
    pub name_with: Vec<DataElement>,
    /// Elements that trigger notice without a name.
    #[serde(default)]
    pub alone: Vec<DataElement>,
    /// A user name or e-mail address with a password or security question and answer.
    #[serde(default)]
    pub credentials: bool,
    /// Any personal data at all (GDPR).
    #[serde(default)]
    pub any_personal_data: bool,
    /// The rule applies whatever the data (NYDFS 500.17: any cybersecurity incident).
    #[serde(default)]
    pub data_independent: bool,
    pub safe_harbour: SafeHarbour,
    #[serde(default)]
    pub note: Option<String>,
}

/// The notice to the affected people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndividualNotice {
    pub deadline: Deadline,
    pub citation: String,
    pub text: String,
    #[serde(default)]
    pub tolling: Vec<TollingGround>,
    /// When set, only these elements (after the rule's own trigger) require notice to
    /// individuals: GDPR Art. 34's "high risk", read from the data categories.
    #[serde(default)]
    pub only_if_elements: Option<Vec<DataElement>>,
    /// Art. 34(3)(a): unintelligible (encrypted) data needs no notice to individuals.
    #[serde(default)]
    pub encryption_exempts: bool,
}

/// Who receives a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Individuals,
    Regulator,
    ConsumerReportingAgencies,
    Media,
}

/// A notice to a regulator, the consumer reporting agencies or the media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyNotice {
    pub audience: Audience,
    pub recipient: String,
    #[serde(default)]
    pub threshold: Option<Threshold>,
    pub deadline: Deadline,
    pub citation: String,
    pub text: String,
    #[serde(default)]
    pub tolling: Vec<TollingGround>,
    /// Required whether or not individuals must be told (GDPR Art. 33).
    #[serde(default)]
    pub independent_of_individual_notice: bool,
}

/// When notice by e-mail, web posting and media may replace individual notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubstituteNotice {
    pub citation: String,
    pub cost_gt_usd: u64,
    pub class_gt: u64,
    pub insufficient_contact_info: bool,
    pub web_posting_days: u32,
    pub includes: Vec<String>,
}

/// An offer of identity-theft prevention services the notice must include.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityTheftServices {
    pub citation: String,
    pub months_min: u32,
    pub when_elements: Vec<DataElement>,
    pub only_if_source_of_breach: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// Which incidents a rule governs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Residents of one US state or territory (two-letter postal code).
    UsState { code: String },
    /// People in these countries (ISO 3166-1 alpha-2).
    Countries { codes: Vec<String> },
    /// Entities supervised by the New York Department of Financial Services.
    NydfsCoveredEntity,
}

/// Who changed a rule version for a tenant, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideNote {
    pub replaces_version: String,
    pub note: String,
    pub approved_by: String,
    #[serde(with = "iso_date")]
    pub approved_on: Date,
}

/// One version of one jurisdiction's notice rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JurisdictionRule {
    /// `US-CA`, `EU-GDPR`, `UK-GDPR`, `US-NY-DFS`.
    pub jurisdiction: String,
    /// Unique in the table, e.g. `US-CA/2026-01-01`.
    pub version: String,
    pub title: String,
    pub statute: String,
    pub status: RuleStatus,
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    #[serde(default, with = "iso_date::option")]
    pub effective_to: Option<Date>,
    pub scope: Scope,
    pub clock: ClockStart,
    pub personal_information: PiDefinition,
    #[serde(default)]
    pub individuals: Option<IndividualNotice>,
    #[serde(default)]
    pub notices: Vec<AgencyNotice>,
    #[serde(default)]
    pub substitute_notice: Option<SubstituteNotice>,
    #[serde(default)]
    pub identity_theft_services: Option<IdentityTheftServices>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub counsel_override: Option<OverrideNote>,
}

impl JurisdictionRule {
    /// Whether the version is in force on `day` (both ends inclusive).
    pub fn in_force_on(&self, day: Date) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|to| day <= to)
    }
}

/// A US state or territory without a confirmed rule: listed so the engine says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnconfirmedJurisdiction {
    pub jurisdiction: String,
    pub title: String,
    #[serde(default)]
    pub statute: Option<String>,
    /// What research suggests, unverified.
    #[serde(default)]
    pub research_note: Option<String>,
}

/// CCPA dollar amounts as adjusted by the CPPA for CPI (§ 1798.199.95(d)), by period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CcpaAmounts {
    pub version: String,
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    #[serde(default, with = "iso_date::option")]
    pub effective_to: Option<Date>,
    pub damages_min_usd: u64,
    pub damages_min_confirmed: bool,
    pub damages_max_usd: u64,
    pub fine_usd: u64,
    pub fine_intentional_usd: u64,
    pub sources: Vec<String>,
}

/// A tenant counsel's replacement for one rule version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounselOverride {
    /// The version replaced, e.g. `US-CA/2026-01-01`.
    pub replaces_version: String,
    /// The rule that applies instead; its `version` must be new to the table.
    pub rule: JurisdictionRule,
    pub note: String,
    pub approved_by: String,
    #[serde(with = "iso_date")]
    pub approved_on: Date,
}

/// Every rule version, the jurisdictions without a confirmed rule, and the CCPA amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTable {
    /// The table's own version, bumped with every change of `rules.toml`.
    pub table_version: String,
    #[serde(rename = "rule")]
    pub rules: Vec<JurisdictionRule>,
    #[serde(rename = "unconfirmed")]
    pub unconfirmed: Vec<UnconfirmedJurisdiction>,
    #[serde(rename = "ccpa_amounts")]
    pub ccpa_amounts: Vec<CcpaAmounts>,
}

const BUILTIN: &str = include_str!("../../data/law/rules.toml");

impl RuleTable {
    /// The table compiled into the crate, parsed and checked on first use.
    pub fn builtin() -> Result<&'static RuleTable, LawError> {
        static TABLE: OnceLock<Result<RuleTable, LawError>> = OnceLock::new();
        TABLE
            .get_or_init(|| RuleTable::parse(BUILTIN))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and checks a table in the `rules.toml` format.
    pub fn parse(text: &str) -> Result<RuleTable, LawError> {
        let table: RuleTable =
            toml::from_str(text).map_err(|e| LawError::RuleTable(e.message().to_owned()))?;
        table.check()?;
        Ok(table)
    }

    /// Versions are unique, periods of one jurisdiction do not overlap, unconfirmed entries do
    /// not shadow a rule.
    fn check(&self) -> Result<(), LawError> {
        let mut versions: Vec<&str> = self.rules.iter().map(|r| r.version.as_str()).collect();
        versions.sort_unstable();
        if let Some(pair) = versions.windows(2).find(|w| w[0] == w[1]) {
            return Err(LawError::RuleTable(format!(
                "version {} appears twice",
                pair[0]
            )));
        }
        for rule in &self.rules {
            if rule.effective_to.is_some_and(|to| to < rule.effective_from) {
                return Err(LawError::RuleTable(format!(
                    "{} ends before it starts",
                    rule.version
                )));
            }
            let overlapping = self.rules.iter().find(|other| {
                other.version != rule.version
                    && other.jurisdiction == rule.jurisdiction
                    && other.in_force_on(rule.effective_from)
            });
            if let Some(other) = overlapping {
                return Err(LawError::RuleTable(format!(
                    "{} and {} are both in force on {}",
                    rule.version, other.version, rule.effective_from
                )));
            }
        }
        for entry in &self.unconfirmed {
            if self
                .rules
                .iter()
                .any(|r| r.jurisdiction == entry.jurisdiction)
            {
                return Err(LawError::RuleTable(format!(
                    "{} is both a rule and unconfirmed",
                    entry.jurisdiction
                )));
            }
        }
        Ok(())
    }

    /// The version of `jurisdiction` in force on `day`.
    pub fn rule_on(&self, jurisdiction: &str, day: Date) -> Option<&JurisdictionRule> {
        self.rules
            .iter()
            .find(|r| r.jurisdiction == jurisdiction && r.in_force_on(day))
    }

    /// Every jurisdiction id with a rule, in table order, without repeats.
    pub fn jurisdictions(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for rule in &self.rules {
            if !out.contains(&rule.jurisdiction.as_str()) {
                out.push(&rule.jurisdiction);
            }
        }
        out
    }

    /// Whether `jurisdiction` (e.g. `US-CA`, `EU-GDPR`) has a rule or an unconfirmed entry.
    pub fn knows_jurisdiction(&self, jurisdiction: &str) -> bool {
        self.rules.iter().any(|r| r.jurisdiction == jurisdiction)
            || self
                .unconfirmed
                .iter()
                .any(|u| u.jurisdiction == jurisdiction)
    }

    /// Whether `code` (e.g. `CA`) is a US state or territory the table knows.
    pub fn knows_state(&self, code: &str) -> bool {
        let id = format!("US-{code}");
        self.rules.iter().any(|r| r.jurisdiction == id)
            || self.unconfirmed.iter().any(|u| u.jurisdiction == id)
    }

    /// The country codes some rule covers, sorted.
    pub fn countries(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .rules
            .iter()
            .filter_map(|r| match &r.scope {
                Scope::Countries { codes } => Some(codes.iter().map(String::as_str)),
                _ => None,
            })
            .flatten()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The CCPA amounts in force on `day`.
    pub fn ccpa_amounts_on(&self, day: Date) -> Option<&CcpaAmounts> {
        self.ccpa_amounts
            .iter()
            .find(|a| a.effective_from <= day && a.effective_to.is_none_or(|to| day <= to))
    }

    /// A copy of the table with rule versions replaced by counsel overrides. The replacing
    /// rule keeps the replaced one's jurisdiction and records who approved it and why.
    pub fn with_overrides(&self, overrides: &[CounselOverride]) -> Result<RuleTable, LawError> {
        let mut table = self.clone();
        for o in overrides {
            let Some(idx) = table
                .rules
                .iter()
                .position(|r| r.version == o.replaces_version)
            else {
                return Err(LawError::Override(format!(
                    "no rule version {} to replace",
                    o.replaces_version
                )));
            };
            if table.rules[idx].jurisdiction != o.rule.jurisdiction {
                return Err(LawError::Override(format!(
                    "{} replaces a {} rule with a {} rule",
                    o.rule.version, table.rules[idx].jurisdiction, o.rule.jurisdiction
                )));
            }
            if o.note.trim().is_empty() {
                return Err(LawError::Override(format!(
                    "{} has no note saying why",
                    o.rule.version
                )));
            }
            let mut rule = o.rule.clone();
            rule.counsel_override = Some(OverrideNote {
                replaces_version: o.replaces_version.clone(),
                note: o.note.clone(),
                approved_by: o.approved_by.clone(),
                approved_on: o.approved_on,
            });
            table.rules[idx] = rule;
        }
        table
            .check()
            .map_err(|e| LawError::Override(e.to_string()))?;
        Ok(table)
    }
}
