//! Cutting batches at record boundaries and moving the committed offset only once the sink
//! accepted the batch.

use super::*;

impl SourceTailer {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn cut_and_commit(
        name: &str,
        kind: SourceKind,
        tracked: &mut Tracked,
        events: &dyn Events,
        sink: &mut Sink<'_>,
        known: &mut HashMap<(u64, u64), FileState>,
        spool_seq: &mut u64,
        dirty: &mut bool,
        outcome: &mut PollOutcome,
    ) {
        let _ = events;
        let Some(batch) = Self::cut(name, kind, tracked) else {
            return;
        };
        outcome.did_work = true;
        match sink(&batch) {
            Ok(seq) => Self::commit(tracked, &batch, seq, known, spool_seq, dirty),
            Err(_) => tracked.stash = Some(batch),
        }
    }

    pub(super) fn cut(name: &str, kind: SourceKind, tracked: &mut Tracked) -> Option<CutBatch> {
        let end = match tracked.parser.pending_start() {
            Some(start) => start.min(tracked.framer.complete_end),
            None => tracked.framer.complete_end,
        };
        let start = tracked.state.offset;
        if end <= start {
            return None;
        }
        let lines_end = match tracked.lines_at_pending {
            Some((pending_start, lines_before))
                if Some(pending_start) == tracked.parser.pending_start() =>
            {
                lines_before
            }
            _ => tracked.lines_total,
        };
        let mut state = tracked.state.clone();
        state.offset = end;
        state.carry = tracked.parser.carry();
        state.marker_len = end.min(MARKER_BYTES);
        state.marker_hash = read_exact_at(&tracked.file, end - state.marker_len, state.marker_len)
            .map(|bytes| hash64(&bytes))
            .unwrap_or(0);
        if state.head_len < HEAD_BYTES
            && let Ok(metadata) = tracked.file.metadata()
        {
            let head_len = metadata.len().min(HEAD_BYTES);
            if head_len > state.head_len
                && let Ok(head) = read_exact_at(&tracked.file, 0, head_len)
            {
                state.head_len = head_len;
                state.head_hash = hash64(&head);
            }
        }
        let batch = CutBatch {
            source: name.to_owned(),
            kind,
            start_offset: start,
            end_offset: end,
            lines: lines_end.saturating_sub(tracked.lines_at_batch_start),
            records: tracked.processor.take_records(),
            state,
        };
        tracked.lines_at_batch_start = lines_end;
        Some(batch)
    }

    pub(super) fn commit(
        tracked: &mut Tracked,
        batch: &CutBatch,
        seq: Option<u64>,
        known: &mut HashMap<(u64, u64), FileState>,
        spool_seq: &mut u64,
        dirty: &mut bool,
    ) {
        tracked.state = batch.state.clone();
        tracked.batch_opened = None;
        known.insert(key_of(&batch.state), batch.state.clone());
        if let Some(seq) = seq {
            *spool_seq = (*spool_seq).max(seq);
        }
        *dirty = true;
    }
}
