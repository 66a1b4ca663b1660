//! The fail-closed masking check: the last gate before a fingerprint or template leaves the
//! host. It must refuse whatever could still hold a literal, even if that refuses a clean
//! statement now and then.

use super::bytes::is_word;

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
