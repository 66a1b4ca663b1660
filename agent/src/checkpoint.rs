//! Durable read positions.
//!
//! Owns the checkpoint file of one source: per file its identity (dev, inode, head hash),
//! offset, offset marker and parser carry. Writes are atomic (temp file, fsync, rename,
//! fsync of the directory), so a crash leaves either the old or the new state. It must not
//! decide when a position is safe to store: the caller advances offsets only for data that
//! sits in the fsynced spool.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::parse::Carry;

/// Bytes hashed at the head of a file for its identity.
pub const HEAD_BYTES: u64 = 1024;
/// Bytes before the offset hashed as the offset marker.
pub const MARKER_BYTES: u64 = 64;

/// 64-bit FNV-1a: stable across builds and platforms (the hash is persisted).
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// What is known about one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileState {
    /// Wire identity, fixed when the file was first seen (see `SourceRef::file_id`).
    pub file_id: String,
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Bytes covered by `head_hash` (grows up to [`HEAD_BYTES`] as the file grows).
    pub head_len: u64,
    /// Hash of the first `head_len` bytes.
    pub head_hash: u64,
    /// Times the file was found truncated and read again from 0.
    #[serde(default)]
    pub generation: u32,
    /// Offset up to which data is durable (spooled or delivered).
    pub offset: u64,
    /// Bytes before `offset` covered by `marker_hash`.
    pub marker_len: u64,
    /// Hash of the `marker_len` bytes before `offset`.
    pub marker_hash: u64,
    /// Last path the file was seen at.
    pub path: PathBuf,
    /// Parser state at `offset`.
    #[serde(default)]
    pub carry: Carry,
    /// Wall-clock unix time the file was last not found (for pruning); `None` while present.
    #[serde(default)]
    pub gone_since: Option<i64>,
}

/// The checkpoint file of one source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceCheckpoint {
    /// Format version (1).
    pub version: u32,
    /// Highest spool sequence number whose effect is included.
    pub spool_seq: u64,
    /// Files.
    pub files: Vec<FileState>,
    /// `magento-export` sources: names already reported, and the event counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportState>,
}

/// State of a directory source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportState {
    /// (dev, inode) of files already reported.
    pub seen: Vec<(u64, u64)>,
    /// Events emitted so far (the batch offset of a directory source).
    pub events: u64,
}

/// Where a fault can be injected into [`write_atomic`] (tests simulate a crash there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStage {
    /// After the temp file is created, half of the data written.
    PartialWrite,
    /// After the data is written, before fsync.
    BeforeFsync,
    /// After fsync, before rename.
    BeforeRename,
    /// After rename, before the directory fsync.
    BeforeDirFsync,
}

/// Writes `bytes` to `path` atomically. `fault` is called at each stage; an error it returns
/// aborts the write there, as a crash would.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    fault: &dyn Fn(WriteStage) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let temp = temp_path(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)?;
    let half = bytes.len() / 2;
    file.write_all(&bytes[..half])?;
    fault(WriteStage::PartialWrite)?;
    file.write_all(&bytes[half..])?;
    fault(WriteStage::BeforeFsync)?;
    file.sync_all()?;
    fault(WriteStage::BeforeRename)?;
    fs::rename(&temp, path)?;
    fault(WriteStage::BeforeDirFsync)?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Storage of one source's checkpoint.
pub struct CheckpointStore {
    path: PathBuf,
}

impl CheckpointStore {
    /// The checkpoint of source `name` under `state_dir` (namespaced per source).
    pub fn new(state_dir: &Path, name: &str) -> io::Result<Self> {
        let dir = state_dir.join("sources").join(name);
        fs::create_dir_all(&dir)?;
        Ok(Self {
            path: dir.join("checkpoint.json"),
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the checkpoint; a missing or unreadable file gives an empty one (a leftover temp
    /// file from a crash is ignored: the rename never happened, so the old state stands).
    pub fn load(&self) -> SourceCheckpoint {
        match fs::read(&self.path) {
            Ok(bytes) => match serde_json::from_slice::<SourceCheckpoint>(&bytes) {
                Ok(checkpoint) => checkpoint,
                Err(error) => {
                    tracing::error!(path = %self.path.display(), error = %error, "Checkpoint file is unreadable; starting without it.");
                    SourceCheckpoint::default()
                }
            },
            Err(_) => SourceCheckpoint::default(),
        }
    }

    /// Stores the checkpoint atomically.
    pub fn store(&self, checkpoint: &SourceCheckpoint) -> io::Result<()> {
        self.store_with(checkpoint, &|_| Ok(()))
    }

    /// [`Self::store`] with fault injection.
    pub fn store_with(
        &self,
        checkpoint: &SourceCheckpoint,
        fault: &dyn Fn(WriteStage) -> io::Result<()>,
    ) -> io::Result<()> {
        let bytes = serde_json::to_vec(checkpoint).map_err(io::Error::other)?;
        write_atomic(&self.path, &bytes, fault)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn state(offset: u64) -> SourceCheckpoint {
        SourceCheckpoint {
            version: 1,
            spool_seq: offset,
            files: vec![FileState {
                file_id: "1:2:3".into(),
                dev: 1,
                ino: 2,
                head_len: 10,
                head_hash: 3,
                generation: 0,
                offset,
                marker_len: 0,
                marker_hash: 0,
                path: "/x".into(),
                carry: Carry::default(),
                gone_since: None,
            }],
            export: None,
        }
    }

    #[test]
    fn a_crash_at_any_stage_of_a_write_leaves_the_old_or_the_new_state() {
        for stage in [
            WriteStage::PartialWrite,
            WriteStage::BeforeFsync,
            WriteStage::BeforeRename,
            WriteStage::BeforeDirFsync,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let store = CheckpointStore::new(dir.path(), "s").unwrap();
            store.store(&state(100)).unwrap();
            let crash = |at: WriteStage| {
                if at == stage {
                    Err(io::Error::other("crash"))
                } else {
                    Ok(())
                }
            };
            assert!(store.store_with(&state(200), &crash).is_err());
            let loaded = CheckpointStore::new(dir.path(), "s").unwrap().load();
            assert!(
                loaded == state(100) || loaded == state(200),
                "{stage:?}: {loaded:?}"
            );
            if stage == WriteStage::BeforeDirFsync {
                assert_eq!(loaded, state(200));
            } else {
                assert_eq!(loaded, state(100));
            }
        }
    }
}
