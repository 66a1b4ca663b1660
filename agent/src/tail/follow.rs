//! Following open files: reading new bytes, truncation, deleted-while-open files, draining a
//! rotated descriptor to EOF before closing it, and feeding lines to the parser.

use super::*;

impl SourceTailer {
    /// Reads what is new in every tracked file and cuts batches that are due. `final_pass`
    /// (the `--once` mode) reads to EOF and flushes pending records. Returns whether
    /// anything was read or cut.
    pub fn poll(
        &mut self,
        clock: &dyn Clock,
        events: &dyn Events,
        sink: &mut Sink<'_>,
        final_pass: bool,
    ) -> bool {
        let keys: Vec<(u64, u64)> = self.tracked.keys().copied().collect();
        let mut did_work = false;
        let mut closed = Vec::new();
        for key in keys {
            let Some(tracked) = self.tracked.get_mut(&key) else {
                continue;
            };
            if let Some(stash) = tracked.stash.take() {
                match sink(&stash) {
                    Ok(seq) => {
                        Self::commit(
                            tracked,
                            &stash,
                            seq,
                            &mut self.known,
                            &mut self.spool_seq,
                            &mut self.dirty,
                        );
                        did_work = true;
                    }
                    Err(_) => {
                        tracked.stash = Some(stash);
                        continue;
                    }
                }
            }
            let outcome = Self::poll_file(
                &self.name,
                self.kind,
                tracked,
                &mut self.chunk,
                &self.options,
                clock,
                events,
                sink,
                final_pass,
                &mut self.known,
                &mut self.spool_seq,
                &mut self.dirty,
            );
            did_work |= outcome.did_work;
            if outcome.close {
                closed.push(key);
            }
        }
        for key in closed {
            if let Some(tracked) = self.tracked.remove(&key) {
                if let Some(ts) = tracked.state.carry.ts {
                    self.latest_ts = Some(self.latest_ts.map_or(ts, |latest| latest.max(ts)));
                }
                self.closed_at.insert(key, tracked.read_pos);
                events.file_closed(&tracked.state.path);
            }
        }
        if self.closed_at.len() > 4 * MAX_OPEN_FILES {
            let known = &self.known;
            self.closed_at.retain(|key, _| known.contains_key(key));
        }
        did_work
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn poll_file(
        name: &str,
        kind: SourceKind,
        tracked: &mut Tracked,
        chunk: &mut [u8],
        options: &TailOptions,
        clock: &dyn Clock,
        events: &dyn Events,
        sink: &mut Sink<'_>,
        final_pass: bool,
        known: &mut HashMap<(u64, u64), FileState>,
        spool_seq: &mut u64,
        dirty: &mut bool,
    ) -> PollOutcome {
        let mut outcome = PollOutcome::default();
        let mut read_this_poll = 0u64;
        let mut at_eof = false;
        loop {
            if read_this_poll >= options.batch_max_bytes && !final_pass {
                break;
            }
            let n = match tracked.file.read(chunk) {
                Ok(0) => {
                    at_eof = true;
                    break;
                }
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    at_eof = true;
                    break;
                }
            };
            outcome.did_work = true;
            tracked.last_growth = clock.mono();
            if tracked.batch_opened.is_none() {
                tracked.batch_opened = Some(clock.mono());
            }
            let data = &chunk[..n];
            let base = tracked.read_pos;
            tracked.read_pos += n as u64;
            read_this_poll += n as u64;
            let (lines, invalid) = Self::feed(tracked, data, base, options.max_line_bytes, events);
            events.lines_read(name, lines, n as u64);
            if invalid > 0 {
                events.invalid_utf8(invalid);
            }
            if tracked.read_pos - tracked.state.offset >= options.batch_max_bytes
                || tracked.processor.record_count() >= MAX_BATCH_RECORDS
            {
                Self::cut_and_commit(
                    name,
                    kind,
                    tracked,
                    events,
                    sink,
                    known,
                    spool_seq,
                    dirty,
                    &mut outcome,
                );
                if tracked.stash.is_some() {
                    return outcome;
                }
            }
        }
        let now = clock.mono();
        // Truncation: the file is now shorter than what was read.
        if let Ok(metadata) = tracked.file.metadata()
            && metadata.len() < tracked.read_pos
        {
            events.file_truncated(&tracked.state.path);
            tracked.parser.flush(&mut tracked.processor);
            Self::cut_and_commit(
                name,
                kind,
                tracked,
                events,
                sink,
                known,
                spool_seq,
                dirty,
                &mut outcome,
            );
            if tracked.stash.is_some() {
                return outcome;
            }
            let carry = tracked.parser.carry();
            let Ok(mut fresh) = Self::identity_for(&tracked.file, &tracked.state, metadata.len())
            else {
                return outcome;
            };
            fresh.carry = carry.clone();
            tracked.state = fresh.clone();
            known.insert(key_of(&fresh), fresh);
            *dirty = true;
            tracked.parser.restore(carry);
            tracked.framer.reset(0);
            tracked.read_pos = 0;
            tracked.batch_opened = None;
            let _ = tracked.file.seek(SeekFrom::Start(0));
            outcome.did_work = true;
            return outcome;
        }
        let idle = now.saturating_sub(tracked.last_growth);
        let linger_due = tracked
            .batch_opened
            .is_some_and(|opened| now.saturating_sub(opened) >= options.batch_linger);
        if at_eof && (final_pass || idle >= options.batch_linger) {
            // Complete lines of a pending multi-line record are flushed once the file is quiet.
            tracked.parser.flush(&mut tracked.processor);
        }
        let gone_and_idle = tracked.gone && at_eof && (final_pass || idle >= options.rotate_grace);
        if gone_and_idle {
            let end = tracked.read_pos;
            let Tracked {
                framer,
                parser,
                processor,
                ..
            } = tracked;
            framer.flush_partial(end, &mut |line, offset, truncated| {
                parser.line(line, offset, truncated, processor);
            });
            parser.flush(processor);
        }
        if linger_due || final_pass || gone_and_idle || (at_eof && idle >= options.batch_linger) {
            Self::cut_and_commit(
                name,
                kind,
                tracked,
                events,
                sink,
                known,
                spool_seq,
                dirty,
                &mut outcome,
            );
            if tracked.stash.is_some() {
                return outcome;
            }
        }
        let quiet = tracked.state.offset == tracked.framer.complete_end
            && tracked.parser.pending_start().is_none()
            && !tracked.processor.has_records();
        if gone_and_idle || (at_eof && quiet && (final_pass || idle >= options.idle_close)) {
            outcome.close = true;
        }
        outcome
    }

    pub(super) fn identity_for(file: &File, old: &FileState, size: u64) -> io::Result<FileState> {
        let head_len = size.min(HEAD_BYTES);
        let head_hash = hash64(&read_exact_at(file, 0, head_len)?);
        let generation = old.generation + 1;
        Ok(FileState {
            file_id: format!("{}:{}:{head_hash:016x}:{generation}", old.dev, old.ino),
            head_len,
            head_hash,
            generation,
            offset: 0,
            marker_len: 0,
            marker_hash: 0,
            gone_since: None,
            ..old.clone()
        })
    }

    pub(super) fn feed(
        tracked: &mut Tracked,
        data: &[u8],
        base: u64,
        cap: usize,
        events: &dyn Events,
    ) -> (u64, u64) {
        let Tracked {
            framer,
            parser,
            processor,
            lines_total,
            lines_at_pending,
            state,
            ..
        } = tracked;
        let mut lines = 0u64;
        let mut invalid = 0u64;
        framer.push(data, base, cap, &mut |line, offset, truncated| {
            lines += 1;
            *lines_total += 1;
            if truncated {
                events.line_truncated(&state.path);
            }
            let line = if offset == 0 || line.first() == Some(&0) {
                // copytruncate without O_APPEND leaves a run of NULs at the head.
                let start = line.iter().position(|&b| b != 0).unwrap_or(line.len());
                &line[start..]
            } else {
                line
            };
            if !line.is_ascii() && std::str::from_utf8(line).is_err() {
                invalid += 1;
            }
            let before = processor.counters().masked;
            parser.line(line, offset, truncated, processor);
            let masked = processor.counters().masked - before;
            if masked > 0 {
                events.fingerprint_masked(masked);
            }
            match parser.pending_start() {
                Some(start) if start == offset => {
                    *lines_at_pending = Some((start, *lines_total - 1))
                }
                Some(_) => {}
                None => *lines_at_pending = None,
            }
        });
        (lines, invalid)
    }
}
