//! Masking of free text and JSON values before they leave the host: detail values, tokens
//! and application log templates.
//!
//! Fail-closed like [`crate::sql::passes_mask`]: a value passes only when it is short and
//! clean; anything else becomes `"[masked]"` or `?`. It does no I/O.

use crate::sql;

/// A short token of `[A-Za-z0-9_.-]`, else `?`.
pub fn safe_token(value: &str, max: usize) -> String {
    if !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        value.to_owned()
    } else {
        "?".to_owned()
    }
}

/// Application log messages are free text: a template is shipped only when no word could be
/// a name. Capitalised words after the first (`John Smith`) make it unsafe; class names
/// (`Magento\Customer\Model`, `RuntimeException`) and identifiers (`sales_clean_quotes`) are
/// fine.
pub(crate) fn words_are_safe(line: &[u8]) -> bool {
    let text = match line.iter().position(|&b| b == b'{' || b == b'[') {
        Some(end) => &line[..end],
        None => line,
    };
    if !text.is_ascii() {
        return false;
    }
    let is_word_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\\');
    let mut i = 0;
    let mut sentence_start = true;
    while i < text.len() {
        if !is_word_byte(text[i]) {
            if matches!(text[i], b':' | b'.' | b'!' | b'?') {
                sentence_start = true;
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && is_word_byte(text[i]) {
            i += 1;
        }
        let word = &text[start..i];
        let first_upper = word[0].is_ascii_uppercase();
        let code_like = word[1..].iter().any(u8::is_ascii_uppercase)
            || word.iter().any(|&b| matches!(b, b'_' | b'\\'))
            || text
                .get(i)
                .is_some_and(|&b| b == b':' && text.get(i + 1) == Some(&b':'));
        if first_upper && !sentence_start && !code_like {
            return false;
        }
        sentence_start = false;
    }
    true
}

/// A key of a details object: a [`safe_token`] that also passes the masking check (a key can
/// be a phone or card number: no run of six digits), else `?`.
pub fn detail_key(key: &str) -> String {
    let token = safe_token(key, 64);
    if sql::passes_mask(token.as_bytes()) {
        token
    } else {
        "?".to_owned()
    }
}

/// Masks a JSON value from a details object: numbers and booleans pass, strings pass when
/// short and clean, anything else becomes `"[masked]"`. Keys that name secrets or personal
/// fields are always masked.
pub fn mask_detail(key: &str, value: &serde_json::Value) -> serde_json::Value {
    const SECRET_KEYS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "key",
        "email",
        "mail",
        "name",
        "firstname",
        "lastname",
        "phone",
        "telephone",
        "address",
        "street",
        "city",
        "postcode",
        "zip",
        "card",
        "cc",
        "dob",
        "taxvat",
        "comment",
        "note",
        "value",
        "filter",
        "search",
        "query",
    ];
    let lower = key.to_ascii_lowercase();
    let masked = serde_json::Value::from("[masked]");
    if SECRET_KEYS
        .iter()
        .any(|s| lower == *s || lower.split(['_', '-', '.']).any(|segment| segment == *s))
    {
        return masked;
    }
    match value {
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
            value.clone()
        }
        serde_json::Value::String(text) => {
            let safe = text.len() <= 64
                && text.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/' | b':')
                })
                && text.bytes().filter(u8::is_ascii_digit).nth(5).is_none()
                && sql::passes_mask(text.as_bytes());
            if safe { value.clone() } else { masked }
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .take(50)
                .map(|item| mask_detail(key, item))
                .collect(),
        ),
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .take(50)
                .map(|(k, v)| (detail_key(k), mask_detail(k, v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_with_personal_data_are_masked() {
        let value = serde_json::json!({"namespace": "customer_listing", "email": "a@b.c", "note": "x", "rows": 12, "who": "Jane Doe"});
        let masked = mask_detail("details", &value);
        assert_eq!(masked["namespace"], "customer_listing");
        assert_eq!(masked["email"], "[masked]");
        assert_eq!(masked["rows"], 12);
        assert_eq!(masked["who"], "[masked]");
    }

    #[test]
    fn a_detail_key_that_holds_a_number_is_masked() {
        // Found by the agent_masking fuzz target: keys went through the character check only.
        let value = serde_json::json!({"n222222222": {"deep": "x"}, "ids": [1, 2], "row_12345": 1});
        let masked = mask_detail("details", &value);
        assert_eq!(
            masked,
            serde_json::json!({"?": {"deep": "x"}, "ids": [1, 2], "row_12345": 1})
        );
        assert_eq!(detail_key("4111111111111111"), "?");
        assert_eq!(detail_key("order-12345"), "order-12345");
    }

    #[test]
    fn templates_with_possible_names_are_withheld() {
        assert!(words_are_safe(b"Cron job sales_clean_quotes is run"));
        assert!(!words_are_safe(b"Customer John Smith logged in"));
        assert!(words_are_safe(
            b"RuntimeException: No such entity with customerId = 42 in /srv/x.php:17"
        ));
    }
}
