//! The single scan of a statement: comments, strings, booleans, numbers, whitespace, case
//! and NULL in one pass over its bytes (the core of the pt fingerprint rules).
//!
//! Deliberate differences from the Perl regex chain: backslash escapes and doubled quotes are
//! honoured inside strings (pt removes `\'` first and splits `'a''b'`), and a comment inside a
//! string literal is not removed. What it cannot remove (an unterminated string or comment) it
//! keeps, and [`super::passes_mask`] refuses.

use super::bytes::{FIND_COMMENT_CLOSE, is_word, starts_with_ci};

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

pub(super) fn scan(query: &[u8], out: &mut Vec<u8>) {
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
