//! The scanner: finds entity candidates in one string, validates them and scores them with the
//! context around them (keywords before the value, or the field name the string came from).
//!
//! Works on byte offsets internally; the caller converts to code points. Never panics: every
//! slice is taken at offsets a regex or `char_indices` produced, or checked with `get`.

use super::EntityType;
use super::context::{Hint, KeywordHit, keyword_hits};
use super::dict;
use super::validate;
use regex::Regex;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// How much of a person's name an entity holds (for the § 1798.82(h) "first name or initial and
/// last name" test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NamePart {
    #[default]
    NotAName,
    Given,
    Family,
    Full,
}

/// One finding in byte offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub entity_type: EntityType,
    pub score: f32,
    pub name_part: NamePart,
    /// Findings taken whole from a `key=value` pair win over pattern findings inside them.
    pub from_key: bool,
    /// For passwords stored as a hash: the scheme, e.g. `bcrypt`.
    pub hash_algorithm: Option<&'static str>,
}

impl Found {
    fn new(start: usize, end: usize, entity_type: EntityType, score: f32) -> Self {
        Found {
            start,
            end,
            entity_type,
            score,
            name_part: NamePart::NotAName,
            from_key: false,
            hash_algorithm: None,
        }
    }
}

/// Findings below this score are not reported.
pub const MIN_SCORE: f32 = 0.5;

/// How far (bytes) a keyword may stand before the value it describes.
const CONTEXT_WINDOW: usize = 40;

struct Patterns {
    email: Regex,
    phone: Regex,
    iban: Regex,
    ipv6: Regex,
    alnum_id: Regex,
    month_date: Regex,
    name_word: Regex,
    street_start: Regex,
    street_unit: Regex,
    city_state_zip: Regex,
    po_box: Regex,
}

fn patterns() -> Option<&'static Patterns> {
    static PATTERNS: OnceLock<Option<Patterns>> = OnceLock::new();
    PATTERNS
        .get_or_init(|| {
            let re = |p: &str| Regex::new(p).ok();
            Some(Patterns {
                email: re(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")?,
                phone: re(r"(?:\+1[ .\-]?|1[ .\-])?\([0-9]{3}\) ?[0-9]{3}[ .\-][0-9]{4}|\+1[ .\-]?[0-9]{3}[ .\-]?[0-9]{3}[ .\-]?[0-9]{4}")?,
                iban: re(r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{1,4}){3,9}")?,
                ipv6: re(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3})?")?,
                alnum_id: re(r"WDL[A-Z0-9*]{9}|[A-Z]{1,3}[0-9*][A-Z0-9*\-]{3,16}")?,
                month_date: re(r"(?i)\b(?:(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? ([0-9]{1,2})(?:st|nd|rd|th)?,? ([0-9]{4})|([0-9]{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,? ([0-9]{4}))\b")?,
                name_word: re(r"\p{Lu}(?:'\p{Lu})?\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?|\p{Lu}\.")?,
                street_start: re(r"[0-9]{1,6}[A-Za-z]?(?:-[0-9]{1,4})? ")?,
                street_unit: re(r"^,? (?:Apt|Apartment|Suite|Ste|Unit|Bldg|Building|Floor|Fl|Room|Rm|#)\.? ?#?[A-Za-z0-9\-]{1,6}\b")?,
                city_state_zip: re(r"^(?:,? |\n)\p{Lu}[\p{L}.'\-]*(?: \p{Lu}[\p{L}.'\-]*){0,3},? ([A-Z]{2}|\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+)?)(?: ([0-9]{5}(?:-[0-9]{4})?))?\b")?,
                po_box: re(r"(?i)\bP\.? ?O\.? ?Box [0-9]{1,6}\b")?,
            })
        })
        .as_ref()
}

/// Context for a position: the nearest keyword that ends shortly before it, else the field hint.
struct Context<'a> {
    text: &'a str,
    hits: &'a [KeywordHit],
    field: Option<Hint>,
}

impl Context<'_> {
    fn at(&self, pos: usize) -> Option<Hint> {
        self.near(pos, CONTEXT_WINDOW)
    }

    fn near(&self, pos: usize, window: usize) -> Option<Hint> {
        let idx = self.hits.partition_point(|hit| hit.end <= pos);
        if idx > 0 {
            let hit = self.hits[idx - 1];
            if pos - hit.end <= window {
                // A keyword speaks for the next value only: not across another number, a
                // sentence end or a field separator.
                let gap = self.text.get(hit.end..pos).unwrap_or("");
                // A sign-off speaks for the name on the next line ("Kind regards,\nAna Silva").
                if hit.hint == Hint::Greeting
                    && gap
                        .trim_matches([',', ' ', '\n', '\r', '!', '-'])
                        .is_empty()
                {
                    return Some(hit.hint);
                }
                // Another `key=` between the keyword and the value: the keyword was part of a
                // different field (`page=/products/savings-jar variant=3056…`).
                if let Some(eq) = gap.find('=')
                    && gap[..eq].contains([' ', '&', ','])
                {
                    return None;
                }
                let gap = gap.trim_start_matches([' ', '#', ':']);
                let gap = gap
                    .strip_prefix("no. ")
                    .or_else(|| gap.strip_prefix("No. "))
                    .or_else(|| gap.strip_prefix("nr. "))
                    .unwrap_or(gap);
                let crossed = gap
                    .bytes()
                    .any(|b| b.is_ascii_digit() || matches!(b, b'\n' | b';' | b'|' | b'&'))
                    || gap.contains(". ")
                    || gap.contains(", ") && gap.len() > 12;
                if crossed {
                    return None;
                }
                return Some(hit.hint);
            }
        }
        self.field
    }

    fn anywhere(&self, wanted: &[Hint]) -> bool {
        self.field.is_some_and(|h| wanted.contains(&h))
            || self.hits.iter().any(|hit| wanted.contains(&hit.hint))
    }
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte >= 0x80
}

/// True when the span is not glued to letters or digits on either side.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let before_ok = start == 0 || !is_word_byte(bytes[start - 1]);
    let after_ok = end >= bytes.len() || !is_word_byte(bytes[end]);
    before_ok && after_ok
}

/// Scans `text`. `field` is the hint given by the field name the text came from, if any.
pub fn scan(text: &str, field: Option<Hint>) -> Vec<Found> {
    if field.is_none()
        && let Some(found) = scan_delimited(text)
    {
        return found;
    }
    scan_one(text, field)
}

/// Scans one string that is not a delimited table.
fn scan_one(text: &str, field: Option<Hint>) -> Vec<Found> {
    let Some(patterns) = patterns() else {
        return Vec::new();
    };
    if let Some(hint) = field.filter(|h| h.takes_whole_value()) {
        let trimmed_start = text.len() - text.trim_start().len();
        let value = text.trim();
        if let Some(mut whole) = whole_value(value, hint) {
            whole.start += trimmed_start;
            whole.end += trimmed_start;
            return vec![whole];
        }
    }
    let hits = if text.bytes().any(|b| b.is_ascii_alphabetic()) {
        keyword_hits(text)
    } else {
        Vec::new()
    };
    let ctx = Context {
        text,
        hits: &hits,
        field,
    };
    let mut found = Vec::new();

    if field == Some(Hint::NotPersonal) && hits.is_empty() {
        // Ids, prices, timestamps, cities: only self-evident identifiers can hide here.
        if text.contains('@') || text.contains("%40") {
            scan_emails(text, patterns, &mut found);
        }
        if text.contains('.') || text.contains(':') {
            scan_digit_runs(text, &ctx, &mut found);
            scan_ipv6(text, patterns, &mut found);
        }
        return resolve_overlaps(found);
    }
    scan_key_values(text, &hits, &mut found);
    if text.contains('@') || text.contains("%40") {
        scan_emails(text, patterns, &mut found);
    }
    if text.bytes().any(|b| b.is_ascii_digit()) {
        let has_upper = text.bytes().any(|b| b.is_ascii_uppercase());
        if text.contains(['(', '+']) {
            scan_phones(text, patterns, &ctx, &mut found);
        }
        scan_digit_runs(text, &ctx, &mut found);
        if has_upper {
            scan_ibans(text, patterns, &mut found);
        }
        if text.contains(':') {
            scan_ipv6(text, patterns, &mut found);
        }
        if ctx.anywhere(&[Hint::DriverLicense, Hint::Passport]) {
            scan_alnum_ids(text, patterns, &ctx, &mut found);
        }
        if ctx.anywhere(&[Hint::Dob]) {
            scan_month_dates(text, patterns, &ctx, &mut found);
        }
        if field != Some(Hint::NotPersonal) && (has_upper || !text.is_ascii()) {
            scan_streets(text, patterns, &ctx, &mut found);
        }
    }
    let not_personal_field = field == Some(Hint::NotPersonal);
    if !not_personal_field && (text.bytes().any(|b| b.is_ascii_uppercase()) || !text.is_ascii()) {
        scan_names(text, patterns, &ctx, &mut found);
    }
    resolve_overlaps(found)
}

/// Splits one delimited line into cell byte ranges (content only, quotes excluded). A quoted
/// cell may hold the delimiter; a doubled quote inside it is kept as is.
fn split_cells(line: &str, offset: usize, delimiter: u8) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut cells = Vec::new();
    let mut idx = 0;
    loop {
        if bytes.get(idx) == Some(&b'"') {
            let start = idx + 1;
            let mut end = start;
            while end < bytes.len() {
                if bytes[end] == b'"' {
                    if bytes.get(end + 1) == Some(&b'"') {
                        end += 2;
                        continue;
                    }
                    break;
                }
                end += 1;
            }
            cells.push((offset + start, offset + end.min(bytes.len())));
            idx = end + 1;
            while idx < bytes.len() && bytes[idx] != delimiter {
                idx += 1;
            }
        } else {
            let start = idx;
            while idx < bytes.len() && bytes[idx] != delimiter {
                idx += 1;
            }
            cells.push((offset + start, offset + idx));
        }
        if idx >= bytes.len() {
            return cells;
        }
        idx += 1;
    }
}

/// A CSV/TSV export with a header line (`email,first_name,phone`): each cell is classified with
/// its column name as the field hint. `None` when the text is not such a table.
fn scan_delimited(text: &str) -> Option<Vec<Found>> {
    let (header, _) = text.split_once('\n')?;
    let header = header.strip_suffix('\r').unwrap_or(header);
    let delimiter = [b',', b'\t', b';', b'|']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .filter(|d| header.as_bytes().contains(d))?;
    let columns: Vec<&str> = split_cells(header, 0, delimiter)
        .into_iter()
        .map(|(s, e)| header.get(s..e).unwrap_or("").trim())
        .collect();
    let names_ok = columns.len() >= 2
        && columns.iter().all(|c| {
            !c.is_empty()
                && c.len() <= 64
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'-' | b'.'))
        });
    if !names_ok {
        return None;
    }
    let hints: Vec<Option<Hint>> = columns
        .iter()
        .map(|c| super::context::field_hint(c, None))
        .collect();
    if !hints
        .iter()
        .any(|h| h.is_some_and(|h| h != Hint::NotPersonal))
    {
        return None;
    }
    let mut found = Vec::new();
    let mut line_start = header.len() + 1;
    if text.as_bytes().get(header.len()) == Some(&b'\r') {
        line_start += 1;
    }
    while line_start < text.len() {
        let rest = text.get(line_start..).unwrap_or("");
        let line_len = rest.find('\n').unwrap_or(rest.len());
        let line = &rest[..line_len];
        let line = line.strip_suffix('\r').unwrap_or(line);
        let cells = split_cells(line, line_start, delimiter);
        if cells.len() == columns.len() {
            for (&(start, end), hint) in cells.iter().zip(&hints) {
                let Some(cell) = text.get(start..end) else {
                    continue;
                };
                for mut f in scan_one(cell, *hint) {
                    f.start += start;
                    f.end += start;
                    found.push(f);
                }
            }
        } else {
            for mut f in scan_one(line, None) {
                f.start += line_start;
                f.end += line_start;
                found.push(f);
            }
        }
        line_start += line_len + 1;
    }
    Some(resolve_overlaps(found))
}

/// Keeps the best finding where findings overlap: key/value findings first, then score, then
/// the longer span.
fn resolve_overlaps(mut found: Vec<Found>) -> Vec<Found> {
    found.retain(|f| f.score >= MIN_SCORE && f.start < f.end);
    found.sort_by(|a, b| {
        b.from_key
            .cmp(&a.from_key)
            .then(b.score.total_cmp(&a.score))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    for candidate in found {
        if kept
            .iter()
            .all(|k| candidate.end <= k.start || candidate.start >= k.end)
        {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|f| (f.start, f.end));
    kept
}

// ---------------------------------------------------------------------------------------------
// Whole values (structured fields and key=value pairs)

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
fn whole_value(value: &str, hint: Hint) -> Option<Found> {
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
fn scan_key_values(text: &str, hits: &[KeywordHit], found: &mut Vec<Found>) {
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
        let hint = super::context::field_hint(&key_words, None)
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

// ---------------------------------------------------------------------------------------------
// Pattern scanners

const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js", "ico",
];

fn scan_emails(text: &str, patterns: &Patterns, found: &mut Vec<Found>) {
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

fn digits_of(text: &str) -> String {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .map(char::from)
        .collect()
}

fn scan_phones(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
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
    fn separators(&self, from: usize, to: usize) -> Vec<u8> {
        let bytes = self.text.as_bytes();
        (from + 1..to)
            .map(|g| bytes[self.groups[g].0 - 1])
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
fn scan_digit_runs(text: &str, ctx: &Context, found: &mut Vec<Found>) {
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
            break;
        }
        let end = idx;
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
    let hint = ctx.at(start);
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
    if seps.contains(&b'/') || seps.contains(&b'.') && !dotted_phone {
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
        Some(Hint::DriverLicense)
            if (5..=13).contains(&n)
                && (single || same_sep && seps[0] != b' ')
                && state_allows_license(run.text, start, &digits) =>
        {
            return Some((EntityType::UsDriverLicense, 0.85));
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

fn scan_ibans(text: &str, patterns: &Patterns, found: &mut Vec<Found>) {
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

fn scan_ipv6(text: &str, patterns: &Patterns, found: &mut Vec<Found>) {
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
fn scan_alnum_ids(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
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
fn state_allows_license(text: &str, start: usize, compact: &str) -> bool {
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

fn scan_month_dates(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
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

/// House number, capitalised street name words, a USPS suffix, then optionally a unit and
/// "City, ST 12345".
fn scan_streets(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
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

/// True when only punctuation or a line end follows a sign-off name.
fn sign_off_end(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or("");
    let rest = rest.trim_start_matches([' ', '.', '!', ',']);
    rest.is_empty() || rest.starts_with('\n')
}

/// Capitalised words that start or end a sentence around a name but are not part of it.
fn is_name_stopword(word: &str) -> bool {
    matches!(
        word,
        "Dear"
            | "Hi"
            | "Hello"
            | "Hey"
            | "Thanks"
            | "Thank"
            | "Regards"
            | "Sincerely"
            | "Best"
            | "Cheers"
            | "The"
            | "This"
            | "That"
            | "Our"
            | "Your"
            | "My"
            | "Please"
            | "Customer"
            | "Client"
            | "Agent"
            | "Order"
            | "Ship"
            | "Shipped"
            | "Billing"
            | "Shipping"
            | "Contact"
            | "Card"
            | "Account"
            | "Holder"
            | "Cardholder"
            | "Name"
            | "Attn"
            | "From"
            | "To"
            | "Re"
            | "Subject"
            | "Note"
            | "Support"
            | "Team"
            | "Mr"
            | "Mrs"
            | "Ms"
            | "Miss"
            | "Mx"
            | "Dr"
            | "Prof"
            | "Mr."
            | "Mrs."
            | "Ms."
            | "Dr."
            | "Mx."
            | "January"
            | "February"
            | "March"
            | "April"
            | "May"
            | "June"
            | "July"
            | "August"
            | "September"
            | "October"
            | "November"
            | "December"
            | "Monday"
            | "Tuesday"
            | "Wednesday"
            | "Thursday"
            | "Friday"
            | "Saturday"
            | "Sunday"
            | "Customers"
            | "Passport"
            | "License"
            | "Phone"
            | "Email"
            | "Address"
            | "Street"
            | "Ave"
            | "Apt"
            | "Suite"
            | "Unit"
            | "Date"
            | "Birth"
            | "Born"
            | "Social"
            | "Security"
            | "Visa"
            | "Mastercard"
            | "Amex"
            | "Discover"
            | "Routing"
            | "Bank"
            | "Checking"
            | "Savings"
            | "Tax"
            | "Status"
            | "Refund"
            | "Return"
            | "Total"
            | "Tracking"
            | "Gift"
            | "New"
            | "Inc"
            | "Llc"
            | "Ltd"
            | "Co"
    )
}

fn is_title(word: &str) -> bool {
    matches!(
        word,
        "Mr" | "Mrs"
            | "Ms"
            | "Miss"
            | "Mx"
            | "Dr"
            | "Prof"
            | "Mr."
            | "Mrs."
            | "Ms."
            | "Dr."
            | "Mx."
    )
}

/// Capitalised word sequences that a name dictionary, a title or the context confirms.
fn scan_names(text: &str, patterns: &Patterns, ctx: &Context, found: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    let words: Vec<(usize, usize)> = patterns
        .name_word
        .find_iter(text)
        .filter(|m| {
            let before_ok = m.start() == 0
                || !text[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
            let after_ok = text[m.end()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            before_ok && after_ok
        })
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut idx = 0;
    while idx < words.len() {
        // Gather a run of words separated by single spaces.
        let mut run = vec![words[idx]];
        let mut next = idx + 1;
        while next < words.len() && run.len() < 6 {
            let prev_end = run[run.len() - 1].1;
            let spaced = words[next].0 == prev_end + 1 && bytes[prev_end] == b' ';
            // "Mr. Smith": a title's period does not end the run.
            let after_title = words[next].0 == prev_end + 2
                && bytes[prev_end] == b'.'
                && bytes[prev_end + 1] == b' '
                && is_title(&text[run[run.len() - 1].0..prev_end]);
            if spaced || after_title {
                run.push(words[next]);
                next += 1;
            } else {
                break;
            }
        }
        idx = next;
        let word = |r: &(usize, usize)| &text[r.0..r.1];
        let mut titled = false;
        while let Some(first) = run.first() {
            let w = word(first);
            if is_name_stopword(w) {
                titled |= is_title(w);
                run.remove(0);
            } else {
                break;
            }
        }
        while run.last().is_some_and(|last| {
            let w = word(last);
            is_name_stopword(w) || w.ends_with('.')
        }) {
            run.pop();
        }
        run.truncate(4);
        let Some(&first) = run.first() else { continue };
        let Some(&last) = run.last() else { continue };
        if word(&first).ends_with('.') {
            continue;
        }
        let start = first.0;
        let end = last.1;
        let hint = ctx.at(start);
        let name_hint = matches!(
            hint,
            Some(
                Hint::FullName
                    | Hint::MaybeName
                    | Hint::GivenName
                    | Hint::FamilyName
                    | Hint::Greeting
            )
        );
        let first_given = dict::is_given_name(word(&first));
        let last_known = dict::is_surname(word(&last)) || dict::is_given_name(word(&last));
        let score = if run.len() >= 2 {
            match (first_given, last_known) {
                (true, true) => 0.85,
                (true, false) | (false, true) if name_hint || titled => 0.85,
                (true, false) | (false, true) => 0.6,
                (false, false) if titled || hint == Some(Hint::FullName) => 0.75,
                (false, false)
                    if ctx.near(start, 4) == Some(Hint::Greeting) && sign_off_end(text, end) =>
                {
                    0.7
                }
                (false, false) if ctx.near(start, 5) == Some(Hint::MaybeName) => 0.7,
                _ => 0.0,
            }
        } else if first_given
            && (ctx.near(start, 8) == Some(Hint::Greeting)
                || name_hint && ctx.near(start, 8).is_some())
        {
            0.65
        } else if ctx.near(start, 3) == Some(Hint::Greeting) && sign_off_end(text, end) {
            // "Thanks,\nPriya" at the end of a message.
            0.6
        } else if titled && dict::is_surname(word(&first)) {
            0.7
        } else {
            0.0
        };
        if score > 0.0 {
            let part = if run.len() >= 2 {
                NamePart::Full
            } else if titled {
                NamePart::Family
            } else {
                NamePart::Given
            };
            found.push(Found {
                name_part: part,
                ..Found::new(start, end, EntityType::Person, score)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(text: &str) -> Vec<(EntityType, &str)> {
        scan(text, None)
            .into_iter()
            .map(|f| (f.entity_type, &text[f.start..f.end]))
            .collect()
    }

    fn types_in_field(text: &str, hint: Hint) -> Vec<(EntityType, &str)> {
        scan(text, Some(hint))
            .into_iter()
            .map(|f| (f.entity_type, &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn emails_are_trimmed_of_log_keys() {
        assert_eq!(
            types("user_email=jo.doe@example.com|next"),
            [(EntityType::Email, "jo.doe@example.com")]
        );
        assert!(types("logo@2x.png").is_empty());
    }

    #[test]
    fn phones_need_a_valid_nanp_number() {
        assert_eq!(
            types("call (415) 555-2671 now"),
            [(EntityType::Phone, "(415) 555-2671")]
        );
        assert_eq!(
            types("tel: 415-555-2671"),
            [(EntityType::Phone, "415-555-2671")]
        );
        assert_eq!(
            types("+1 415 555 2671"),
            [(EntityType::Phone, "+1 415 555 2671")]
        );
        assert!(
            types("415-155-2671").is_empty(),
            "exchange may not start with 1"
        );
        assert!(
            types("ref 4155552671").is_empty(),
            "bare digits need a phone keyword"
        );
        assert_eq!(
            types("phone 4155552671"),
            [(EntityType::Phone, "4155552671")]
        );
        assert_eq!(
            types_in_field("4155552671", Hint::Phone),
            [(EntityType::Phone, "4155552671")]
        );
    }

    #[test]
    fn ssn_and_itin_are_told_apart_and_validated() {
        assert_eq!(
            types("SSN 536-22-5478"),
            [(EntityType::UsSsn, "536-22-5478")]
        );
        assert_eq!(types("ssn=536225478"), [(EntityType::UsSsn, "536225478")]);
        assert!(types("ssn=666225478").is_empty());
        assert!(types("SSN 536-00-5478").is_empty());
        assert!(
            types("536225478").is_empty(),
            "a bare 9-digit number needs context"
        );
        assert_eq!(
            types("ITIN 912-70-1234"),
            [(EntityType::UsItin, "912-70-1234")]
        );
        assert_eq!(
            types("SSN 912-70-1234"),
            [(EntityType::UsItin, "912-70-1234")]
        );
        assert!(types("ITIN 912-93-1234").is_empty());
    }

    #[test]
    fn cards_need_luhn_and_an_issuer_range() {
        assert_eq!(
            types("paid with 4111 1111 1111 1111"),
            [(EntityType::CreditCard, "4111 1111 1111 1111")]
        );
        assert_eq!(
            types("2221000000000009"),
            [(EntityType::CreditCard, "2221000000000009")]
        );
        assert!(types("gift card 6035 1234 5678 9012").is_empty());
        assert!(types("4111 1111 1111 1112").is_empty());
        assert_eq!(
            types("card 4111111111111111 123"),
            [(EntityType::CreditCard, "4111111111111111")]
        );
        assert_eq!(
            types("card 4111111111111111 cvv 123"),
            [
                (EntityType::CreditCard, "4111111111111111"),
                (EntityType::CardCvv, "123")
            ]
        );
    }

    #[test]
    fn routing_and_account_numbers_follow_their_keywords() {
        assert_eq!(
            types("routing 021000021 account 12345678"),
            [
                (EntityType::AbaRouting, "021000021"),
                (EntityType::UsBankAccount, "12345678")
            ]
        );
        assert!(types("routing 021000022").is_empty());
    }

    #[test]
    fn ibans_are_cut_at_the_country_length() {
        assert_eq!(
            types("IBAN DE89 3704 0044 0532 0130 00 BIC"),
            [(EntityType::Iban, "DE89 3704 0044 0532 0130 00")]
        );
        assert_eq!(
            types("GB82WEST12345698765432"),
            [(EntityType::Iban, "GB82WEST12345698765432")]
        );
        assert!(types("GB82WEST12345698765433").is_empty());
    }

    #[test]
    fn ip_addresses_are_parsed() {
        assert_eq!(
            types("from 203.0.113.7 at"),
            [(EntityType::IpAddress, "203.0.113.7")]
        );
        assert!(types("from 203.0.113.700").is_empty());
        assert_eq!(
            types("client 2001:db8::8a2e:370:7334"),
            [(EntityType::IpAddress, "2001:db8::8a2e:370:7334")]
        );
        assert!(types("at 12:30:45").is_empty());
    }

    #[test]
    fn dates_are_birth_dates_only_with_birth_context() {
        assert_eq!(
            types("DOB: 04/12/1985"),
            [(EntityType::DateOfBirth, "04/12/1985")]
        );
        assert_eq!(
            types("born March 3, 1979"),
            [(EntityType::DateOfBirth, "March 3, 1979")]
        );
        assert!(types("shipped 04/12/2025").is_empty());
        assert!(types("dob 2026-03-01T12:00:00Z").is_empty());
    }

    #[test]
    fn licences_and_passports_need_their_keyword() {
        assert_eq!(
            types("driver's license A1234567"),
            [(EntityType::UsDriverLicense, "A1234567")]
        );
        assert_eq!(
            types("passport 123456789"),
            [(EntityType::UsPassport, "123456789")]
        );
        assert!(types("SKU A1234567").is_empty());
    }

    #[test]
    fn a_keyword_does_not_reach_past_the_next_value() {
        assert_eq!(
            types("DL# A1234567. Case 34955 closed 2023-03-23"),
            [(EntityType::UsDriverLicense, "A1234567")]
        );
        assert_eq!(
            types("Passport no. 123456789"),
            [(EntityType::UsPassport, "123456789")]
        );
        assert!(types("account_number=81248576 trace=100724853523384").len() == 1);
    }

    #[test]
    fn international_phones_and_compact_birth_dates_need_their_field() {
        assert_eq!(
            types_in_field("+44 20 7946 0958", Hint::Phone),
            [(EntityType::Phone, "44 20 7946 0958")]
        );
        assert!(types("+44 20 7946 0958").is_empty());
        assert_eq!(
            types_in_field("19850412", Hint::Dob),
            [(EntityType::DateOfBirth, "19850412")]
        );
        assert_eq!(
            types_in_field("1985-04-12T00:00:00Z", Hint::Dob),
            [(EntityType::DateOfBirth, "1985-04-12")]
        );
        assert!(types_in_field("19851340", Hint::Dob).is_empty());
    }

    #[test]
    fn csv_exports_use_their_header_as_field_names() {
        let csv = "customer_id,first_name,last_name,email,phone,dob,cc_cid\n\
                   1001,Ana,Silva,ana@example.com,4155552671,1984-02-29,123\n\
                   1002,\"O'Neil, Jr\",Kim,kim@example.com,(212) 555-0100,03/04/1990,4567\r\n";
        let got = types(csv);
        assert_eq!(
            got,
            [
                (EntityType::Person, "Ana"),
                (EntityType::Person, "Silva"),
                (EntityType::Email, "ana@example.com"),
                (EntityType::Phone, "4155552671"),
                (EntityType::DateOfBirth, "1984-02-29"),
                (EntityType::CardCvv, "123"),
                (EntityType::Person, "O'Neil, Jr"),
                (EntityType::Person, "Kim"),
                (EntityType::Email, "kim@example.com"),
                (EntityType::Phone, "(212) 555-0100"),
                (EntityType::DateOfBirth, "03/04/1990"),
                (EntityType::CardCvv, "4567"),
            ]
        );
        assert!(types("sku,price\nTS-1,19.99\n").is_empty());
        assert!(types("a,b\nnot a header").is_empty());
    }

    #[test]
    fn held_out_set_b_shapes_are_handled() {
        assert_eq!(
            types("Kind regards,\nTeerth Rao\nMobile: (415) 555-2671"),
            [
                (EntityType::Person, "Teerth Rao"),
                (EntityType::Phone, "(415) 555-2671")
            ]
        );
        assert_eq!(
            types("POST /login?email=adam.t%40proton.me&x=1"),
            [(EntityType::Email, "adam.t%40proton.me")]
        );
        assert!(types("page=/products/savings-jar variant=30560134505459 qty=1").is_empty());
    }

    #[test]
    fn held_out_shapes_are_handled() {
        assert_eq!(
            types(r#"{"msg":"login failed","user":"kim88","pass":"Tr0ub4dor"}"#),
            [
                (EntityType::Username, "kim88"),
                (EntityType::Password, "Tr0ub4dor")
            ]
        );
        assert_eq!(
            types("Customer: Hi, I'm Giacomo Leopardi."),
            [(EntityType::Person, "Giacomo Leopardi")]
        );
        assert!(types("gid://shopify/Customer/4111111111111").is_empty());
    }

    #[test]
    fn a_card_shaped_tail_of_a_tracking_number_is_not_a_card() {
        assert!(types("USPS 9405 6350 3903 7966 4499 33").is_empty());
    }

    #[test]
    fn a_licence_number_must_fit_the_named_state() {
        assert_eq!(
            types("CA driver's license A1234567"),
            [(EntityType::UsDriverLicense, "A1234567")]
        );
        assert!(types("CA driver's license 1234567890").is_empty());
        assert_eq!(
            types("TX driver license 12345678"),
            [(EntityType::UsDriverLicense, "12345678")]
        );
    }

    #[test]
    fn tracking_numbers_and_order_ids_are_not_personal() {
        assert!(types("UPS 1Z999AA10123456784 order 1001234567 total $129.99").is_empty());
        assert!(types("order_id=1234567890 shipped 2026-03-01T10:00:00Z").is_empty());
    }

    #[test]
    fn names_are_found_with_the_dictionary_and_titles() {
        assert_eq!(
            types("Please ship to Jennifer Lopez today"),
            [(EntityType::Person, "Jennifer Lopez")]
        );
        assert_eq!(
            types("Dear Mr. Xyzzy Plugh,"),
            [(EntityType::Person, "Xyzzy Plugh")]
        );
        assert!(types("Blue Canyon Backpack").is_empty());
        assert_eq!(types("Hi Emily, thanks"), [(EntityType::Person, "Emily")]);
    }

    #[test]
    fn streets_need_a_suffix_and_take_the_city_line() {
        assert_eq!(
            types("ship to 8311 Jennifer Crossing Suite 511, Springfield, IL 62704 asap"),
            [(
                EntityType::StreetAddress,
                "8311 Jennifer Crossing Suite 511, Springfield, IL 62704"
            )]
        );
        assert_eq!(
            types("123 Main St"),
            [(EntityType::StreetAddress, "123 Main St")]
        );
        assert!(types("2 Blue Shirts").is_empty());
    }

    #[test]
    fn key_value_pairs_give_usernames_and_passwords() {
        assert_eq!(
            types("login ok username=jdoe88 password=hunter2!"),
            [
                (EntityType::Username, "jdoe88"),
                (EntityType::Password, "hunter2!")
            ]
        );
        assert_eq!(
            types(r#"{"password": "s3cr3t pass"}"#),
            [(EntityType::Password, "s3cr3t pass")]
        );
        assert_eq!(
            types("first_name=Jane last_name=Doe"),
            [(EntityType::Person, "Jane"), (EntityType::Person, "Doe")]
        );
        assert!(types("password=********").is_empty());
    }
}
