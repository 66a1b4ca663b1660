//! Table names read from a fingerprint (after the literals are gone, so no value can be
//! mistaken for a name).

use super::bytes::is_word;

/// Most tables reported for one statement.
pub const MAX_STATEMENT_TABLES: usize = 16;

/// Tables named in a fingerprint: identifiers after `from`, `join`, `into`, `update`, `table`
/// (and comma lists after `from`), every table of `lock tables`, lower-case, backticks
/// removed, sorted and unique, at most [`MAX_STATEMENT_TABLES`]; a name that fails the
/// masking check or holds a space is left out. The `update` of
/// `on duplicate key update`, `for update` and `on update` names no table.
pub fn tables(fingerprint: &[u8]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |name: &[u8]| {
        let name = String::from_utf8_lossy(name).replace('`', "");
        // Joining quoted parts can make what no part was, such as an e-mail shape.
        let clean = super::passes_mask(name.as_bytes()) && !name.contains(char::is_whitespace);
        if clean && !name.is_empty() && !found.contains(&name) && found.len() < MAX_STATEMENT_TABLES
        {
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
