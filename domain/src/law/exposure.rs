//! A California exposure estimate: CCPA § 1798.150 statutory damages and § 1798.155
//! administrative fines, at the amounts the CPPA adjusted for CPI, times the number of
//! California consumers affected. An estimate for counsel, never advice: it ignores actual
//! damages, the 30-day cure under § 1798.150(b), and whether security was "reasonable".

use super::input::IncidentFacts;
use super::rules::{CcpaAmounts, JurisdictionRule, RuleTable};
use super::triggers::test_definition;
use serde::{Deserialize, Serialize};

/// § 1798.150 statutory damages: per consumer per incident, a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatutoryDamages {
    /// Whether the data elements and encryption facts bring § 1798.150 into play.
    pub applies: bool,
    pub reason: String,
    pub per_consumer_min_usd: u64,
    pub per_consumer_max_usd: u64,
    /// The minimum comes from one secondary source only.
    pub min_confirmed: bool,
    pub total_min_usd: u64,
    pub total_max_usd: u64,
    pub basis: String,
}

/// § 1798.155 administrative fines, counting each consumer as one violation (the upper bound).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdministrativeFines {
    pub per_violation_usd: u64,
    pub per_intentional_violation_usd: u64,
    pub total_usd: u64,
    pub total_intentional_usd: u64,
    pub basis: String,
}

/// The estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    pub note: String,
    pub california_consumers: u64,
    /// `None` when no CCPA amounts are in force on the discovery date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amounts_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statutory_damages: Option<StatutoryDamages>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub administrative_fines: Option<AdministrativeFines>,
    pub sources: Vec<String>,
}

const NOTE: &str = "An estimate for counsel, not legal advice: statutory damages apply only if the breach resulted from a failure to maintain reasonable security and no cure under § 1798.150(b) succeeded; the data is taken as nonredacted (redaction is not an input); fines count each affected consumer as one violation, the upper reading; actual damages may be higher.";

fn damages(
    amounts: &CcpaAmounts,
    ca_rule: Option<&JurisdictionRule>,
    facts: &IncidentFacts,
    consumers: u64,
) -> StatutoryDamages {
    // § 1798.150(a)(1) covers nonencrypted and nonredacted § 1798.81.5 personal information
    // or an e-mail with a password: the § 1798.82(h) elements are the closest recorded list.
    let (applies, reason) = match ca_rule {
        Some(rule) => {
            let outcome = test_definition(
                &rule.personal_information,
                facts.categories.as_ref(),
                facts.encryption,
            );
            (outcome.triggered, outcome.reason)
        }
        None => (
            true,
            "no California rule in force on that date: counted as applying".to_owned(),
        ),
    };
    let count = if applies { consumers } else { 0 };
    StatutoryDamages {
        applies,
        reason,
        per_consumer_min_usd: amounts.damages_min_usd,
        per_consumer_max_usd: amounts.damages_max_usd,
        min_confirmed: amounts.damages_min_confirmed,
        total_min_usd: amounts.damages_min_usd.saturating_mul(count),
        total_max_usd: amounts.damages_max_usd.saturating_mul(count),
        basis: format!(
            "Cal. Civ. Code § 1798.150(a)(1)(A): statutory damages per consumer per incident of ${} to ${}{}, or actual damages if greater (amounts {})",
            amounts.damages_min_usd,
            amounts.damages_max_usd,
            if amounts.damages_min_confirmed {
                ""
            } else {
                " (minimum UNCONFIRMED)"
            },
            amounts.version
        ),
    }
}

/// The estimate for the facts' California consumers.
pub fn exposure(table: &RuleTable, facts: &IncidentFacts) -> Exposure {
    let consumers = facts.residents.get("CA").copied().unwrap_or(0);
    let Some(amounts) = table.ccpa_amounts_on(facts.discovered) else {
        return Exposure {
            note: NOTE.to_owned(),
            california_consumers: consumers,
            amounts_version: None,
            statutory_damages: None,
            administrative_fines: None,
            sources: Vec::new(),
        };
    };
    let ca_rule = table.rule_on("US-CA", facts.discovered);
    Exposure {
        note: NOTE.to_owned(),
        california_consumers: consumers,
        amounts_version: Some(amounts.version.clone()),
        statutory_damages: Some(damages(amounts, ca_rule, facts, consumers)),
        administrative_fines: Some(AdministrativeFines {
            per_violation_usd: amounts.fine_usd,
            per_intentional_violation_usd: amounts.fine_intentional_usd,
            total_usd: amounts.fine_usd.saturating_mul(consumers),
            total_intentional_usd: amounts.fine_intentional_usd.saturating_mul(consumers),
            basis: format!(
                "Cal. Civ. Code § 1798.155(a): administrative fine up to ${} per violation, ${} per intentional violation or violation involving minors under 16 (amounts {}); § 1798.199.90 civil penalties use the same tiers",
                amounts.fine_usd, amounts.fine_intentional_usd, amounts.version
            ),
        }),
        sources: amounts.sources.clone(),
    }
}
