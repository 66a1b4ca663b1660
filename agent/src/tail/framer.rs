//! Framing bytes into lines across reads, with the line cap: on bytes, never on strings, and
//! a partial last line is held back until its newline arrives.

/// Splits bytes into lines, across reads, with a cap.
#[derive(Debug, Default)]
pub struct Framer {
    partial: Vec<u8>,
    partial_start: u64,
    overflow: bool,
    /// Offset just after the last complete line.
    pub complete_end: u64,
}

impl Framer {
    pub(super) fn reset(&mut self, offset: u64) {
        self.partial.clear();
        self.overflow = false;
        self.complete_end = offset;
    }

    /// Feeds `data` read at `offset`; calls `line(bytes, start, truncated)` per complete line.
    pub fn push(
        &mut self,
        data: &[u8],
        offset: u64,
        cap: usize,
        line: &mut dyn FnMut(&[u8], u64, bool),
    ) {
        let mut i = 0;
        while i < data.len() {
            match memchr::memchr(b'\n', &data[i..]) {
                Some(position) => {
                    let end = i + position;
                    if self.partial.is_empty() && !self.overflow {
                        let whole = &data[i..end];
                        if whole.len() > cap {
                            line(&whole[..cap], offset + i as u64, true);
                        } else {
                            line(whole, offset + i as u64, false);
                        }
                    } else {
                        let room = cap.saturating_sub(self.partial.len());
                        let piece = &data[i..end];
                        if piece.len() > room {
                            self.overflow = true;
                        }
                        self.partial
                            .extend_from_slice(&piece[..piece.len().min(room)]);
                        line(&self.partial, self.partial_start, self.overflow);
                        self.partial.clear();
                        self.overflow = false;
                    }
                    i = end + 1;
                    self.complete_end = offset + i as u64;
                }
                None => {
                    if self.partial.is_empty() && !self.overflow {
                        self.partial_start = offset + i as u64;
                    }
                    let room = cap.saturating_sub(self.partial.len());
                    let piece = &data[i..];
                    if piece.len() > room {
                        self.overflow = true;
                    }
                    self.partial
                        .extend_from_slice(&piece[..piece.len().min(room)]);
                    break;
                }
            }
        }
    }

    /// Emits the unterminated fragment as a line (only for files that are gone and idle).
    pub(super) fn flush_partial(&mut self, end: u64, line: &mut dyn FnMut(&[u8], u64, bool)) {
        if !self.partial.is_empty() || self.overflow {
            line(&self.partial, self.partial_start, self.overflow);
            self.partial.clear();
            self.overflow = false;
            self.complete_end = end;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn frame(chunks: &[&[u8]], cap: usize) -> Vec<(Vec<u8>, u64, bool)> {
        let mut framer = Framer::default();
        let mut lines = Vec::new();
        let mut offset = 0;
        for chunk in chunks {
            framer.push(chunk, offset, cap, &mut |line, start, truncated| {
                lines.push((line.to_vec(), start, truncated))
            });
            offset += chunk.len() as u64;
        }
        lines
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let lines = frame(&[b"ab", b"c\nde", b"f\n", b"partial"], 100);
        assert_eq!(
            lines,
            vec![(b"abc".to_vec(), 0, false), (b"def".to_vec(), 4, false)]
        );
    }

    #[test]
    fn long_lines_are_capped_and_marked() {
        let lines = frame(&[b"0123456789", b"abcdef\nok\n"], 8);
        assert_eq!(
            lines,
            vec![(b"01234567".to_vec(), 0, true), (b"ok".to_vec(), 17, false)]
        );
    }
}
