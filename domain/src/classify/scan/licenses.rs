//! Driver's licence and state ID numbers. A licence number has no checksum and many states issue
//! plain digit runs, so a number counts only right after a licence keyword ("DL#", "D/L",
//! "driver's license", "Lic. No.", "state ID", "licencia de conducir", …) or in a licence field,
//! and only when it fits a format the named state issues (any state's when none is named).
//!
//! The number may be written in groups (`S530-4605-6789`, `123 456 789`, `A 123 456 789 012`);
//! the longest run of groups that fits a format is taken. Between keyword and number only filler
//! may stand ("number", "no.", "#:", a state code or name, "card", "de", …); after the bare words
//! "license"/"licence"/"lic" nothing else may, since those words also name software licences.

use super::{Context, Found};
use crate::classify::EntityType;
use crate::classify::context::{Hint, KeywordHit};
use crate::classify::{dict, license_formats};

/// How far (bytes) the number may stand after its keyword.
const WINDOW: usize = 48;
/// Groups joined with spaces are short (`123 456 789`); a longer word ends the number.
const MAX_SPACED_GROUP: usize = 5;

const FILLER: &[&str] = &[
    "no",
    "nr",
    "num",
    "nbr",
    "number",
    "numero",
    "número",
    "is",
    "of",
    "state",
    "card",
    "id",
    "de",
    "del",
    "la",
    "el",
    "conducir",
    "manejo",
    "conduire",
    "the",
    "my",
    "on",
    "file",
    "issued",
    "by",
    "in",
    "st",
    "ident",
    "identification",
];

/// Words that need the number right after them (with filler only): they also name software,
/// business and other licences.
fn is_weak_keyword(word: &str) -> bool {
    let word = word.trim_end_matches('.');
    ["license", "licence", "lic", "licenses", "licences"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(word))
}

fn is_group_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'*'
}

/// Reads the number starting at `start`: the longest run of groups whose compact upper-case
/// form `accept`s. Returns the end (exclusive) of the number.
fn read_number(text: &str, start: usize, accept: impl Fn(&str) -> bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut ends: Vec<usize> = Vec::with_capacity(8);
    let mut idx = start;
    let mut spaced_ok = true;
    loop {
        let group_start = idx;
        while idx < bytes.len() && is_group_byte(bytes[idx]) {
            idx += 1;
        }
        if idx == group_start {
            break;
        }
        // A lone prefix letter may stand apart from the rest (`A 123456789`).
        let lone_letter =
            ends.is_empty() && idx - group_start == 1 && bytes[group_start].is_ascii_alphabetic();
        spaced_ok &= idx - group_start <= MAX_SPACED_GROUP;
        ends.push(idx);
        if ends.len() == 8 || idx - start > license_formats::MAX_LEN * 2 {
            break;
        }
        let Some(&sep) = bytes.get(idx) else { break };
        let next_is_group = bytes.get(idx + 1).copied().is_some_and(is_group_byte);
        let next_len = bytes[(idx + 1).min(bytes.len())..]
            .iter()
            .take_while(|&&b| is_group_byte(b))
            .count();
        let joins = match sep {
            b'-' => next_is_group,
            b' ' => next_is_group && (lone_letter || spaced_ok && next_len <= MAX_SPACED_GROUP),
            _ => false,
        };
        if !joins {
            break;
        }
        idx += 1;
    }
    // An issue or expiry date is not a number, nor is its first part.
    let whole = text.get(start..*ends.last()?).unwrap_or("");
    if looks_like_date(whole) {
        return None;
    }
    let mut compact = String::with_capacity(license_formats::MAX_LEN + 1);
    ends.iter().rev().copied().find(|&end| {
        let span = text.get(start..end).unwrap_or("");
        compact.clear();
        compact.extend(
            span.bytes()
                .filter(|&b| is_group_byte(b))
                .map(|b| char::from(b.to_ascii_uppercase())),
        );
        accept(&compact)
    })
}

/// `2019-03-02` or `03-02-2019`: an issue or expiry date, not a number.
fn looks_like_date(span: &str) -> bool {
    let parts: Vec<&str> = span.split('-').collect();
    parts.len() == 3
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>().as_slice(),
            [4, 2, 2] | [2, 2, 4] | [4, 1..=2, 1..=2] | [1..=2, 1..=2, 4]
        )
}

/// A state named by the word(s) ending at `end`: an upper-case USPS code or a state name.
fn state_ending_at(text: &str, end: usize) -> Option<&'static str> {
    let before = text.get(..end)?;
    let mut words = before.rsplit(|c: char| !c.is_alphabetic()).take(2);
    let last = words.next()?;
    if last.len() == 2 {
        return STATE_CODES.iter().copied().find(|c| *c == last);
    }
    if !last.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    // Two-word names first: "West Virginia" is not Virginia.
    let two_words = words
        .next()
        .and_then(|previous| dict::state_code_of_name(&format!("{previous} {last}")));
    two_words.or_else(|| dict::state_code_of_name(last))
}

/// A state named right before a keyword ("CA DL#", "New York driver's license", "(TX) DL").
fn state_before(text: &str, pos: usize) -> Option<&'static str> {
    let before = text.get(..pos)?;
    let trimmed = before.trim_end_matches([' ', '(', ')', '-', ':', ',']);
    if before.len() - trimmed.len() > 3 {
        return None;
    }
    // "photo ID (driver's license)": identification, not Idaho.
    state_ending_at(text, trimmed.len()).filter(|code| *code != "ID")
}

const STATE_CODES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
];

fn accepts(state: Option<&str>, compact: &str) -> bool {
    match state.and_then(|s| license_formats::fits_state(s, compact)) {
        Some(fits) => fits,
        None => license_formats::fits_any_state(compact),
    }
}

/// Walks from the end of a keyword over filler to where the number starts; `None` when
/// something else stands in between. Returns the start and a state named on the way.
fn skip_filler(text: &str, from: usize, limit: usize, weak: bool) -> Option<(usize, Option<&str>)> {
    let bytes = text.as_bytes();
    let mut idx = from;
    let mut state = None;
    let mut other_words = 0;
    let mut prev_filler = true;
    while idx < limit {
        let b = bytes[idx];
        if b.is_ascii_digit() {
            return Some((idx, state));
        }
        if b.is_ascii_alphabetic() || b >= 0x80 {
            let word_end = text[idx..]
                .find(|c: char| !c.is_alphabetic())
                .map_or(text.len(), |n| idx + n);
            let word = &text[idx..word_end];
            if word.is_empty() {
                return None;
            }
            let next = bytes.get(word_end).copied();
            // A word that runs into digits or dashes is the number itself (`D1234567`).
            let following = text
                .get(word_end + 1..)
                .unwrap_or("")
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("");
            if next.is_some_and(|n| n.is_ascii_digit() || n == b'*')
                || word.len() == 1
                    && matches!(next, Some(b' ' | b'-'))
                    && following.bytes().any(|b| b.is_ascii_digit())
            {
                return Some((idx, state));
            }
            // "ID" next to a licence keyword means identification ("DL/ID#"), not Idaho.
            if word.eq_ignore_ascii_case("id") {
                prev_filler = true;
            } else if word.len() == 2 && dict::is_state_code(word) {
                state = STATE_CODES.iter().copied().find(|c| *c == word);
                prev_filler = true;
            } else if FILLER.iter().any(|f| f.eq_ignore_ascii_case(word)) {
                prev_filler = true;
            } else if let Some(code) = word
                .starts_with(|c: char| c.is_ascii_uppercase())
                .then(|| state_ending_at(text, word_end))
                .flatten()
            {
                state = Some(code);
                prev_filler = true;
            } else if word.starts_with(|c: char| c.is_ascii_uppercase())
                && ["New", "North", "South", "West", "Rhode", "District"].contains(&word)
            {
                prev_filler = true;
            } else {
                // A word of letters may itself be the number (`WDLABC12D34E`, `SMITH*JD123`).
                if word.len() >= 3 && word.bytes().all(|c| c.is_ascii_uppercase()) {
                    return Some((idx, state));
                }
                other_words += 1;
                if weak || other_words > 2 {
                    return None;
                }
                prev_filler = false;
            }
            idx = word_end;
            continue;
        }
        match b {
            b' ' | b'\t' | b'#' | b':' | b'=' | b'-' | b'_' | b'(' | b')' | b'[' | b']' | b'"'
            | b'\'' | b'/' => idx += 1,
            b'.' if prev_filler || bytes.get(idx + 1) != Some(&b' ') => idx += 1,
            // "DL, number: …", not after the bare "license".
            b',' if !weak => idx += 1,
            _ => return None,
        }
    }
    None
}

/// Whether `pos` lies inside a URL (the whitespace-delimited token holds `://` or `www.`).
fn in_url(text: &str, pos: usize) -> bool {
    let before = text.get(..pos).unwrap_or("");
    let token_start = before
        .rfind(|c: char| c.is_whitespace() || c == '"')
        .map_or(0, |i| i + 1);
    let token = &before[token_start..];
    token.contains("://") || token.starts_with("www.")
}

/// "business license", "software_license", "liquor licence": a licence, but not a driver's.
fn other_licence(text: &str, keyword_start: usize) -> bool {
    const KINDS: &[&str] = &[
        "business",
        "software",
        "liquor",
        "contractor",
        "professional",
        "vendor",
        "seller",
        "reseller",
        "trade",
        "music",
        "pet",
        "dog",
        "fishing",
        "hunting",
        "marriage",
        "medical",
        "nursing",
        "product",
        "app",
        "site",
        "user",
        "seat",
        "sales",
        "tax",
    ];
    let before = text.get(..keyword_start).unwrap_or("");
    let Some(rest) = before.strip_suffix([' ', '_', '-']) else {
        return false;
    };
    let word = rest
        .rsplit(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    KINDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Licence numbers after licence keywords in free text.
fn after_keywords(text: &str, hits: &[KeywordHit], found: &mut Vec<Found>) {
    for (idx, hit) in hits.iter().enumerate() {
        if hit.hint != Hint::DriverLicense {
            continue;
        }
        let keyword = text.get(hit.start..hit.end).unwrap_or("");
        let weak = is_weak_keyword(keyword);
        // The next keyword ends the search, unless it is filler ("card", "id") or a state code.
        let next_hit = hits[idx + 1..]
            .iter()
            .find(|h| {
                let word = text.get(h.start..h.end).unwrap_or("");
                !word.split_whitespace().all(|w| {
                    FILLER.iter().any(|f| f.eq_ignore_ascii_case(w))
                        || w.len() == 2 && dict::is_state_code(w)
                })
            })
            .map_or(text.len(), |h| h.start);
        if other_licence(text, hit.start) {
            continue;
        }
        // `DL-2000`: a model number, not a licence.
        if keyword.eq_ignore_ascii_case("dl")
            && text.as_bytes().get(hit.end) == Some(&b'-')
            && text
                .as_bytes()
                .get(hit.end + 1)
                .is_some_and(u8::is_ascii_digit)
        {
            continue;
        }
        // `https://cdn.example.com/dl/51390956`: a path, not a licence.
        if in_url(text, hit.start) {
            continue;
        }
        let limit = (hit.end + WINDOW).min(text.len()).min(next_hit);
        let Some((start, named)) = skip_filler(text, hit.end, limit, weak) else {
            continue;
        };
        let state = named.or_else(|| state_before(text, hit.start));
        if let Some(end) = read_number(text, start, |c| accepts(state, c)) {
            found.push(Found::new(start, end, EntityType::UsDriverLicense, 0.9));
        }
    }
}

/// A licence field's value: the number, optionally after a state code (`CA D1234567`).
fn field_value(text: &str, found: &mut Vec<Found>) {
    let value = text.trim_start();
    let mut start = text.len() - value.len();
    let mut state = None;
    if let Some(code) = value.get(..2).filter(|c| dict::is_state_code(c))
        && value
            .as_bytes()
            .get(2)
            .is_some_and(|b| matches!(b, b' ' | b'-' | b':' | b'/'))
    {
        state = STATE_CODES.iter().copied().find(|c| *c == code);
        start += 3;
        start += text[start..].len() - text[start..].trim_start().len();
    }
    if let Some(end) = read_number(text, start, |c| accepts(state, c)) {
        found.push(Found::new(start, end, EntityType::UsDriverLicense, 0.9));
    }
}

pub(super) fn scan_licenses(text: &str, ctx: &Context, found: &mut Vec<Found>) {
    if ctx.field == Some(Hint::DriverLicense) {
        field_value(text, found);
    }
    after_keywords(text, ctx.hits, found);
}
