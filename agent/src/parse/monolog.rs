//! Magento `var/log/*.log` (Monolog): records with stack traces, counted per masked shape.

use super::{Carry, LineParser, ParserOptions, lossy};
use crate::records::Processor;
use crate::timefmt;

/// Magento `var/log/*.log`.
pub struct Monolog {
    utc_offset_s: i64,
    carry: Carry,
    pending: Option<(u64, Option<i64>, String, String)>,
    first_line: Vec<u8>,
}

impl Monolog {
    pub(super) fn new(options: &ParserOptions) -> Self {
        Self {
            utc_offset_s: options.utc_offset_s,
            carry: Carry::default(),
            pending: None,
            first_line: Vec::new(),
        }
    }

    fn emit(&mut self, out: &mut Processor) {
        if let Some((_, ts, channel, level)) = self.pending.take() {
            out.app_log(ts, &channel, &level, &self.first_line);
        }
    }
}

impl LineParser for Monolog {
    fn line(&mut self, line: &[u8], offset: u64, _truncated: bool, out: &mut Processor) {
        // `[2026-11-28T08:21:12.330974+00:00] main.INFO: message {context} []`
        let header = (|| {
            if line.first() != Some(&b'[') {
                return None;
            }
            let close = memchr::memchr(b']', line)?;
            let ts = timefmt::parse_iso(&line[1..close], self.utc_offset_s)?;
            let rest = line.get(close + 2..)?;
            let colon = memchr::memmem::find(rest, b": ")?;
            let (channel, level) = rest[..colon].split_at(memchr::memrchr(b'.', &rest[..colon])?);
            Some((
                ts,
                lossy(channel),
                lossy(&level[1..]),
                close + 2 + colon + 2,
            ))
        })();
        match header {
            Some((ts, channel, level, message_at)) => {
                self.emit(out);
                self.carry.ts = Some(ts);
                self.first_line.clear();
                self.first_line
                    .extend_from_slice(&line[message_at.min(line.len())..]);
                self.pending = Some((offset, Some(ts), channel, level));
            }
            None => {
                // continuation (stack trace): counted with its record, not shipped
            }
        }
    }

    fn flush(&mut self, out: &mut Processor) {
        self.emit(out);
    }

    fn pending_start(&self) -> Option<u64> {
        self.pending.as_ref().map(|p| p.0)
    }

    fn carry(&self) -> Carry {
        self.carry.clone()
    }

    fn restore(&mut self, carry: Carry) {
        self.carry = carry;
    }
}
