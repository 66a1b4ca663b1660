//! The agent's masking helpers: routes, detail values and tokens. Masked output keeps the
//! shape of the input, passes the masking check and never carries an e-mail address.
#![no_main]

use agent::parse::mask_route;
use agent::records::{mask_detail, safe_token};
use agent::sql;
use leakguard_fuzz_agent::{assert_json_shippable, assert_safe_token};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let route = mask_route(&text);
    assert_eq!(
        route.split('/').count(),
        text.split('/').count(),
        "masking changed the number of path segments"
    );
    for (masked, original) in route.split('/').zip(text.split('/')) {
        assert!(
            masked == "?" || masked == original,
            "segment {original:?} became {masked:?}"
        );
        assert!(!masked.contains('@'), "an @ survived in {masked:?}");
        assert!(
            !masked.bytes().any(|b| b.is_ascii_digit()),
            "a digit survived in {masked:?}"
        );
    }
    assert!(
        route
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./?".contains(&b)),
        "route {route:?} has unexpected characters"
    );
    assert!(
        sql::passes_mask(route.as_bytes()),
        "masked route {route:?} fails the masking check"
    );

    let max = data.first().map_or(0, |&b| usize::from(b));
    let token = safe_token(&text, max);
    assert_safe_token(&token, "token");
    assert!(
        token == "?" || (token == text && token.len() <= max),
        "safe_token changed its input"
    );

    // Detail values: the text as a JSON document when it is one, else as a string.
    let (key, body) = text.split_once('\u{0}').unwrap_or(("detail", &text));
    let value = serde_json::from_str::<Value>(body).unwrap_or_else(|_| Value::from(body));
    let masked = mask_detail(key, &value);
    assert_json_shippable(&masked, "masked detail");
    assert_string_leaves_short(&masked);
});

fn assert_string_leaves_short(value: &Value) {
    match value {
        Value::String(s) => assert!(s.len() <= 64, "a long string survived masking"),
        Value::Array(items) => {
            assert!(items.len() <= 50, "more than 50 items survived masking");
            items.iter().for_each(assert_string_leaves_short);
        }
        Value::Object(map) => {
            assert!(map.len() <= 50, "more than 50 keys survived masking");
            for (key, v) in map {
                assert_safe_token(key, "detail key");
                assert_string_leaves_short(v);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
