//! Breach-notification law as data: which jurisdictions' notice rules an incident triggers,
//! who must be told, by when, and what a California incident may cost.
//!
//! The rules live in `domain/data/law/rules.toml`, compiled into the crate and parsed on first
//! use ([`RuleTable::builtin`]); every deadline, threshold and notice carries its statute,
//! effective dates and comparator there, so counsel reviews one file and a change of law is a
//! new rule version, never a code change. A tenant's counsel may replace a rule version with a
//! [`CounselOverride`] (pure types here; storing overrides is the server's business).
//!
//! This module computes; it does not advise. It must not do I/O, read the clock or guess facts
//! it was not given: where a fact is missing it takes the reading that notifies earlier or more
//! widely and says so in the obligation's basis.

mod calendar;
mod deadlines;
mod exposure;
mod input;
mod rules;
mod triggers;

#[cfg(test)]
mod tests;

pub use calendar::{add_business_days, is_us_federal_holiday};
pub use deadlines::{Audience, Obligation, RelativeDue, Tolling, obligations};
pub use exposure::{AdministrativeFines, Exposure, StatutoryDamages, exposure};
pub use input::{Encryption, IncidentFacts, parse_categories, parse_counts, parse_date};
pub use rules::{
    AgencyNotice, CcpaAmounts, ClockStart, Comparator, CounselOverride, DayCount, Deadline, Event,
    IdentityTheftServices, IndividualNotice, JurisdictionRule, OverrideNote, PiDefinition,
    RuleStatus, RuleTable, SafeHarbour, Scope, SubstituteNotice, Threshold, TollingGround,
    UnconfirmedJurisdiction,
};
pub use triggers::{DataElement, TriggerOutcome};

/// What can go wrong when reading the rule table or an incident's facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LawError {
    /// The embedded or overriding rule table does not parse or contradicts itself.
    #[error("rule table: {0}")]
    RuleTable(String),
    /// A US state or territory code the table does not know.
    #[error("unknown US state code {0:?} (use the two-letter postal code, e.g. CA)")]
    UnknownState(String),
    /// A jurisdiction (`US-CA`, `EU-GDPR`) the table has neither a rule nor an entry for.
    #[error("unknown jurisdiction {0:?} (use one the rule table lists, e.g. US-CA or EU-GDPR)")]
    UnknownJurisdiction(String),
    /// A country code no rule in the table covers.
    #[error("unknown or unsupported country code {0:?} (supported: {1})")]
    UnknownCountry(String, String),
    /// A `CODE=N` list that does not parse.
    #[error("bad count list {0:?}: {1}")]
    BadCounts(String, String),
    /// A data category the law module does not know.
    #[error("unknown data category {0:?} (known: {1})")]
    UnknownCategory(String, String),
    /// A date that is not `YYYY-MM-DD`.
    #[error("bad date {0:?}: expected YYYY-MM-DD")]
    BadDate(String),
    /// Two dates in an impossible order, e.g. notice sent before discovery.
    #[error("{later} ({later_date}) is before {earlier} ({earlier_date})")]
    DatesOutOfOrder {
        earlier: &'static str,
        earlier_date: String,
        later: &'static str,
        later_date: String,
    },
    /// A counsel override that does not fit the table.
    #[error("counsel override: {0}")]
    Override(String),
}
