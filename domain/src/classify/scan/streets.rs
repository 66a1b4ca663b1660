//! Street addresses in free text: a house number, capitalised street words ending in a USPS
//! suffix, then optionally a unit and "City, ST 12345"; and PO boxes.

use super::{Context, Found, Patterns, is_word_byte};
use crate::classify::EntityType;
use crate::classify::context::Hint;
use crate::classify::dict;

/// House number, capitalised street name words, a USPS suffix, then optionally a unit and
/// "City, ST 12345".
pub(super) fn scan_streets(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
    for m in patterns.po_box.find_iter(text) {
        found.push(Found::new(
            m.start(),
            m.end(),
            EntityType::StreetAddress,
            0.85,
        ));
    }
    for m in patterns.street_start.find_iter(text) {
        let start = m.start();
        if start > 0 {
            let before = text.as_bytes()[start - 1];
            if is_word_byte(before) || matches!(before, b'-' | b'.' | b'$' | b'#' | b'/') {
                continue;
            }
        }
        if ctx.at(start) == Some(Hint::NotPersonal) {
            continue;
        }
        let mut pos = m.end();
        let mut suffix_end = None;
        let mut n_words = 0;
        for _ in 0..6 {
            let rest = text.get(pos..).unwrap_or("");
            let word_len = rest
                .find([' ', ',', '\n', ';', '|', '"'])
                .unwrap_or(rest.len());
            let word = &rest[..word_len];
            let capitalised = word.chars().next().is_some_and(|c| c.is_uppercase());
            let ordinal = word.len() >= 3
                && word.bytes().next().is_some_and(|b| b.is_ascii_digit())
                && ["st", "nd", "rd", "th"].iter().any(|s| word.ends_with(s));
            if word.is_empty() || !(capitalised || ordinal) {
                break;
            }
            n_words += 1;
            if n_words >= 2 && dict::is_street_suffix(word) {
                suffix_end = Some(pos + word_len);
            }
            pos += word_len;
            if text.as_bytes().get(pos) != Some(&b' ') {
                break;
            }
            pos += 1;
        }
        let Some(mut end) = suffix_end else { continue };
        let house_number = m.as_str().trim_end();
        let mut score: f32 = if house_number.len() >= 2 { 0.85 } else { 0.6 };
        if let Some(unit) = text
            .get(end..)
            .and_then(|rest| patterns.street_unit.find(rest))
        {
            end += unit.end();
        }
        if let Some(caps) = text
            .get(end..)
            .and_then(|rest| patterns.city_state_zip.captures(rest))
        {
            let state = caps.get(1).map_or("", |s| s.as_str());
            if (dict::is_state_code(state) || dict::is_state_name(state))
                && let Some(tail) = caps.get(0)
            {
                end += tail.end();
                score = 0.9;
            }
        }
        if ctx.at(start) == Some(Hint::Street) {
            score = score.max(0.9);
        }
        found.push(Found::new(start, end, EntityType::StreetAddress, score));
    }
}
