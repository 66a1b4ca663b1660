//! The real server killed with SIGKILL while its outbox worker waits for a destination's answer:
//! after a restart the event is delivered, once more at most, with the same `dedup_key` (which
//! PagerDuty absorbs), and it ends `delivered` with two attempts. The receiver is a small
//! PagerDuty-like HTTP server that first keeps the request unanswered, then accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct Receiver {
    answer: bool,
    bodies: Vec<serde_json::Value>,
    held: Vec<tokio::net::TcpStream>,
}

/// Reads one HTTP/1.1 request's body (`Content-Length` framing).
async fn read_body(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf[end + 4..end + 4 + length].to_vec());
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn start_receiver() -> (u16, Arc<Mutex<Receiver>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Mutex::new(Receiver::default()));
    let shared = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let Some(body) = read_body(&mut stream).await else {
                    return;
                };
                let answer = {
                    let mut s = shared.lock().unwrap();
                    s.bodies.push(serde_json::from_slice(&body).unwrap());
                    s.answer
                };
                if answer {
                    let reply = "{\"status\":\"success\",\"message\":\"Event processed\"}";
                    let _ = stream
                        .write_all(format!("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}", reply.len()).as_bytes())
                        .await;
                } else {
                    shared.lock().unwrap().held.push(stream);
                }
            });
        }
    });
    (port, state)
}

fn leakguard(data: &Path) -> Command {
    let mut cmd = Command::new(e2e::binary("leakguard"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAKGUARD_DATA_DIR", data)
        .env("LEAKGUARD_LOG_LEVEL", "warn")
        .env("LEAKGUARD_OUTBOUND__ALLOW_PRIVATE_NETWORKS", "true")
        .env("LEAKGUARD_OUTBOUND__DELIVERY_CRON", "* * * * * *")
        .env("LEAKGUARD_OUTBOUND__REQUEST_TIMEOUT_SECS", "5")
        .env("LEAKGUARD_OUTBOUND__CLAIM_SECS", "6")
        .env("LEAKGUARD_JOBS__LEASE_TTL_SECS", "5");
    cmd
}

async fn serve(data: &Path) -> e2e::Server {
    assert!(
        e2e::binary("leakguard").exists(),
        "leakguard is not built next to the tests"
    );
    let port = e2e::free_port().unwrap();
    let server = e2e::Server {
        child: leakguard(data)
            .arg("serve")
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

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_delivery_delivers_the_event_after_a_restart() {
    app_server::install_crypto_provider();
    let data = tempfile::tempdir().unwrap();
    let out = leakguard(data.path())
        .args([
            "tenant",
            "create",
            "--platform",
            "shopify",
            "--shop",
            "crash.myshopify.com",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = created["owner_api_key"].as_str().unwrap().to_owned();
    let tenant_id: uuid::Uuid = created["tenant"]["id"].as_str().unwrap().parse().unwrap();
    let (receiver_port, receiver) = start_receiver().await;

    let mut server = serve(data.path()).await;
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/api/v1/destinations", server.base()))
        .bearer_auth(&key)
        .json(&serde_json::json!({"kind": "pagerduty", "name": "On call", "config": {"events_url": format!("http://127.0.0.1:{receiver_port}/v2/enqueue")}, "secret": "routing-key-crash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // A finding's event written with its cause's transaction, through the library, into the
    // database the running server uses.
    let settings = app_server::config::Settings {
        data_dir: data.path().to_path_buf(),
        ..Default::default()
    };
    let db = app_server::db::connect(&settings).await.unwrap();
    let ctx =
        app_server::tenancy::TenantCtx::system(leakguard_domain::ids::TenantId(tenant_id), "e2e");
    let txn = app_server::db::begin_write(&db).await.unwrap();
    let recipients = app_server::outbox::Recipients::load(&txn, &ctx)
        .await
        .unwrap();
    let written = recipients
        .enqueue(
            &txn,
            app_server::outbox::Event {
                event_type: app_server::outbox::EventType::PermissionFindingOpened,
                subject_kind: "permission_finding",
                subject_id: "crash-1".into(),
                severity: app_server::outbox::Severity::High,
                title: "Permission finding: escalation (high)".into(),
                data: serde_json::json!({"kind": "escalation"}),
                idempotency_key: "crash-1".into(),
                occurred_at: app_server::db::now_ms(),
            },
        )
        .await
        .unwrap();
    txn.commit().await.unwrap();
    drop(db);
    assert_eq!(written, 1);

    wait_until(
        "the first delivery attempt",
        Duration::from_secs(30),
        || receiver.lock().unwrap().bodies.len() == 1,
    )
    .await;
    // SIGKILL: no shutdown path runs.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    receiver.lock().unwrap().held.clear();
    receiver.lock().unwrap().answer = true;

    let server = serve(data.path()).await;
    let entries = || async {
        client
            .get(format!("{}/api/v1/outbox", server.base()))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let started = Instant::now();
    let entry = loop {
        let page = entries().await;
        let entry = page["entries"][0].clone();
        if entry["state"] == "delivered" {
            break entry;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "not delivered after the restart: {page}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        entry["attempts"], 2,
        "the attempt cut short by the kill counts: {entry}"
    );
    let bodies = receiver.lock().unwrap().bodies.clone();
    assert_eq!(bodies.len(), 2, "sent once before the kill and once after");
    assert_eq!(bodies[0]["dedup_key"], bodies[1]["dedup_key"]);
    assert_eq!(
        bodies[0]["dedup_key"],
        format!("leakguard/{tenant_id}/permission_finding/crash-1")
    );
    assert_eq!(
        bodies[0]["payload"]["custom_details"]["event_id"],
        bodies[1]["payload"]["custom_details"]["event_id"]
    );
}
