//! Identifiers found by their own shape: email addresses, IBANs (cut at the country's length and
//! checksummed), IPv6 addresses, and letter-prefixed driver's licence and passport numbers (only
//! next to their keyword, and fitting the named state's format).

use super::{Context, Found, Patterns, is_word_byte, standalone};
use crate::classify::EntityType;
use crate::classify::context::Hint;
use crate::classify::{dict, validate};
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

/// Letter-prefixed ids: state driver's licences (CA `A1234567`, FL `A123-456-78-901-0`, WA
/// `WDL…`) and passports (`A12345678`), only next to their keyword.
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
        match ctx.at(m.start()) {
            Some(Hint::Passport) if n_digits == 8 && value.len() == 9 => {
                found.push(Found::new(
                    m.start(),
                    m.start() + value.len(),
                    EntityType::UsPassport,
                    0.85,
                ));
            }
            Some(Hint::DriverLicense)
                if (n_digits >= 4 || value.starts_with("WDL"))
                    && value.len() <= 17
                    && state_allows_license(text, m.start(), &value.replace('-', "")) =>
            {
                found.push(Found::new(
                    m.start(),
                    m.start() + value.len(),
                    EntityType::UsDriverLicense,
                    0.85,
                ));
            }
            _ => {}
        }
    }
}

/// A state code written shortly before a licence number ("CA driver's license", "DL (WA)"), if
/// any; when one is found and its format is known, the number must fit it.
pub(super) fn state_allows_license(text: &str, start: usize, compact: &str) -> bool {
    let mut from = start.saturating_sub(32);
    while from > 0 && !text.is_char_boundary(from) {
        from -= 1;
    }
    let window = text.get(from..start).unwrap_or("");
    let state = window
        .split(|c: char| !c.is_ascii_alphabetic())
        .rfind(|w| w.len() == 2 && dict::is_state_code(w));
    match state {
        Some(state) => validate::driver_license(state, compact).unwrap_or(true),
        None => true,
    }
}
