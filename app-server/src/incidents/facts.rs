//! The facts of an incident the breach-notification law decides on: how they are stored
//! (calendar days as `YYYY-MM-DD`, counts and categories as JSON text), how a request changes
//! them, and the checks every change passes before anything is written.

use leakguard_domain::law::{self, DataElement, Encryption, IncidentFacts, LawError, RuleTable};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

use crate::db::entities::incident_reminders::Audience;
use crate::db::entities::incidents;
use crate::invalid_input::{InvalidInput, Reason};

time::serde::format_description!(day_text, Date, "[year]-[month]-[day]");

/// A notice recorded as sent: to one audience (and recipient) of one jurisdiction, on a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = IncidentNoticeSent)]
pub struct NoticeSent {
    /// `US-CA`, `EU-GDPR`, …
    pub jurisdiction: String,
    /// Who was notified.
    pub audience: Audience,
    /// The regulator or agency notified (absent for notices to individuals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The day it was sent (`YYYY-MM-DD`, UTC).
    #[serde(with = "day_text")]
    #[schema(value_type = String, format = Date)]
    pub sent_on: Date,
}

impl NoticeSent {
    /// Whether this notice answers the obligation to `audience` / `recipient` of `jurisdiction`.
    pub fn answers(&self, jurisdiction: &str, audience: Audience, recipient: Option<&str>) -> bool {
        self.jurisdiction == jurisdiction
            && self.audience == audience
            && self.recipient.as_deref() == recipient
    }
}

/// The longest law-enforcement delay accepted, in days (as `leakguard rules deadlines`).
pub const MAX_DELAY_DAYS: i64 = 3650;

/// The largest count of people or records accepted (more than the world's population; keeps
/// the law module's sums and fines far from overflowing).
pub const MAX_COUNT: i64 = 10_000_000_000;

/// Changes to an incident's facts; absent fields stay as they are. Dates are `YYYY-MM-DD`
/// (UTC calendar days); `residents` and `countries` replace the whole map.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = IncidentFactsChange)]
pub struct FactsChange {
    /// Date the breach was discovered (default at creation: the day it is recorded).
    #[schema(value_type = Option<String>, format = Date)]
    pub discovered_at: Option<String>,
    /// Date it was determined that a breach occurred.
    #[schema(value_type = Option<String>, format = Date)]
    pub determined_at: Option<String>,
    /// Date the business became aware of the breach.
    #[schema(value_type = Option<String>, format = Date)]
    pub aware_at: Option<String>,
    /// Date the breach was contained.
    #[schema(value_type = Option<String>, format = Date)]
    pub contained_at: Option<String>,
    /// First day of the breach window.
    #[schema(value_type = Option<String>, format = Date)]
    pub window_start: Option<String>,
    /// Last day of the breach window.
    #[schema(value_type = Option<String>, format = Date)]
    pub window_end: Option<String>,
    /// Affected residents per US state or territory (postal code, e.g. `{"CA": 600}`).
    pub residents: Option<BTreeMap<String, i64>>,
    /// Affected people per country (ISO 3166-1 alpha-2, e.g. `{"DE": 10}`).
    pub countries: Option<BTreeMap<String, i64>>,
    /// Data categories found (classifier entity names and statute elements, e.g. `US_SSN`).
    pub categories: Option<Vec<String>>,
    /// Estimated number of records affected.
    pub records_estimate: Option<i64>,
    /// The data was encrypted.
    pub encrypted: Option<bool>,
    /// The key or credential to the encrypted data was taken too.
    pub key_compromised: Option<bool>,
    /// Days a law-enforcement agency asked notice to be delayed (0 to 3650).
    pub law_enforcement_delay_days: Option<i64>,
}

impl FactsChange {
    /// Whether the change names any field.
    pub fn is_empty(&self) -> bool {
        self.discovered_at.is_none()
            && self.determined_at.is_none()
            && self.aware_at.is_none()
            && self.contained_at.is_none()
            && self.window_start.is_none()
            && self.window_end.is_none()
            && self.residents.is_none()
            && self.countries.is_none()
            && self.categories.is_none()
            && self.records_estimate.is_none()
            && self.encrypted.is_none()
            && self.key_compromised.is_none()
            && self.law_enforcement_delay_days.is_none()
    }
}

/// An incident's facts as the API shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = IncidentFactsView)]
pub struct FactsView {
    /// Date the breach was discovered.
    #[schema(value_type = String, format = Date)]
    pub discovered_at: String,
    /// Date it was determined that a breach occurred.
    #[schema(value_type = Option<String>, format = Date)]
    pub determined_at: Option<String>,
    /// Date the business became aware of the breach.
    #[schema(value_type = Option<String>, format = Date)]
    pub aware_at: Option<String>,
    /// Date the breach was contained.
    #[schema(value_type = Option<String>, format = Date)]
    pub contained_at: Option<String>,
    /// First day of the breach window.
    #[schema(value_type = Option<String>, format = Date)]
    pub window_start: Option<String>,
    /// Last day of the breach window.
    #[schema(value_type = Option<String>, format = Date)]
    pub window_end: Option<String>,
    /// Affected residents per US state or territory.
    pub residents: BTreeMap<String, u64>,
    /// Affected people per country.
    pub countries: BTreeMap<String, u64>,
    /// Data categories found; `null` while unknown (then every definition counts as met).
    pub categories: Option<Vec<String>>,
    /// Estimated number of records affected.
    pub records_estimate: Option<u64>,
    /// The data was encrypted.
    pub encrypted: bool,
    /// The key or credential to the encrypted data was taken too.
    pub key_compromised: bool,
    /// Days a law-enforcement agency asked notice to be delayed.
    pub law_enforcement_delay_days: Option<u32>,
    /// The notices recorded as sent (one per jurisdiction, audience and recipient).
    pub notices_sent: Vec<NoticeSent>,
}

/// The facts, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub discovered: Date,
    pub determined: Option<Date>,
    pub aware: Option<Date>,
    pub contained: Option<Date>,
    pub window_start: Option<Date>,
    pub window_end: Option<Date>,
    pub residents: BTreeMap<String, u64>,
    pub countries: BTreeMap<String, u64>,
    pub categories: Option<BTreeSet<DataElement>>,
    pub records_estimate: Option<u64>,
    pub encrypted: bool,
    pub key_compromised: bool,
    pub law_enforcement_delay_days: Option<u32>,
    pub notices_sent: Vec<NoticeSent>,
}

fn refused(message: impl Into<String>) -> InvalidInput {
    InvalidInput::new(Reason::InvalidIncidentFacts, message)
}

fn law_refused(e: LawError) -> InvalidInput {
    refused(e.to_string())
}

/// Parses a `YYYY-MM-DD` request field (years 1970 to 2199).
pub fn parse_day(field: &str, text: &str) -> Result<Date, InvalidInput> {
    law::parse_date(text)
        .ok()
        .filter(|d| (1970..=2199).contains(&d.year()))
        .ok_or_else(|| refused(format!("{field} must be a date YYYY-MM-DD (1970 to 2199)")))
}

fn parse_counts(
    field: &str,
    given: &BTreeMap<String, i64>,
) -> Result<BTreeMap<String, u64>, InvalidInput> {
    let mut out = BTreeMap::new();
    for (code, count) in given {
        let upper = code.trim().to_ascii_uppercase();
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(refused(format!(
                "{field}: {code:?} is not a two-letter code"
            )));
        }
        let count = u64::try_from(*count)
            .ok()
            .filter(|c| *c <= MAX_COUNT as u64)
            .ok_or_else(|| {
                refused(format!(
                    "{field}: the count for {upper} must be 0 to {MAX_COUNT}, not {count}"
                ))
            })?;
        if out.insert(upper.clone(), count).is_some() {
            return Err(refused(format!("{field}: {upper} is given twice")));
        }
    }
    Ok(out)
}

fn stored_day(text: &str) -> anyhow::Result<Date> {
    law::parse_date(text).map_err(|e| anyhow::anyhow!("stored incident date: {e}"))
}

fn stored_opt_day(text: &Option<String>) -> anyhow::Result<Option<Date>> {
    text.as_deref().map(stored_day).transpose()
}

impl Facts {
    /// Facts with only a discovery date.
    pub fn discovered_on(discovered: Date) -> Self {
        Facts {
            discovered,
            determined: None,
            aware: None,
            contained: None,
            window_start: None,
            window_end: None,
            residents: BTreeMap::new(),
            countries: BTreeMap::new(),
            categories: None,
            records_estimate: None,
            encrypted: false,
            key_compromised: false,
            law_enforcement_delay_days: None,
            notices_sent: Vec::new(),
        }
    }

    /// The facts of a stored incident.
    pub fn of(m: &incidents::Model) -> anyhow::Result<Self> {
        let categories = match &m.categories {
            None => None,
            Some(json) => {
                let names: Vec<String> = serde_json::from_str(json)?;
                Some(
                    names
                        .iter()
                        .map(|n| n.parse::<DataElement>())
                        .collect::<Result<BTreeSet<_>, _>>()?,
                )
            }
        };
        Ok(Facts {
            discovered: stored_day(&m.discovered_at)?,
            determined: stored_opt_day(&m.determined_at)?,
            aware: stored_opt_day(&m.aware_at)?,
            contained: stored_opt_day(&m.contained_at)?,
            window_start: stored_opt_day(&m.window_start)?,
            window_end: stored_opt_day(&m.window_end)?,
            residents: serde_json::from_str(&m.residents)?,
            countries: serde_json::from_str(&m.countries)?,
            categories,
            records_estimate: m.records_estimate.map(u64::try_from).transpose()?,
            encrypted: m.encrypted,
            key_compromised: m.key_compromised,
            law_enforcement_delay_days: m
                .law_enforcement_delay_days
                .map(u32::try_from)
                .transpose()?,
            notices_sent: serde_json::from_str(&m.notices_sent)?,
        })
    }

    /// Applies a change (not yet checked as a whole: see [`Facts::check`]).
    pub fn apply(&mut self, change: &FactsChange) -> Result<(), InvalidInput> {
        let day = |field: &str, text: &Option<String>| -> Result<Option<Date>, InvalidInput> {
            text.as_deref().map(|t| parse_day(field, t)).transpose()
        };
        if let Some(d) = day("discovered_at", &change.discovered_at)? {
            self.discovered = d;
        }
        if let Some(d) = day("determined_at", &change.determined_at)? {
            self.determined = Some(d);
        }
        if let Some(d) = day("aware_at", &change.aware_at)? {
            self.aware = Some(d);
        }
        if let Some(d) = day("contained_at", &change.contained_at)? {
            self.contained = Some(d);
        }
        if let Some(d) = day("window_start", &change.window_start)? {
            self.window_start = Some(d);
        }
        if let Some(d) = day("window_end", &change.window_end)? {
            self.window_end = Some(d);
        }
        if let Some(given) = &change.residents {
            self.residents = parse_counts("residents", given)?;
        }
        if let Some(given) = &change.countries {
            self.countries = parse_counts("countries", given)?;
        }
        if let Some(names) = &change.categories {
            self.categories = Some(law::parse_categories(&names.join(",")).map_err(law_refused)?);
        }
        if let Some(n) = change.records_estimate {
            self.records_estimate = Some(
                u64::try_from(n)
                    .ok()
                    .filter(|c| *c <= MAX_COUNT as u64)
                    .ok_or_else(|| {
                        refused(format!(
                            "records_estimate must be 0 to {MAX_COUNT}, not {n}"
                        ))
                    })?,
            );
        }
        if let Some(b) = change.encrypted {
            self.encrypted = b;
        }
        if let Some(b) = change.key_compromised {
            self.key_compromised = b;
        }
        if let Some(days) = change.law_enforcement_delay_days {
            self.law_enforcement_delay_days = Some(delay_days(days)?);
        }
        Ok(())
    }

    /// Records a notice as sent, replacing an earlier record of the same notice.
    pub fn record_notice(&mut self, notice: NoticeSent) {
        self.notices_sent.retain(|n| {
            !n.answers(
                &notice.jurisdiction,
                notice.audience,
                notice.recipient.as_deref(),
            )
        });
        self.notices_sent.push(notice);
        self.notices_sent.sort_by(|a, b| {
            (&a.jurisdiction, a.audience, &a.recipient).cmp(&(
                &b.jurisdiction,
                b.audience,
                &b.recipient,
            ))
        });
    }

    /// When the notice to `audience` / `recipient` of `jurisdiction` was sent, if it was.
    pub fn notice_sent_on(
        &self,
        jurisdiction: &str,
        audience: Audience,
        recipient: Option<&str>,
    ) -> Option<Date> {
        self.notices_sent
            .iter()
            .find(|n| n.answers(jurisdiction, audience, recipient))
            .map(|n| n.sent_on)
    }

    /// Refuses codes the rule table does not know and dates in an impossible order.
    pub fn check(&self, table: &RuleTable) -> Result<(), InvalidInput> {
        if let Some(names) = &self.categories
            && names.is_empty()
        {
            return Err(refused("categories must name at least one data category"));
        }
        self.law_facts().validate(table).map_err(law_refused)?;
        if let (Some(start), Some(end)) = (self.window_start, self.window_end)
            && end < start
        {
            return Err(refused(format!(
                "window_end ({end}) is before window_start ({start})"
            )));
        }
        if let Some(start) = self.window_start.filter(|s| *s > self.discovered) {
            return Err(refused(format!(
                "window_start ({start}) is after the discovery date ({})",
                self.discovered
            )));
        }
        if self.key_compromised && !self.encrypted {
            return Err(refused("key_compromised needs encrypted"));
        }
        for notice in &self.notices_sent {
            if !table.knows_jurisdiction(&notice.jurisdiction) {
                return Err(law_refused(LawError::UnknownJurisdiction(
                    notice.jurisdiction.clone(),
                )));
            }
            if notice.sent_on < self.discovered {
                return Err(refused(format!(
                    "the {} notice of {} is dated {}, before the discovery date ({})",
                    notice.audience.as_str(),
                    notice.jurisdiction,
                    notice.sent_on,
                    self.discovered
                )));
            }
        }
        Ok(())
    }

    /// The facts as the law module takes them; a notice to individuals recorded as sent dates
    /// the deadlines that count from it in its jurisdiction.
    pub fn law_facts(&self) -> IncidentFacts {
        let mut facts = IncidentFacts::discovered_on(self.discovered);
        facts.determined = self.determined;
        facts.aware = self.aware;
        facts.residents = self.residents.clone();
        facts.countries = self.countries.clone();
        facts.categories = self.categories.clone();
        facts.encryption = Encryption {
            encrypted: self.encrypted,
            key_compromised: self.key_compromised,
        };
        facts.law_enforcement_delay_days = self.law_enforcement_delay_days.unwrap_or(0);
        facts.individual_notices_sent = self
            .notices_sent
            .iter()
            .filter(|n| n.audience == Audience::Individuals)
            .map(|n| (n.jurisdiction.clone(), n.sent_on))
            .collect();
        facts
    }

    /// The API view.
    pub fn view(&self) -> FactsView {
        let day = |d: Option<Date>| d.map(|d| d.to_string());
        FactsView {
            discovered_at: self.discovered.to_string(),
            determined_at: day(self.determined),
            aware_at: day(self.aware),
            contained_at: day(self.contained),
            window_start: day(self.window_start),
            window_end: day(self.window_end),
            residents: self.residents.clone(),
            countries: self.countries.clone(),
            categories: self.categories_names(),
            records_estimate: self.records_estimate,
            encrypted: self.encrypted,
            key_compromised: self.key_compromised,
            law_enforcement_delay_days: self.law_enforcement_delay_days,
            notices_sent: self.notices_sent.clone(),
        }
    }

    fn categories_names(&self) -> Option<Vec<String>> {
        self.categories
            .as_ref()
            .map(|set| set.iter().map(|e| e.name().to_owned()).collect())
    }

    /// Writes the facts into a row's active model.
    pub fn store(&self, row: &mut incidents::ActiveModel) -> anyhow::Result<()> {
        use sea_orm::ActiveValue::Set;
        let day = |d: Option<Date>| d.map(|d| d.to_string());
        row.discovered_at = Set(self.discovered.to_string());
        row.determined_at = Set(day(self.determined));
        row.aware_at = Set(day(self.aware));
        row.contained_at = Set(day(self.contained));
        row.window_start = Set(day(self.window_start));
        row.window_end = Set(day(self.window_end));
        row.residents = Set(serde_json::to_string(&self.residents)?);
        row.countries = Set(serde_json::to_string(&self.countries)?);
        row.categories = Set(self
            .categories_names()
            .map(|names| serde_json::to_string(&names))
            .transpose()?);
        row.records_estimate = Set(self.records_estimate.map(i64::try_from).transpose()?);
        row.encrypted = Set(self.encrypted);
        row.key_compromised = Set(self.key_compromised);
        row.law_enforcement_delay_days = Set(self
            .law_enforcement_delay_days
            .map(i32::try_from)
            .transpose()?);
        row.notices_sent = Set(serde_json::to_string(&self.notices_sent)?);
        Ok(())
    }
}

/// Checks a law-enforcement delay.
pub fn delay_days(days: i64) -> Result<u32, InvalidInput> {
    u32::try_from(days)
        .ok()
        .filter(|d| i64::from(*d) <= MAX_DELAY_DAYS)
        .ok_or_else(|| {
            refused(format!(
                "law_enforcement_delay_days must be 0 to {MAX_DELAY_DAYS}, not {days}"
            ))
        })
}
