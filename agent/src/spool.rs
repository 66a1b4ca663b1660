//! The disk spool: encoded batches waiting for the server.
//!
//! Owns segment files `<n>.seg` under the spool directory. Each record is
//! `[u32 length][u32 CRC32 of payload][payload]`, payload = `[u32 header length][header JSON]
//! [zstd body]`; the header ([`SpoolMeta`]) carries the file state after the batch, so the
//! spool doubles as the journal that moves checkpoints forward after a crash. A record is
//! published to the reader only after it is fsynced. A torn tail record is cut at open; a
//! corrupt record is skipped and counted. A segment is deleted only when all of its records
//! are acknowledged **and** covered by a stored checkpoint. Write errors (ENOSPC) are
//! returned, never fatal; the writer's caller pauses.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checkpoint::FileState;
use crate::events::Events;

/// Largest record accepted when reading (anything larger is corruption).
const MAX_RECORD: u64 = 256 * 1024 * 1024;

/// Header of a spooled batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpoolMeta {
    /// Sequence number, increasing across restarts.
    pub seq: u64,
    /// Source name.
    pub source: String,
    /// The file's state after this batch (offset = batch end).
    pub state: FileState,
    /// Start offset of the batch (for logs).
    pub start_offset: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Segment {
    len: u64,
    max_seq: u64,
}

#[derive(Debug, Default)]
struct State {
    segments: BTreeMap<u64, Segment>,
    write_segment: u64,
    ack_segment: u64,
    ack_offset: u64,
    durable_seq: u64,
    total: u64,
    shutdown: bool,
}

/// State shared by the writer and the reader.
pub struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Total bytes in the spool.
    pub fn total_bytes(&self) -> u64 {
        self.lock().total
    }

    /// Whether nothing is waiting to be sent.
    pub fn is_drained(&self) -> bool {
        let state = self.lock();
        match state.segments.get(&state.ack_segment) {
            None => state
                .segments
                .range(state.ack_segment..)
                .all(|(_, s)| s.len == 0),
            Some(segment) => {
                state.ack_offset >= segment.len
                    && state
                        .segments
                        .range(state.ack_segment + 1..)
                        .all(|(_, s)| s.len == 0)
            }
        }
    }

    /// Wakes and stops waiting readers.
    pub fn shutdown(&self) {
        self.lock().shutdown = true;
        self.changed.notify_all();
    }

    /// Whether [`Self::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        self.lock().shutdown
    }

    /// Blocks until the spool changes or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.lock();
        let _ = self.changed.wait_timeout(guard, timeout);
    }
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Result of reading one record.
enum ReadOutcome {
    Record {
        payload: Vec<u8>,
        next: u64,
    },
    Corrupt {
        next: u64,
    },
    /// Torn or incomplete: no more records in this segment.
    End,
}

fn read_record(file: &mut File, offset: u64, limit: u64) -> io::Result<ReadOutcome> {
    if offset + 8 > limit {
        return Ok(ReadOutcome::End);
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut header = [0u8; 8];
    file.read_exact(&mut header)?;
    let len = u64::from(u32::from_le_bytes([
        header[0], header[1], header[2], header[3],
    ]));
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_RECORD || offset + 8 + len > limit {
        return Ok(ReadOutcome::End);
    }
    let mut payload = vec![0u8; len as usize];
    file.read_exact(&mut payload)?;
    let next = offset + 8 + len;
    if crc32fast::hash(&payload) != crc {
        return Ok(ReadOutcome::Corrupt { next });
    }
    Ok(ReadOutcome::Record { payload, next })
}

fn decode_payload(payload: &[u8]) -> Option<(SpoolMeta, Vec<u8>)> {
    let header_len = u32::from_le_bytes(payload.get(0..4)?.try_into().ok()?) as usize;
    let header = payload.get(4..4 + header_len)?;
    let meta: SpoolMeta = serde_json::from_slice(header).ok()?;
    Some((meta, payload[4 + header_len..].to_vec()))
}

/// The writing side.
pub struct Spool {
    dir: PathBuf,
    shared: Arc<Shared>,
    file: Option<File>,
    write_segment: u64,
    write_len: u64,
    next_seq: u64,
    segment_bytes: u64,
    max_bytes: u64,
    /// Written but not yet fsynced and published: (segment, length, last seq, bytes).
    unsynced: Option<(u64, u64, u64, u64)>,
}

/// A record read back.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Header.
    pub meta: SpoolMeta,
    /// Encoded batch (zstd JSON).
    pub body: Vec<u8>,
    segment: u64,
    next_offset: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `dir`. Returns the writer and the headers of every
    /// readable record still present, for checkpoint reconciliation.
    pub fn open(
        dir: &Path,
        segment_bytes: u64,
        max_bytes: u64,
        events: &dyn Events,
    ) -> io::Result<(Self, Vec<SpoolMeta>)> {
        fs::create_dir_all(dir)?;
        let mut ids: Vec<u64> = fs::read_dir(dir)?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                let name = name.to_str()?;
                name.strip_suffix(".seg")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        let (ack_segment, ack_offset) =
            read_ack(dir).unwrap_or((ids.first().copied().unwrap_or(1), 0));
        let mut state = State {
            ack_segment,
            ack_offset,
            ..State::default()
        };
        let mut metas = Vec::new();
        let mut max_seq = 0;
        let last = ids.last().copied();
        for &id in &ids {
            let path = segment_path(dir, id);
            if id < ack_segment {
                // Fully acknowledged; kept only because a checkpoint did not cover it yet.
            }
            let mut file = OpenOptions::new().read(true).write(true).open(&path)?;
            let len = file.metadata()?.len();
            let mut offset = 0;
            let mut segment_max = 0;
            loop {
                match read_record(&mut file, offset, len) {
                    Ok(ReadOutcome::Record { payload, next }) => {
                        if let Some((meta, _)) = decode_payload(&payload) {
                            segment_max = segment_max.max(meta.seq);
                            max_seq = max_seq.max(meta.seq);
                            metas.push(meta);
                        }
                        offset = next;
                    }
                    Ok(ReadOutcome::Corrupt { next }) => {
                        events.spool_corrupt();
                        offset = next;
                    }
                    Ok(ReadOutcome::End) | Err(_) => break,
                }
            }
            if offset < len {
                if Some(id) == last {
                    // Torn tail of the segment being written: cut it.
                    file.set_len(offset)?;
                    file.sync_all()?;
                } else {
                    events.spool_corrupt();
                }
            }
            let kept = if Some(id) == last {
                offset
            } else {
                len.max(offset)
            };
            state.segments.insert(
                id,
                Segment {
                    len: kept,
                    max_seq: segment_max,
                },
            );
            state.total += kept;
        }
        // An acknowledgement past the end of its segment (emptied by recycling) restarts at
        // 0: at worst delivered batches are sent again.
        if let Some(segment) = state.segments.get(&state.ack_segment)
            && state.ack_offset > segment.len
        {
            state.ack_offset = 0;
        }
        let write_segment = last.unwrap_or(ack_segment.max(1));
        state.write_segment = write_segment;
        let write_len = state.segments.get(&write_segment).map_or(0, |s| s.len);
        state.segments.entry(write_segment).or_default();
        metas.sort_by_key(|m| m.seq);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed: Condvar::new(),
        });
        let spool = Self {
            dir: dir.to_owned(),
            shared,
            file: None,
            write_segment,
            write_len,
            next_seq: max_seq + 1,
            segment_bytes,
            max_bytes,
            unsynced: None,
        };
        Ok((spool, metas))
    }

    /// The shared half, for a [`SpoolReader`].
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the next sequence number larger than `seq` (checkpoints may be ahead of an
    /// emptied spool).
    pub fn ensure_seq_above(&mut self, seq: u64) {
        self.next_seq = self.next_seq.max(seq + 1);
    }

    /// The last sequence number handed out.
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Whether the spool reached its size limit.
    pub fn is_full(&self) -> bool {
        let pending = self.unsynced.map_or(0, |(_, _, _, bytes)| bytes);
        self.shared.total_bytes() + pending >= self.max_bytes
    }

    /// Records that checkpoints covering every record up to `seq` are stored.
    pub fn set_durable_seq(&self, seq: u64) {
        let mut state = self.shared.lock();
        state.durable_seq = state.durable_seq.max(seq);
        drop(state);
        self.shared.changed.notify_all();
    }

    /// Appends one batch; returns its sequence number. It reaches the reader (and may be
    /// covered by a checkpoint) only after [`Self::sync`]. On error the segment is cut back to
    /// its previous length.
    pub fn append(&mut self, meta: &mut SpoolMeta, body: &[u8]) -> io::Result<u64> {
        meta.seq = self.next_seq;
        let header = serde_json::to_vec(&meta).map_err(io::Error::other)?;
        let mut payload = Vec::with_capacity(4 + header.len() + body.len());
        payload.extend_from_slice(&(header.len() as u32).to_le_bytes());
        payload.extend_from_slice(&header);
        payload.extend_from_slice(body);
        let mut record = Vec::with_capacity(8 + payload.len());
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        record.extend_from_slice(&payload);
        if self.unsynced.is_none() {
            self.recycle_if_delivered()?;
        }
        if self.write_len > 0 && self.write_len + record.len() as u64 > self.segment_bytes {
            self.sync()?;
            self.roll()?;
        }
        if self.file.is_none() {
            let path = segment_path(&self.dir, self.write_segment);
            let existed = path.exists();
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            if !existed {
                sync_dir(&self.dir)?;
            }
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("spool segment is not open"));
        };
        if let Err(error) = file.write_all(&record) {
            let _ = file.set_len(self.write_len);
            self.file = None;
            return Err(error);
        }
        self.write_len += record.len() as u64;
        let seq = self.next_seq;
        self.next_seq += 1;
        let added = self.unsynced.map_or(0, |(_, _, _, bytes)| bytes) + record.len() as u64;
        self.unsynced = Some((self.write_segment, self.write_len, seq, added));
        Ok(seq)
    }

    /// Fsyncs what was appended and publishes it to the reader. One fsync covers every batch
    /// appended since the last call (group commit).
    pub fn sync(&mut self) -> io::Result<()> {
        let Some((segment_id, len, seq, bytes)) = self.unsynced else {
            return Ok(());
        };
        // fsync is per inode: a fresh descriptor flushes what an earlier one wrote. On error
        // the records stay pending and the next call tries again.
        match self.file.as_ref() {
            Some(file) => file.sync_data()?,
            None => File::open(segment_path(&self.dir, segment_id))?.sync_data()?,
        }
        self.unsynced = None;
        let mut state = self.shared.lock();
        let segment = state.segments.entry(segment_id).or_default();
        segment.len = len;
        segment.max_seq = seq;
        state.total += bytes;
        drop(state);
        self.shared.changed.notify_all();
        Ok(())
    }

    /// When every record of the segment being written is acknowledged and covered by a
    /// checkpoint, empties it, so a small disk is not held by delivered data.
    fn recycle_if_delivered(&mut self) -> io::Result<()> {
        if self.write_len == 0 {
            return Ok(());
        }
        let mut state = self.shared.lock();
        let segment = state
            .segments
            .get(&self.write_segment)
            .copied()
            .unwrap_or_default();
        let delivered = state.ack_segment == self.write_segment
            && state.ack_offset >= self.write_len
            && segment.max_seq <= state.durable_seq;
        if !delivered {
            return Ok(());
        }
        // The acknowledgement moves back to 0 before the segment is emptied: a crash in
        // between only re-sends delivered batches, which the server de-duplicates.
        fs::write(
            self.dir.join("ack.tmp"),
            format!("{}:0", self.write_segment),
        )?;
        fs::rename(self.dir.join("ack.tmp"), self.dir.join("ack"))?;
        let path = segment_path(&self.dir, self.write_segment);
        OpenOptions::new().write(true).open(&path)?.set_len(0)?;
        self.file = None;
        state.total = state.total.saturating_sub(self.write_len);
        state.ack_offset = 0;
        if let Some(entry) = state.segments.get_mut(&self.write_segment) {
            entry.len = 0;
        }
        self.write_len = 0;
        Ok(())
    }

    fn roll(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        let next = self.write_segment + 1;
        let path = segment_path(&self.dir, next);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        sync_dir(&self.dir)?;
        self.file = Some(file);
        self.write_segment = next;
        self.write_len = 0;
        let mut state = self.shared.lock();
        state.write_segment = next;
        state.segments.entry(next).or_default();
        Ok(())
    }
}

fn read_ack(dir: &Path) -> Option<(u64, u64)> {
    let text = fs::read_to_string(dir.join("ack")).ok()?;
    let (segment, offset) = text.trim().split_once(':')?;
    Some((segment.parse().ok()?, offset.parse().ok()?))
}

/// The reading side (the shipper).
pub struct SpoolReader {
    dir: PathBuf,
    shared: Arc<Shared>,
    file: Option<(u64, File)>,
}

impl SpoolReader {
    /// A reader over the spool of `writer`.
    pub fn new(writer: &Spool) -> Self {
        Self {
            dir: writer.dir.clone(),
            shared: writer.shared(),
            file: None,
        }
    }

    /// The shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The next unacknowledged record, if one is published.
    pub fn next(&mut self, events: &dyn Events) -> Option<Entry> {
        loop {
            let (segment, offset, limit, is_write_segment, next_segment) = {
                let state = self.shared.lock();
                let segment = state.ack_segment;
                let limit = state.segments.get(&segment).map_or(0, |s| s.len);
                let next_segment = state
                    .segments
                    .range(segment + 1..)
                    .next()
                    .map(|(id, _)| *id);
                (
                    segment,
                    state.ack_offset,
                    limit,
                    segment == state.write_segment,
                    next_segment,
                )
            };
            if offset >= limit {
                if is_write_segment {
                    return None;
                }
                let next = next_segment?;
                self.advance_to(next, 0);
                continue;
            }
            let file = match &mut self.file {
                Some((id, file)) if *id == segment => file,
                _ => {
                    let opened = File::open(segment_path(&self.dir, segment)).ok()?;
                    &mut self.file.insert((segment, opened)).1
                }
            };
            match read_record(file, offset, limit) {
                Ok(ReadOutcome::Record { payload, next }) => match decode_payload(&payload) {
                    Some((meta, body)) => {
                        return Some(Entry {
                            meta,
                            body,
                            segment,
                            next_offset: next,
                        });
                    }
                    None => {
                        events.spool_corrupt();
                        self.advance_to(segment, next);
                    }
                },
                Ok(ReadOutcome::Corrupt { next }) => {
                    events.spool_corrupt();
                    self.advance_to(segment, next);
                }
                Ok(ReadOutcome::End) | Err(_) => {
                    // Unreadable rest of a closed segment: skip to the next segment.
                    events.spool_corrupt();
                    if is_write_segment {
                        return None;
                    }
                    let next = next_segment?;
                    self.advance_to(next, 0);
                }
            }
        }
    }

    /// Marks `entry` delivered (or dropped for good).
    pub fn ack(&mut self, entry: &Entry) {
        self.advance_to(entry.segment, entry.next_offset);
    }

    fn advance_to(&mut self, segment: u64, offset: u64) {
        let shared = self.shared.clone();
        let mut state = shared.lock();
        state.ack_segment = segment;
        state.ack_offset = offset;
        let _ = fs::write(self.dir.join("ack.tmp"), format!("{segment}:{offset}"))
            .and_then(|()| fs::rename(self.dir.join("ack.tmp"), self.dir.join("ack")));
        self.collect(&mut state);
    }

    /// Deletes segments that are fully acknowledged and covered by checkpoints.
    pub fn collect_garbage(&mut self) {
        let shared = self.shared.clone();
        let mut state = shared.lock();
        self.collect(&mut state);
    }

    fn collect(&mut self, state: &mut State) {
        let candidates: Vec<(u64, Segment)> = state
            .segments
            .range(..state.ack_segment)
            .map(|(id, segment)| (*id, *segment))
            .collect();
        for (id, segment) in candidates {
            if id == state.write_segment || segment.max_seq > state.durable_seq {
                break;
            }
            if self.file.as_ref().is_some_and(|(open, _)| *open == id) {
                self.file = None;
            }
            let _ = fs::remove_file(segment_path(&self.dir, id));
            state.segments.remove(&id);
            state.total = state.total.saturating_sub(segment.len);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::events::NoEvents;

    fn meta(offset: u64) -> SpoolMeta {
        SpoolMeta {
            seq: 0,
            source: "s".into(),
            start_offset: 0,
            state: FileState {
                file_id: "f".into(),
                dev: 1,
                ino: 1,
                head_len: 0,
                head_hash: 0,
                generation: 0,
                offset,
                marker_len: 0,
                marker_hash: 0,
                path: "/f".into(),
                carry: Default::default(),
                gone_since: None,
            },
        }
    }

    #[test]
    fn records_survive_reopen_and_are_deleted_only_when_acked_and_checkpointed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut spool, recovered) = Spool::open(dir.path(), 4096, 1 << 20, &NoEvents).unwrap();
        assert!(recovered.is_empty());
        for i in 0..20 {
            spool.append(&mut meta(i), &vec![b'x'; 1000]).unwrap();
            spool.sync().unwrap();
        }
        drop(spool);
        let (spool, recovered) = Spool::open(dir.path(), 4096, 1 << 20, &NoEvents).unwrap();
        assert_eq!(recovered.len(), 20);
        let mut reader = SpoolReader::new(&spool);
        let mut seen = 0;
        while let Some(entry) = reader.next(&NoEvents) {
            reader.ack(&entry);
            seen += 1;
        }
        assert_eq!(seen, 20);
        let segments_before = fs::read_dir(dir.path()).unwrap().count();
        spool.set_durable_seq(20);
        reader.collect_garbage();
        let segments_after = fs::read_dir(dir.path()).unwrap().count();
        assert!(segments_after < segments_before);
        assert!(reader.shared().is_drained());
    }
}
