//! Numbers and dates: formatted phone numbers, runs of digit groups (cards, SSNs and ITINs,
//! routing and account numbers, IPv4 addresses, numeric licences and passports, dates written
//! with digits), and dates written with month names. Most need a keyword or field to count.

use super::{Context, Found, Patterns, is_word_byte, standalone};
use crate::classify::EntityType;
use crate::classify::context::Hint;
use crate::classify::validate;
use std::net::Ipv4Addr;

/// U+2013 EN DASH in UTF-8.
const EN_DASH: &[u8] = "\u{2013}".as_bytes();

fn digits_of(text: &str) -> String {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .map(char::from)
        .collect()
}

pub(super) fn scan_phones(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
    for m in patterns.phone.find_iter(text) {
        if !standalone(text, m.start(), m.end()) {
            continue;
        }
        let digits = digits_of(m.as_str());
        let national = digits
            .strip_prefix('1')
            .filter(|d| d.len() == 10)
            .unwrap_or(&digits);
        if !validate::nanp_phone(national) || ctx.at(m.start()) == Some(Hint::NotPersonal) {
            continue;
        }
        found.push(Found::new(m.start(), m.end(), EntityType::Phone, 0.85));
    }
}

/// A run of digit groups, e.g. `536-22-5478` or `4111 1111 1111 1111`.
struct Run<'t> {
    text: &'t str,
    /// Byte ranges of the digit groups within the scanned text.
    groups: Vec<(usize, usize)>,
}

impl Run<'_> {
    /// The separator before each group after the first; an en dash counts as `-`.
    fn separators(&self, from: usize, to: usize) -> Vec<u8> {
        let bytes = self.text.as_bytes();
        (from + 1..to)
            .map(|g| match bytes[self.groups[g].0 - 1] {
                0x80.. => b'-',
                sep => sep,
            })
            .collect()
    }

    fn digits(&self, from: usize, to: usize) -> String {
        self.groups[from..to]
            .iter()
            .filter_map(|&(s, e)| self.text.get(s..e))
            .collect()
    }

    /// True when the group is written with a leading `+` (international format).
    fn plus_before(&self, group: usize) -> bool {
        let start = self.groups[group].0;
        start > 0 && self.text.as_bytes()[start - 1] == b'+'
    }

    fn lens(&self, from: usize, to: usize) -> Vec<usize> {
        self.groups[from..to].iter().map(|(s, e)| e - s).collect()
    }
}

/// Runs of digit groups joined by single separators (`536-22-5478`, `4111 1111 1111 1111`,
/// `203.0.113.7`, `04/12/1985`), found with a hand-written scan: this runs on every value that
/// holds a digit, so it avoids the regex engine.
pub(super) fn scan_digit_runs(text: &str, ctx: &Context, found: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    let mut idx = 0;
    let mut groups: Vec<(usize, usize)> = Vec::new();
    while idx < bytes.len() {
        if !bytes[idx].is_ascii_digit() {
            idx += 1;
            continue;
        }
        let start = idx;
        groups.clear();
        let mut group_start = idx;
        loop {
            while idx < bytes.len() && bytes[idx].is_ascii_digit() {
                idx += 1;
            }
            groups.push((group_start, idx));
            if idx + 1 < bytes.len()
                && matches!(bytes[idx], b' ' | b'-' | b'.' | b'/')
                && bytes[idx + 1].is_ascii_digit()
            {
                idx += 1;
                group_start = idx;
                continue;
            }
            // An en dash, as word processors write `536–22–5478`.
            if bytes.get(idx..idx + 3) == Some(EN_DASH)
                && bytes.get(idx + 3).is_some_and(u8::is_ascii_digit)
            {
                idx += 3;
                group_start = idx;
                continue;
            }
            break;
        }
        let mut end = idx;
        // `13845099435 1Z…`: the last group after a space starts the next token.
        if end < bytes.len()
            && is_word_byte(bytes[end])
            && groups.len() > 1
            && bytes[groups[groups.len() - 1].0 - 1] == b' '
        {
            groups.pop();
            end = groups[groups.len() - 1].1;
        }
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| is_word_byte(b) || matches!(b, b'$' | b'-' | b'.' | b'/')) {
            continue;
        }
        if end < bytes.len() && (is_word_byte(bytes[end]) || bytes[end] == b'%') {
            // A timestamp (`2026-03-01T12:00`) or an alphanumeric code: not a number of ours,
            // unless a birth-date field stores midnight of the birthday as a timestamp.
            let birth_timestamp = bytes[end] == b'T'
                && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
                && start == 0
                && ctx.field == Some(Hint::Dob);
            if !birth_timestamp {
                continue;
            }
        }
        if groups.len() > 12 || groups.len() == 1 && end - start < 3 {
            continue;
        }
        let run = Run {
            text,
            groups: std::mem::take(&mut groups),
        };
        classify_run(&run, ctx, found);
        groups = run.groups;
    }
}

/// Tries the whole run, then shorter runs of consecutive groups, left to right.
fn classify_run(run: &Run, ctx: &Context, found: &mut Vec<Found>) {
    let n = run.groups.len();
    let mut from = 0;
    while from < n {
        let mut matched = false;
        for to in (from + 1..=n).rev() {
            if let Some((entity_type, score)) = classify_groups(run, from, to, ctx) {
                let start = run.groups[from].0;
                let end = run.groups[to - 1].1;
                found.push(Found::new(start, end, entity_type, score));
                from = to;
                matched = true;
                break;
            }
        }
        if !matched {
            // Only leading parts of a run are tried: a valid-looking tail inside a longer
            // number (a tracking number) is not a finding.
            break;
        }
    }
}

fn parse_num(text: &str, range: (usize, usize)) -> Option<u32> {
    text.get(range.0..range.1)?.parse().ok()
}

/// A date written with digits, as (year, month, day); both month-first and day-first orders
/// are tried.
fn digit_date(run: &Run, from: usize, to: usize) -> Option<(u32, u32, u32)> {
    if to - from != 3 {
        return None;
    }
    let seps = run.separators(from, to);
    if seps[0] != seps[1] || !matches!(seps[0], b'/' | b'-' | b'.') {
        return None;
    }
    let lens = run.lens(from, to);
    let a = parse_num(run.text, run.groups[from])?;
    let b = parse_num(run.text, run.groups[from + 1])?;
    let c = parse_num(run.text, run.groups[from + 2])?;
    if lens[0] == 4 && lens[1] <= 2 && lens[2] <= 2 {
        return validate::birth_date(a, b, c).then_some((a, b, c));
    }
    if lens[0] <= 2 && lens[1] <= 2 && (lens[2] == 4 || lens[2] == 2) {
        let year = if lens[2] == 2 { 1900 + c } else { c };
        if validate::birth_date(year, a, b) {
            return Some((year, a, b));
        }
        if validate::birth_date(year, b, a) {
            return Some((year, b, a));
        }
    }
    None
}

fn classify_groups(run: &Run, from: usize, to: usize, ctx: &Context) -> Option<(EntityType, f32)> {
    let start = run.groups[from].0;
    let hint = ctx.for_number(start);
    let count = to - from;
    let seps = run.separators(from, to);
    let same_sep = seps.windows(2).all(|w| w[0] == w[1]);
    let lens = run.lens(from, to);
    let digits = run.digits(from, to);
    let n = digits.len();

    // Dotted quads and dates are never anything else.
    if count == 4 && seps.iter().all(|&s| s == b'.') && lens.iter().all(|&l| l <= 3) {
        let text = run.text.get(start..run.groups[to - 1].1)?;
        return text
            .parse::<Ipv4Addr>()
            .ok()
            .map(|_| (EntityType::IpAddress, 0.9));
    }
    if digit_date(run, from, to).is_some() {
        return (hint == Some(Hint::Dob)).then_some((EntityType::DateOfBirth, 0.9));
    }
    let dotted_phone = count == 3 && lens == [3, 3, 4] && seps == [b'.', b'.'];
    // `536.22.5478` is an SSN only where a keyword or field says so.
    let dotted_ssn = count == 3
        && lens == [3, 2, 4]
        && seps == [b'.', b'.']
        && matches!(hint, Some(Hint::Ssn | Hint::TaxId));
    if seps.contains(&b'/') || seps.contains(&b'.') && !dotted_phone && !dotted_ssn {
        return None;
    }
    let dashed_ssn_shape = count == 3 && lens == [3, 2, 4] && same_sep;
    let single = count == 1;

    match hint {
        Some(Hint::NotPersonal) => return None,
        Some(Hint::Card) if (12..=19).contains(&n) && validate::luhn(&digits) => {
            let score = if validate::card_brand(&digits).is_some() {
                0.95
            } else {
                0.8
            };
            return Some((EntityType::CreditCard, score));
        }
        Some(Hint::Cvv) if single && (3..=4).contains(&n) => {
            return Some((EntityType::CardCvv, 0.85));
        }
        Some(Hint::Routing) if n == 9 && validate::aba_routing(&digits) => {
            return Some((EntityType::AbaRouting, 0.95));
        }
        Some(Hint::BankAccount)
            if (4..=17).contains(&n) && (single || same_sep && seps[0] == b'-') =>
        {
            return Some((EntityType::UsBankAccount, 0.85));
        }
        Some(Hint::Ssn) | Some(Hint::TaxId) if n == 9 && (single || dashed_ssn_shape) => {
            if validate::itin(&digits) {
                return Some((EntityType::UsItin, 0.95));
            }
            if validate::ssn(&digits) {
                return Some((EntityType::UsSsn, 0.95));
            }
        }
        Some(Hint::Passport) if single && (8..=9).contains(&n) => {
            return Some((EntityType::UsPassport, 0.85));
        }
        Some(Hint::Phone) => {
            let national = if n == 11 {
                digits.strip_prefix('1')
            } else {
                Some(digits.as_str())
            };
            if national.is_some_and(validate::nanp_phone) && (single || count <= 4) {
                return Some((EntityType::Phone, 0.9));
            }
            // International numbers (E.164 allows up to 15 digits) next to a phone keyword.
            if (8..=15).contains(&n) && count <= 5 && !digits.starts_with('0')
                || (8..=15).contains(&n) && run.plus_before(from)
            {
                return Some((EntityType::Phone, 0.7));
            }
        }
        Some(Hint::Dob) if single && n == 8 => {
            let year = digits.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0);
            let month = digits.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
            let day = digits.get(6..8).and_then(|d| d.parse().ok()).unwrap_or(0);
            if validate::birth_date(year, month, day) {
                return Some((EntityType::DateOfBirth, 0.85));
            }
        }
        _ => {}
    }

    // Without a helpful hint only self-evident shapes count. A bare 13- or 14-digit number is
    // more often an id than one of the rare 13-digit Visa or 14-digit Diners cards, so those
    // lengths need a card keyword or field; grouped 4-6-4 Diners numbers still count.
    if (13..=19).contains(&n)
        && (single && n >= 15
            || !single
                && same_sep
                && (lens.iter().all(|&l| l == 4 || l == lens[count - 1])
                    || lens == [4, 6, 5]
                    || lens == [4, 6, 4]))
        && validate::card_number(&digits)
    {
        return Some((EntityType::CreditCard, 0.9));
    }
    if dashed_ssn_shape {
        if validate::itin(&digits) {
            return Some((EntityType::UsItin, 0.75));
        }
        if validate::ssn(&digits) && seps[0] == b'-' {
            return Some((EntityType::UsSsn, 0.7));
        }
        // `536 22 5478` standing alone (not the start of a longer run of groups).
        if validate::ssn(&digits) && seps[0] == b' ' && run.groups.len() == 3 {
            return Some((EntityType::UsSsn, 0.6));
        }
    }
    if count == 3 && lens == [3, 3, 4] && same_sep && validate::nanp_phone(&digits) {
        return Some((EntityType::Phone, 0.75));
    }
    if count == 4
        && lens == [1, 3, 3, 4]
        && same_sep
        && digits.starts_with('1')
        && digits.get(1..).is_some_and(validate::nanp_phone)
    {
        return Some((EntityType::Phone, 0.75));
    }
    None
}

fn month_number(name: &str) -> u32 {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| lower.starts_with(m))
        .map_or(0, |idx| idx as u32 + 1)
}

pub(super) fn scan_month_dates(
    text: &str,
    patterns: &Patterns,
    ctx: &Context,
    found: &mut Vec<Found>,
) {
    for caps in patterns.month_date.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let (month, day, year) =
            if let (Some(m), Some(d), Some(y)) = (caps.get(1), caps.get(2), caps.get(3)) {
                (m.as_str(), d.as_str(), y.as_str())
            } else if let (Some(d), Some(m), Some(y)) = (caps.get(4), caps.get(5), caps.get(6)) {
                (m.as_str(), d.as_str(), y.as_str())
            } else {
                continue;
            };
        let (Ok(day), Ok(year)) = (day.parse::<u32>(), year.parse::<u32>()) else {
            continue;
        };
        if validate::birth_date(year, month_number(month), day)
            && ctx.at(whole.start()) == Some(Hint::Dob)
        {
            found.push(Found::new(
                whole.start(),
                whole.end(),
                EntityType::DateOfBirth,
                0.9,
            ));
        }
    }
}
