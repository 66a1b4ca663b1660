//! Identifiers found by their own shape: email addresses, IBANs (cut at the country's length and
//! checksummed), IPv6 addresses, and letter-prefixed passport numbers (only next to their
//! keyword).

use super::{Context, Found, Patterns, is_word_byte, standalone};
use crate::classify::EntityType;
use crate::classify::context::Hint;
use crate::classify::validate;
use std::net::Ipv6Addr;

const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js", "ico",
];

pub(super) fn scan_emails(text: &str, patterns: &Patterns, found: &mut Vec<Found>) {
    for m in patterns.email.find_iter(text) {
        let (mut start, end) = (m.start(), m.end());
        let bytes = text.as_bytes();
        while start < end && matches!(bytes[start], b'.' | b'-') {
            start += 1;
        }
        let tld = m
            .as_str()
            .rsplit('.')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if FILE_EXTENSIONS.contains(&tld.as_str()) {
            continue;
        }
        if end < bytes.len() && is_word_byte(bytes[end]) {
            continue;
        }
        found.push(Found::new(start, end, EntityType::Email, 0.95));
    }
}

pub(super) fn scan_ibans(text: &str, patterns: &Patterns, found: &mut Vec<Found>) {
    for m in patterns.iban.find_iter(text) {
        if m.start() > 0 && is_word_byte(text.as_bytes()[m.start() - 1]) {
            continue;
        }
        let Some(expected) = text
            .get(m.start()..m.start() + 2)
            .and_then(validate::iban_length)
        else {
            continue;
        };
        // Cut the match where the compact form reaches the registered length.
        let mut compact = String::with_capacity(expected);
        let mut end = m.start();
        for (idx, ch) in m.as_str().char_indices() {
            if ch != ' ' {
                compact.push(ch);
            }
            if compact.len() == expected {
                end = m.start() + idx + ch.len_utf8();
                break;
            }
        }
        if compact.len() == expected
            && validate::iban(&compact)
            && (end >= text.len() || !is_word_byte(text.as_bytes()[end]))
        {
            found.push(Found::new(m.start(), end, EntityType::Iban, 0.95));
        }
    }
}

pub(super) fn scan_ipv6(text: &str, patterns: &Patterns, found: &mut Vec<Found>) {
    for m in patterns.ipv6.find_iter(text) {
        let candidate = m.as_str();
        if candidate.len() < 3 || !standalone(text, m.start(), m.end()) {
            continue;
        }
        if candidate.parse::<Ipv6Addr>().is_ok() {
            found.push(Found::new(m.start(), m.end(), EntityType::IpAddress, 0.9));
        }
    }
}

/// Letter-prefixed passport numbers (`A12345678`), only next to their keyword. Driver's licence
/// numbers have their own scanner ([`super::licenses`]).
pub(super) fn scan_alnum_ids(
    text: &str,
    patterns: &Patterns,
    ctx: &Context,
    found: &mut Vec<Found>,
) {
    for m in patterns.alnum_id.find_iter(text) {
        if !standalone(text, m.start(), m.end()) {
            continue;
        }
        let value = m.as_str().trim_end_matches('-');
        let n_digits = value.bytes().filter(u8::is_ascii_digit).count();
        if ctx.at(m.start()) == Some(Hint::Passport) && n_digits == 8 && value.len() == 9 {
            found.push(Found::new(
                m.start(),
                m.start() + value.len(),
                EntityType::UsPassport,
                0.85,
            ));
        }
    }
}
