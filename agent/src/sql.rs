//! SQL on the host: pt-query-digest fingerprints, query ids, the fail-closed masking check,
//! sqlcommenter attributes, table names and security classification.
//!
//! Works on bytes and never allocates per byte; callers reuse a [`Fingerprinter`]. It must not
//! let a literal through: whatever the fingerprint rules miss, [`passes_mask`] refuses.
//!
//! The fingerprint follows `QueryRewriter::fingerprint` of percona-toolkit with its default
//! options, so query ids equal the ones DBAs see in pt-query-digest and PMM. It is one scan
//! over the statement's bytes (comments, strings, booleans, numbers, whitespace, case and
//! NULL together); the list, UNION, LIMIT and ORDER BY rules then run over the much shorter
//! output. Known, deliberate differences from the Perl regex chain: backslash escapes and
//! doubled quotes are honoured inside strings (pt removes `\'` first and splits `'a''b'`),
//! and a comment inside a string literal is not removed.

use std::sync::LazyLock;

use md5::{Digest, Md5};
use memchr::memmem;

// Searchers are built once: building one per call showed up in profiles.
static FIND_ASC: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b" asc"));
static FIND_INTO_DUMPFILE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"into dumpfile"));
static FIND_INTO_OUTFILE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"into outfile"));
static FIND_LG: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"/*lg_"));
static FIND_LIMIT: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"limit ?"));
static FIND_ORDER_BY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"order by "));
static FIND_UNION: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b" union "));
static FIND_COMMENT_OPEN: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"/*"));
static FIND_COMMENT_CLOSE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"*/"));

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

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\t' | b'\r' | 0x0c)
}

fn starts_with_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

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

fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
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

struct Scanner<'a> {
    query: &'a [u8],
    out: &'a mut Vec<u8>,
    /// Whitespace seen since the last emitted byte.
    ws_run: usize,
    ws_last_newline: bool,
    /// Raw byte behind the last emitted byte (before lower-casing), for the pt clean-up rule.
    last_raw: u8,
    /// Whether the text before the current position (strings already `?`) ends in `\w`.
    prev_word: bool,
    /// A search for `*/` from at or after this position is known to fail.
    no_comment_close_from: usize,
    /// A quote of this kind from at or after the position is known to be unterminated.
    no_single_close_from: usize,
    no_double_close_from: usize,
    /// Cached one-line comment look-ahead: (stop position, is a comment).
    olc_cache: Option<(usize, bool)>,
}

impl Scanner<'_> {
    fn flush_ws(&mut self) {
        if self.ws_run > 0 {
            if !self.out.is_empty() {
                self.out.push(b' ');
            }
            self.ws_run = 0;
            self.last_raw = b' ';
        }
    }

    fn emit(&mut self, byte: u8) {
        self.flush_ws();
        self.out.push(byte.to_ascii_lowercase());
        self.last_raw = byte;
    }

    /// Emits a `?` that replaced a literal, applying pt's `[xb.+-]\?` → `?` clean-up.
    fn emit_literal(&mut self) {
        if self.ws_run == 0 && matches!(self.last_raw, b'x' | b'b' | b'.' | b'+' | b'-') {
            self.out.pop();
        }
        self.flush_ws();
        self.out.push(b'?');
        self.last_raw = b'?';
    }

    /// End of the `/* … */` comment starting at `start` (not `/*!`), if it is closed.
    fn block_comment_end(&mut self, start: usize) -> Option<usize> {
        let query = self.query;
        if start + 2 >= query.len() || query[start + 1] != b'*' || query[start + 2] == b'!' {
            return None;
        }
        let from = start + 3;
        if from >= self.no_comment_close_from {
            return None;
        }
        match FIND_COMMENT_CLOSE.find(&query[from.min(query.len())..]) {
            Some(pos) => Some(from + pos + 2),
            None => {
                self.no_comment_close_from = from;
                None
            }
        }
    }

    /// Whether a `--`/`#` comment starting at `start` (body at `body`) runs to a line end
    /// without a quote; returns the position of the line end.
    fn line_comment_end(&mut self, body: usize) -> Option<usize> {
        let query = self.query;
        if let Some((stop, is_comment)) = self.olc_cache
            && body <= stop
        {
            return if is_comment { Some(stop) } else { None };
        }
        let mut j = body;
        loop {
            if j >= query.len() {
                self.olc_cache = Some((query.len(), true));
                return Some(query.len());
            }
            match query[j] {
                b'\r' | b'\n' => {
                    self.olc_cache = Some((j, true));
                    return Some(j);
                }
                b'\'' | b'"' => {
                    self.olc_cache = Some((j, false));
                    return None;
                }
                b'/' => match self.block_comment_end(j) {
                    Some(end) => j = end,
                    None => j += 1,
                },
                _ => j += 1,
            }
        }
    }

    fn string_end(&mut self, start: usize) -> Option<usize> {
        let query = self.query;
        let quote = query[start];
        let known_open = if quote == b'\'' {
            self.no_single_close_from
        } else {
            self.no_double_close_from
        };
        if start >= known_open {
            return None;
        }
        let mut j = start + 1;
        while j < query.len() {
            let byte = query[j];
            if byte == b'\\' {
                j += 2;
                continue;
            }
            if byte == quote {
                if query.get(j + 1) == Some(&quote) {
                    j += 2;
                    continue;
                }
                return Some(j + 1);
            }
            j += 1;
        }
        if quote == b'\'' {
            self.no_single_close_from = start;
        } else {
            self.no_double_close_from = start;
        }
        None
    }

    fn keyword_at(&self, at: usize, word: &[u8]) -> bool {
        let query = self.query;
        starts_with_ci(&query[at..], word)
            && query.get(at + word.len()).is_none_or(|&b| !is_word(b))
    }

    fn run(&mut self) {
        let query = self.query;
        let mut i = 0;
        while i < query.len() {
            let byte = query[i];
            match byte {
                b' ' | b'\n' | b'\t' | b'\r' | 0x0c => {
                    self.ws_run += 1;
                    self.ws_last_newline = byte == b'\n';
                    self.prev_word = false;
                    i += 1;
                }
                b'/' => {
                    if let Some(end) = self.block_comment_end(i) {
                        i = end;
                    } else {
                        self.emit(byte);
                        self.prev_word = false;
                        i += 1;
                    }
                }
                b'#' => {
                    if let Some(end) = self.line_comment_end(i + 1) {
                        i = end;
                    } else {
                        self.emit(byte);
                        self.prev_word = false;
                        i += 1;
                    }
                }
                b'\'' | b'"' => {
                    if let Some(end) = self.string_end(i) {
                        self.emit_literal();
                        self.prev_word = false;
                        i = end;
                    } else {
                        self.emit(byte);
                        self.prev_word = false;
                        i += 1;
                    }
                }
                b'-' if query.get(i + 1) == Some(&b'-')
                    && self.line_comment_end(i + 2).is_some() =>
                {
                    i = self.line_comment_end(i + 2).unwrap_or(query.len());
                }
                b'0'..=b'9' | b'+' | b'-' => {
                    let mut j = i + 1;
                    while j < query.len() {
                        let next = query[j];
                        let in_class =
                            matches!(next, b'0'..=b'9' | b'a'..=b'f' | b'.' | b'x' | b'+' | b'-');
                        if !in_class {
                            break;
                        }
                        if next == b'-'
                            && query.get(j + 1) == Some(&b'-')
                            && self.line_comment_end(j + 2).is_some()
                        {
                            break;
                        }
                        j += 1;
                    }
                    self.emit_literal();
                    self.prev_word = is_word(query[j - 1]);
                    i = j;
                }
                b't' | b'T' if !self.prev_word && self.keyword_at(i, b"true") => {
                    self.emit_literal();
                    self.prev_word = false;
                    i += 4;
                }
                b'f' | b'F' if !self.prev_word && self.keyword_at(i, b"false") => {
                    self.emit_literal();
                    self.prev_word = false;
                    i += 5;
                }
                b'n' | b'N'
                    if !self
                        .out
                        .last()
                        .is_some_and(|&b| is_word(b) && self.ws_run == 0)
                        && starts_with_ci(&query[i..], b"null")
                        && query
                            .get(i + 4)
                            .is_none_or(|&b| !(b.is_ascii_alphabetic() || b == b'_')) =>
                {
                    // `\bnull\b` runs after numbers, so a digit after it counts as `?`.
                    self.flush_ws();
                    self.out.push(b'?');
                    self.last_raw = b'?';
                    self.prev_word = true;
                    i += 4;
                }
                _ => {
                    self.emit(byte);
                    self.prev_word = is_word(byte);
                    i += 1;
                }
            }
        }
        // chomp one trailing newline, then the collapsed run is one space.
        if self.ws_run > 0 {
            let keep = if self.ws_last_newline {
                self.ws_run > 1
            } else {
                true
            };
            if keep && !self.out.is_empty() {
                self.out.push(b' ');
            }
        }
    }
}

fn scan(query: &[u8], out: &mut Vec<u8>) {
    let mut scanner = Scanner {
        query,
        out,
        ws_run: 0,
        ws_last_newline: false,
        last_raw: 0,
        prev_word: false,
        no_comment_close_from: usize::MAX,
        no_single_close_from: usize::MAX,
        no_double_close_from: usize::MAX,
        olc_cache: None,
    };
    scanner.run();
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

/// The fail-closed check run on every fingerprint and template before it may leave the host.
///
/// Refuses text with a quote (an unterminated string kept its content), a non-version
/// comment (an unclosed `/*` kept its content), a `#`, a byte outside printable ASCII, a run
/// of six or more digits, or anything shaped like an e-mail address (`x@y.z`; `@@session.x`
/// and `@var` pass).
pub fn passes_mask(text: &[u8]) -> bool {
    let mut digits = 0;
    for (i, &byte) in text.iter().enumerate() {
        if byte.is_ascii_digit() {
            digits += 1;
            if digits >= 6 {
                return false;
            }
            continue;
        }
        digits = 0;
        match byte {
            b'\'' | b'"' | b'#' => return false,
            b'/' if text.get(i + 1) == Some(&b'*') && text.get(i + 2) != Some(&b'!') => {
                // `/*repeat union*/` is produced by the fingerprint itself.
                if !text[i..].starts_with(b"/*repeat union") {
                    return false;
                }
            }
            b'@' => {
                let before = i.checked_sub(1).map(|j| text[j]);
                let local_part =
                    before.is_some_and(|b| is_word(b) || matches!(b, b'.' | b'+' | b'-' | b'?'));
                if local_part && looks_like_domain(&text[i + 1..]) {
                    return false;
                }
            }
            0x20..=0x7e => {}
            _ => return false,
        }
    }
    true
}

fn looks_like_domain(rest: &[u8]) -> bool {
    let mut i = 0;
    let mut labels = 0;
    loop {
        let start = i;
        while i < rest.len() && (is_word(rest[i]) || rest[i] == b'-' || rest[i] == b'?') {
            i += 1;
        }
        if i == start {
            return false;
        }
        labels += 1;
        if rest.get(i) == Some(&b'.') && rest.get(i + 1).is_some_and(|&b| is_word(b) || b == b'?') {
            i += 1;
            continue;
        }
        return labels >= 2;
    }
}

/// Attributes of a sqlcommenter comment written by the Magento module:
/// `/*lg_admin='12',lg_integration='3',lg_route='customer_index_index',lg_req='abc'*/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentAttributes {
    /// `lg_admin`: `admin_user.user_id` (digits only).
    pub admin_user_id: Option<String>,
    /// `lg_integration`: integration id (digits only).
    pub integration_id: Option<String>,
    /// `lg_route`: full action name or REST route (`[A-Za-z0-9_./:-]`, ≤ 128 bytes).
    pub route: Option<String>,
    /// `lg_req`: request id (`[A-Za-z0-9_-]`, ≤ 64 bytes).
    pub request_id: Option<String>,
}

impl CommentAttributes {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.admin_user_id.is_none()
            && self.integration_id.is_none()
            && self.route.is_none()
            && self.request_id.is_none()
    }
}

/// Parses the first `/*lg_…*/` comment in `query`. Values are url-decoded and validated;
/// invalid values are dropped (they could carry anything).
pub fn comment_attributes(query: &[u8]) -> CommentAttributes {
    let mut attributes = CommentAttributes::default();
    let Some(start) = FIND_LG.find(query) else {
        return attributes;
    };
    let body_start = start + 2;
    let Some(len) = FIND_COMMENT_CLOSE.find(&query[body_start..]) else {
        return attributes;
    };
    let body = &query[body_start..body_start + len];
    let mut i = 0;
    while i < body.len() {
        let key_start = i;
        while i < body.len() && body[i] != b'=' {
            i += 1;
        }
        let key = trim(&body[key_start..i]);
        i += 1;
        if body.get(i) != Some(&b'\'') {
            break;
        }
        i += 1;
        let value_start = i;
        while i < body.len() && body[i] != b'\'' {
            i += 1;
        }
        let raw_value = &body[value_start..i.min(body.len())];
        i += 1;
        while i < body.len() && (body[i] == b',' || body[i] == b' ') {
            i += 1;
        }
        let value = url_decode(raw_value);
        match key {
            b"lg_admin" if is_id(&value, 20) => attributes.admin_user_id = Some(value),
            b"lg_integration" if is_id(&value, 20) => attributes.integration_id = Some(value),
            b"lg_route" if is_token(&value, 128, b"_./:-") => attributes.route = Some(value),
            b"lg_req" if is_token(&value, 64, b"_-") => attributes.request_id = Some(value),
            _ => {}
        }
    }
    attributes
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &bytes[start..end]
}

fn url_decode(raw: &[u8]) -> String {
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                decoded.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        decoded.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn is_id(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_token(value: &str, max: usize, extra: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// Most tables reported for one statement.
pub const MAX_STATEMENT_TABLES: usize = 16;

/// Tables named in a fingerprint: identifiers after `from`, `join`, `into`, `update`, `table`
/// (and comma lists after `from`), every table of `lock tables`, lower-case, backticks
/// removed, sorted and unique, at most [`MAX_STATEMENT_TABLES`]. The `update` of
/// `on duplicate key update`, `for update` and `on update` names no table.
pub fn tables(fingerprint: &[u8]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |name: &[u8]| {
        let name = String::from_utf8_lossy(name).replace('`', "");
        if !name.is_empty() && !found.contains(&name) && found.len() < MAX_STATEMENT_TABLES {
            found.push(name);
        }
    };
    let tokens = tokenize(fingerprint);
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let previous = i.checked_sub(1).map(|j| tokens[j]);
        if token == b"update" && matches!(previous, Some(b"key" | b"for" | b"on")) {
            i += 1;
            continue;
        }
        // `lock tables a read /*!32311 local */, b as x write`: the name after `tables` and
        // after each comma.
        if matches!(token, b"table" | b"tables") && previous == Some(b"lock") {
            let mut j = i + 1;
            let mut expect_name = true;
            while let Some(&next) = tokens.get(j) {
                if next == b";" {
                    break;
                }
                if expect_name && is_identifier(next) && !is_keyword(next) {
                    add(next);
                }
                expect_name = next == b",";
                j += 1;
            }
            i = j;
            continue;
        }
        let in_from = token == b"from";
        if matches!(
            token,
            b"from" | b"join" | b"into" | b"update" | b"table" | b"straight_join"
        ) {
            let mut j = i + 1;
            // `update low_priority ignore t`, `create table if not exists t`
            while j < tokens.len()
                && matches!(
                    tokens[j],
                    b"low_priority" | b"ignore" | b"if" | b"not" | b"exists"
                )
            {
                j += 1;
            }
            while let Some(&name) = tokens.get(j) {
                if !is_identifier(name) || is_keyword(name) {
                    break;
                }
                add(name);
                j += 1;
                if !in_from {
                    break;
                }
                // optional alias: `t x` or `t as x`
                if tokens.get(j) == Some(&&b"as"[..]) {
                    j += 1;
                }
                if tokens
                    .get(j)
                    .is_some_and(|t| is_identifier(t) && !is_keyword(t))
                {
                    j += 1;
                }
                if tokens.get(j) == Some(&&b","[..]) {
                    j += 1;
                    continue;
                }
                break;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    found.sort();
    found
}

fn tokenize(text: &[u8]) -> Vec<&[u8]> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        if byte == b' ' {
            i += 1;
            continue;
        }
        if byte == b'`' {
            let end = memchr::memchr(b'`', &text[i + 1..]).map_or(text.len(), |p| i + 1 + p + 1);
            // a qualified name continues: `db`.`t`
            let mut end = end;
            while text.get(end) == Some(&b'.') {
                let mut k = end + 1;
                if text.get(k) == Some(&b'`') {
                    k = memchr::memchr(b'`', &text[k + 1..]).map_or(text.len(), |p| k + 1 + p + 1);
                } else {
                    while k < text.len() && (is_word(text[k]) || text[k] == b'$' || text[k] == b'?')
                    {
                        k += 1;
                    }
                }
                end = k;
            }
            tokens.push(&text[i..end.min(text.len())]);
            i = end;
            continue;
        }
        if is_word(byte) || byte == b'$' || byte == b'?' {
            let start = i;
            while i < text.len()
                && (is_word(text[i]) || matches!(text[i], b'$' | b'?' | b'.' | b'`'))
            {
                if text[i] == b'`' {
                    i = memchr::memchr(b'`', &text[i + 1..]).map_or(text.len(), |p| i + 1 + p + 1);
                    continue;
                }
                i += 1;
            }
            tokens.push(&text[start..i]);
            continue;
        }
        tokens.push(&text[i..i + 1]);
        i += 1;
    }
    tokens
}

fn is_identifier(token: &[u8]) -> bool {
    token
        .first()
        .is_some_and(|&b| is_word(b) || b == b'`' || b == b'$')
        && token != b"?"
}

fn is_keyword(token: &[u8]) -> bool {
    matches!(
        token,
        b"select"
            | b"where"
            | b"set"
            | b"values"
            | b"value"
            | b"on"
            | b"using"
            | b"left"
            | b"right"
            | b"inner"
            | b"outer"
            | b"cross"
            | b"natural"
            | b"join"
            | b"group"
            | b"order"
            | b"limit"
            | b"having"
            | b"union"
            | b"for"
            | b"lock"
            | b"into"
            | b"as"
            | b"use"
            | b"force"
            | b"partition"
            | b"straight_join"
            | b"window"
            | b"procedure"
            | b"dual"
            | b"outfile"
            | b"dumpfile"
            | b"like"
            | b"in"
            | b"and"
            | b"or"
            | b"not"
            | b"is"
            | b"null"
    )
}

/// Credential tables whose reads are security events.
pub const SENSITIVE_TABLES: &[&str] = &[
    "admin_user",
    "admin_passwords",
    "admin_user_session",
    "oauth_token",
    "oauth_consumer",
    "core_config_data",
    "integration",
];

/// Whether a table name (possibly `db.table`, possibly prefixed `mg_admin_user`) is a
/// credential table.
pub fn is_sensitive_table(table: &str) -> bool {
    let bare = table.rsplit('.').next().unwrap_or(table);
    SENSITIVE_TABLES.iter().any(|t| {
        bare == *t
            || (bare.ends_with(t) && bare.as_bytes().get(bare.len() - t.len() - 1) == Some(&b'_'))
    })
}

/// Security-relevant shapes of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementClass {
    /// Nothing special.
    Plain,
    /// `… INTO OUTFILE|DUMPFILE`.
    IntoOutfile,
    /// Turns database logging off.
    LoggingDisabled,
    /// Creates, changes or drops an account or its grants.
    AccountChange,
    /// mysqldump's whole-table read.
    Dump,
}

/// Classifies a statement from its raw bytes and its fingerprint.
pub fn classify(raw: &[u8], fingerprint: &[u8]) -> StatementClass {
    if starts_with_ci(trim(raw), b"SELECT /*!40001 SQL_NO_CACHE */") {
        return StatementClass::Dump;
    }
    if FIND_INTO_OUTFILE.find(fingerprint).is_some()
        || FIND_INTO_DUMPFILE.find(fingerprint).is_some()
    {
        return StatementClass::IntoOutfile;
    }
    let starts = |prefix: &[u8]| fingerprint.starts_with(prefix);
    if starts(b"create user")
        || starts(b"alter user")
        || starts(b"drop user")
        || starts(b"rename user")
        || starts(b"grant ")
        || starts(b"revoke ")
        || starts(b"set password")
        || starts(b"create role")
    {
        return StatementClass::AccountChange;
    }
    if disables_logging(raw) {
        return StatementClass::LoggingDisabled;
    }
    StatementClass::Plain
}

fn disables_logging(raw: &[u8]) -> bool {
    let raw = trim(raw);
    if starts_with_ci(raw, b"uninstall") {
        return find_ci(raw, b"server_audit").is_some();
    }
    if !starts_with_ci(raw, b"set") {
        return false;
    }
    for (variable, off_values) in [
        (
            &b"server_audit_logging"[..],
            &[&b"off"[..], b"0", b"'off'", b"false"][..],
        ),
        (b"general_log", &[b"off", b"0", b"'off'", b"false"]),
        (b"slow_query_log", &[b"off", b"0", b"'off'", b"false"]),
        (b"log_slow_query", &[b"off", b"0", b"'off'", b"false"]),
        (b"sql_log_off", &[b"on", b"1", b"'on'", b"true"]),
    ] {
        let mut from = 0;
        while let Some(pos) = find_ci(&raw[from..], variable) {
            let at = from + pos;
            let mut j = at + variable.len();
            // `general_log_file` is a different variable.
            if raw.get(j).is_some_and(|&b| is_word(b)) {
                from = at + 1;
                continue;
            }
            while j < raw.len() && raw[j] == b' ' {
                j += 1;
            }
            if raw.get(j) == Some(&b'=') {
                j += 1;
                while j < raw.len() && raw[j] == b' ' {
                    j += 1;
                }
                let value = &raw[j..];
                if off_values.iter().any(|v| {
                    starts_with_ci(value, v) && value.get(v.len()).is_none_or(|&b| !is_word(b))
                }) {
                    return true;
                }
            }
            from = at + 1;
        }
    }
    false
}

/// Cuts an account statement's fingerprint after `identified`/`password` so no credential
/// shape (hash or plugin string) survives, even as a placeholder.
pub fn redact_account_fingerprint(fingerprint: &mut Vec<u8>) {
    for keyword in [&b" identified"[..], b" password"] {
        if let Some(pos) = memmem::find(fingerprint, keyword) {
            fingerprint.truncate(pos + keyword.len());
            fingerprint.extend_from_slice(b" ?");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fp(query: &str) -> String {
        fingerprint(query.as_bytes())
    }

    #[test]
    fn magento_statements_collapse_to_one_shape() {
        assert_eq!(
            fp(
                "SELECT `main_table`.* FROM `customer_entity` AS `main_table` WHERE (email LIKE '%@example.com') LIMIT 20"
            ),
            "select `main_table`.* from `customer_entity` as `main_table` where (email like ?) limit ?"
        );
        assert_eq!(
            fp("SELECT * FROM sequence_order_1"),
            "select * from sequence_order_?"
        );
    }

    #[test]
    fn the_query_id_is_the_upper_hex_tail_of_the_md5() {
        // md5("select ?") = 8b2f4a5b9b8a7b2f... computed independently below.
        let id = query_id(b"select * from foo where a = ?");
        assert_eq!(id.len(), 16);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
        );
        let digest = Md5::digest(b"select * from foo where a = ?");
        let tail: String = digest[8..].iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(id, tail);
    }

    #[test]
    fn an_unterminated_quote_fails_the_mask() {
        let fingerprint = fp("SELECT * FROM customer_entity WHERE email = 'jane@example.com");
        assert!(!passes_mask(fingerprint.as_bytes()));
        assert!(passes_mask(fp("SELECT @@session.tx_isolation").as_bytes()));
        assert!(!passes_mask(b"select * from t where a = jane@example.com"));
        assert!(!passes_mask(b"select /* jane */ 1"));
        assert!(passes_mask(b"select ? /*repeat union*/"));
    }

    #[test]
    fn sqlcommenter_attributes_are_parsed_and_validated() {
        let attributes = comment_attributes(
            b"SELECT 1 /*lg_admin='12',lg_integration='3',lg_route='customer_index_index',lg_req='abc%2D1'*/",
        );
        assert_eq!(attributes.admin_user_id.as_deref(), Some("12"));
        assert_eq!(attributes.integration_id.as_deref(), Some("3"));
        assert_eq!(attributes.route.as_deref(), Some("customer_index_index"));
        assert_eq!(attributes.request_id.as_deref(), Some("abc-1"));
        let bad = comment_attributes(b"/*lg_admin='jane%40example.com'*/ SELECT 1");
        assert_eq!(bad.admin_user_id, None);
    }

    #[test]
    fn tables_are_found_after_from_join_into_and_update() {
        let fingerprint = fp(
            "SELECT e.email FROM customer_entity e JOIN customer_address_entity a ON a.parent_id = e.entity_id",
        );
        assert_eq!(
            tables(fingerprint.as_bytes()),
            vec!["customer_address_entity", "customer_entity"]
        );
        assert_eq!(
            tables(fp("select * from a, b x, `db`.`c`").as_bytes()),
            vec!["a", "b", "db.c"]
        );
        assert_eq!(
            tables(fp("UPDATE admin_user SET x = 1").as_bytes()),
            vec!["admin_user"]
        );
        assert_eq!(
            tables(fp("insert into foo(a) values(1)").as_bytes()),
            vec!["foo"]
        );
    }

    #[test]
    fn a_mysqldump_read_keeps_its_table() {
        let query = "SELECT /*!40001 SQL_NO_CACHE */ * FROM `customer_entity`";
        let fingerprint = fp(query);
        assert_eq!(
            fingerprint,
            "select /*!? sql_no_cache */ * from `customer_entity`"
        );
        assert_eq!(tables(fingerprint.as_bytes()), vec!["customer_entity"]);
        assert_ne!(
            query_id(fingerprint.as_bytes()),
            query_id(fp("SELECT /*!40001 SQL_NO_CACHE */ * FROM `sales_order`").as_bytes())
        );
        assert!(passes_mask(fingerprint.as_bytes()));
    }

    #[test]
    fn every_table_of_lock_tables_is_found() {
        assert_eq!(
            tables(fp("LOCK TABLES x READ, y WRITE").as_bytes()),
            vec!["x", "y"]
        );
        // mysqldump's own form
        assert_eq!(
            tables(
                fp("LOCK TABLES `customer_entity` READ /*!32311 LOCAL */,`sales_order` READ /*!32311 LOCAL */")
                    .as_bytes()
            ),
            vec!["customer_entity", "sales_order"]
        );
        assert_eq!(
            tables(fp("lock table a as t1 read local, b low_priority write").as_bytes()),
            vec!["a", "b"]
        );
        assert!(tables(fp("UNLOCK TABLES").as_bytes()).is_empty());
    }

    #[test]
    fn the_update_of_on_duplicate_key_update_names_no_table() {
        assert_eq!(
            tables(
                fp("INSERT INTO `customer_grid_flat` (`entity_id`, `email`) VALUES (1, 'a@b.c') ON DUPLICATE KEY UPDATE `email` = VALUES(`email`)")
                    .as_bytes()
            ),
            vec!["customer_grid_flat"]
        );
        assert_eq!(
            tables(fp("SELECT * FROM quote WHERE entity_id = 5 FOR UPDATE NOWAIT").as_bytes()),
            vec!["quote"]
        );
        assert_eq!(
            tables(fp("CREATE TABLE t (u TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)").as_bytes()),
            vec!["t"]
        );
    }

    #[test]
    fn statements_are_classified() {
        let class = |q: &str| classify(q.as_bytes(), fp(q).as_bytes());
        assert_eq!(
            class("SET GLOBAL server_audit_logging=OFF"),
            StatementClass::LoggingDisabled
        );
        assert_eq!(
            class("SET GLOBAL general_log = 0"),
            StatementClass::LoggingDisabled
        );
        assert_eq!(
            class("SET GLOBAL general_log_file = '/tmp/x'"),
            StatementClass::Plain
        );
        assert_eq!(
            class("SET sql_log_off = ON"),
            StatementClass::LoggingDisabled
        );
        assert_eq!(
            class("SELECT * FROM customer_entity INTO OUTFILE '/tmp/c.csv'"),
            StatementClass::IntoOutfile
        );
        assert_eq!(
            class("CREATE USER 'm'@'%' IDENTIFIED BY 'Secr3t!pw'"),
            StatementClass::AccountChange
        );
        assert_eq!(
            class("SELECT /*!40001 SQL_NO_CACHE */ `entity_id` FROM `customer_entity`"),
            StatementClass::Dump
        );
        assert!(is_sensitive_table("magento.admin_user"));
        assert!(is_sensitive_table("mg_core_config_data"));
        assert!(!is_sensitive_table("admin_user_extra"));
    }

    #[test]
    fn account_fingerprints_are_cut_after_identified() {
        let mut fingerprint =
            fp("ALTER USER 'm'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('x')").into_bytes();
        redact_account_fingerprint(&mut fingerprint);
        assert_eq!(fingerprint, b"alter user ?@? identified ?");
    }

    #[test]
    fn odd_bytes_never_panic() {
        for query in [
            &b"'"[..],
            b"\"",
            b"/*",
            b"--",
            b"#",
            b"-",
            b"\\",
            b"'\\",
            b"\xff\xfe'\x00",
            b"call (",
            b"INSERT INTO",
        ] {
            let _ = fingerprint(query);
        }
    }
}
