//! Whole values: a structured field or a `key=value` pair whose key says what the value is (a
//! name, a user name, a password, a street line) is taken whole rather than pattern by pattern.

use super::names::is_name_stopword;
use super::{Found, NamePart};
use crate::classify::EntityType;
use crate::classify::context::{Hint, KeywordHit, field_hint};
use crate::classify::{dict, validate};

const PLACEHOLDERS: &[&str] = &[
    "null",
    "none",
    "nil",
    "n/a",
    "na",
    "redacted",
    "[redacted]",
    "<redacted>",
    "[filtered]",
    "filtered",
    "hidden",
    "xxx",
    "xxxx",
    "-",
    "unknown",
    "undefined",
    "true",
    "false",
];

fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDERS.contains(&lower.as_str())
        || value
            .chars()
            .all(|c| matches!(c, '*' | 'x' | 'X' | '•' | '#' | '.' | '-'))
}

fn looks_like_name(value: &str, max_words: usize) -> bool {
    let words: Vec<&str> = value.split_whitespace().collect();
    !words.is_empty()
        && words.len() <= max_words
        && value.chars().count() <= 60
        && value.chars().any(char::is_alphabetic)
        && value
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.' | ','))
}

/// Classifies a value whose field name already says what it is. Offsets are within `value`.
pub(super) fn whole_value(value: &str, hint: Hint) -> Option<Found> {
    if value.is_empty() || is_placeholder(value) {
        return None;
    }
    let end = value.len();
    let name = |part: NamePart, score: f32| Found {
        name_part: part,
        from_key: true,
        ..Found::new(0, end, EntityType::Person, score)
    };
    let keyed = |entity_type: EntityType, score: f32| Found {
        from_key: true,
        ..Found::new(0, end, entity_type, score)
    };
    match hint {
        Hint::Username => {
            if value.chars().any(char::is_whitespace) || value.chars().count() > 64 {
                return None;
            }
            if value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            if value.contains('@') && value.contains('.') {
                return Some(keyed(EntityType::Email, 0.95));
            }
            Some(keyed(EntityType::Username, 0.85))
        }
        Hint::Password => {
            if value.chars().count() > 256 {
                return None;
            }
            Some(Found {
                hash_algorithm: validate::password_hash_scheme(value),
                ..keyed(EntityType::Password, 0.9)
            })
        }
        Hint::GivenName | Hint::FamilyName => {
            if !looks_like_name(value, 3) {
                return None;
            }
            // "John Q" in a first-name field is still only a first name.
            let part = if hint == Hint::GivenName {
                NamePart::Given
            } else {
                NamePart::Family
            };
            Some(name(part, 0.9))
        }
        Hint::FullName => {
            if !looks_like_name(value, 5) {
                return None;
            }
            let part = if value.split_whitespace().count() >= 2 {
                NamePart::Full
            } else {
                NamePart::Given
            };
            Some(name(part, 0.9))
        }
        Hint::MaybeName => {
            if !looks_like_name(value, 4) {
                return None;
            }
            let words: Vec<&str> = value.split_whitespace().collect();
            let capitalised = words
                .iter()
                .all(|w| w.chars().next().is_some_and(char::is_uppercase));
            let first = words.first().copied().unwrap_or("");
            let last = words.last().copied().unwrap_or("");
            if words.len() >= 2
                && capitalised
                && (dict::is_given_name(first) || dict::is_surname(last))
            {
                return Some(name(NamePart::Full, 0.85));
            }
            None
        }
        Hint::Street => {
            let has_digit = value.bytes().any(|b| b.is_ascii_digit());
            let has_alpha = value.chars().any(char::is_alphabetic);
            let lower = value.to_ascii_lowercase();
            let po_box = lower.contains("box");
            if (has_digit && has_alpha || po_box) && value.chars().count() <= 200 {
                return Some(keyed(EntityType::StreetAddress, 0.9));
            }
            None
        }
        Hint::StreetUnit => {
            let lower = value.to_ascii_lowercase();
            let unit = [
                "apt",
                "apartment",
                "suite",
                "ste",
                "unit",
                "#",
                "floor",
                "fl",
                "bldg",
                "building",
                "room",
                "rm",
                "po box",
                "p.o. box",
            ];
            if unit.iter().any(|u| lower.starts_with(u))
                && value.bytes().any(|b| b.is_ascii_digit())
                && value.chars().count() <= 60
            {
                return Some(keyed(EntityType::StreetAddress, 0.8));
            }
            None
        }
        _ => None,
    }
}

/// `key=value`, `key: value` and `"key": "value"` pairs whose key says the whole value matters
/// (names, user names, passwords, street lines).
pub(super) fn scan_key_values(text: &str, hits: &[KeywordHit], found: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    for hit in hits.iter().filter(|h| h.hint.takes_whole_value()) {
        let mut pos = hit.end;
        // The rest of a compound key: `first_name`, `address1`, `user.name`.
        while pos < bytes.len()
            && (bytes[pos].is_ascii_alphanumeric() || b"_-.".contains(&bytes[pos]))
        {
            pos += 1;
        }
        let key_words: String = text.get(hit.start..pos).unwrap_or("").to_owned();
        let hint = field_hint(&key_words, None)
            .filter(|h| h.takes_whole_value())
            .unwrap_or(hit.hint);
        if pos < bytes.len() && (bytes[pos] == b'"' || bytes[pos] == b'\'') {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == b' ' {
            pos += 1;
        }
        let separator_ok = if pos < bytes.len() && (bytes[pos] == b'=' || bytes[pos] == b':') {
            pos += 1;
            true
        } else if hint == Hint::Password && text.get(pos..pos + 3) == Some("is ") {
            pos += 3;
            true
        } else {
            false
        };
        if !separator_ok {
            continue;
        }
        while pos < bytes.len() && bytes[pos] == b' ' {
            pos += 1;
        }
        let quote = bytes
            .get(pos)
            .copied()
            .filter(|b| *b == b'"' || *b == b'\'');
        if quote.is_some() {
            pos += 1;
        }
        let start = pos;
        let mut end = pos;
        let limit = (start + 256).min(bytes.len());
        while end < limit {
            let b = bytes[end];
            let stop = match quote {
                Some(q) => b == q || b == b'\n',
                None => match hint {
                    Hint::Password => b.is_ascii_whitespace() || b == b'"' || b == b'\'',
                    Hint::Username => b.is_ascii_whitespace() || b",;|&\"'}]".contains(&b),
                    _ => b"\n,;|&\"}]=".contains(&b),
                },
            };
            if stop {
                break;
            }
            end += 1;
        }
        if quote.is_none() && end < bytes.len() && bytes[end] == b'=' {
            // `name=John Smith email=...`: the last word before `=` is the next key.
            while end > start && bytes[end - 1] != b' ' {
                end -= 1;
            }
        }
        if !text.is_char_boundary(end) {
            continue;
        }
        let Some(raw) = text.get(start..end) else {
            continue;
        };
        let value = raw.trim_end();
        let value = value.strip_suffix('.').unwrap_or(value);
        if is_name_hint(hint) && !plausible_name_in_text(value) {
            continue;
        }
        if let Some(mut whole) = whole_value(value, hint) {
            whole.start += start;
            whole.end += start;
            found.push(whole);
        }
    }
}

fn is_name_hint(hint: Hint) -> bool {
    matches!(
        hint,
        Hint::GivenName | Hint::FamilyName | Hint::FullName | Hint::MaybeName
    )
}

/// In prose a `Name: …` value must look like a name: capitalised words, not a greeting.
fn plausible_name_in_text(value: &str) -> bool {
    let mut words = value.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    !is_name_stopword(first.trim_end_matches([',', '.']))
        && std::iter::once(first)
            .chain(words)
            .all(|w| w.chars().next().is_some_and(char::is_uppercase))
}
