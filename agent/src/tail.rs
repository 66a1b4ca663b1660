//! Tailing the files of one source.
//!
//! Owns file discovery (globs, rescans), identity ((dev, inode) + head hash), the offset
//! marker check, rotation (drain the old descriptor before closing), truncation,
//! deleted-while-open files, line framing on bytes, the line cap, and cutting batches at
//! record boundaries. It never ships or stores anything itself: cut batches go to a sink,
//! and the committed offset moves only when the sink accepted the batch. It reports through
//! [`Events`] and reads time only from a [`Clock`].

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use leakguard_domain::agent_wire::{
    Principal, Record, SecurityEvent, SecurityEventKind, SourceKind,
};

use crate::checkpoint::{
    CheckpointStore, ExportState, FileState, HEAD_BYTES, MARKER_BYTES, SourceCheckpoint, hash64,
};
use crate::clock::Clock;
use crate::events::Events;
use crate::parse::{LineParser, ParserOptions, parser_for};
use crate::records::Processor;

/// Cap on the bytes a multi-line record accumulates.
pub const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;
const READ_CHUNK: usize = 256 * 1024;
/// Records after which a batch is cut whatever its input size (keeps bodies well under
/// `MAX_BATCH_JSON_BYTES`).
const MAX_BATCH_RECORDS: usize = 5_000;
/// Descriptors one source keeps open at most; further files wait for the next rescan.
const MAX_OPEN_FILES: usize = 1024;

/// Tailing settings.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// Line cap.
    pub max_line_bytes: usize,
    /// How long a batch may stay open.
    pub batch_linger: Duration,
    /// Input bytes that close a batch at once.
    pub batch_max_bytes: u64,
    /// Idle time at EOF before a gone file is closed.
    pub rotate_grace: Duration,
    /// Idle time before a descriptor is closed.
    pub idle_close: Duration,
    /// Seconds a vanished file's state is kept.
    pub state_ttl_s: u64,
    /// Start files without a checkpoint found at the first scan at their end.
    pub read_from_end: bool,
}

impl Default for TailOptions {
    fn default() -> Self {
        Self {
            max_line_bytes: 1024 * 1024,
            batch_linger: Duration::from_secs(1),
            batch_max_bytes: 4 * 1024 * 1024,
            rotate_grace: Duration::from_secs(5),
            idle_close: Duration::from_secs(60),
            state_ttl_s: 3600,
            read_from_end: false,
        }
    }
}

/// A batch cut from one file range.
#[derive(Debug, Clone)]
pub struct CutBatch {
    /// Source name.
    pub source: String,
    /// Source kind.
    pub kind: SourceKind,
    /// First byte.
    pub start_offset: u64,
    /// End (exclusive).
    pub end_offset: u64,
    /// Complete lines in the range.
    pub lines: u64,
    /// Records.
    pub records: Vec<Record>,
    /// File state after the batch.
    pub state: FileState,
}

/// Takes cut batches. `Ok(Some(seq))`: spooled as `seq`; `Ok(None)`: nothing needed storing
/// (no records); `Err`: not stored, keep it and stop reading this file for now.
pub type Sink<'a> = dyn FnMut(&CutBatch) -> io::Result<Option<u64>> + 'a;

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
    fn reset(&mut self, offset: u64) {
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
    fn flush_partial(&mut self, end: u64, line: &mut dyn FnMut(&[u8], u64, bool)) {
        if !self.partial.is_empty() || self.overflow {
            line(&self.partial, self.partial_start, self.overflow);
            self.partial.clear();
            self.overflow = false;
            self.complete_end = end;
        }
    }
}

struct Tracked {
    state: FileState,
    file: File,
    parser: Box<dyn LineParser>,
    processor: Processor,
    framer: Framer,
    read_pos: u64,
    lines_total: u64,
    lines_at_batch_start: u64,
    lines_at_pending: Option<(u64, u64)>,
    batch_opened: Option<Duration>,
    last_growth: Duration,
    gone: bool,
    stash: Option<CutBatch>,
}

/// The tailer of one source.
pub struct SourceTailer {
    /// Source name.
    pub name: String,
    /// Kind.
    pub kind: SourceKind,
    include: Vec<String>,
    exclude: Vec<glob::Pattern>,
    parser_options: ParserOptions,
    options: TailOptions,
    store: CheckpointStore,
    known: HashMap<(u64, u64), FileState>,
    tracked: HashMap<(u64, u64), Tracked>,
    export: ExportState,
    /// Highest spool sequence applied.
    pub spool_seq: u64,
    dirty: bool,
    first_scan: bool,
    chunk: Vec<u8>,
    /// File size when the descriptor was last closed (not persisted).
    closed_at: HashMap<(u64, u64), u64>,
    /// Newest carried timestamp, handed to files that appear (rotation).
    latest_ts: Option<i64>,
}

fn key_of(state: &FileState) -> (u64, u64) {
    (state.dev, state.ino)
}

fn read_exact_at(file: &File, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut buffer = vec![0u8; len as usize];
    file.read_exact_at(&mut buffer, offset)?;
    Ok(buffer)
}

/// Whether the bytes before `state.offset` in the file at `path` still hash to the marker.
fn marker_matches(path: &Path, state: &FileState) -> bool {
    if state.marker_len == 0 {
        return true;
    }
    File::open(path)
        .and_then(|file| read_exact_at(&file, state.offset - state.marker_len, state.marker_len))
        .is_ok_and(|bytes| hash64(&bytes) == state.marker_hash)
}

fn is_compressed(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("gz" | "zst" | "bz2" | "xz" | "zip" | "lz4")
    )
}

impl SourceTailer {
    /// A tailer for a source, with its checkpoint loaded.
    pub fn new(
        name: &str,
        kind: SourceKind,
        include: Vec<String>,
        exclude: &[String],
        parser_options: ParserOptions,
        options: TailOptions,
        state_dir: &Path,
    ) -> io::Result<Self> {
        let store = CheckpointStore::new(state_dir, name)?;
        let checkpoint = store.load();
        let known = checkpoint
            .files
            .into_iter()
            .map(|f| (key_of(&f), f))
            .collect();
        Ok(Self {
            name: name.to_owned(),
            kind,
            include,
            exclude: exclude
                .iter()
                .filter_map(|p| glob::Pattern::new(p).ok())
                .collect(),
            parser_options,
            options,
            store,
            known,
            tracked: HashMap::new(),
            export: checkpoint.export.unwrap_or_default(),
            spool_seq: checkpoint.spool_seq,
            dirty: false,
            first_scan: true,
            chunk: vec![0u8; READ_CHUNK],
            closed_at: HashMap::new(),
            latest_ts: None,
        })
    }

    /// Applies a spooled batch's resulting state found at start-up (the spool is the journal).
    pub fn apply_spooled(&mut self, seq: u64, state: FileState) {
        if seq > self.spool_seq {
            self.known.insert(key_of(&state), state);
            self.spool_seq = seq;
            self.dirty = true;
        }
    }

    /// Number of file states kept.
    pub fn known_files(&self) -> usize {
        self.known.len()
    }

    /// Number of open descriptors.
    pub fn open_files(&self) -> usize {
        self.tracked.len()
    }

    /// Whether the checkpoint needs writing.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Writes the checkpoint.
    pub fn store_checkpoint(&mut self) -> io::Result<()> {
        let mut files: Vec<FileState> = self.known.values().cloned().collect();
        files.sort_by(|a, b| a.file_id.cmp(&b.file_id));
        let checkpoint = SourceCheckpoint {
            version: 1,
            spool_seq: self.spool_seq,
            files,
            export: (self.kind == SourceKind::MagentoExport).then(|| self.export.clone()),
        };
        self.store.store(&checkpoint)?;
        self.dirty = false;
        Ok(())
    }

    /// Bytes waiting in tracked files.
    pub fn lag_bytes(&self) -> u64 {
        self.tracked
            .values()
            .filter_map(|t| {
                t.file
                    .metadata()
                    .ok()
                    .map(|m| m.len().saturating_sub(t.read_pos))
            })
            .sum()
    }

    fn matched_paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for pattern in &self.include {
            let Ok(entries) = glob::glob(pattern) else {
                continue;
            };
            for path in entries.flatten() {
                if is_compressed(&path) || self.exclude.iter().any(|p| p.matches_path(&path)) {
                    continue;
                }
                if seen.insert(path.clone()) {
                    paths.push(path);
                }
            }
        }
        paths
    }

    /// Re-runs the globs: opens new files, follows renames, marks vanished files gone and
    /// prunes old state.
    pub fn rescan(&mut self, clock: &dyn Clock, events: &dyn Events, sink: &mut Sink<'_>) {
        if self.kind == SourceKind::MagentoExport {
            self.scan_exports(clock, sink);
            return;
        }
        let now = clock.mono();
        let wall = clock.wall_unix();
        let mut present: HashMap<(u64, u64), (PathBuf, u64)> = HashMap::new();
        for path in self.matched_paths() {
            let Ok(metadata) = fs::metadata(&path) else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            present.insert((metadata.dev(), metadata.ino()), (path, metadata.len()));
        }
        for (key, (path, size)) in &present {
            if self.tracked.len() >= MAX_OPEN_FILES {
                break;
            }
            if let Some(tracked) = self.tracked.get_mut(key) {
                if tracked.state.path != *path {
                    tracked.state.path = path.clone();
                }
                tracked.gone = false;
                continue;
            }
            if let Some(state) = self.known.get_mut(key) {
                state.gone_since = None;
                if state.path != *path {
                    state.path = path.clone();
                    self.dirty = true;
                }
                // Fully read (and not rewritten to the same size: the offset marker still
                // matches), or only an unterminated fragment that was already looked at.
                let unchanged = *size == state.offset && marker_matches(path, state);
                if unchanged || self.closed_at.get(key) == Some(size) {
                    continue;
                }
            }
            self.open(path, now, events);
        }
        for (key, tracked) in &mut self.tracked {
            let deleted = tracked
                .file
                .metadata()
                .map(|m| m.nlink() == 0)
                .unwrap_or(true);
            if (!present.contains_key(key) || deleted) && !tracked.gone {
                tracked.gone = true;
                events.file_gone(&tracked.state.path);
            }
        }
        let mut pruned = 0;
        let ttl = i64::try_from(self.options.state_ttl_s).unwrap_or(i64::MAX);
        self.known.retain(|key, state| {
            if present.contains_key(key) || self.tracked.contains_key(key) {
                return true;
            }
            let since = *state.gone_since.get_or_insert(wall);
            if wall.saturating_sub(since) >= ttl {
                pruned += 1;
                return false;
            }
            true
        });
        if pruned > 0 {
            self.dirty = true;
            events.state_pruned(pruned);
        }
        self.first_scan = false;
    }

    fn new_identity(
        &self,
        file: &File,
        dev: u64,
        ino: u64,
        size: u64,
        generation: u32,
        path: &Path,
    ) -> io::Result<FileState> {
        let head_len = size.min(HEAD_BYTES);
        let head_hash = hash64(&read_exact_at(file, 0, head_len)?);
        let file_id = if generation == 0 {
            format!("{dev}:{ino}:{head_hash:016x}")
        } else {
            format!("{dev}:{ino}:{head_hash:016x}:{generation}")
        };
        Ok(FileState {
            file_id,
            dev,
            ino,
            head_len,
            head_hash,
            generation,
            offset: 0,
            marker_len: 0,
            marker_hash: 0,
            path: path.to_owned(),
            carry: Default::default(),
            gone_since: None,
        })
    }

    fn open(&mut self, path: &Path, now: Duration, events: &dyn Events) {
        if let Err(error) = self.try_open(path, now, events) {
            tracing::debug!(path = %path.display(), error = %error, "File could not be opened.");
        }
    }

    fn try_open(&mut self, path: &Path, now: Duration, events: &dyn Events) -> io::Result<()> {
        {
            let mut file = File::open(path)?;
            let metadata = file.metadata()?;
            let (dev, ino, size) = (metadata.dev(), metadata.ino(), metadata.len());
            let key = (dev, ino);
            let mut state = match self.known.get(&key) {
                Some(known) => {
                    let same_head = size >= known.head_len
                        && hash64(&read_exact_at(&file, 0, known.head_len)?) == known.head_hash;
                    if !same_head {
                        // A new file on a reused inode (or rewritten from the start).
                        if size < known.offset {
                            events.file_truncated(path);
                        }
                        let generation = if size < known.head_len {
                            known.generation + 1
                        } else {
                            0
                        };
                        self.new_identity(&file, dev, ino, size, generation, path)?
                    } else if size < known.offset
                        || (known.marker_len > 0
                            && hash64(&read_exact_at(
                                &file,
                                known.offset - known.marker_len,
                                known.marker_len,
                            )?) != known.marker_hash)
                    {
                        events.file_truncated(path);
                        let mut carry_over =
                            self.new_identity(&file, dev, ino, size, known.generation + 1, path)?;
                        carry_over.carry = known.carry.clone();
                        carry_over
                    } else {
                        let mut resumed = known.clone();
                        resumed.path = path.to_owned();
                        resumed.gone_since = None;
                        resumed
                    }
                }
                None => {
                    let mut state = self.new_identity(&file, dev, ino, size, 0, path)?;
                    if self.first_scan && self.options.read_from_end {
                        state.offset = size;
                    }
                    // Timestamps carry across rotated files: take the newest carry of the source.
                    if self.latest_ts.is_none() {
                        self.latest_ts = self.known.values().filter_map(|s| s.carry.ts).max();
                    }
                    state.carry.ts = self.latest_ts;
                    state
                }
            };
            state.gone_since = None;
            file.seek(SeekFrom::Start(state.offset))?;
            let mut parser = parser_for(self.kind, &self.parser_options);
            parser.restore(state.carry.clone());
            let mut framer = Framer::default();
            framer.reset(state.offset);
            events.file_opened(path, state.offset);
            self.known.insert(key, state.clone());
            self.dirty = true;
            self.tracked.insert(
                key,
                Tracked {
                    read_pos: state.offset,
                    state,
                    file,
                    parser,
                    processor: Processor::new(),
                    framer,
                    lines_total: 0,
                    lines_at_batch_start: 0,
                    lines_at_pending: None,
                    batch_opened: None,
                    last_growth: now,
                    gone: false,
                    stash: None,
                },
            );
            Ok(())
        }
    }

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
    fn poll_file(
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

    fn identity_for(file: &File, old: &FileState, size: u64) -> io::Result<FileState> {
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

    fn feed(
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

    #[allow(clippy::too_many_arguments)]
    fn cut_and_commit(
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

    fn cut(name: &str, kind: SourceKind, tracked: &mut Tracked) -> Option<CutBatch> {
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

    fn commit(
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

    /// Directory sources: one security event per new file.
    fn scan_exports(&mut self, clock: &dyn Clock, sink: &mut Sink<'_>) {
        let mut new_files = Vec::new();
        for path in self.matched_paths() {
            let Ok(metadata) = fs::metadata(&path) else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            let key = (metadata.dev(), metadata.ino());
            if !self.export.seen.contains(&key) {
                new_files.push((key, path, metadata.len()));
            }
        }
        if self.first_scan && self.options.read_from_end {
            self.export
                .seen
                .extend(new_files.iter().map(|(key, _, _)| *key));
            new_files.clear();
        }
        self.first_scan = false;
        if new_files.is_empty() {
            return;
        }
        let wall = clock.wall_unix();
        let records: Vec<Record> = new_files
            .iter()
            .map(|(_, path, size)| {
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut details = std::collections::BTreeMap::new();
                let extension = path
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                details.insert(
                    "extension".to_owned(),
                    crate::records::mask_detail("extension", &extension.into()),
                );
                details.insert(
                    "file".to_owned(),
                    crate::records::mask_detail("file", &file_name.into()),
                );
                details.insert("bytes".to_owned(), (*size).into());
                Record::SecurityEvent(SecurityEvent {
                    kind: SecurityEventKind::ExportFileCreated,
                    ts: Some(crate::timefmt::rfc3339(wall)),
                    principal: Principal::default(),
                    ip: None,
                    forwarded_ip: None,
                    query_id: None,
                    fingerprint: None,
                    tables: Vec::new(),
                    entity_type: None,
                    entity_ids: Vec::new(),
                    count: None,
                    result: None,
                    request_id: None,
                    details,
                })
            })
            .collect();
        let start = self.export.events;
        let end = start + records.len() as u64;
        let directory = self.include.first().map(PathBuf::from).unwrap_or_default();
        let batch = CutBatch {
            source: self.name.clone(),
            kind: self.kind,
            start_offset: start,
            end_offset: end,
            lines: records.len() as u64,
            records,
            state: FileState {
                file_id: format!("export:{}", self.name),
                dev: 0,
                ino: 0,
                head_len: 0,
                head_hash: 0,
                generation: 0,
                offset: end,
                marker_len: 0,
                marker_hash: 0,
                path: directory,
                carry: Default::default(),
                gone_since: None,
            },
        };
        if let Ok(seq) = sink(&batch) {
            self.export
                .seen
                .extend(new_files.iter().map(|(key, _, _)| *key));
            self.export.events = end;
            if let Some(seq) = seq {
                self.spool_seq = self.spool_seq.max(seq);
            }
            self.dirty = true;
            // Rare and small: stored at once so the seen set and the offset move together.
            let _ = self.store_checkpoint();
        }
    }

    /// Whether every tracked file is fully read and nothing waits.
    pub fn is_idle(&self) -> bool {
        self.tracked.is_empty()
    }

    /// Paths currently open (for tests).
    pub fn open_paths(&self) -> Vec<PathBuf> {
        self.tracked
            .values()
            .map(|t| t.state.path.clone())
            .collect()
    }
}

#[derive(Default)]
struct PollOutcome {
    did_work: bool,
    close: bool,
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
