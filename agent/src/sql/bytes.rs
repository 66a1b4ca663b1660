//! Byte helpers and the substring searchers shared by the SQL modules.

use std::sync::LazyLock;

use memchr::memmem;

// Searchers are built once: building one per call showed up in profiles.
pub(super) static FIND_ASC: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b" asc"));
pub(super) static FIND_INTO_DUMPFILE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"into dumpfile"));
pub(super) static FIND_INTO_OUTFILE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"into outfile"));
pub(super) static FIND_LG: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"/*lg_"));
pub(super) static FIND_LIMIT: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"limit ?"));
pub(super) static FIND_ORDER_BY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"order by "));
pub(super) static FIND_UNION: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b" union "));
pub(super) static FIND_COMMENT_OPEN: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"/*"));
pub(super) static FIND_COMMENT_CLOSE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"*/"));

pub(super) fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

pub(super) fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\t' | b'\r' | 0x0c)
}

pub(super) fn starts_with_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

pub(super) fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first_lower = needle[0].to_ascii_lowercase();
    let first_upper = needle[0].to_ascii_uppercase();
    let mut start = 0;
    while let Some(pos) = memchr::memchr2(first_lower, first_upper, &haystack[start..]) {
        let at = start + pos;
        if at + needle.len() > haystack.len() {
            return None;
        }
        if haystack[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}
