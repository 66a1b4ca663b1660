//! Driver's licence and state ID number formats of the 50 states and DC, as the states publish
//! them (AAMVA card design standard and the DMV format lists used by ID scanners): letters,
//! digits and their counts. A licence number found next to a keyword is accepted only when it
//! fits the named state's formats or, when no state is named, one of the formats of any state.
//!
//! Formats are written as segments: `L7` seven letters, `D2-5` two to five digits, `X9` nine
//! letters or digits, `=WDL` the literal prefix. Values are compared upper case, without
//! separators. Very short numbers (a few states issue 1-4 digit numbers) are not accepted
//! anywhere: without more to go on they cannot be told from other small numbers.

use std::sync::OnceLock;

/// Shortest value accepted, in characters.
pub const MIN_LEN: usize = 5;
/// Longest value accepted (NY's 19-character `L1 D18`).
pub const MAX_LEN: usize = 19;

const FORMATS: &[(&str, &str)] = &[
    ("AL", "D5-8"),
    ("AK", "D5-7"),
    ("AZ", "L1 D8 | L2 D2-5 | D9"),
    ("AR", "D4-9"),
    ("CA", "L1 D7"),
    ("CO", "D9 | L1 D3-6 | L2 D2-5"),
    ("CT", "D9"),
    ("DE", "D5-7"),
    ("DC", "D7 | D9"),
    ("FL", "L1 D12"),
    ("GA", "D7-9"),
    ("HI", "L1 D8 | D9"),
    ("ID", "L2 D6 L1 | D9"),
    ("IL", "L1 D11-12"),
    ("IN", "L1 D9 | D9-10"),
    ("IA", "D9 | D3 L2 D4"),
    ("KS", "L1 D8 | D9"),
    ("KY", "L1 D8-9 | D9"),
    ("LA", "D5-9"),
    ("ME", "D7 | D7 L1 | D8"),
    ("MD", "L1 D12"),
    ("MA", "L1 D8 | L2 D7 | D9"),
    ("MI", "L1 D10 | L1 D12"),
    ("MN", "L1 D12"),
    ("MS", "D9"),
    ("MO", "L1 D5-9 | L1 D6 =R | D8 L2 | D9 L1 | D9"),
    ("MT", "L1 D8 | D9 | D13-14"),
    ("NE", "L1 D6-8"),
    ("NV", "D9-10 | D12 | =X D8"),
    ("NH", "D2 L3 D5"),
    ("NJ", "L1 D14"),
    ("NM", "D8-9"),
    ("NY", "L1 D7 | L1 D18 | D8-9 | D16"),
    ("NC", "D5-12"),
    ("ND", "L3 D6 | D9"),
    ("OH", "L1 D4-8 | L2 D3-7 | D8"),
    ("OK", "L1 D9 | D9"),
    ("OR", "D5-9 | L1 D6 | L2 D5"),
    ("PA", "D8"),
    ("RI", "D7 | L1 D6"),
    ("SC", "D5-11"),
    ("SD", "D6-10 | D12"),
    ("TN", "D7-9"),
    ("TX", "D7-8"),
    ("UT", "D5-10"),
    ("VT", "D8 | D7 =A"),
    ("VA", "L1 D8-11 | D9"),
    // New cards: `WDL` and nine letters or digits; older ones: up to seven letters of the
    // name (`*` pads short names), then year and check characters, twelve in all.
    ("WA", "=WDL X9 | L1-7 X5-11"),
    ("WV", "D7 | L1-2 D5-6"),
    ("WI", "L1 D13"),
    ("WY", "D9-10"),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    Letter,
    Digit,
    Either,
    Literal(u8),
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    class: Class,
    min: usize,
    max: usize,
}

type Format = Vec<Segment>;

struct Table {
    states: Vec<(&'static str, Vec<Format>)>,
}

fn parse_segment(token: &str) -> Vec<Segment> {
    if let Some(literal) = token.strip_prefix('=') {
        return literal
            .bytes()
            .map(|b| Segment {
                class: Class::Literal(b),
                min: 1,
                max: 1,
            })
            .collect();
    }
    let (class, counts) = token.split_at(1);
    let class = match class {
        "L" => Class::Letter,
        "D" => Class::Digit,
        _ => Class::Either,
    };
    let (min, max) = match counts.split_once('-') {
        Some((a, b)) => (a.parse().unwrap_or(1), b.parse().unwrap_or(1)),
        None => {
            let n = counts.parse().unwrap_or(1);
            (n, n)
        }
    };
    vec![Segment { class, min, max }]
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table {
        states: FORMATS
            .iter()
            .map(|(state, spec)| {
                let formats = spec
                    .split('|')
                    .map(|format| format.split_whitespace().flat_map(parse_segment).collect())
                    .collect();
                (*state, formats)
            })
            .collect(),
    })
}

fn class_allows(class: Class, byte: u8) -> bool {
    match class {
        Class::Letter => byte.is_ascii_uppercase(),
        Class::Digit => byte.is_ascii_digit(),
        Class::Either => byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'*',
        Class::Literal(b) => byte == b,
    }
}

/// Matches `value` against the segments, trying every count in each segment's range.
fn fits(value: &[u8], segments: &[Segment]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return value.is_empty();
    };
    let run = value
        .iter()
        .take(first.max)
        .take_while(|&&b| class_allows(first.class, b))
        .count();
    (first.min..=run).rev().any(|n| fits(&value[n..], rest))
}

/// Washington numbers are always twelve characters, whatever their layout.
fn length_ok(state: &str, value: &[u8]) -> bool {
    state != "WA" || value.len() == 12
}

fn digit_count(value: &[u8]) -> usize {
    value.iter().filter(|b| b.is_ascii_digit()).count()
}

/// A value worth checking: long enough, and carrying digits (the WA formats carry fewer).
fn plausible(value: &[u8]) -> bool {
    (MIN_LEN..=MAX_LEN).contains(&value.len())
        && (digit_count(value) >= 4 || value.len() == 12 && digit_count(value) >= 2)
}

/// Whether `value` (upper case, no separators) fits one of `state`'s formats; `None` for a code
/// that is not a state or DC.
pub fn fits_state(state: &str, value: &str) -> Option<bool> {
    let (_, formats) = table().states.iter().find(|(code, _)| *code == state)?;
    let bytes = value.as_bytes();
    Some(plausible(bytes) && length_ok(state, bytes) && formats.iter().any(|f| fits(bytes, f)))
}

/// Whether `value` (upper case, no separators) fits some state's format.
pub fn fits_any_state(value: &str) -> bool {
    let bytes = value.as_bytes();
    plausible(bytes)
        && table().states.iter().any(|(state, formats)| {
            length_ok(state, bytes) && formats.iter().any(|f| fits(bytes, f))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One valid example per state and DC, and one value of a neighbouring shape that the state
    /// does not issue.
    const CASES: &[(&str, &str, &str)] = &[
        ("AL", "1234567", "A1234567"),
        ("AK", "1234567", "12345678"),
        ("AZ", "B12345678", "B1234567"),
        ("AR", "912345678", "9123456789"),
        ("CA", "D1234567", "12345678"),
        ("CO", "123456789", "1234567"),
        ("CT", "123456789", "12345678"),
        ("DE", "1234567", "12345678"),
        ("DC", "1234567", "12345678"),
        ("FL", "S530460567890", "S53046056789"),
        ("GA", "123456789", "A12345678"),
        ("HI", "H12345678", "H1234567"),
        ("ID", "AB123456C", "AB1234567"),
        ("IL", "S53046056789", "S530460567"),
        ("IN", "1234567890", "12345678"),
        ("IA", "123AB4567", "12AB34567"),
        ("KS", "K12345678", "K1234567"),
        ("KY", "K123456789", "K1234567"),
        ("LA", "123456789", "A12345678"),
        ("ME", "1234567A", "123456AB"),
        ("MD", "M123456789012", "M12345678901"),
        ("MA", "S12345678", "S1234567"),
        ("MI", "M1234567890", "M12345678901"),
        ("MN", "M123456789012", "M1234567890"),
        ("MS", "123456789", "12345678"),
        ("MO", "A123456R", "AB123456"),
        ("MT", "1234567890123", "123456789012"),
        ("NE", "A1234567", "A12345"),
        ("NV", "X12345678", "Y12345678"),
        ("NH", "12ABC34567", "12AB345678"),
        ("NJ", "A12345678901234", "A1234567890123"),
        ("NM", "12345678", "1234567"),
        ("NY", "123456789", "1234567"),
        ("NC", "123456789012", "1234567890123"),
        ("ND", "ABC123456", "AB1234567"),
        ("OH", "AB123456", "ABC12345"),
        ("OK", "A123456789", "A12345678"),
        ("OR", "A123456", "A1234567"),
        ("PA", "12345678", "1234567"),
        ("RI", "V123456", "V1234567"),
        ("SC", "12345678901", "123456789012"),
        ("SD", "123456789012", "12345678901"),
        ("TN", "12345678", "123456"),
        ("TX", "12345678", "123456789"),
        ("UT", "1234567890", "12345678901"),
        ("VT", "1234567A", "123456AB"),
        ("VA", "A12345678", "A1234567"),
        ("WA", "WDLUZLQJY595", "WDL12345"),
        ("WV", "AB12345", "ABC12345"),
        ("WI", "S5304605678901", "S530460567890"),
        ("WY", "1234567890", "12345678"),
    ];

    #[test]
    fn every_state_and_dc_has_formats() {
        assert_eq!(table().states.len(), 51);
        assert_eq!(CASES.len(), 51);
    }

    #[test]
    fn each_state_accepts_its_shape_and_rejects_a_neighbouring_one() {
        for (state, valid, invalid) in CASES {
            assert_eq!(fits_state(state, valid), Some(true), "{state} {valid}");
            assert_eq!(fits_state(state, invalid), Some(false), "{state} {invalid}");
            assert!(fits_any_state(valid), "{valid}");
        }
    }

    #[test]
    fn values_no_state_issues_are_rejected() {
        for value in [
            "ABCDEFGH",
            "1234",
            "12345678901234567890",
            "AB12",
            "ABCD1234EFGH5678",
        ] {
            assert!(!fits_any_state(value), "{value}");
        }
        assert_eq!(fits_state("XX", "12345678"), None);
    }
}
