//! Tailing the files of one source.
//!
//! Owns file discovery (globs, rescans), identity ((dev, inode) + head hash), the offset
//! marker check, rotation (drain the old descriptor before closing), truncation,
//! deleted-while-open files, line framing on bytes, the line cap, and cutting batches at
//! record boundaries. It never ships or stores anything itself: cut batches go to a sink,
//! and the committed offset moves only when the sink accepted the batch. It reports through
//! [`Events`] and reads time only from a [`Clock`].
//!
//! `SourceTailer` and its state live here; its work is split by concern: `discovery` (globs,
//! identity, rotation, opening), `follow` (reading, truncation, deleted files, draining),
//! `framer` ([`Framer`]), `batches` (cut and commit) and `exports` (the `magento-export`
//! directory watcher).

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

mod batches;
mod discovery;
mod exports;
mod follow;
mod framer;

pub use framer::Framer;

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
