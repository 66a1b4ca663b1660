//! What the agent reports about itself: an events trait the tailer, spool and shipper call,
//! and the metrics implementation behind the local status endpoint.
//!
//! Events carry paths and counts only, never log content.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Everything observable. Every method has an empty default so tests implement only what
/// they check.
pub trait Events: Send + Sync {
    /// Complete lines were read from a source.
    fn lines_read(&self, _source: &str, _lines: u64, _bytes: u64) {}
    /// A file started being tailed at `offset`.
    fn file_opened(&self, _path: &Path, _offset: u64) {}
    /// A tailed file's path vanished or was deleted (it is drained before close).
    fn file_gone(&self, _path: &Path) {}
    /// A file's descriptor was closed.
    fn file_closed(&self, _path: &Path) {}
    /// A file shrank or was rewritten; it is read again from 0.
    fn file_truncated(&self, _path: &Path) {}
    /// A line longer than the cap was cut.
    fn line_truncated(&self, _path: &Path) {}
    /// Lines with invalid UTF-8 were read.
    fn invalid_utf8(&self, _lines: u64) {}
    /// A statement's fingerprint was withheld by the masking check.
    fn fingerprint_masked(&self, _count: u64) {}
    /// A batch went to the disk spool.
    fn batch_spooled(&self, _bytes: u64) {}
    /// The spool is full; tailing pauses.
    fn spool_full(&self) {}
    /// Writing the spool failed (for example ENOSPC); tailing pauses and retries.
    fn spool_write_failed(&self, _error: &std::io::Error) {}
    /// A spool record failed its CRC and was skipped.
    fn spool_corrupt(&self) {}
    /// Current spool size.
    fn spool_size(&self, _bytes: u64) {}
    /// The server accepted a batch.
    fn batch_acked(&self, _duplicate: bool) {}
    /// The server rejected a batch for good; it was dropped.
    fn batch_dropped(&self, _status: u16) {}
    /// A send failed and will be retried.
    fn send_retry(&self) {}
    /// Checkpoints were written.
    fn checkpoint_written(&self) {}
    /// Checkpoint entries of long-gone files were dropped.
    fn state_pruned(&self, _entries: u64) {}
    /// Bytes present in tailed files but not yet read.
    fn lag_bytes(&self, _bytes: u64) {}
}

/// Events that go nowhere.
pub struct NoEvents;
impl Events for NoEvents {}

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// Counters behind the status endpoint.
        #[derive(Default)]
        pub struct Metrics {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub $name: AtomicU64,
            )*
        }
    };
}

counters!(
    lines_read,
    bytes_read,
    files_opened,
    files_closed,
    files_gone,
    truncations,
    long_lines,
    invalid_utf8,
    masked,
    batches_spooled,
    spooled_bytes,
    spool_full,
    spool_write_errors,
    spool_corrupt,
    spool_bytes,
    batches_acked,
    batches_duplicate,
    batches_dropped,
    send_retries,
    checkpoints,
    state_pruned,
    lag_bytes,
);

fn add(counter: &AtomicU64, value: u64) {
    counter.fetch_add(value, Ordering::Relaxed);
}

impl Events for Metrics {
    fn lines_read(&self, _source: &str, lines: u64, bytes: u64) {
        add(&self.lines_read, lines);
        add(&self.bytes_read, bytes);
    }
    fn file_opened(&self, _path: &Path, _offset: u64) {
        add(&self.files_opened, 1);
    }
    fn file_gone(&self, _path: &Path) {
        add(&self.files_gone, 1);
    }
    fn file_closed(&self, _path: &Path) {
        add(&self.files_closed, 1);
    }
    fn file_truncated(&self, path: &Path) {
        tracing::warn!(path = %path.display(), "File was truncated or rewritten; reading it again from the start.");
        add(&self.truncations, 1);
    }
    fn line_truncated(&self, _path: &Path) {
        add(&self.long_lines, 1);
    }
    fn invalid_utf8(&self, lines: u64) {
        add(&self.invalid_utf8, lines);
    }
    fn fingerprint_masked(&self, count: u64) {
        add(&self.masked, count);
    }
    fn batch_spooled(&self, bytes: u64) {
        add(&self.batches_spooled, 1);
        add(&self.spooled_bytes, bytes);
    }
    fn spool_full(&self) {
        add(&self.spool_full, 1);
    }
    fn spool_write_failed(&self, error: &std::io::Error) {
        tracing::error!(error = %error, "Writing the spool failed; tailing is paused until it succeeds.");
        add(&self.spool_write_errors, 1);
    }
    fn spool_corrupt(&self) {
        tracing::warn!("A corrupt spool record was skipped.");
        add(&self.spool_corrupt, 1);
    }
    fn spool_size(&self, bytes: u64) {
        self.spool_bytes.store(bytes, Ordering::Relaxed);
    }
    fn batch_acked(&self, duplicate: bool) {
        add(&self.batches_acked, 1);
        if duplicate {
            add(&self.batches_duplicate, 1);
        }
    }
    fn batch_dropped(&self, status: u16) {
        tracing::error!(
            status,
            "The server rejected a batch for good; it was dropped."
        );
        add(&self.batches_dropped, 1);
    }
    fn send_retry(&self) {
        add(&self.send_retries, 1);
    }
    fn checkpoint_written(&self) {
        add(&self.checkpoints, 1);
    }
    fn state_pruned(&self, entries: u64) {
        add(&self.state_pruned, entries);
    }
    fn lag_bytes(&self, bytes: u64) {
        self.lag_bytes.store(bytes, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut text = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(text, "# HELP leakguard_agent_{name} {help}");
            let _ = writeln!(text, "# TYPE leakguard_agent_{name} {kind}");
            let _ = writeln!(text, "leakguard_agent_{name} {value}");
        };
        metric(
            "lines_read_total",
            "counter",
            "Complete lines read.",
            get(&self.lines_read),
        );
        metric(
            "read_bytes_total",
            "counter",
            "Bytes read.",
            get(&self.bytes_read),
        );
        metric(
            "lag_bytes",
            "gauge",
            "Bytes written to tailed files and not yet read.",
            get(&self.lag_bytes),
        );
        metric(
            "files_opened_total",
            "counter",
            "Files opened.",
            get(&self.files_opened),
        );
        metric(
            "files_closed_total",
            "counter",
            "Files closed.",
            get(&self.files_closed),
        );
        metric(
            "files_gone_total",
            "counter",
            "Files rotated away or deleted while tailed.",
            get(&self.files_gone),
        );
        metric(
            "truncations_total",
            "counter",
            "Files found truncated or rewritten.",
            get(&self.truncations),
        );
        metric(
            "long_lines_total",
            "counter",
            "Lines cut at the line cap.",
            get(&self.long_lines),
        );
        metric(
            "invalid_utf8_lines_total",
            "counter",
            "Lines with invalid UTF-8.",
            get(&self.invalid_utf8),
        );
        metric(
            "masked_fingerprints_total",
            "counter",
            "Fingerprints withheld by the masking check.",
            get(&self.masked),
        );
        metric(
            "batches_spooled_total",
            "counter",
            "Batches written to the spool.",
            get(&self.batches_spooled),
        );
        metric(
            "spool_bytes",
            "gauge",
            "Current spool size.",
            get(&self.spool_bytes),
        );
        metric(
            "spool_full_total",
            "counter",
            "Times tailing paused on a full spool.",
            get(&self.spool_full),
        );
        metric(
            "spool_write_errors_total",
            "counter",
            "Failed spool writes (e.g. disk full).",
            get(&self.spool_write_errors),
        );
        metric(
            "spool_corrupt_records_total",
            "counter",
            "Corrupt spool records skipped.",
            get(&self.spool_corrupt),
        );
        metric(
            "batches_acked_total",
            "counter",
            "Batches acknowledged by the server.",
            get(&self.batches_acked),
        );
        metric(
            "batches_duplicate_total",
            "counter",
            "Acknowledged batches the server already had.",
            get(&self.batches_duplicate),
        );
        metric(
            "drops_total",
            "counter",
            "Batches the server rejected for good.",
            get(&self.batches_dropped),
        );
        metric(
            "send_retries_total",
            "counter",
            "Failed sends that were retried.",
            get(&self.send_retries),
        );
        metric(
            "checkpoints_total",
            "counter",
            "Checkpoint writes.",
            get(&self.checkpoints),
        );
        metric(
            "state_pruned_total",
            "counter",
            "Checkpoint entries dropped after their TTL.",
            get(&self.state_pruned),
        );
        text
    }
}

/// Serves `GET /metrics` (any path) on `listen` from a background thread.
pub fn serve_status(listen: &str, metrics: Arc<Metrics>) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(listen)?;
    let address = listener.local_addr()?;
    std::thread::Builder::new().name("status".into()).spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let body = metrics.render();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                body
            );
        }
    })?;
    Ok(address)
}
