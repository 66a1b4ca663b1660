//! Finding the files of a source: glob rescans, identity ((dev, inode) + head hash), the
//! offset-marker check, rotation (a new identity on a known path) and opening descriptors.

use super::*;

impl SourceTailer {
    pub(super) fn matched_paths(&self) -> Vec<PathBuf> {
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

    pub(super) fn new_identity(
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

    pub(super) fn open(&mut self, path: &Path, now: Duration, events: &dyn Events) {
        if let Err(error) = self.try_open(path, now, events) {
            tracing::debug!(path = %path.display(), error = %error, "File could not be opened.");
        }
    }

    pub(super) fn try_open(
        &mut self,
        path: &Path,
        now: Duration,
        events: &dyn Events,
    ) -> io::Result<()> {
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
}
