//! Delimited exports: a CSV/TSV text whose first line is a header of field names is scanned cell
//! by cell, each cell with its column name as the field hint.

use super::{Found, resolve_overlaps, scan_one};
use crate::classify::context::{Hint, field_hint};

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
pub(super) fn scan_delimited(text: &str) -> Option<Vec<Found>> {
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
                && c.bytes().filter(|&b| b == b' ').count() <= 4
                && !c.contains(". ")
                && c.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(
                            b,
                            b'_' | b' ' | b'-' | b'.' | b'#' | b'\'' | b'/' | b'(' | b')'
                        )
                })
        });
    if !names_ok {
        return None;
    }
    let hints: Vec<Option<Hint>> = columns.iter().map(|c| field_hint(c, None)).collect();
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
