//! Dictionaries compiled into the crate: given names, surnames, USPS street suffixes and state
//! codes. Built once on first use; lookups are case-insensitive and never allocate for ASCII
//! words of normal length.

use super::fast_hash::{FastMap, FastSet};
use std::sync::OnceLock;

const GIVEN_NAMES: &str = include_str!("../../data/given_names.txt");
const SURNAMES: &str = include_str!("../../data/surnames.txt");
const STREET_SUFFIXES: &str = include_str!("../../data/street_suffixes.txt");
const US_STATES: &str = include_str!("../../data/us_states.txt");

struct Dictionaries {
    given: FastSet<String>,
    surnames: FastSet<String>,
    street_suffixes: FastSet<String>,
    state_codes: FastSet<String>,
    /// Lower-case state name → USPS code.
    state_names: FastMap<String, &'static str>,
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

fn dictionaries() -> &'static Dictionaries {
    static DICTS: OnceLock<Dictionaries> = OnceLock::new();
    DICTS.get_or_init(|| {
        let lower = |word: &str| word.to_ascii_lowercase();
        let mut state_codes = FastSet::default();
        let mut state_names = FastMap::default();
        for line in lines(US_STATES) {
            if let Some((code, name)) = line.split_once('\t') {
                state_codes.insert(code.to_owned());
                state_names.insert(lower(name), code);
            }
        }
        Dictionaries {
            given: lines(GIVEN_NAMES).map(lower).collect(),
            surnames: lines(SURNAMES).map(lower).collect(),
            street_suffixes: lines(STREET_SUFFIXES)
                .flat_map(str::split_whitespace)
                .map(lower)
                .collect(),
            state_codes,
            state_names,
        }
    })
}

/// Lower-cases ASCII into a stack buffer so lookups do not allocate.
fn with_lower<R>(word: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 32];
    if word.len() <= buf.len() && word.is_ascii() {
        let out = &mut buf[..word.len()];
        out.copy_from_slice(word.as_bytes());
        out.make_ascii_lowercase();
        if let Ok(lowered) = std::str::from_utf8(out) {
            return f(lowered);
        }
    }
    f(&word.to_lowercase())
}

/// A common given name (any case).
pub fn is_given_name(word: &str) -> bool {
    with_lower(word, |w| dictionaries().given.contains(w))
}

/// A common surname (any case).
pub fn is_surname(word: &str) -> bool {
    with_lower(word, |w| dictionaries().surnames.contains(w))
}

/// A USPS street suffix or one of its abbreviations (any case, trailing period ignored).
pub fn is_street_suffix(word: &str) -> bool {
    let word = word.strip_suffix('.').unwrap_or(word);
    with_lower(word, |w| dictionaries().street_suffixes.contains(w))
}

/// A USPS two-letter state code (upper case only, so "in" or "or" in prose do not count).
pub fn is_state_code(word: &str) -> bool {
    dictionaries().state_codes.contains(word)
}

/// A state name (any case), e.g. "New York".
pub fn is_state_name(words: &str) -> bool {
    with_lower(words, |w| dictionaries().state_names.contains_key(w))
}

/// The USPS code of a state name (any case): "new york" → `NY`.
pub fn state_code_of_name(words: &str) -> Option<&'static str> {
    with_lower(words, |w| dictionaries().state_names.get(w).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_hold_common_entries() {
        assert!(is_given_name("Jennifer"));
        assert!(is_given_name("MICHAEL"));
        assert!(is_surname("Smith"));
        assert!(is_surname("garcia"));
        assert!(!is_given_name("Shipped"));
        assert!(is_street_suffix("St."));
        assert!(is_street_suffix("Boulevard"));
        assert!(is_street_suffix("xing"));
        assert!(!is_street_suffix("Shirt"));
        assert!(is_state_code("CA"));
        assert!(!is_state_code("ca"));
        assert!(is_state_name("New Mexico"));
        assert_eq!(state_code_of_name("new york"), Some("NY"));
        assert_eq!(state_code_of_name("Narnia"), None);
    }
}
