//! Table-driven tests of the built-in rules against the statute text as recorded in the
//! research spec (§1), with the edges: thresholds at and around their comparator, effective
//! dates, tolling, the encryption safe harbour and the data elements that do and do not count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use std::collections::{BTreeMap, BTreeSet};
use time::Date;
use time::macros::date;

fn table() -> &'static RuleTable {
    RuleTable::builtin().unwrap()
}

fn facts(discovered: Date, residents: &[(&str, u64)]) -> IncidentFacts {
    let mut f = IncidentFacts::discovered_on(discovered);
    f.residents = residents
        .iter()
        .map(|(c, n)| ((*c).to_owned(), *n))
        .collect::<BTreeMap<_, _>>();
    f.categories = Some(cats(&["PERSON", "US_SSN"]));
    f
}

fn cats(names: &[&str]) -> BTreeSet<DataElement> {
    names.iter().map(|n| n.parse().unwrap()).collect()
}

fn find<'a>(
    all: &'a [Obligation],
    jurisdiction: &str,
    audience: Audience,
    recipient: Option<&str>,
) -> &'a Obligation {
    all.iter()
        .find(|o| {
            o.jurisdiction == jurisdiction
                && o.audience == audience
                && recipient.is_none_or(|r| o.recipient.as_deref() == Some(r))
        })
        .unwrap_or_else(|| panic!("no {jurisdiction} {audience:?} {recipient:?} in {all:#?}"))
}

fn run(f: &IncidentFacts) -> Vec<Obligation> {
    obligations(table(), f).unwrap()
}

#[test]
fn the_builtin_table_parses_and_every_us_state_and_territory_has_an_entry() {
    let t = table();
    assert!(t.rules.len() >= 13, "{}", t.rules.len());
    let states = [
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
        "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
        "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
        "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI",
    ];
    for code in states {
        assert!(t.knows_state(code), "{code}");
    }
    assert!(!t.knows_state("XX"));
    for required in [
        "US-CA",
        "US-NY",
        "US-TX",
        "US-WA",
        "US-CO",
        "US-FL",
        "US-AZ",
        "US-ME",
        "EU-GDPR",
        "UK-GDPR",
        "US-NY-DFS",
    ] {
        let rule = t.rules.iter().find(|r| r.jurisdiction == required).unwrap();
        assert_eq!(rule.status, RuleStatus::Confirmed, "{required}");
        assert!(
            !rule.statute.is_empty() && !rule.sources.is_empty(),
            "{required}"
        );
    }
    assert_eq!(
        t.unconfirmed.len(),
        states.len() - 8,
        "every state without a rule is listed as unconfirmed"
    );
}

#[test]
fn a_table_with_overlapping_versions_is_rejected() {
    let text = include_str!("../../data/law/rules.toml").replace(
        "effective_to = \"2025-12-31\"",
        "effective_to = \"2026-01-01\"",
    );
    let err = RuleTable::parse(&text).unwrap_err();
    assert!(
        err.to_string().contains("both in force on 2026-01-01"),
        "{err}"
    );
}

#[test]
fn thresholds_follow_each_statutes_comparator() {
    // (state, residents, regulator, triggered, due from 2026-03-02)
    let cases: [(&str, u64, &str, bool, Option<Date>); 12] = [
        ("CA", 500, "California Attorney General", false, None),
        ("CA", 501, "California Attorney General", true, None),
        ("CO", 499, "Colorado Attorney General", false, None),
        (
            "CO",
            500,
            "Colorado Attorney General",
            true,
            Some(date!(2026 - 04 - 01)),
        ),
        ("TX", 249, "Texas Attorney General", false, None),
        (
            "TX",
            250,
            "Texas Attorney General",
            true,
            Some(date!(2026 - 04 - 01)),
        ),
        ("WA", 500, "Washington Attorney General", false, None),
        (
            "WA",
            501,
            "Washington Attorney General",
            true,
            Some(date!(2026 - 04 - 01)),
        ),
        (
            "FL",
            500,
            "Florida Department of Legal Affairs",
            true,
            Some(date!(2026 - 04 - 01)),
        ),
        ("AZ", 1000, "Arizona Attorney General", false, None),
        (
            "AZ",
            1001,
            "Arizona Attorney General",
            true,
            Some(date!(2026 - 04 - 16)),
        ),
        (
            "NY",
            1,
            "New York State Police",
            true,
            Some(date!(2026 - 04 - 01)),
        ),
    ];
    for (state, n, recipient, triggered, due) in cases {
        let all = run(&facts(date!(2026 - 03 - 02), &[(state, n)]));
        let o = find(
            &all,
            &format!("US-{state}"),
            Audience::Regulator,
            Some(recipient),
        );
        assert_eq!(o.triggered, triggered, "{state}={n}: {o:#?}");
        assert_eq!(o.due, due, "{state}={n}: {o:#?}");
    }
}

#[test]
fn the_california_ag_sample_is_due_fifteen_days_after_consumer_notice() {
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 501)]);
    let all = run(&f);
    let ag = find(&all, "US-CA", Audience::Regulator, None);
    assert_eq!(ag.due, None);
    assert_eq!(
        ag.due_after,
        Some(RelativeDue {
            event: Event::IndividualNoticeSent,
            days: 15
        })
    );
    assert!(
        ag.basis.starts_with("Cal. Civ. Code § 1798.82(f):"),
        "{}",
        ag.basis
    );
    assert!(
        ag.reason
            .contains("more than 500 affected residents met (501)"),
        "{}",
        ag.reason
    );

    f.individual_notice_sent = Some(date!(2026 - 03 - 20));
    let all = run(&f);
    let ag = find(&all, "US-CA", Audience::Regulator, None);
    assert_eq!(ag.due, Some(date!(2026 - 04 - 04)));
    assert_eq!(ag.due_after, None);
}

#[test]
fn a_notice_date_of_one_jurisdiction_dates_only_that_jurisdictions_relative_deadlines() {
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 501), ("TX", 300)]);
    f.individual_notices_sent
        .insert("US-TX".to_owned(), date!(2026 - 03 - 10));
    let ag = find(&run(&f), "US-CA", Audience::Regulator, None).clone();
    assert_eq!(
        ag.due, None,
        "Texas's notice does not start California's clock"
    );
    assert!(ag.due_after.is_some());

    f.individual_notices_sent
        .insert("US-CA".to_owned(), date!(2026 - 03 - 20));
    let ag = find(&run(&f), "US-CA", Audience::Regulator, None).clone();
    assert_eq!(ag.due, Some(date!(2026 - 04 - 04)));
    assert_eq!(ag.due_after, None);

    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["individual_notices_sent"]["US-CA"], "2026-03-20");
    let back: IncidentFacts = serde_json::from_value(json).unwrap();
    assert_eq!(back, f);
}

#[test]
fn a_notice_date_for_an_unknown_jurisdiction_or_before_discovery_is_refused() {
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 10)]);
    f.individual_notices_sent
        .insert("US-ZZ".to_owned(), date!(2026 - 03 - 10));
    assert_eq!(
        f.validate(table()),
        Err(LawError::UnknownJurisdiction("US-ZZ".to_owned()))
    );
    f.individual_notices_sent.clear();
    f.individual_notices_sent
        .insert("US-CA".to_owned(), date!(2026 - 03 - 01));
    assert!(matches!(
        f.validate(table()),
        Err(LawError::DatesOutOfOrder { .. })
    ));
}

#[test]
fn consumer_reporting_agency_thresholds() {
    let cases: [(&str, u64, bool); 8] = [
        ("NY", 5000, false),
        ("NY", 5001, true),
        ("CO", 999, false),
        ("CO", 1000, true),
        ("FL", 1000, false),
        ("FL", 1001, true),
        ("TX", 10000, false),
        ("ME", 1001, true),
    ];
    for (state, n, triggered) in cases {
        let all = run(&facts(date!(2026 - 03 - 02), &[(state, n)]));
        let o = find(
            &all,
            &format!("US-{state}"),
            Audience::ConsumerReportingAgencies,
            None,
        );
        assert_eq!(o.triggered, triggered, "{state}={n}: {o:#?}");
    }
}

#[test]
fn individual_deadlines_count_from_each_rules_clock() {
    let mut f = facts(
        date!(2026 - 03 - 02),
        &[
            ("CA", 1),
            ("NY", 1),
            ("TX", 1),
            ("WA", 1),
            ("CO", 1),
            ("FL", 1),
            ("AZ", 1),
            ("ME", 1),
        ],
    );
    f.determined = Some(date!(2026 - 03 - 10));
    f.aware = Some(date!(2026 - 03 - 05));
    let all = run(&f);
    let cases = [
        ("US-CA", date!(2026 - 04 - 01), "US-CA/2026-01-01"), // discovery + 30
        ("US-NY", date!(2026 - 04 - 01), "US-NY/2024-12-21"), // discovery + 30
        ("US-WA", date!(2026 - 04 - 01), "US-WA/2020-03-01"), // discovery + 30
        ("US-TX", date!(2026 - 05 - 09), "US-TX/2023-09-01"), // determination + 60
        ("US-CO", date!(2026 - 04 - 09), "US-CO/2018-09-01"), // determination + 30
        ("US-FL", date!(2026 - 04 - 09), "US-FL/2014-07-01"), // determination + 30
        ("US-AZ", date!(2026 - 04 - 24), "US-AZ/2018-08-03"), // determination + 45
        ("US-ME", date!(2026 - 04 - 04), "US-ME/2019-09-19"), // awareness + 30
    ];
    for (jurisdiction, due, version) in cases {
        let o = find(&all, jurisdiction, Audience::Individuals, None);
        assert!(o.triggered, "{o:#?}");
        assert_eq!(o.due, Some(due), "{jurisdiction}");
        assert_eq!(o.rule_version, version);
    }
}

#[test]
fn a_california_breach_discovered_before_2026_falls_under_the_expedient_rule() {
    let cases = [
        (date!(2025 - 11 - 20), "US-CA/2022-01-01", None),
        (date!(2025 - 12 - 31), "US-CA/2022-01-01", None),
        (
            date!(2026 - 01 - 01),
            "US-CA/2026-01-01",
            Some(date!(2026 - 01 - 31)),
        ),
    ];
    for (discovered, version, due) in cases {
        let all = run(&facts(discovered, &[("CA", 600)]));
        let o = find(&all, "US-CA", Audience::Individuals, None);
        assert_eq!(o.rule_version, version, "{discovered}");
        assert_eq!(o.due, due, "{discovered}");
        assert!(o.triggered);
        if due.is_none() {
            assert!(o.basis.contains("no fixed deadline"), "{}", o.basis);
            let ag = find(&all, "US-CA", Audience::Regulator, None);
            assert!(ag.triggered);
            assert_eq!((ag.due, ag.due_after), (None, None));
        }
    }
}

#[test]
fn new_york_had_no_day_count_before_december_2024() {
    let all = run(&facts(date!(2024 - 12 - 20), &[("NY", 3)]));
    let o = find(&all, "US-NY", Audience::Individuals, None);
    assert_eq!((o.rule_version.as_str(), o.due), ("US-NY/2019-10-23", None));
    let all = run(&facts(date!(2024 - 12 - 21), &[("NY", 3)]));
    let o = find(&all, "US-NY", Audience::Individuals, None);
    assert_eq!(o.due, Some(date!(2025 - 01 - 20)));
}

#[test]
fn a_law_enforcement_delay_moves_individual_deadlines_and_says_why() {
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 600), ("TX", 300)]);
    f.countries = BTreeMap::from([("DE".to_owned(), 10)]);
    f.law_enforcement_delay_days = 10;
    let all = run(&f);
    let ca = find(&all, "US-CA", Audience::Individuals, None);
    assert_eq!(ca.due, Some(date!(2026 - 04 - 11)));
    let tolling = ca.tolling.as_ref().unwrap();
    assert_eq!(tolling.original_due, date!(2026 - 04 - 01));
    assert_eq!(tolling.days, 10);
    assert!(
        ca.basis.contains("moved from 2026-04-01 to 2026-04-11"),
        "{}",
        ca.basis
    );
    // The Texas AG's 30 days are not tolled by the rule as recorded (earlier reading).
    let tx_ag = find(&all, "US-TX", Audience::Regulator, None);
    assert_eq!(tx_ag.due, Some(date!(2026 - 04 - 01)));
    assert!(tx_ag.tolling.is_none());
    assert!(
        tx_ag.basis.contains("does not move this deadline"),
        "{}",
        tx_ag.basis
    );
    // GDPR has no law-enforcement delay for the 72 hours.
    let gdpr = find(&all, "EU-GDPR", Audience::Regulator, None);
    assert_eq!(gdpr.due, Some(date!(2026 - 03 - 04)));
    assert!(gdpr.tolling.is_none());
}

#[test]
fn the_encryption_safe_harbour_holds_only_while_the_key_is_safe() {
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 600)]);
    f.encryption = Encryption {
        encrypted: true,
        key_compromised: false,
    };
    let all = run(&f);
    let ca = find(&all, "US-CA", Audience::Individuals, None);
    assert!(!ca.triggered);
    assert_eq!(ca.due, None);
    assert!(
        ca.reason.contains("encryption safe harbour"),
        "{}",
        ca.reason
    );
    assert!(!find(&all, "US-CA", Audience::Regulator, None).triggered);

    f.encryption.key_compromised = true;
    let all = run(&f);
    let ca = find(&all, "US-CA", Audience::Individuals, None);
    assert!(ca.triggered);
    assert!(ca.reason.contains("key was also taken"), "{}", ca.reason);
    assert_eq!(ca.due, Some(date!(2026 - 04 - 01)));
}

#[test]
fn california_data_elements_that_do_and_do_not_trigger_notice() {
    let cases: [(&[&str], bool); 16] = [
        (&["EMAIL"], false),
        (&["EMAIL_ADDRESS", "PASSWORD"], true),
        (&["USERNAME", "SECURITY_QA"], true),
        (&["PASSWORD"], false),
        (&["US_SSN"], false),
        (&["PERSON"], false),
        (&["PERSON", "US_SSN"], true),
        (&["PERSON", "US_DRIVER_LICENSE"], true),
        (&["PERSON", "CREDIT_CARD"], false),
        (&["PERSON", "CREDIT_CARD", "CARD_CVV"], true),
        (&["PERSON", "MEDICAL_INFO"], true),
        (&["PERSON", "GENETIC_DATA"], true),
        (&["PERSON", "ALPR_RECORD"], true),
        (&["PERSON", "MILITARY_ID"], true),
        (
            &["PERSON", "PHONE", "STREET_ADDRESS", "DATE_OF_BIRTH"],
            false,
        ),
        (&["PERSON", "IP_ADDRESS"], false),
    ];
    for (names, triggered) in cases {
        let mut f = facts(date!(2026 - 03 - 02), &[("CA", 10)]);
        f.categories = Some(cats(names));
        let all = run(&f);
        let ca = find(&all, "US-CA", Audience::Individuals, None);
        assert_eq!(ca.triggered, triggered, "{names:?}: {}", ca.reason);
    }
}

#[test]
fn the_reason_names_the_elements_or_what_is_missing() {
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 10)]);
    f.categories = Some(cats(&["US_SSN"]));
    let ca = run(&f).into_iter().next().unwrap();
    assert!(ca.reason.contains("without a first name"), "{}", ca.reason);
    f.categories = Some(cats(&["EMAIL", "PASSWORD"]));
    let ca = run(&f).into_iter().next().unwrap();
    assert_eq!(ca.elements, [DataElement::LoginCredentials]);
    f.categories = None;
    let ca = run(&f).into_iter().next().unwrap();
    assert!(ca.triggered);
    assert!(ca.reason.contains("not given"), "{}", ca.reason);
}

#[test]
fn state_definitions_differ_where_the_statutes_differ() {
    // (state, categories, triggered)
    let cases: [(&str, &[&str], bool); 7] = [
        ("TX", &["EMAIL", "PASSWORD"], false), // Texas has no credentials element
        ("TX", &["MEDICAL_INFO"], true),
        ("CO", &["CREDIT_CARD", "CARD_CVV"], true), // account with code, no name needed
        ("CA", &["CREDIT_CARD", "CARD_CVV"], false),
        ("NY", &["PERSON", "CREDIT_CARD"], true), // usable without a code: cautious reading
        ("WA", &["PERSON", "DATE_OF_BIRTH"], true),
        ("FL", &["PERSON", "DATE_OF_BIRTH"], false),
    ];
    for (state, names, triggered) in cases {
        let mut f = facts(date!(2026 - 03 - 02), &[(state, 10)]);
        f.categories = Some(cats(names));
        let all = run(&f);
        let o = find(&all, &format!("US-{state}"), Audience::Individuals, None);
        assert_eq!(o.triggered, triggered, "{state} {names:?}: {}", o.reason);
    }
}

#[test]
fn gdpr_tells_the_authority_within_72_hours_and_people_only_on_high_risk() {
    let mut f = facts(date!(2026 - 03 - 02), &[]);
    f.aware = Some(date!(2026 - 03 - 04));
    f.countries = BTreeMap::from([("DE".to_owned(), 10), ("GB".to_owned(), 2)]);
    f.categories = Some(cats(&["PERSON", "EMAIL"]));
    let all = run(&f);
    let sa = find(&all, "EU-GDPR", Audience::Regulator, None);
    assert!(sa.triggered);
    assert_eq!(sa.due, Some(date!(2026 - 03 - 06)));
    assert!(
        sa.basis.contains("the 72 hours end on 2026-03-07"),
        "{}",
        sa.basis
    );
    assert!(!find(&all, "EU-GDPR", Audience::Individuals, None).triggered);
    let ico = find(&all, "UK-GDPR", Audience::Regulator, None);
    assert_eq!(
        ico.recipient.as_deref(),
        Some("Information Commissioner's Office (ICO)")
    );

    f.categories = Some(cats(&["PERSON", "IBAN"]));
    let all = run(&f);
    let people = find(&all, "EU-GDPR", Audience::Individuals, None);
    assert!(people.triggered, "{}", people.reason);
    assert_eq!(people.due, None);
    assert!(people.basis.contains("without undue delay"));

    // Encrypted with the key safe: Art. 34(3)(a) spares individuals, Art. 33 still applies.
    f.encryption.encrypted = true;
    let all = run(&f);
    assert!(!find(&all, "EU-GDPR", Audience::Individuals, None).triggered);
    assert!(find(&all, "EU-GDPR", Audience::Regulator, None).triggered);
}

#[test]
fn nydfs_applies_only_to_covered_entities() {
    let mut f = facts(date!(2026 - 03 - 02), &[("NY", 1)]);
    assert!(!run(&f).iter().any(|o| o.jurisdiction == "US-NY-DFS"));
    f.nydfs_covered_entity = true;
    f.determined = Some(date!(2026 - 03 - 03));
    f.categories = Some(cats(&["IP_ADDRESS"]));
    let all = run(&f);
    let dfs = find(&all, "US-NY-DFS", Audience::Regulator, None);
    assert!(dfs.triggered);
    assert_eq!(dfs.due, Some(date!(2026 - 03 - 05)));
}

#[test]
fn states_without_a_confirmed_rule_say_so() {
    let all = run(&facts(date!(2026 - 03 - 02), &[("OR", 40)]));
    assert_eq!(all.len(), 1);
    let o = &all[0];
    assert_eq!(o.jurisdiction, "US-OR");
    assert!(o.triggered);
    assert_eq!(o.due, None);
    assert_eq!(o.rule_status, RuleStatus::Unconfirmed);
    assert!(o.basis.contains("UNCONFIRMED"), "{}", o.basis);
    assert!(o.basis.contains("≤45 days"), "{}", o.basis);
}

#[test]
fn obligations_come_earliest_first() {
    let mut f = facts(
        date!(2026 - 03 - 02),
        &[("CA", 600), ("TX", 300), ("NY", 12), ("OR", 1)],
    );
    f.countries = BTreeMap::from([("DE".to_owned(), 10)]);
    let all = run(&f);
    let order: Vec<(&str, Audience, Option<Date>)> = all
        .iter()
        .map(|o| (o.jurisdiction.as_str(), o.audience, o.due))
        .collect();
    assert_eq!(
        order[0],
        ("EU-GDPR", Audience::Regulator, Some(date!(2026 - 03 - 04)))
    );
    let dated: Vec<Date> = all.iter().filter_map(|o| o.due).collect();
    assert!(dated.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    let first_relative = all.iter().position(|o| o.due_after.is_some()).unwrap();
    let last_dated = all.iter().rposition(|o| o.due.is_some()).unwrap();
    assert!(last_dated < first_relative, "{order:?}");
    let last = all.last().unwrap();
    assert!(!last.triggered, "not-owed notices come last: {order:?}");
}

#[test]
fn bad_facts_are_refused() {
    let t = table();
    let f = facts(date!(2026 - 03 - 02), &[("XX", 1)]);
    assert_eq!(
        obligations(t, &f).unwrap_err(),
        LawError::UnknownState("XX".to_owned())
    );
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 1)]);
    f.countries = BTreeMap::from([("US".to_owned(), 1)]);
    assert!(matches!(
        obligations(t, &f).unwrap_err(),
        LawError::UnknownCountry(code, _) if code == "US"
    ));
    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 1)]);
    f.individual_notice_sent = Some(date!(2026 - 03 - 01));
    let err = obligations(t, &f).unwrap_err();
    assert_eq!(
        err.to_string(),
        "individual notice date (2026-03-01) is before discovery date (2026-03-02)"
    );
}

#[test]
fn count_lists_and_dates_parse_strictly() {
    assert_eq!(
        parse_counts("ca=600, TX=300").unwrap(),
        BTreeMap::from([("CA".to_owned(), 600), ("TX".to_owned(), 300)])
    );
    for bad in ["CA=-1", "CA", "CA=six", "CAL=1", "CA=1,CA=2", "", "=5"] {
        assert!(parse_counts(bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_date("2026-02-28").unwrap(), date!(2026 - 02 - 28));
    for bad in ["2026-02-30", "2026/02/01", "26-02-01", "tomorrow"] {
        assert!(parse_date(bad).is_err(), "{bad:?}");
    }
    assert!(parse_categories("US_SSN,NOT_A_THING").is_err());
    assert!(
        parse_categories(" , ").is_err(),
        "an empty list is not \"no personal data\""
    );
    assert_eq!(
        parse_categories("email_address, password_hash").unwrap(),
        cats(&["EMAIL", "PASSWORD"])
    );
}

#[test]
fn classifier_entity_names_are_all_law_elements() {
    for entity in crate::classify::EntityType::ALL {
        let name = serde_json::to_value(entity).unwrap();
        let element: DataElement = name.as_str().unwrap().parse().unwrap();
        assert_eq!(element, DataElement::from(entity));
    }
}

fn california_override(days: u32) -> CounselOverride {
    let mut rule = table()
        .rules
        .iter()
        .find(|r| r.version == "US-CA/2026-01-01")
        .unwrap()
        .clone();
    rule.version = "US-CA/2026-01-01+acme".to_owned();
    if let Some(individuals) = rule.individuals.as_mut() {
        individuals.deadline = Deadline::Days {
            days,
            count: DayCount::Calendar,
        };
    }
    CounselOverride {
        replaces_version: "US-CA/2026-01-01".to_owned(),
        rule,
        note: "Internal policy: notify within 20 days".to_owned(),
        approved_by: "General Counsel".to_owned(),
        approved_on: date!(2026 - 02 - 01),
    }
}

#[test]
fn a_counsel_override_replaces_a_rule_version_and_says_so() {
    let t = table().with_overrides(&[california_override(20)]).unwrap();
    let all = obligations(&t, &facts(date!(2026 - 03 - 02), &[("CA", 10)])).unwrap();
    let ca = find(&all, "US-CA", Audience::Individuals, None);
    assert_eq!(ca.due, Some(date!(2026 - 03 - 22)));
    assert_eq!(ca.rule_version, "US-CA/2026-01-01+acme");
    assert!(
        ca.basis
            .contains("Counsel override of US-CA/2026-01-01 approved by General Counsel"),
        "{}",
        ca.basis
    );
    // The built-in table is unchanged.
    let all = run(&facts(date!(2026 - 03 - 02), &[("CA", 10)]));
    assert_eq!(
        find(&all, "US-CA", Audience::Individuals, None).due,
        Some(date!(2026 - 04 - 01))
    );

    let mut wrong = california_override(20);
    wrong.replaces_version = "US-CA/1999-01-01".to_owned();
    assert!(table().with_overrides(&[wrong]).is_err());
    let mut silent = california_override(20);
    silent.note = " ".to_owned();
    assert!(table().with_overrides(&[silent]).is_err());
}

#[test]
fn rules_and_obligations_round_trip_through_json() {
    let t = table();
    let json = serde_json::to_string(t).unwrap();
    let back: RuleTable = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, t);
    let all = run(&facts(date!(2026 - 03 - 02), &[("CA", 501)]));
    let value = serde_json::to_value(&all).unwrap();
    assert_eq!(value[0]["due"], "2026-04-01");
    assert_eq!(value[0]["audience"], "individuals");
    let back: Vec<Obligation> = serde_json::from_value(value).unwrap();
    assert_eq!(back, all);
}

#[test]
fn exposure_multiplies_the_cppa_amounts_by_california_consumers() {
    let f = facts(date!(2026 - 03 - 02), &[("CA", 600), ("TX", 50)]);
    let e = exposure(table(), &f);
    assert_eq!(e.california_consumers, 600);
    assert_eq!(e.amounts_version.as_deref(), Some("CCPA/2025-01-01"));
    let d = e.statutory_damages.as_ref().unwrap();
    assert!(d.applies);
    assert_eq!((d.total_min_usd, d.total_max_usd), (600 * 107, 600 * 799));
    assert!(!d.min_confirmed);
    let fines = e.administrative_fines.as_ref().unwrap();
    assert_eq!(
        (fines.total_usd, fines.total_intentional_usd),
        (600 * 2663, 600 * 7988)
    );

    let e = exposure(table(), &facts(date!(2024 - 06 - 01), &[("CA", 10)]));
    let d = e.statutory_damages.unwrap();
    assert_eq!((d.per_consumer_min_usd, d.per_consumer_max_usd), (100, 750));

    let mut f = facts(date!(2026 - 03 - 02), &[("CA", 600)]);
    f.encryption.encrypted = true;
    let d = exposure(table(), &f).statutory_damages.unwrap();
    assert!(!d.applies);
    assert_eq!(d.total_max_usd, 0);
}

#[test]
fn a_date_before_every_recorded_version_asks_counsel_for_a_rule() {
    let all = run(&facts(date!(2023 - 08 - 31), &[("TX", 300)]));
    assert_eq!(all.len(), 1);
    assert!(all[0].triggered);
    assert_eq!(all[0].due, None);
    assert!(
        all[0]
            .basis
            .contains("no version of the US-TX rule in the table is in force on 2023-08-31"),
        "{}",
        all[0].basis
    );
}

proptest::proptest! {
    #[test]
    fn count_lists_never_panic_and_round_trip(
        text in "\\PC{0,40}",
        counts in proptest::collection::btree_map("[A-Z]{2}", 0u64..10_000_000, 1..6),
    ) {
        let _ = parse_counts(&text);
        let formatted: Vec<String> = counts.iter().map(|(c, n)| format!("{c}={n}")).collect();
        proptest::prop_assert_eq!(parse_counts(&formatted.join(",")).unwrap(), counts);
    }
}
