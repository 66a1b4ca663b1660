//! The facts of an incident the law module decides on, and the parsers for their text forms
//! (`CA=600,TX=300`, `US_SSN,PERSON`, `2026-03-01`) so every front end reads them the same way.

use super::LawError;
use super::rules::{RuleTable, iso_date};
use super::triggers::DataElement;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// Whether the data was encrypted, and whether the key or credential went with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Encryption {
    pub encrypted: bool,
    pub key_compromised: bool,
}

/// What is known about an incident. Dates are calendar days (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFacts {
    #[serde(with = "iso_date")]
    pub discovered: Date,
    /// Determination that a breach occurred; the discovery date when unknown (earlier clock).
    #[serde(default, with = "iso_date::option")]
    pub determined: Option<Date>,
    /// Becoming aware of the breach; the discovery date when unknown (earlier clock).
    #[serde(default, with = "iso_date::option")]
    pub aware: Option<Date>,
    /// Affected residents per US state or territory, by postal code (`CA`).
    #[serde(default)]
    pub residents: BTreeMap<String, u64>,
    /// Affected people per country, by ISO 3166-1 alpha-2 code (`DE`).
    #[serde(default)]
    pub countries: BTreeMap<String, u64>,
    /// Data categories found; `None` while unknown (then every definition counts as met).
    #[serde(default)]
    pub categories: Option<BTreeSet<DataElement>>,
    #[serde(default)]
    pub encryption: Encryption,
    /// Days a law-enforcement agency asked notice to be delayed.
    #[serde(default)]
    pub law_enforcement_delay_days: u32,
    /// When notice to individuals was sent, if it was (every jurisdiction).
    #[serde(default, with = "iso_date::option")]
    pub individual_notice_sent: Option<Date>,
    /// When notice to individuals was sent, per jurisdiction (`US-CA`); a jurisdiction listed
    /// here counts from its own date rather than `individual_notice_sent`.
    #[serde(default, with = "iso_date_map")]
    pub individual_notices_sent: BTreeMap<String, Date>,
    /// Whether the business is supervised by the NY Department of Financial Services.
    #[serde(default)]
    pub nydfs_covered_entity: bool,
}

impl IncidentFacts {
    /// Facts with only a discovery date; fill in the rest field by field.
    pub fn discovered_on(discovered: Date) -> Self {
        IncidentFacts {
            discovered,
            determined: None,
            aware: None,
            residents: BTreeMap::new(),
            countries: BTreeMap::new(),
            categories: None,
            encryption: Encryption::default(),
            law_enforcement_delay_days: 0,
            individual_notice_sent: None,
            individual_notices_sent: BTreeMap::new(),
            nydfs_covered_entity: false,
        }
    }

    /// When notice to individuals was sent in `jurisdiction`, if it was.
    pub fn individual_notice_sent_in(&self, jurisdiction: &str) -> Option<Date> {
        self.individual_notices_sent
            .get(jurisdiction)
            .copied()
            .or(self.individual_notice_sent)
    }

    /// Rejects codes the table does not know and dates in an impossible order.
    pub fn validate(&self, table: &RuleTable) -> Result<(), LawError> {
        if let Some(code) = self.residents.keys().find(|c| !table.knows_state(c)) {
            return Err(LawError::UnknownState(code.clone()));
        }
        let countries = table.countries();
        if let Some(code) = self
            .countries
            .keys()
            .find(|c| !countries.contains(&c.as_str()))
        {
            return Err(LawError::UnknownCountry(code.clone(), countries.join(", ")));
        }
        let after_discovery = [
            ("determination date", self.determined),
            ("awareness date", self.aware),
            ("individual notice date", self.individual_notice_sent),
        ];
        if let Some(name) = self
            .individual_notices_sent
            .keys()
            .find(|j| !table.knows_jurisdiction(j))
        {
            return Err(LawError::UnknownJurisdiction(name.clone()));
        }
        let per_jurisdiction = self
            .individual_notices_sent
            .values()
            .map(|d| ("individual notice date", Some(*d)));
        for (what, date) in after_discovery.into_iter().chain(per_jurisdiction) {
            if let Some(date) = date.filter(|d| *d < self.discovered) {
                return Err(LawError::DatesOutOfOrder {
                    earlier: "discovery date",
                    earlier_date: self.discovered.to_string(),
                    later: what,
                    later_date: date.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// A map of names to `YYYY-MM-DD` dates.
mod iso_date_map {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;
    use time::Date;

    pub fn serialize<S: Serializer>(map: &BTreeMap<String, Date>, s: S) -> Result<S::Ok, S::Error> {
        map.iter()
            .map(|(k, d)| (k.clone(), d.to_string()))
            .collect::<BTreeMap<_, _>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Date>, D::Error> {
        BTreeMap::<String, String>::deserialize(d)?
            .into_iter()
            .map(|(k, text)| {
                super::parse_date(&text)
                    .map(|date| (k, date))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, LawError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).map_err(|_| LawError::BadDate(text.to_owned()))
}

/// Parses `CA=600,TX=300` into upper-case codes and counts. A code given twice, a negative or
/// non-numeric count and an empty code are errors.
pub fn parse_counts(text: &str) -> Result<BTreeMap<String, u64>, LawError> {
    let bad = |why: String| LawError::BadCounts(text.to_owned(), why);
    let mut out = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, count) = part
            .split_once('=')
            .ok_or_else(|| bad(format!("{part:?} is not CODE=COUNT")))?;
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad(format!("{code:?} is not a two-letter code")));
        }
        let count: u64 = count.trim().parse().map_err(|_| {
            bad(format!(
                "the count for {code} must be a whole number of 0 or more, not {:?}",
                count.trim()
            ))
        })?;
        if out.insert(code.clone(), count).is_some() {
            return Err(bad(format!("{code} is given twice")));
        }
    }
    if out.is_empty() {
        return Err(bad("no CODE=COUNT pairs".to_owned()));
    }
    Ok(out)
}

/// Parses `US_SSN,PERSON` (classifier entity names and the statutes' extra elements).
pub fn parse_categories(text: &str) -> Result<BTreeSet<DataElement>, LawError> {
    let found: BTreeSet<DataElement> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if found.is_empty() {
        // An empty list would read as "no personal data"; leave the flag out when unknown.
        return Err(LawError::UnknownCategory(
            text.trim().to_owned(),
            super::triggers::known_names(),
        ));
    }
    Ok(found)
}
