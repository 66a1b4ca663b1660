//! From an incident's facts to the notices owed: per jurisdiction and audience, whether the
//! rule is triggered and why, the due date (or the event it counts from), the statute and the
//! rule version, earliest first.
//!
//! Readings taken where the law or the facts are silent (each is also stated in the basis):
//! - The rule version is the one in force on the day the jurisdiction's clock starts.
//! - A missing determination or awareness date is the discovery date (the earlier clock).
//! - Law-enforcement delay adds its days to a deadline only where the rule lists that ground,
//!   and never to a regulator's fixed deadline unless the rule says so.
//! - An hours clock (72 hours) is due on the last day that is safe whatever the hour the clock
//!   started: 72 hours from a clock start on day D are due on D + 2.

use super::LawError;
use super::calendar::{add_business_days, add_calendar_days};
use super::input::IncidentFacts;
use super::rules::{
    AgencyNotice, ClockStart, DayCount, Deadline, Event, JurisdictionRule, RuleStatus, RuleTable,
    Scope, TollingGround,
};
use super::triggers::{DataElement, TriggerOutcome, test_definition, with_derived};
use serde::{Deserialize, Serialize};
use time::Date;

pub use super::rules::Audience;

/// A due date that counts from an event that has not happened yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelativeDue {
    pub event: Event,
    pub days: u32,
}

/// How a delay moved a due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolling {
    pub ground: TollingGround,
    pub days: u32,
    #[serde(with = "super::rules::iso_date")]
    pub original_due: Date,
    pub note: String,
}

/// One notice owed (or not owed) to one audience of one jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    pub jurisdiction: String,
    pub audience: Audience,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    pub triggered: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::rules::iso_date::option"
    )]
    pub due: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_after: Option<RelativeDue>,
    /// Statute citation and rule text, then the deadline reading.
    pub basis: String,
    /// Why the notice is or is not owed.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolling: Option<Tolling>,
    pub rule_version: String,
    pub rule_status: RuleStatus,
    /// The elements that met the definition.
    pub elements: Vec<DataElement>,
}

impl Obligation {
    /// Earliest first: dated, then relative, then owed without a date, then not owed.
    fn sort_key(&self) -> (u8, Option<Date>, u32, &str, Audience) {
        let rank = match (self.triggered, self.due, self.due_after) {
            (true, Some(_), _) => 0,
            (true, None, Some(_)) => 1,
            (true, None, None) => 2,
            (false, _, _) => 3,
        };
        let relative_days = self.due_after.map_or(0, |r| r.days);
        (
            rank,
            self.due,
            relative_days,
            self.jurisdiction.as_str(),
            self.audience,
        )
    }
}

fn clock_date(facts: &IncidentFacts, clock: ClockStart) -> Date {
    match clock {
        ClockStart::Discovery => facts.discovered,
        ClockStart::Determination => facts.determined.unwrap_or(facts.discovered),
        ClockStart::Aware => facts.aware.unwrap_or(facts.discovered),
    }
}

fn clock_note(facts: &IncidentFacts, clock: ClockStart) -> &'static str {
    let missing = match clock {
        ClockStart::Discovery => false,
        ClockStart::Determination => facts.determined.is_none(),
        ClockStart::Aware => facts.aware.is_none(),
    };
    if missing {
        " (date not given: the discovery date is used, the earlier reading)"
    } else {
        ""
    }
}

fn add_days(start: Date, days: u32, count: DayCount) -> Option<Date> {
    match count {
        DayCount::Calendar => add_calendar_days(start, days),
        DayCount::Business => add_business_days(start, days),
    }
}

fn day_words(days: u32, count: DayCount) -> String {
    match count {
        DayCount::Calendar => format!("{days} calendar days"),
        DayCount::Business => format!("{days} US business days"),
    }
}

/// The due date, the relative due and the words for one deadline.
struct Due {
    due: Option<Date>,
    due_after: Option<RelativeDue>,
    words: String,
}

fn resolve(
    deadline: &Deadline,
    clock: ClockStart,
    start: Date,
    clock_note: &str,
    individual_due: Option<Date>,
    notice_sent: Option<Date>,
) -> Due {
    let from = format!("after {} on {start}{clock_note}", clock.describe());
    match deadline {
        Deadline::Days { days, count } => Due {
            due: add_days(start, *days, *count),
            due_after: None,
            words: format!("due {} {from}", day_words(*days, *count)),
        },
        Deadline::Hours { hours } => {
            // Only the day is known: the last day that ends before the hours run out whatever
            // the hour the clock started (00:00 is the worst case).
            let safe_days = (hours / 24).saturating_sub(1);
            let due = add_calendar_days(start, safe_days);
            let ends = add_calendar_days(start, hours.div_ceil(24));
            Due {
                due,
                due_after: None,
                words: format!(
                    "due {hours} hours {from}; with only the day known, the date shown is the last day that is safe whatever the hour the clock started (the {hours} hours end on {} at that hour)",
                    ends.map_or_else(|| "?".to_owned(), |d| d.to_string())
                ),
            }
        }
        Deadline::AfterEvent {
            event: Event::IndividualNoticeSent,
            days,
            count,
        } => match notice_sent {
            Some(sent) => Due {
                due: add_days(sent, *days, *count),
                due_after: None,
                words: format!(
                    "due {} after notice to individuals, sent {sent}",
                    day_words(*days, *count)
                ),
            },
            None => Due {
                due: None,
                due_after: Some(RelativeDue {
                    event: Event::IndividualNoticeSent,
                    days: *days,
                }),
                words: format!(
                    "due {} after notice to individuals is sent (not yet sent)",
                    day_words(*days, *count)
                ),
            },
        },
        Deadline::WithIndividualNotice => {
            let due = match (notice_sent, individual_due) {
                (Some(sent), Some(due)) => Some(sent.min(due)),
                (sent, due) => sent.or(due),
            };
            Due {
                due,
                due_after: None,
                words: "due no later than the notice to individuals (the statute sets no separate clock)"
                    .to_owned(),
            }
        }
        Deadline::MostExpedientTime => Due {
            due: None,
            due_after: None,
            words: "no fixed deadline: in the most expedient time possible and without unreasonable delay".to_owned(),
        },
        Deadline::WithoutUndueDelay => Due {
            due: None,
            due_after: None,
            words: "no fixed deadline: without undue delay".to_owned(),
        },
        Deadline::WithoutUnreasonableDelay => Due {
            due: None,
            due_after: None,
            words: "no fixed deadline: without unreasonable delay".to_owned(),
        },
        Deadline::NoneStated => Due {
            due: None,
            due_after: None,
            words: "no deadline stated in the statute".to_owned(),
        },
    }
}

fn toll(
    due: &mut Due,
    tolling: &[TollingGround],
    delay_days: u32,
    deadline: &Deadline,
) -> Option<Tolling> {
    if delay_days == 0
        || matches!(
            deadline,
            Deadline::WithIndividualNotice | Deadline::AfterEvent { .. }
        )
    {
        // Zero delay, or a deadline that follows the (already tolled) individual notice.
        return None;
    }
    if !tolling.contains(&TollingGround::LawEnforcement) {
        due.words.push_str(&format!(
            "; the {delay_days}-day law-enforcement delay does not move this deadline under the rule as recorded"
        ));
        return None;
    }
    let Some(original) = due.due else {
        due.words.push_str(&format!(
            "; the statute allows the {delay_days}-day law-enforcement delay, after which notice must follow promptly"
        ));
        return None;
    };
    let moved = add_calendar_days(original, delay_days)?;
    due.due = Some(moved);
    let note = format!(
        "moved from {original} to {moved} by a {delay_days}-day law-enforcement delay (notice must follow promptly once the agency says it no longer impedes the investigation)"
    );
    due.words.push_str(&format!("; {note}"));
    Some(Tolling {
        ground: TollingGround::LawEnforcement,
        days: delay_days,
        original_due: original,
        note,
    })
}

fn affected(rule: &JurisdictionRule, facts: &IncidentFacts) -> u64 {
    match &rule.scope {
        Scope::UsState { code } => facts.residents.get(code).copied().unwrap_or(0),
        Scope::Countries { codes } => codes.iter().filter_map(|c| facts.countries.get(c)).sum(),
        Scope::NydfsCoveredEntity => u64::from(facts.nydfs_covered_entity),
    }
}

fn basis(citation: &str, text: &str, words: &str, rule: &JurisdictionRule) -> String {
    let mut out = format!("{citation}: {text} — {words}.");
    if rule.status == RuleStatus::Unconfirmed {
        out.push_str(" UNCONFIRMED rule: verify before relying on it.");
    }
    if let Some(o) = &rule.counsel_override {
        out.push_str(&format!(
            " Counsel override of {} approved by {} on {}: {}",
            o.replaces_version, o.approved_by, o.approved_on, o.note
        ));
    }
    out
}

/// The obligations of one rule version.
fn rule_obligations(rule: &JurisdictionRule, facts: &IncidentFacts) -> Vec<Obligation> {
    let start = clock_date(facts, rule.clock);
    let note = clock_note(facts, rule.clock);
    let count = affected(rule, facts);
    let pi = test_definition(
        &rule.personal_information,
        facts.categories.as_ref(),
        facts.encryption,
    );
    let mut out = Vec::new();

    let mut individual_due = None;
    let mut individual_triggered = false;
    if let Some(notice) = &rule.individuals {
        let outcome = individuals_outcome(rule, notice, &pi, facts, count);
        let mut due = resolve(&notice.deadline, rule.clock, start, note, None, None);
        let tolling = if outcome.triggered {
            toll(
                &mut due,
                &notice.tolling,
                facts.law_enforcement_delay_days,
                &notice.deadline,
            )
        } else {
            None
        };
        individual_triggered = outcome.triggered;
        individual_due = due.due;
        let mut words = due.words;
        if let Some(extra) = individual_extras(rule, facts, count) {
            words.push_str(&extra);
        }
        out.push(Obligation {
            jurisdiction: rule.jurisdiction.clone(),
            audience: Audience::Individuals,
            recipient: None,
            triggered: outcome.triggered,
            due: due.due.filter(|_| outcome.triggered),
            due_after: None,
            basis: basis(&notice.citation, &notice.text, &words, rule),
            reason: outcome.reason,
            tolling,
            rule_version: rule.version.clone(),
            rule_status: rule.status,
            elements: outcome.elements,
        });
    }
    for notice in &rule.notices {
        out.push(agency_obligation(
            rule,
            notice,
            &pi,
            facts,
            (start, note, count),
            (individual_triggered, individual_due),
        ));
    }
    out
}

fn individuals_outcome(
    rule: &JurisdictionRule,
    notice: &super::rules::IndividualNotice,
    pi: &TriggerOutcome,
    facts: &IncidentFacts,
    count: u64,
) -> TriggerOutcome {
    if count == 0 {
        return TriggerOutcome {
            triggered: false,
            elements: Vec::new(),
            safe_harbour_applied: false,
            reason: format!("no affected people in {}", rule.title),
        };
    }
    if !pi.triggered {
        return pi.clone();
    }
    let Some(high_risk) = &notice.only_if_elements else {
        return pi.clone();
    };
    if notice.encryption_exempts && facts.encryption.encrypted && !facts.encryption.key_compromised
    {
        return TriggerOutcome {
            triggered: false,
            elements: pi.elements.clone(),
            safe_harbour_applied: true,
            reason: format!(
                "not triggered: the data was encrypted and the key was not taken ({})",
                notice.citation
            ),
        };
    }
    let Some(reported) = facts.categories.as_ref() else {
        return pi.clone();
    };
    let present = with_derived(reported);
    let risky: Vec<DataElement> = high_risk
        .iter()
        .copied()
        .filter(|e| present.contains(e))
        .collect();
    if risky.is_empty() {
        TriggerOutcome {
            triggered: false,
            elements: Vec::new(),
            safe_harbour_applied: false,
            reason: format!(
                "not triggered by the data categories alone: none of them indicates a high risk ({}); counsel must still assess the risk",
                notice.citation
            ),
        }
    } else {
        let names: Vec<&str> = risky.iter().map(|e| e.describe()).collect();
        TriggerOutcome {
            triggered: true,
            reason: format!(
                "triggered: {} point to a high risk to the people affected ({})",
                names.join(", "),
                notice.citation
            ),
            elements: risky,
            safe_harbour_applied: false,
        }
    }
}

/// Identity-theft services and substitute notice, where the facts make them relevant.
fn individual_extras(rule: &JurisdictionRule, facts: &IncidentFacts, count: u64) -> Option<String> {
    let mut out = String::new();
    if let Some(services) = &rule.identity_theft_services {
        let present = facts.categories.as_ref().map(with_derived);
        let relevant = present
            .as_ref()
            .is_none_or(|p| services.when_elements.iter().any(|e| p.contains(e)));
        if relevant {
            out.push_str(&format!(
                "; offer at least {} months of identity-theft prevention and mitigation services at no cost{} ({})",
                services.months_min,
                if services.only_if_source_of_breach {
                    " if the business was the source of the breach"
                } else {
                    ""
                },
                services.citation
            ));
        }
    }
    if let Some(sub) = &rule.substitute_notice
        && count > sub.class_gt
    {
        out.push_str(&format!(
            "; substitute notice is available (more than {} people; {}: {}, web posting for at least {} days)",
            sub.class_gt,
            sub.citation,
            sub.includes.join(", "),
            sub.web_posting_days
        ));
    }
    (!out.is_empty()).then_some(out)
}

fn agency_obligation(
    rule: &JurisdictionRule,
    notice: &AgencyNotice,
    pi: &TriggerOutcome,
    facts: &IncidentFacts,
    (start, note, count): (Date, &str, u64),
    (individual_triggered, individual_due): (bool, Option<Date>),
) -> Obligation {
    let threshold_met = notice.threshold.is_none_or(|t| t.is_met(count));
    let (triggered, reason) = if notice.independent_of_individual_notice {
        if count == 0 {
            (false, format!("no affected people in {}", rule.title))
        } else {
            (pi.triggered && threshold_met, pi.reason.clone())
        }
    } else if !individual_triggered {
        (
            false,
            "not triggered: notice to individuals is not required".to_owned(),
        )
    } else {
        (threshold_met, pi.reason.clone())
    };
    let reason = match notice.threshold {
        Some(t) if individual_triggered || notice.independent_of_individual_notice => {
            let verdict = if t.is_met(count) { "met" } else { "not met" };
            format!(
                "{reason}; threshold {} affected residents {verdict} ({count})",
                t.describe()
            )
        }
        _ => reason,
    };
    let mut due = resolve(
        &notice.deadline,
        rule.clock,
        start,
        note,
        individual_due,
        facts.individual_notice_sent_in(&rule.jurisdiction),
    );
    let tolling = if triggered {
        toll(
            &mut due,
            &notice.tolling,
            facts.law_enforcement_delay_days,
            &notice.deadline,
        )
    } else {
        None
    };
    Obligation {
        jurisdiction: rule.jurisdiction.clone(),
        audience: notice.audience,
        recipient: Some(notice.recipient.clone()),
        triggered,
        due: due.due.filter(|_| triggered),
        due_after: due.due_after.filter(|_| triggered),
        basis: basis(&notice.citation, &notice.text, &due.words, rule),
        reason,
        tolling,
        rule_version: rule.version.clone(),
        rule_status: rule.status,
        elements: if triggered {
            pi.elements.clone()
        } else {
            Vec::new()
        },
    }
}

/// An obligation for a jurisdiction the table has no confirmed rule for.
fn unconfirmed_obligation(table: &RuleTable, jurisdiction: &str, count: u64) -> Obligation {
    let entry = table
        .unconfirmed
        .iter()
        .find(|u| u.jurisdiction == jurisdiction);
    let statute = entry
        .and_then(|u| u.statute.clone())
        .unwrap_or_else(|| "statute not recorded".to_owned());
    let research = entry
        .and_then(|u| u.research_note.clone())
        .map(|n| format!(" Research (unconfirmed): {n}."))
        .unwrap_or_default();
    Obligation {
        jurisdiction: jurisdiction.to_owned(),
        audience: Audience::Individuals,
        recipient: None,
        triggered: count > 0,
        due: None,
        due_after: None,
        basis: format!(
            "{statute}: UNCONFIRMED — the rule table has no verified rule for {jurisdiction}, so no deadline is computed; counsel must supply the rule (a counsel override).{research}"
        ),
        reason: if count > 0 {
            "treated as triggered until counsel confirms the rule".to_owned()
        } else {
            "no affected residents".to_owned()
        },
        tolling: None,
        rule_version: format!("{jurisdiction}/unconfirmed"),
        rule_status: RuleStatus::Unconfirmed,
        elements: Vec::new(),
    }
}

/// Every obligation the facts give rise to, earliest first. Jurisdictions with no affected
/// people are left out, except that a NYDFS-covered entity always gets the 500.17 notice.
pub fn obligations(table: &RuleTable, facts: &IncidentFacts) -> Result<Vec<Obligation>, LawError> {
    facts.validate(table)?;
    let mut out = Vec::new();
    for jurisdiction in table.jurisdictions() {
        let Some(first) = table.rules.iter().find(|r| r.jurisdiction == jurisdiction) else {
            continue;
        };
        let relevant = match &first.scope {
            Scope::UsState { code } => facts.residents.contains_key(code),
            Scope::Countries { codes } => codes.iter().any(|c| facts.countries.contains_key(c)),
            Scope::NydfsCoveredEntity => facts.nydfs_covered_entity,
        };
        if !relevant {
            continue;
        }
        let start = clock_date(facts, first.clock);
        match table.rule_on(jurisdiction, start) {
            Some(rule) => out.extend(rule_obligations(rule, facts)),
            None => {
                let mut missing = unconfirmed_obligation(table, jurisdiction, 1);
                missing.basis = format!(
                    "no version of the {jurisdiction} rule in the table is in force on {start}; counsel must supply one"
                );
                out.push(missing);
            }
        }
    }
    for (code, count) in &facts.residents {
        let id = format!("US-{code}");
        if table.unconfirmed.iter().any(|u| u.jurisdiction == id) {
            out.push(unconfirmed_obligation(table, &id, *count));
        }
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(out)
}
