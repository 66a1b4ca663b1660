//! Property tests of the parsers and the privacy pass on generated input.
//!
//! The masking properties are stated both ways, so that a mask that lets everything through
//! and a mask that refuses everything both fail: statements whose literals the fingerprint
//! removes must keep their fingerprint, statements whose literal survives the fingerprint
//! must be refused, and no generated secret may reach a shipped record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use agent::inspect::records_for;
use agent::parse::ParserOptions;
use agent::records::mask_detail;
use agent::sql::{fingerprint, passes_mask};
use leakguard_domain::agent_wire::{Record, SourceKind};
use proptest::prelude::*;

const KINDS: [SourceKind; 6] = [
    SourceKind::MariadbSlow,
    SourceKind::MariadbGeneral,
    SourceKind::MariadbAudit,
    SourceKind::MagentoAdmin,
    SourceKind::Monolog,
    SourceKind::Nginx,
];

/// A secret-looking literal. The `zq` prefix keeps a generated word from matching a JSON key
/// or keyword by chance.
#[derive(Debug, Clone)]
enum Secret {
    Email(String),
    Digits(String),
    Name(String),
}

impl Secret {
    fn text(&self) -> &str {
        match self {
            Secret::Email(text) | Secret::Digits(text) | Secret::Name(text) => text,
        }
    }

    /// Lower-case pieces of which none may appear in shipped output.
    fn parts(&self) -> Vec<String> {
        match self {
            Secret::Digits(text) => vec![text.clone()],
            Secret::Email(text) | Secret::Name(text) => text
                .split([' ', '@'])
                .map(str::to_ascii_lowercase)
                .collect(),
        }
    }
}

fn secret() -> impl Strategy<Value = Secret> {
    prop_oneof![
        "zq[a-z]{3,8}\\.[a-z]{3,8}@zq[a-z]{4,8}\\.(com|org|de)".prop_map(Secret::Email),
        "[1-9][0-9]{11,15}".prop_map(Secret::Digits),
        "Zq[a-z]{4,9} Zq[a-z]{4,9}".prop_map(Secret::Name),
    ]
}

/// Statements whose literal the fingerprint removes (terminated strings, closed comments).
fn clean_statement(secret: &str, shape: usize) -> String {
    match shape % 7 {
        0 => format!("SELECT * FROM customer_entity WHERE email = '{secret}'"),
        1 => format!("INSERT INTO t (a, b) VALUES (1, \"{secret}\"), (2, 'x')"),
        2 => format!("UPDATE customer_entity SET firstname = 'it''s {secret}' WHERE entity_id = 5"),
        3 => format!("SELECT 1 /* {secret} */"),
        4 => format!("SELECT * FROM t WHERE note = 'x\\' {secret}'"),
        5 => format!("CREATE USER 'u'@'%' IDENTIFIED BY '{secret}'"),
        _ => format!("SELECT * FROM t WHERE a = 1 -- {secret}"),
    }
}

/// Statements whose literal survives the fingerprint: only the mask stands in the way.
fn leaky_statement(secret: &Secret, shape: usize) -> String {
    let text = secret.text();
    match shape % 5 {
        0 => format!("SELECT * FROM t WHERE a = '{text}"),
        1 => format!("SELECT * FROM t WHERE a = \"{text}"),
        2 => format!("SELECT 1 /* {text}"),
        3 => format!("SELECT 1 # {text} 'x"),
        // A bare e-mail address; other secrets go into an unterminated string.
        _ => match secret {
            Secret::Email(text) => format!("SELECT * FROM t WHERE email = {text}"),
            _ => format!("SELECT * FROM t WHERE a = 'Zoë {text}"),
        },
    }
}

fn general_log(statements: &[String]) -> String {
    let mut log = String::from(
        "261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n",
    );
    for statement in statements {
        log.push_str(&format!("\t\t    10 Query\t{statement}\n"));
    }
    log
}

fn sql_aggregates(records: &[Record]) -> Vec<(bool, Option<String>)> {
    records
        .iter()
        .filter_map(|record| match record {
            Record::SqlAggregate(a) => Some((a.masked, a.fingerprint.clone())),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), kind in 0usize..6) {
        let _ = records_for(KINDS[kind], &bytes, &ParserOptions::default(), 512);
    }

    #[test]
    fn a_removed_literal_leaves_a_fingerprint_that_passes_and_holds_no_secret(secret in secret(), shape in 0usize..7) {
        let sql = clean_statement(secret.text(), shape);
        let fingerprint = fingerprint(sql.as_bytes());
        prop_assert!(passes_mask(fingerprint.as_bytes()), "refused: {sql} -> {fingerprint}");
        for part in secret.parts() {
            prop_assert!(!fingerprint.contains(&part), "{part} in {sql} -> {fingerprint}");
        }
    }

    #[test]
    fn a_literal_that_survives_the_fingerprint_is_refused_by_the_mask(secret in secret(), shape in 0usize..5) {
        let sql = leaky_statement(&secret, shape);
        let fingerprint = fingerprint(sql.as_bytes());
        // Letters survive the fingerprint here (digits become `?` even inside a broken
        // string), so the mask is all that keeps them from leaving the host.
        if !matches!(secret, Secret::Digits(_)) {
            let first = secret.text().split([' ', '.', '@']).next().unwrap().to_ascii_lowercase();
            prop_assert!(fingerprint.contains(&first), "{sql} -> {fingerprint}");
        }
        prop_assert!(!passes_mask(fingerprint.as_bytes()), "passed: {sql} -> {fingerprint}");
    }

    #[test]
    fn no_literal_reaches_the_records_of_a_general_log(
        statements in proptest::collection::vec((secret(), any::<bool>(), 0usize..7), 1..20),
    ) {
        let sql: Vec<String> = statements
            .iter()
            .map(|(secret, leaky, shape)| {
                if *leaky { leaky_statement(secret, *shape) } else { clean_statement(secret.text(), *shape) }
            })
            .collect();
        let records = records_for(SourceKind::MariadbGeneral, general_log(&sql).as_bytes(), &ParserOptions::default(), 1 << 20);
        let json = serde_json::to_string(&records).unwrap().to_ascii_lowercase();
        for (secret, _, _) in &statements {
            for part in secret.parts() {
                prop_assert!(!json.contains(&part), "{part} in {json}");
            }
        }
        // Clean statements ship their fingerprint, leaky ones only their query id.
        let aggregates = sql_aggregates(&records);
        let any_clean = statements.iter().any(|(_, leaky, _)| !leaky);
        let any_leaky = statements.iter().any(|(_, leaky, _)| *leaky);
        prop_assert_eq!(aggregates.iter().any(|(masked, _)| !masked), any_clean, "{}", json);
        prop_assert_eq!(aggregates.iter().any(|(masked, _)| *masked), any_leaky, "{}", json);
        prop_assert!(aggregates.iter().all(|(masked, fingerprint)| *masked == fingerprint.is_none()));
    }

    #[test]
    fn detail_values_keep_clean_tokens_and_mask_secrets(secret in secret(), token in "[a-z_]{1,24}") {
        prop_assert_eq!(mask_detail("namespace", &serde_json::json!(token)), serde_json::json!(token));
        let masked = mask_detail("namespace", &serde_json::json!(secret.text()));
        prop_assert_eq!(masked, serde_json::json!("[masked]"), "{:?}", secret);
    }
}
