//! The real server binary at its boundary: compressed request bodies held open by hundreds of
//! unauthenticated connections do not inflate it (the attack that took an earlier build to
//! gigabytes), and its data directory and files are readable by their owner only, whatever the
//! umask it was started with.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Peak resident memory the server may reach while the attack is held.
const PEAK_LIMIT_KB: u64 = 300 * 1024;
/// Held connections.
const CONNECTIONS: usize = 300;
/// What `/healthz` may take while they are held.
const PROMPT: Duration = Duration::from_secs(2);

/// A command under `umask 000`, so any mode the server relies on the umask for shows.
fn without_umask(args: &[&str], data: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(e2e::binary("leakguard"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAKGUARD_DATA_DIR", data)
        .env("LEAKGUARD_LOG_LEVEL", "warn")
        .env("LEAKGUARD_SHOPIFY__API_KEY", "e2e-app")
        .env("LEAKGUARD_SHOPIFY__API_SECRET", "e2e-secret");
    cmd
}

fn cli(data: &Path, args: &[&str]) -> Output {
    let out = without_umask(args, data).output().unwrap();
    assert!(
        out.status.success(),
        "leakguard {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn serve(data: &Path) -> e2e::Server {
    assert!(
        e2e::binary("leakguard").exists(),
        "leakguard is not built next to the tests"
    );
    let port = e2e::free_port().unwrap();
    let server = e2e::Server {
        child: without_umask(&["serve"], data)
            .env("LEAKGUARD_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
        port,
    };
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{}/readyz", server.base()))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server not ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

/// Headers and all but the last bytes of a webhook whose zstd body inflates to 8 MB of zeros
/// (just under the 8 MiB body limit), so a server that decodes it holds the output and waits.
fn held_webhook(port: u16) -> Vec<u8> {
    let body = zstd::encode_all(&vec![0u8; 8_000_000][..], 19).unwrap();
    let mut request = format!(
        "POST /shopify/webhooks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Encoding: zstd\r\n\
         Content-Length: {}\r\nX-Shopify-Topic: orders/create\r\n\
         X-Shopify-Shop-Domain: victim.myshopify.com\r\nX-Shopify-Webhook-Id: held\r\n\
         X-Shopify-Hmac-Sha256: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body[..body.len() - 4]);
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_compressed_webhook_bodies_do_not_inflate_the_server() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path()).await;
    let client = reqwest::Client::builder().timeout(PROMPT).build().unwrap();
    let healthz = format!("{}/healthz", server.base());
    let baseline_kb = server.memory_kb("VmRSS").expect("the server is running");
    let request = held_webhook(server.port);

    let mut held = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
            .await
            .unwrap();
        stream.write_all(&request).await.unwrap();
        held.push(stream);
    }
    // Each connection waits (at most 10 s) for the first line of its answer; the server is
    // watched meanwhile: its peak memory, and whether it still answers `/healthz` promptly.
    let answers = first_answer_lines(held);
    tokio::pin!(answers);
    let mut slowest = Duration::ZERO;
    let statuses = loop {
        let asked = Instant::now();
        let health = client.get(&healthz).send().await;
        slowest = slowest.max(asked.elapsed());
        let peak_kb = server.memory_kb("VmHWM").expect("the server is running");
        assert!(
            peak_kb < PEAK_LIMIT_KB,
            "{CONNECTIONS} held compressed bodies took the server from {baseline_kb} kB to a \
             peak of {peak_kb} kB"
        );
        assert!(
            health.as_ref().is_ok_and(|r| r.status() == 200),
            "/healthz did not answer within {PROMPT:?} while the bodies were held: {health:?}"
        );
        tokio::select! {
            statuses = &mut answers => break statuses,
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    };
    let peak_kb = server.memory_kb("VmHWM").expect("the server is running");
    println!(
        "baseline {baseline_kb} kB, peak {peak_kb} kB, slowest /healthz {slowest:?} with \
         {CONNECTIONS} held connections"
    );
    assert!(peak_kb < PEAK_LIMIT_KB, "peak {peak_kb} kB");
    assert!(slowest < PROMPT, "slowest /healthz {slowest:?}");
    // Each was refused outright, before its body (or any credential) was looked at.
    let refused = statuses
        .iter()
        .filter(|s| s.starts_with("HTTP/1.1 415"))
        .count();
    assert_eq!(refused, CONNECTIONS, "{:?}", &statuses[..3]);
}

/// The first line each held connection gets back (empty when none came within 10 s).
async fn first_answer_lines(held: Vec<tokio::net::TcpStream>) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut stream) in held.into_iter().enumerate() {
        tasks.spawn(async move {
            let mut buf = vec![0u8; 64];
            let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
            let n = read.ok().and_then(Result::ok).unwrap_or(0);
            // Keep the socket open until every answer is in.
            (
                i,
                String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                stream,
            )
        });
    }
    let mut lines = vec![String::new(); tasks.len()];
    let mut streams = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, line, stream) = done.unwrap();
        lines[i] = line;
        streams.push(stream);
    }
    lines
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
fn assert_owner_only(data: &Path, files: &[&str]) {
    assert_eq!(mode(data), 0o700, "data directory");
    for file in files {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_and_its_files_are_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    // First start: a tenant is created by the CLI, which creates every file.
    let created = cli(
        &data,
        &[
            "tenant",
            "create",
            "--platform",
            "magento",
            "--base-url",
            "https://modes.example.com",
        ],
    );
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let api_key = created["owner_api_key"].as_str().unwrap().to_owned();
    assert_owner_only(&data, &["leakguard.db", "master.key", "audit-signing.key"]);

    // An install from before: everything world-readable. The server tightens it at start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let server = serve(&data).await;
    // A write through the API, so the WAL and its index are in use.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/users", server.base()))
        .bearer_auth(&api_key)
        .json(&serde_json::json!({"external_id": "ana", "display_name": "Ana", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_owner_only(
        &data,
        &[
            "leakguard.db",
            "leakguard.db-wal",
            "leakguard.db-shm",
            "master.key",
            "audit-signing.key",
        ],
    );
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    drop(server);
}
