//! A minimal HTTP/1.1 receiving server on 127.0.0.1 that stores batches de-duplicated on
//! the dedup key, as the real server does. Raw tokio, no framework.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use leakguard_domain::agent_wire::{Batch, BatchAck, EnrollResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
pub struct FakeState {
    pub server: super::Server,
    /// Raw (compressed) request bodies, for privacy checks.
    pub bodies: Vec<Vec<u8>>,
    /// Answer 503 to this many batch requests first.
    pub fail_first: AtomicU64,
    pub requests: AtomicU64,
    pub bad_auth: AtomicU64,
}

pub struct FakeServer {
    pub address: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
    _thread: std::thread::JoinHandle<()>,
}

impl FakeServer {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let (sender, receiver) = std::sync::mpsc::channel();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                sender.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    let state = shared.clone();
                    tokio::spawn(async move {
                        let _ = serve(stream, state).await;
                    });
                }
            });
        });
        let address = receiver.recv().unwrap();
        Self {
            address,
            state,
            _thread: thread,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

async fn serve(
    mut stream: tokio::net::TcpStream,
    state: Arc<Mutex<FakeState>>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        // headers
        let header_end = loop {
            if let Some(position) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break position + 4;
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or_default().to_owned();
        let mut content_length = 0usize;
        let mut authorization = String::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => content_length = value.trim().parse().unwrap_or(0),
                    "authorization" => authorization = value.trim().to_owned(),
                    _ => {}
                }
            }
        }
        while buffer.len() < header_end + content_length {
            let mut chunk = vec![0u8; 65536];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        let body = buffer[header_end..header_end + content_length].to_vec();
        buffer.drain(..header_end + content_length);
        let (status, extra, response) = if request_line.starts_with("POST /api/v1/agent/enroll") {
            let answer = EnrollResponse {
                agent_id: "agent-7".into(),
                credential: "s3cret".into(),
            };
            (200, String::new(), serde_json::to_vec(&answer).unwrap())
        } else if request_line.starts_with("POST /api/v1/agent/batches") {
            let state_guard = state.lock().unwrap();
            state_guard.requests.fetch_add(1, Ordering::Relaxed);
            if authorization != "Bearer agent-7.s3cret" {
                state_guard.bad_auth.fetch_add(1, Ordering::Relaxed);
                (401, String::new(), Vec::new())
            } else if state_guard.fail_first.load(Ordering::Relaxed) > 0 {
                state_guard.fail_first.fetch_sub(1, Ordering::Relaxed);
                (503, "Retry-After: 0\r\n".to_owned(), Vec::new())
            } else {
                drop(state_guard);
                let json = zstd::decode_all(&body[..]).unwrap();
                let batch: Batch = serde_json::from_slice(&json).unwrap();
                let mut guard = state.lock().unwrap();
                guard.bodies.push(body.clone());
                let before = guard.server.duplicates;
                let accepted = batch.records.len() as u64;
                guard.server.receive(batch);
                let duplicate = guard.server.duplicates > before;
                let ack = BatchAck {
                    accepted: if duplicate { 0 } else { accepted },
                    duplicate,
                    rejected: 0,
                };
                (200, String::new(), serde_json::to_vec(&ack).unwrap())
            }
        } else {
            (404, String::new(), Vec::new())
        };
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            503 => "Service Unavailable",
            _ => "Not Found",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n",
            response.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&response).await?;
    }
}
