//! The agent's main loop: sources → batches → spool → checkpoints, plus the shipper thread.
//!
//! Owns the order of durability: a batch is encoded and fsynced into the spool before its
//! file offset moves, checkpoints are written about once a second (the spool is the journal
//! that replays newer offsets at start), and spool segments are deleted only when acked and
//! covered by a stored checkpoint. Reading runs on this thread with `std::fs`; only the
//! shipper uses async I/O.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use leakguard_domain::agent_wire::{Batch, SCHEMA_VERSION, SourceRef};
use notify::Watcher as _;

use crate::clock::Clock;
use crate::config::Config;
use crate::events::Events;
use crate::spool::{Spool, SpoolMeta};
use crate::tail::{CutBatch, SourceTailer, TailOptions};

/// Encodes a cut batch as the wire body (JSON, zstd).
pub fn encode_batch(agent_id: &str, batch: &CutBatch) -> io::Result<Vec<u8>> {
    encode_batch_with(&mut zstd::bulk::Compressor::new(3)?, agent_id, batch)
}

/// [`encode_batch`] reusing a compressor (its context is costly to set up).
pub fn encode_batch_with(
    compressor: &mut zstd::bulk::Compressor<'static>,
    agent_id: &str,
    batch: &CutBatch,
) -> io::Result<Vec<u8>> {
    let wire = Batch {
        schema: SCHEMA_VERSION,
        agent_id: agent_id.to_owned(),
        batch_id: uuid::Uuid::new_v4().to_string(),
        source: SourceRef {
            file_id: batch.state.file_id.clone(),
            path: batch.state.path.to_string_lossy().into_owned(),
            kind: batch.kind,
        },
        start_offset: batch.start_offset,
        end_offset: batch.end_offset,
        lines: batch.lines,
        records: batch.records.clone(),
    };
    let json = serde_json::to_vec(&wire).map_err(io::Error::other)?;
    compressor.compress(&json)
}

/// Tail options from the config.
pub fn tail_options(config: &Config) -> TailOptions {
    TailOptions {
        max_line_bytes: config.tail.max_line_bytes,
        batch_linger: config.tail.batch_linger(),
        batch_max_bytes: config.tail.batch_max_bytes,
        rotate_grace: Duration::from_millis(config.tail.rotate_grace_ms),
        idle_close: Duration::from_millis(config.tail.idle_close_ms),
        state_ttl_s: config.tail.state_ttl_s,
        read_from_end: config.tail.read_from == "end",
    }
}

/// Sources, spool and checkpoints.
pub struct Agent {
    sources: Vec<SourceTailer>,
    spool: Spool,
    agent_id: String,
    events: Arc<dyn Events>,
    clock: Arc<dyn Clock>,
    rescan_every: Duration,
    last_rescan: Option<Duration>,
    last_checkpoint: Duration,
    spool_blocked: bool,
    compressor: zstd::bulk::Compressor<'static>,
}

impl Agent {
    /// Opens the spool and the sources' checkpoints and replays the spool journal.
    pub fn new(
        config: &Config,
        agent_id: &str,
        events: Arc<dyn Events>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let state_dir = &config.agent.state_dir;
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("cannot create state dir {}", state_dir.display()))?;
        let (mut spool, journal) = Spool::open(
            &state_dir.join("spool"),
            config.spool.segment_bytes,
            config.spool.max_bytes,
            events.as_ref(),
        )
        .with_context(|| format!("cannot open spool in {}", state_dir.display()))?;
        let options = tail_options(config);
        let mut sources = Vec::new();
        for source in &config.sources {
            let tailer = SourceTailer::new(
                &source.name,
                source.kind,
                source.include.clone(),
                &source.exclude,
                source.parser_options(),
                options.clone(),
                state_dir,
            )
            .with_context(|| format!("cannot open state of source {}", source.name))?;
            sources.push(tailer);
        }
        for meta in journal {
            if let Some(source) = sources.iter_mut().find(|s| s.name == meta.source) {
                source.apply_spooled(meta.seq, meta.state);
            }
        }
        let highest = sources.iter().map(|s| s.spool_seq).max().unwrap_or(0);
        spool.ensure_seq_above(highest);
        let now = clock.mono();
        Ok(Self {
            sources,
            spool,
            agent_id: agent_id.to_owned(),
            events,
            clock,
            rescan_every: Duration::from_millis(config.tail.rescan_ms),
            last_rescan: None,
            last_checkpoint: now,
            spool_blocked: false,
            compressor: zstd::bulk::Compressor::new(3).context("cannot set up zstd")?,
        })
    }

    /// The spool writer (the shipper builds its reader from it).
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// The sources.
    pub fn sources(&self) -> &[SourceTailer] {
        &self.sources
    }

    /// One turn: rescan if due (or `force_rescan`), read, cut, spool; checkpoint if due.
    /// Returns whether anything happened.
    pub fn step(&mut self, force_rescan: bool, final_pass: bool) -> anyhow::Result<bool> {
        let now = self.clock.mono();
        // A full spool pauses reading: the source files are the buffer.
        let paused = self.spool_blocked && self.spool.is_full();
        if !paused {
            self.spool_blocked = false;
        }
        let rescan_due = force_rescan
            || self
                .last_rescan
                .is_none_or(|last| now.saturating_sub(last) >= self.rescan_every);
        let Self {
            sources,
            spool,
            agent_id,
            events,
            clock,
            spool_blocked,
            compressor,
            ..
        } = self;
        let mut sink = |batch: &CutBatch| -> io::Result<Option<u64>> {
            if batch.records.is_empty() {
                return Ok(None);
            }
            if spool.is_full() {
                if !*spool_blocked {
                    events.spool_full();
                }
                *spool_blocked = true;
                return Err(io::Error::other("spool is full"));
            }
            let body = encode_batch_with(compressor, agent_id, batch)?;
            let mut meta = SpoolMeta {
                seq: 0,
                source: batch.source.clone(),
                state: batch.state.clone(),
                start_offset: batch.start_offset,
            };
            match spool.append(&mut meta, &body) {
                Ok(seq) => {
                    *spool_blocked = false;
                    events.batch_spooled(body.len() as u64);
                    Ok(Some(seq))
                }
                Err(error) => {
                    *spool_blocked = true;
                    events.spool_write_failed(&error);
                    Err(error)
                }
            }
        };
        let mut did_work = false;
        if rescan_due {
            for source in sources.iter_mut() {
                source.rescan(clock.as_ref(), events.as_ref(), &mut sink);
            }
        }
        if !paused {
            for source in sources.iter_mut() {
                did_work |= source.poll(clock.as_ref(), events.as_ref(), &mut sink, final_pass);
            }
        }
        if rescan_due {
            self.last_rescan = Some(now);
        }
        if let Err(error) = self.spool.sync() {
            self.events.spool_write_failed(&error);
        }
        self.events.spool_size(self.spool.shared().total_bytes());
        if now.saturating_sub(self.last_checkpoint) >= Duration::from_secs(1)
            && let Err(error) = self.checkpoint()
        {
            // A full disk must not stop the agent: offsets stay in memory (and in the spool
            // journal) and the write is tried again next second.
            tracing::error!(
                error = format!("{error:#}"),
                "Writing checkpoints failed; retrying."
            );
            self.last_checkpoint = now;
        }
        Ok(did_work)
    }

    /// Whether tailing is paused by the spool.
    pub fn is_paused(&self) -> bool {
        self.spool_blocked
    }

    /// Writes dirty checkpoints, then lets the spool delete what they cover.
    pub fn checkpoint(&mut self) -> anyhow::Result<()> {
        // Offsets may only be stored for batches that are on disk.
        if let Err(error) = self.spool.sync() {
            self.events.spool_write_failed(&error);
            return Ok(());
        }
        let covered = self.spool.last_seq();
        let mut lag = 0;
        for source in &mut self.sources {
            lag += source.lag_bytes();
            if source.is_dirty() {
                source.store_checkpoint().with_context(|| {
                    format!("cannot write checkpoint of source {}", source.name)
                })?;
                self.events.checkpoint_written();
            }
        }
        self.events.lag_bytes(lag);
        self.spool.set_durable_seq(covered);
        self.last_checkpoint = self.clock.mono();
        Ok(())
    }

    /// Whether all sources are fully read and closed.
    pub fn is_idle(&self) -> bool {
        self.sources.iter().all(SourceTailer::is_idle)
    }

    /// Directories to watch with inotify (parents of the globs' literal prefixes).
    pub fn watch_dirs(config: &Config) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for source in &config.sources {
            for pattern in &source.include {
                let literal: PathBuf = Path::new(pattern)
                    .components()
                    .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
                    .collect();
                let dir = if literal.is_dir() {
                    literal
                } else {
                    literal.parent().map(Path::to_path_buf).unwrap_or_default()
                };
                if dir.is_dir() && !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
        dirs
    }

    /// Runs until `stop` is set. With `once`, reads every file to its end, flushes and
    /// returns (the caller drains the spool).
    pub fn run(&mut self, config: &Config, once: bool, stop: &AtomicBool) -> anyhow::Result<()> {
        if once {
            self.step(true, false)?;
            loop {
                let idle = self.is_idle();
                let did_work = self.step(idle, true)?;
                if self.is_paused() {
                    // Let the shipper make room.
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                if !did_work && self.is_idle() {
                    break;
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            self.checkpoint()?;
            return Ok(());
        }
        let (sender, receiver) = mpsc::channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok() {
                    let _ = sender.send(());
                }
            })
            .ok();
        if let Some(watcher) = watcher.as_mut() {
            for dir in Self::watch_dirs(config) {
                let _ = watcher.watch(&dir, notify::RecursiveMode::NonRecursive);
            }
        }
        let mut force_rescan = true;
        while !stop.load(Ordering::Relaxed) {
            let did_work = self.step(force_rescan, false)?;
            force_rescan = false;
            if did_work {
                continue;
            }
            match receiver.recv_timeout(Duration::from_millis(250)) {
                Ok(()) => {
                    while receiver.try_recv().is_ok() {}
                    force_rescan = true;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(250))
                }
            }
        }
        self.checkpoint()?;
        Ok(())
    }
}
