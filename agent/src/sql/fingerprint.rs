//! The pt-query-digest fingerprint and its query id.
//!
//! Follows `QueryRewriter::fingerprint` of percona-toolkit with its default options: the
//! special cases first (pt-table-checksum, `administrator command`, `CALL`, multi-row
//! `INSERT`, `USE`), then one scan over the statement ([`super::normalize`]), then the list,
//! UNION, LIMIT and ORDER BY rules over the much shorter output. It must not allocate per
//! byte; callers reuse a [`Fingerprinter`].

use md5::{Digest, Md5};

use super::bytes::{
    FIND_ASC, FIND_COMMENT_OPEN, FIND_LIMIT, FIND_ORDER_BY, FIND_UNION, find_ci, is_space, is_word,
    starts_with_ci,
};
use super::normalize::scan;

/// Reusable buffers for fingerprinting.
#[derive(Default)]
pub struct Fingerprinter {
    out: Vec<u8>,
    tmp: Vec<u8>,
}

impl Fingerprinter {
    /// A fingerprinter with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fingerprints `query` and returns the result (valid until the next call).
    pub fn fingerprint(&mut self, query: &[u8]) -> &[u8] {
        fingerprint_into(query, &mut self.out, &mut self.tmp);
        &self.out
    }
}

/// Convenience: fingerprint as a `String` (lossy for non-UTF-8 input).
pub fn fingerprint(query: &[u8]) -> String {
    let mut fingerprinter = Fingerprinter::new();
    String::from_utf8_lossy(fingerprinter.fingerprint(query)).into_owned()
}

/// pt-query-digest query id: upper-case hex of the last 8 bytes of MD5(fingerprint).
pub fn query_id(fingerprint: &[u8]) -> String {
    let digest = Md5::digest(fingerprint);
    let mut id = String::with_capacity(16);
    for byte in &digest[8..16] {
        id.push(HEX_UPPER[(byte >> 4) as usize] as char);
        id.push(HEX_UPPER[(byte & 0xf) as usize] as char);
    }
    id
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn fingerprint_into(query: &[u8], out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    out.clear();
    // pt-query-digest folds every mysqldump read into the literal `mysqldump`; the agent keeps
    // the ordinary fingerprint, so each dumped table keeps its shape, query id and table name.
    if has_checksum_comment(query) {
        out.extend_from_slice(b"percona-toolkit");
        return;
    }
    if query.starts_with(b"administrator command: ") {
        out.extend_from_slice(query);
        return;
    }
    if let Some(name) = call_name(query) {
        out.extend_from_slice(b"call ");
        out.extend(name.iter().map(u8::to_ascii_lowercase));
        return;
    }
    let query = cut_multi_row_insert(query);
    if is_use_statement(query) {
        out.extend_from_slice(b"use ?");
        return;
    }
    scan(query, out);
    collapse_lists(out, tmp);
    collapse_union(out, tmp);
    collapse_limit(out, tmp);
    strip_order_by_asc(out, tmp);
}

/// `/*\w+\.\w+:[0-9]/[0-9]*/`, the pt-table-checksum marker.
fn has_checksum_comment(query: &[u8]) -> bool {
    for start in FIND_COMMENT_OPEN.find_iter(query) {
        let rest = &query[start + 2..];
        let mut i = 0;
        let word = |i: &mut usize| {
            let begin = *i;
            while *i < rest.len() && is_word(rest[*i]) {
                *i += 1;
            }
            *i > begin
        };
        if !word(&mut i) || rest.get(i) != Some(&b'.') {
            continue;
        }
        i += 1;
        if !word(&mut i) || rest.get(i) != Some(&b':') {
            continue;
        }
        // `\w+` is greedy but may give back digits; accept `<digit>/<digit>*/` right after.
        if rest.len() >= i + 6
            && rest[i + 1].is_ascii_digit()
            && rest[i + 2] == b'/'
            && rest[i + 3].is_ascii_digit()
            && &rest[i + 4..i + 6] == b"*/"
        {
            return true;
        }
    }
    false
}

/// `\A\s*(call\s+\S+)\(` → the `\S+` part before the last `(` of the run.
fn call_name(query: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    while i < query.len() && is_space(query[i]) {
        i += 1;
    }
    if !starts_with_ci(&query[i..], b"call") {
        return None;
    }
    i += 4;
    let spaces = i;
    while i < query.len() && is_space(query[i]) {
        i += 1;
    }
    if i == spaces {
        return None;
    }
    let run_start = i;
    while i < query.len() && !is_space(query[i]) {
        i += 1;
    }
    let run = &query[run_start..i];
    let paren = run.iter().rposition(|&b| b == b'(')?;
    if paren == 0 {
        return None;
    }
    Some(&run[..paren])
}

/// `\A((?:INSERT|REPLACE)(?: IGNORE)?\s+INTO.+?VALUES\s*\(.*?\))\s*,\s*\(` → group 1.
fn cut_multi_row_insert(query: &[u8]) -> &[u8] {
    let mut i = if starts_with_ci(query, b"INSERT") {
        6
    } else if starts_with_ci(query, b"REPLACE") {
        7
    } else {
        return query;
    };
    if starts_with_ci(&query[i..], b" IGNORE") {
        i += 7;
    }
    let spaces = i;
    while i < query.len() && is_space(query[i]) {
        i += 1;
    }
    if i == spaces || !starts_with_ci(&query[i..], b"INTO") {
        return query;
    }
    i += 4;
    // `.+?VALUES`: at least one byte, then the first VALUES that leads to a match.
    let mut search = i + 1;
    while search < query.len() {
        let Some(found) = find_ci(&query[search..], b"VALUES") else {
            return query;
        };
        let values_at = search + found;
        let mut j = values_at + 6;
        while j < query.len() && is_space(query[j]) {
            j += 1;
        }
        if query.get(j) == Some(&b'(') {
            // `.*?\)` then `\s*,\s*\(`
            let mut k = j + 1;
            while let Some(close) = memchr::memchr(b')', &query[k..]) {
                let close_at = k + close;
                let mut m = close_at + 1;
                while m < query.len() && is_space(query[m]) {
                    m += 1;
                }
                if query.get(m) == Some(&b',') {
                    m += 1;
                    while m < query.len() && is_space(query[m]) {
                        m += 1;
                    }
                    if query.get(m) == Some(&b'(') {
                        return &query[..=close_at];
                    }
                }
                k = close_at + 1;
            }
            return query;
        }
        search = values_at + 1;
    }
    query
}

/// `\Ause \S+\Z` (case-insensitive).
fn is_use_statement(query: &[u8]) -> bool {
    if !starts_with_ci(query, b"use ") {
        return false;
    }
    let mut rest = &query[4..];
    if let Some(stripped) = rest.strip_suffix(b"\n") {
        rest = stripped;
    }
    !rest.is_empty() && !rest.iter().any(|&b| is_space(b))
}

fn word_boundary_before(text: &[u8], at: usize) -> bool {
    at == 0 || !is_word(text[at - 1])
}

/// `\b(in|values?)(?:[\s,]*\([\s?,]*\))+` → `$1(?+)`.
fn collapse_lists(out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    if memchr::memchr(b'(', out).is_none() {
        return;
    }
    tmp.clear();
    let text = &out[..];
    let mut i = 0;
    let mut changed = false;
    while i < text.len() {
        if (text[i] == b'i' || text[i] == b'v') && word_boundary_before(text, i) {
            let word_len = if text[i..].starts_with(b"in") {
                Some(2)
            } else if text[i..].starts_with(b"values") {
                Some(6)
            } else if text[i..].starts_with(b"value") {
                Some(5)
            } else {
                None
            };
            let mut candidates: &[usize] = &[];
            let six_five = [6usize, 5];
            let two = [2usize];
            if let Some(len) = word_len {
                candidates = if len == 2 {
                    &two
                } else if len == 6 {
                    &six_five
                } else {
                    &six_five[1..]
                };
            }
            let mut matched = None;
            for &len in candidates {
                let mut k = i + len;
                let mut groups = 0;
                loop {
                    let mut m = k;
                    while m < text.len() && (text[m] == b' ' || text[m] == b',') {
                        m += 1;
                    }
                    if text.get(m) != Some(&b'(') {
                        break;
                    }
                    m += 1;
                    while m < text.len() && matches!(text[m], b' ' | b'?' | b',') {
                        m += 1;
                    }
                    if text.get(m) != Some(&b')') {
                        break;
                    }
                    k = m + 1;
                    groups += 1;
                }
                if groups > 0 {
                    matched = Some((len, k));
                    break;
                }
            }
            if let Some((len, end)) = matched {
                tmp.extend_from_slice(&text[i..i + len]);
                tmp.extend_from_slice(b"(?+)");
                i = end;
                changed = true;
                continue;
            }
        }
        tmp.push(text[i]);
        i += 1;
    }
    if changed {
        std::mem::swap(out, tmp);
    }
}

/// `\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+` → `$1 /*repeat$2*/`.
fn collapse_union(out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    if FIND_UNION.find(out).is_none() || out.len() > 64 * 1024 {
        return;
    }
    tmp.clear();
    let text = &out[..];
    let mut i = 0;
    let mut changed = false;
    while i < text.len() {
        if text[i..].starts_with(b"select ")
            && word_boundary_before(text, i)
            && let Some((branch_end, match_end, union_kind)) = union_match(text, i)
        {
            tmp.extend_from_slice(&text[i..branch_end]);
            tmp.extend_from_slice(b" /*repeat");
            tmp.extend_from_slice(union_kind);
            tmp.extend_from_slice(b"*/");
            i = match_end;
            changed = true;
            continue;
        }
        tmp.push(text[i]);
        i += 1;
    }
    if changed {
        std::mem::swap(out, tmp);
    }
}

fn union_match(text: &[u8], start: usize) -> Option<(usize, usize, &'static [u8])> {
    // The branch is `select ` plus the shortest `.*?` for which a repetition follows.
    let mut branch_end = start + 7;
    while branch_end <= text.len() {
        let branch = &text[start..branch_end];
        let mut pos = branch_end;
        let mut last_kind: Option<&'static [u8]> = None;
        loop {
            let rest = &text[pos..];
            let kind: &'static [u8] = if rest.starts_with(b" union all ") {
                b" union all"
            } else if rest.starts_with(b" union ") {
                b" union"
            } else {
                break;
            };
            let after = pos + kind.len() + 1;
            if text[after..].starts_with(branch) {
                pos = after + branch.len();
                last_kind = Some(kind);
            } else if kind == b" union all" && text[pos + 7..].starts_with(branch) {
                // `\sunion` without `all`, where the branch itself starts with `all`: not
                // possible since branches start with `select`.
                break;
            } else {
                break;
            }
        }
        if let Some(kind) = last_kind {
            return Some((branch_end, pos, kind));
        }
        branch_end += 1;
    }
    None
}

/// `\blimit \?(?:, ?\?| offset \?)?` → `limit ?` (first occurrence only, as pt).
fn collapse_limit(out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    let mut from = 0;
    while let Some(pos) = FIND_LIMIT.find(&out[from..]) {
        let at = from + pos;
        if !word_boundary_before(out, at) {
            from = at + 1;
            continue;
        }
        let mut end = at + 7;
        let rest = &out[end..];
        if rest.starts_with(b", ?") {
            end += 3;
        } else if rest.starts_with(b",?") {
            end += 2;
        } else if rest.starts_with(b" offset ?") {
            end += 9;
        }
        if end != at + 7 {
            tmp.clear();
            tmp.extend_from_slice(&out[..at + 7]);
            tmp.extend_from_slice(&out[end..]);
            std::mem::swap(out, tmp);
        }
        return;
    }
}

/// After the first `order by `, every ` asc` is removed (pt issue 1030).
fn strip_order_by_asc(out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    let mut from = 0;
    let anchor = loop {
        let Some(pos) = FIND_ORDER_BY.find(&out[from..]) else {
            return;
        };
        let at = from + pos;
        if word_boundary_before(out, at) {
            break at + 9;
        }
        from = at + 1;
    };
    if FIND_ASC.find(&out[anchor..]).is_none() {
        return;
    }
    tmp.clear();
    tmp.extend_from_slice(&out[..anchor]);
    let mut pos = anchor;
    loop {
        if pos + 1 > out.len() {
            break;
        }
        match FIND_ASC.find(&out[pos + 1..]) {
            Some(found) => {
                let at = pos + 1 + found;
                tmp.extend_from_slice(&out[pos..at]);
                pos = at + 4;
            }
            None => break,
        }
    }
    tmp.extend_from_slice(&out[pos..]);
    std::mem::swap(out, tmp);
}
