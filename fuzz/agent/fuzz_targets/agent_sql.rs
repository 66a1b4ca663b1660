//! SQL on the host: fingerprint, query id, tables, classification and sqlcommenter
//! attributes. A fingerprint that passes the masking check never carries a literal planted in
//! the statement, a reused fingerprinter gives what a fresh one gives, and table names are
//! clean, sorted and unique.
#![no_main]

use std::sync::Mutex;

use agent::sql::{self, Fingerprinter};
use leakguard_fuzz_agent::{
    PLANTED_CARD, PLANTED_EMAIL, assert_query_id, assert_shippable, leaks_planted,
};
use libfuzzer_sys::fuzz_target;

static REUSED: Mutex<Option<Fingerprinter>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // Plant a quoted e-mail or a bare card number at a place the fuzzer picks.
    let check_planted = !leaks_planted(&String::from_utf8_lossy(rest));
    let at = usize::from(selector).min(rest.len());
    let mut query = rest[..at].to_vec();
    if selector & 1 == 0 {
        query.extend_from_slice(format!("'{PLANTED_EMAIL}'").as_bytes());
    } else {
        query.extend_from_slice(PLANTED_CARD.as_bytes());
    }
    query.extend_from_slice(&rest[at..]);

    for q in [rest, &query[..]] {
        let fresh = Fingerprinter::new().fingerprint(q).to_vec();
        let reused = {
            let mut guard = REUSED.lock().unwrap_or_else(|e| e.into_inner());
            guard
                .get_or_insert_with(Fingerprinter::new)
                .fingerprint(q)
                .to_vec()
        };
        assert_eq!(
            fresh, reused,
            "a reused fingerprinter disagrees with a fresh one"
        );
        assert_eq!(
            sql::fingerprint(q),
            String::from_utf8_lossy(&fresh),
            "the String form disagrees"
        );
        assert_query_id(&sql::query_id(&fresh));
        let shippable = sql::passes_mask(&fresh);
        if shippable && check_planted && q.len() != rest.len() {
            let text = String::from_utf8_lossy(&fresh);
            assert!(
                !leaks_planted(&text),
                "a planted literal survived the fingerprint: {text:?}"
            );
        }
        let tables = sql::tables(&fresh);
        assert!(tables.len() <= 16, "more than 16 tables");
        assert!(
            tables.windows(2).all(|w| w[0] < w[1]),
            "tables not sorted and unique: {tables:?}"
        );
        if shippable {
            for table in &tables {
                assert!(!table.is_empty(), "an empty table name");
                assert_shippable(table, "table");
            }
        }
        let _ = sql::classify(q, &fresh);
        let mut redacted = fresh.clone();
        sql::redact_account_fingerprint(&mut redacted);
        assert!(
            redacted.len() <= fresh.len() + 2,
            "redaction grew the fingerprint"
        );

        let attributes = sql::comment_attributes(q);
        for digits in [&attributes.admin_user_id, &attributes.integration_id]
            .into_iter()
            .flatten()
        {
            assert!(
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
                "id {digits:?}"
            );
        }
        if let Some(route) = &attributes.route {
            assert!(
                route.len() <= 128
                    && route
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_./:-".contains(&b)),
                "route {route:?}"
            );
        }
        if let Some(request) = &attributes.request_id {
            assert!(
                request.len() <= 64
                    && request
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)),
                "request id {request:?}"
            );
        }
    }
});
