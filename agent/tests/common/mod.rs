//! Test harness: an agent on temp dirs, driven in-process, whose spool is read back as the
//! server would see it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod http;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::agent::Agent;
use agent::clock::{Clock, SystemClock};
use agent::config::Config;
use agent::events::{Events, NoEvents};
use agent::spool::{Spool, SpoolReader};
use leakguard_domain::agent_wire::{Batch, Record};

/// Counts what the agent reported.
#[derive(Default)]
pub struct Recorder {
    pub truncations: AtomicU64,
    pub long_lines: AtomicU64,
    pub invalid_utf8: AtomicU64,
    pub spool_full: AtomicU64,
    pub spool_corrupt: AtomicU64,
    pub spool_errors: AtomicU64,
    pub pruned: AtomicU64,
    pub gone: AtomicU64,
    pub closed: Mutex<Vec<PathBuf>>,
}

impl Events for Recorder {
    fn file_truncated(&self, _path: &Path) {
        self.truncations.fetch_add(1, Ordering::Relaxed);
    }
    fn line_truncated(&self, _path: &Path) {
        self.long_lines.fetch_add(1, Ordering::Relaxed);
    }
    fn invalid_utf8(&self, lines: u64) {
        self.invalid_utf8.fetch_add(lines, Ordering::Relaxed);
    }
    fn spool_full(&self) {
        self.spool_full.fetch_add(1, Ordering::Relaxed);
    }
    fn spool_corrupt(&self) {
        self.spool_corrupt.fetch_add(1, Ordering::Relaxed);
    }
    fn spool_write_failed(&self, _error: &std::io::Error) {
        self.spool_errors.fetch_add(1, Ordering::Relaxed);
    }
    fn state_pruned(&self, entries: u64) {
        self.pruned.fetch_add(entries, Ordering::Relaxed);
    }
    fn file_gone(&self, _path: &Path) {
        self.gone.fetch_add(1, Ordering::Relaxed);
    }
    fn file_closed(&self, path: &Path) {
        self.closed.lock().unwrap().push(path.to_owned());
    }
}

/// What a de-duplicating server holds.
#[derive(Default, Debug)]
pub struct Server {
    pub batches: BTreeMap<(String, u64), Batch>,
    pub duplicates: u64,
}

impl Server {
    pub fn receive(&mut self, batch: Batch) {
        let key = (batch.source.file_id.clone(), batch.start_offset);
        match self.batches.entry(key) {
            std::collections::btree_map::Entry::Occupied(_) => self.duplicates += 1,
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(batch);
            }
        }
    }

    pub fn receive_body(&mut self, body: &[u8]) {
        let json = zstd::decode_all(body).unwrap();
        self.receive(serde_json::from_slice(&json).unwrap());
    }

    pub fn records(&self) -> Vec<&Record> {
        self.batches
            .values()
            .flat_map(|b| b.records.iter())
            .collect()
    }

    /// request ids of security events, with their multiplicity.
    pub fn request_ids(&self) -> HashMap<String, u64> {
        let mut ids = HashMap::new();
        for record in self.records() {
            if let Record::SecurityEvent(event) = record
                && let Some(id) = &event.request_id
            {
                *ids.entry(id.clone()).or_insert(0) += 1;
            }
        }
        ids
    }

    /// No two stored batches of one file overlap.
    pub fn assert_no_overlap(&self) {
        let mut last: HashMap<&str, u64> = HashMap::new();
        for ((file_id, start), batch) in &self.batches {
            if let Some(end) = last.get(file_id.as_str()) {
                assert!(
                    *start >= *end,
                    "overlapping batches in {file_id}: {start} < {end}"
                );
            }
            last.insert(file_id, batch.end_offset);
        }
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub logs: PathBuf,
    pub state: PathBuf,
    pub server: Server,
    pub events: Arc<Recorder>,
    pub extra_config: String,
    pub sources: String,
}

/// An admin-log line carrying a unique request id.
pub fn admin_line(id: &str) -> String {
    format!(
        "{{\"ts\":\"2026-11-28T08:00:00+00:00\",\"admin_user_id\":1,\"admin_username\":\"admin\",\"ip\":\"10.0.0.1\",\"event\":\"record_view\",\"entity_type\":\"customer\",\"request_id\":\"{id}\"}}\n"
    )
}

pub fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

pub fn append_ids(path: &Path, prefix: &str, range: std::ops::Range<u64>) -> Vec<String> {
    let mut text = String::new();
    let mut ids = Vec::new();
    for i in range {
        let id = format!("{prefix}{i}");
        text.push_str(&admin_line(&id));
        ids.push(id);
    }
    append(path, &text);
    ids
}

impl Harness {
    /// A harness with one magento-admin source reading `include` (relative to the log dir).
    pub fn admin(include: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let state = dir.path().join("state");
        let globs: Vec<String> = include
            .iter()
            .map(|g| format!("{:?}", logs.join(g).display().to_string()))
            .collect();
        let sources = format!(
            "[[source]]\nname = \"admin\"\nkind = \"magento-admin\"\ninclude = [{}]\n",
            globs.join(", ")
        );
        Self {
            dir,
            logs,
            state,
            server: Server::default(),
            events: Arc::new(Recorder::default()),
            extra_config: String::new(),
            sources,
        }
    }

    pub fn log(&self, name: &str) -> PathBuf {
        self.logs.join(name)
    }

    pub fn config_text(&self) -> String {
        format!(
            "[agent]\nserver = \"http://127.0.0.1:9\"\nstate_dir = {:?}\nstatus_listen = \"\"\n\n[tail]\nbatch_linger_ms = 0\nrotate_grace_ms = 0\nrescan_ms = 0\nidle_close_ms = 0\nbatch_max_bytes = 65536\n{}\n{}",
            self.state.display().to_string(),
            self.extra_config,
            self.sources
        )
    }

    pub fn config(&self) -> Config {
        Config::parse(&self.config_text(), Path::new("test.toml")).unwrap()
    }

    pub fn agent(&self) -> Agent {
        self.agent_with_clock(Arc::new(SystemClock::default()))
    }

    pub fn agent_with_clock(&self, clock: Arc<dyn Clock>) -> Agent {
        Agent::new(&self.config(), "agent-1", self.events.clone(), clock).unwrap()
    }

    /// A fresh agent (a restart) reading everything to the end, then the spool drained.
    pub fn run_once(&mut self) {
        let config = self.config();
        let mut agent = self.agent();
        agent.run(&config, true, &AtomicBool::new(false)).unwrap();
        self.drain(&agent);
    }

    /// Delivers everything spooled to the test server.
    pub fn drain(&mut self, agent: &Agent) {
        let mut reader = SpoolReader::new(agent.spool());
        while let Some(entry) = reader.next(&NoEvents) {
            self.server.receive_body(&entry.body);
            reader.ack(&entry);
        }
        reader.collect_garbage();
    }

    /// Steps a running agent until it is idle (files closed) or `limit` steps passed.
    pub fn step_until_idle(&mut self, agent: &mut Agent, limit: usize) {
        for _ in 0..limit {
            let did_work = agent.step(true, false).unwrap();
            self.drain(agent);
            if !did_work && agent.is_idle() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.state.join("spool")
    }

    pub fn open_spool(&self) -> Spool {
        Spool::open(&self.spool_dir(), 64 * 1024 * 1024, 1 << 30, &NoEvents)
            .unwrap()
            .0
    }
}

/// Asserts every id arrived exactly once and nothing else did.
pub fn assert_exactly_once(server: &Server, expected: &[String]) {
    server.assert_no_overlap();
    let got = server.request_ids();
    let mut missing = Vec::new();
    for id in expected {
        match got.get(id) {
            Some(1) => {}
            Some(n) => panic!("{id} arrived {n} times"),
            None => missing.push(id.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "{} ids missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(got.len(), expected.len(), "unexpected ids arrived");
}

/// A clock the test moves.
pub struct FakeClock {
    pub mono_ms: AtomicU64,
    pub wall: std::sync::atomic::AtomicI64,
}

impl Clock for FakeClock {
    fn mono(&self) -> Duration {
        Duration::from_millis(self.mono_ms.load(Ordering::Relaxed))
    }
    fn wall_unix(&self) -> i64 {
        self.wall.load(Ordering::Relaxed)
    }
}
