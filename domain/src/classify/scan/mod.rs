//! The scanner: finds entity candidates in one string, validates them and scores them with the
//! context around them (keywords before the value, or the field name the string came from).
//!
//! Works on byte offsets internally; the caller converts to code points. Never panics: every
//! slice is taken at offsets a regex or `char_indices` produced, or checked with `get`.
//!
//! The scanners for each kind of entity live in the submodules: [`whole_values`] (a value whose
//! field or key says what it is), [`identifiers`] (emails, IBANs, IPv6, letter-prefixed ids),
//! [`numbers`] (digit runs and dates), [`licenses`] (driver's licence and state ID numbers),
//! [`streets`], [`names`]; [`delimited`] splits CSV/TSV
//! exports into cells. This module holds what they share: [`Found`], the regexes, the keyword
//! [`Context`] and the order in which the scanners run.

mod delimited;
mod identifiers;
mod licenses;
mod names;
mod numbers;
mod streets;
mod whole_values;

use super::EntityType;
use super::context::{Hint, KeywordHit, keyword_hits};
use delimited::scan_delimited;
use identifiers::{scan_alnum_ids, scan_emails, scan_ibans, scan_ipv6};
use licenses::scan_licenses;
use names::scan_names;
use numbers::{scan_digit_runs, scan_month_dates, scan_phones};
use regex::Regex;
use std::sync::OnceLock;
use streets::scan_streets;
use whole_values::{scan_key_values, whole_value};

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
                alnum_id: re(r"[A-Z][0-9]{8}")?,
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

    /// The context of a number: as [`Context::at`], but words about people ("the account
    /// holder", "customer") between a keyword and the number do not hide the keyword.
    fn for_number(&self, pos: usize) -> Option<Hint> {
        let idx = self.hits.partition_point(|hit| hit.end <= pos);
        let mut keyword = idx;
        while keyword > 0 && is_person_hint(self.hits[keyword - 1].hint) {
            keyword -= 1;
        }
        if keyword == idx || keyword == 0 {
            return self.at(pos);
        }
        let hit = self.hits[keyword - 1];
        let gap = self.text.get(hit.end..pos).unwrap_or("");
        let crossed = gap.len() > CONTEXT_WINDOW
            || gap
                .bytes()
                .any(|b| b.is_ascii_digit() || matches!(b, b'\n' | b';' | b'|' | b'&' | b'='))
            || gap.contains(". ");
        if crossed || is_person_hint(hit.hint) {
            return self.at(pos);
        }
        Some(hit.hint)
    }

    fn near(&self, pos: usize, window: usize) -> Option<Hint> {
        let idx = self.hits.partition_point(|hit| hit.end <= pos);
        if idx > 0 {
            let hit = self.glued_identity(idx - 1);
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
                    && gap[..eq].trim_end().contains([' ', '&', ','])
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

    /// `taxpayer_id=`, `passportId`: a generic "id" glued to an identity keyword speaks for
    /// that keyword.
    fn glued_identity(&self, idx: usize) -> KeywordHit {
        let hit = self.hits[idx];
        if hit.hint != Hint::NotPersonal || idx == 0 {
            return hit;
        }
        let prev = self.hits[idx - 1];
        let glued = (prev.end == hit.start
            || prev.end + 1 == hit.start
                && matches!(self.text.as_bytes().get(prev.end), Some(b'_' | b'-' | b' ')))
            && self
                .text
                .get(hit.start..hit.end)
                .is_some_and(|w| w.eq_ignore_ascii_case("id"));
        let identity = matches!(
            prev.hint,
            Hint::Ssn | Hint::TaxId | Hint::DriverLicense | Hint::Passport
        );
        if glued && identity {
            KeywordHit {
                hint: prev.hint,
                ..hit
            }
        } else {
            hit
        }
    }

    fn anywhere(&self, wanted: &[Hint]) -> bool {
        self.field.is_some_and(|h| wanted.contains(&h))
            || self.hits.iter().any(|hit| wanted.contains(&hit.hint))
    }
}

fn is_person_hint(hint: Hint) -> bool {
    matches!(
        hint,
        Hint::FullName | Hint::GivenName | Hint::FamilyName | Hint::MaybeName | Hint::Greeting
    )
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
        if ctx.anywhere(&[Hint::Passport]) {
            scan_alnum_ids(text, patterns, &ctx, &mut found);
        }
        if ctx.anywhere(&[Hint::DriverLicense]) {
            scan_licenses(text, &ctx, &mut found);
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

#[cfg(test)]
mod identity_tests;
#[cfg(test)]
mod tests;
