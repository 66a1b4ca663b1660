//! Property tests of the parsers and the privacy pass on generated input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use agent::inspect::records_for;
use agent::parse::ParserOptions;
use agent::sql::{fingerprint, passes_mask};
use leakguard_domain::agent_wire::SourceKind;
use proptest::prelude::*;

const KINDS: [SourceKind; 6] = [
    SourceKind::MariadbSlow,
    SourceKind::MariadbGeneral,
    SourceKind::MariadbAudit,
    SourceKind::MagentoAdmin,
    SourceKind::Monolog,
    SourceKind::Nginx,
];

/// A secret-looking literal: an e-mail, a long digit run, or a capitalised name. The `zq`
/// prefix keeps a generated word from matching a JSON key or keyword by chance.
fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        "zq[a-z]{3,8}\\.[a-z]{3,8}@zq[a-z]{4,8}\\.(com|org|de)",
        "[1-9][0-9]{11,15}",
        "Zq[a-z]{4,9} Zq[a-z]{4,9}",
    ]
}

fn statement(secret: &str, shape: usize) -> String {
    match shape % 8 {
        0 => format!("SELECT * FROM customer_entity WHERE email = '{secret}'"),
        1 => format!("INSERT INTO t (a, b) VALUES (1, \"{secret}\"), (2, 'x')"),
        2 => format!("UPDATE customer_entity SET firstname = 'it''s {secret}' WHERE entity_id = 5"),
        3 => format!("SELECT 1 /* {secret} */"),
        4 => format!("SELECT * FROM t WHERE note = 'x\\' {secret}'"),
        5 => format!("SELECT * FROM t WHERE a = '{secret}"),
        6 => format!("CREATE USER 'u'@'%' IDENTIFIED BY '{secret}'"),
        _ => format!("SELECT * FROM t WHERE a = 1 -- {secret}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), kind in 0usize..6) {
        let _ = records_for(KINDS[kind], &bytes, &ParserOptions::default(), 512);
    }

    #[test]
    fn a_literal_never_survives_into_a_shipped_fingerprint(secret in secret(), shape in 0usize..8) {
        let sql = statement(&secret, shape);
        let fingerprint = fingerprint(sql.as_bytes());
        if passes_mask(fingerprint.as_bytes()) {
            let digits: String = secret.chars().filter(char::is_ascii_digit).collect();
            prop_assert!(!fingerprint.contains(&secret.to_ascii_lowercase()), "{sql} -> {fingerprint}");
            prop_assert!(digits.len() < 6 || !fingerprint.contains(&digits), "{sql} -> {fingerprint}");
            let first_word = secret.split([' ', '.', '@']).next().unwrap().to_ascii_lowercase();
            prop_assert!(!fingerprint.contains(&first_word), "{sql} -> {fingerprint}");
        }
    }

    #[test]
    fn no_literal_reaches_the_records_of_a_general_log(secrets in proptest::collection::vec((secret(), 0usize..8), 1..20)) {
        let mut log = String::from("261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n");
        for (secret, shape) in &secrets {
            log.push_str(&format!("\t\t    10 Query\t{}\n", statement(secret, *shape)));
        }
        let records = records_for(SourceKind::MariadbGeneral, log.as_bytes(), &ParserOptions::default(), 1 << 20);
        let json = serde_json::to_string(&records).unwrap().to_ascii_lowercase();
        for (secret, _) in &secrets {
            for part in secret.split([' ', '@']) {
                prop_assert!(!json.contains(&part.to_ascii_lowercase()), "{part} in {json}");
            }
        }
    }
}
