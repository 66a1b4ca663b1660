//! The PII classifier on free text, on JSON records and on JSON lines: never panics, findings
//! are ordered, do not overlap, lie inside the text they point to, score at least 0.5, and a
//! record's findings name a field that holds a string.
#![no_main]

use leakguard_domain::classify::{self, Classification};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn check(classification: &Classification, text_of: impl Fn(Option<&str>) -> Option<String>) {
    let mut previous: Option<(Option<&str>, usize)> = None;
    for entity in &classification.entities {
        assert!(
            entity.start < entity.end,
            "empty or reversed finding {entity:?}"
        );
        assert!(
            (0.5..=1.0).contains(&entity.score),
            "score out of range {entity:?}"
        );
        let Some(text) = text_of(entity.field.as_deref()) else {
            panic!("finding {entity:?} points at no string");
        };
        assert!(
            entity.end <= text.chars().count(),
            "finding {entity:?} ends past its text"
        );
        if let Some((field, end)) = previous
            && field == entity.field.as_deref()
        {
            assert!(
                entity.start >= end,
                "findings overlap or are out of order: {entity:?}"
            );
        }
        previous = Some((entity.field.as_deref(), entity.end));
    }
    for diagnostic in &classification.diagnostics {
        assert!(!diagnostic.code.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let classification = classify::classify_text(&text);
            check(&classification, |field| {
                field.is_none().then(|| text.to_string())
            });
        }
        1 => {
            let Ok(record) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            let classification = classify::classify_record(&record);
            check(&classification, |field| {
                // Numbers are read as their JSON text (card numbers arrive as numbers).
                match record.pointer(field?)? {
                    Value::String(text) => Some(text.clone()),
                    Value::Number(number) => Some(number.to_string()),
                    _ => None,
                }
            });
        }
        _ => {
            let mut output = Vec::new();
            let stats = classify::run_jsonl(rest, &mut output, &mut |_| {});
            if stats.is_ok() {
                for line in output.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    assert!(
                        serde_json::from_slice::<Value>(line).is_ok(),
                        "an output line is not JSON"
                    );
                }
            }
        }
    }
});
