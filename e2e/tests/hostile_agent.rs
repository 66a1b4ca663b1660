//! One tenant's hostile agent against the real server binary: slow bodies that hold its ingest
//! slots, and small zstd bodies that expand to the decompressed cap with the most records a
//! batch may carry, sent as fast as the server answers. The server's peak memory stays under
//! 200 MB, the hostile tenant is told `tenant_busy`/`408`/`413` instead of taking the others'
//! slots, and another tenant's agent keeps getting 200s throughout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// Peak resident memory the server may reach under the attack.
const PEAK_LIMIT_KB: u64 = 200 * 1024;
/// How long the attack runs.
const ATTACK: Duration = Duration::from_secs(12);

fn leakguard(data: &Path, args: &[&str]) -> Value {
    let out: Output = Command::new(e2e::binary("leakguard"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAKGUARD_DATA_DIR", data)
        .env("LEAKGUARD_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "leakguard {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn serve(data: &Path) -> e2e::Server {
    let port = e2e::free_port().unwrap();
    let server = e2e::Server {
        child: Command::new(e2e::binary("leakguard"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEAKGUARD_DATA_DIR", data)
            .env("LEAKGUARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("LEAKGUARD_LOG_LEVEL", "warn")
            .env("LEAKGUARD_INGEST__BODY_TIMEOUT_SECS", "3")
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
        assert!(started.elapsed() < Duration::from_secs(60), "not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

/// A tenant with an enrolled agent: its bearer credential and agent id.
async fn agent_of(data: &Path, server: &e2e::Server, base_url: &str) -> (String, String) {
    leakguard(
        data,
        &[
            "tenant",
            "create",
            "--platform",
            "magento",
            "--base-url",
            base_url,
        ],
    );
    let token = leakguard(data, &["agent", "token", "--tenant", base_url]);
    let enrolled: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/agent/enroll", server.base()))
        .json(&json!({"token": token["token"], "hostname": "web-1", "agent_version": "1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = enrolled["agent_id"].as_str().unwrap().to_owned();
    let bearer = format!("{id}.{}", enrolled["credential"].as_str().unwrap());
    (bearer, id)
}

fn batch(agent_id: &str, start: u64, records: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schema": 1, "agent_id": agent_id, "batch_id": format!("b{start}"),
        "source": {"file_id": "8:1:00112233445566aa", "path": "/var/log/mysql/general.log",
                   "kind": "mariadb-general"},
        "start_offset": start, "end_offset": start + 100, "lines": 1, "records": records,
    }))
    .unwrap()
}

fn app_log(i: usize, template: &str) -> Value {
    json!({"type": "app_log_aggregate", "minute": "2026-12-06T10:00:00Z", "channel": "main",
           "level": "info", "template_id": format!("{i:016X}"), "template": template, "count": 1})
}

/// Hostile bodies of two kinds, each compressed to well under a megabyte: the most records a
/// batch may carry (10,000, all distinct), and records padded past the decompressed cap
/// (16 MiB), which must be cut off while streaming.
fn hostile_body(agent_id: &str, start: u64, past_the_cap: bool) -> Vec<u8> {
    let pad = if past_the_cap {
        "x".repeat(1800)
    } else {
        "cron ran".to_owned()
    };
    let records = (0..10_000).map(|i| app_log(i, &pad)).collect();
    zstd::encode_all(&batch(agent_id, start, records)[..], 3).unwrap()
}

/// Posts a batch: its status and body, or status 0 when the connection was cut before an
/// answer could be read (a server refusing a batch does not read the rest of its body).
async fn post(client: &reqwest::Client, base: &str, bearer: &str, body: Vec<u8>) -> (u16, Value) {
    match client
        .post(format!("{base}/api/v1/agent/batches"))
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .header("content-encoding", "zstd")
        .body(body)
        .send()
        .await
    {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_agent_neither_inflates_the_server_nor_stalls_other_tenants() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path()).await;
    let base = server.base();
    let (hostile, hostile_id) = agent_of(data.path(), &server, "https://hostile.example").await;
    let (honest, honest_id) = agent_of(data.path(), &server, "https://honest.example").await;
    let baseline_kb = server.memory_kb("VmRSS").expect("the server is running");

    // Two slow bodies hold the hostile tenant's two slots: headers and a few bytes, then
    // nothing.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
            .await
            .unwrap();
        let head = format!(
            "POST /api/v1/agent/batches HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: Bearer {hostile}\r\nContent-Type: application/json\r\n\
             Content-Length: 100000\r\n\r\n{{\"schema\""
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        slow.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let small = |id: &str, start: u64| {
        zstd::encode_all(&batch(id, start, vec![app_log(1, "cron ran")])[..], 3).unwrap()
    };
    let (status, body) = post(&client, &base, &hostile, small(&hostile_id, 0)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("tenant_busy")),
        "{body}"
    );

    // Meanwhile the honest tenant's agent is served.
    let (status, body) = post(&client, &base, &honest, small(&honest_id, 0)).await;
    assert_eq!(status, 200, "{body}");

    // The slow bodies run out of time.
    tokio::time::sleep(Duration::from_secs(4)).await;
    drop(slow);

    // Then the hostile agent floods with capped bodies, four at a time, while the honest one
    // (its own host, so its own connections) keeps sending small batches. The bodies are
    // built first: at the record cap with fresh offsets (each is stored), and past the
    // decompressed cap (refused, so it can be sent again).
    let at_cap: Vec<Vec<u8>> = (1..=6)
        .map(|n| hostile_body(&hostile_id, n * 1000, false))
        .collect();
    let at_cap = std::sync::Arc::new(std::sync::Mutex::new(at_cap));
    let past_cap = hostile_body(&hostile_id, 0, true);
    let honest_client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let mut flood = tokio::task::JoinSet::new();
    for lane in 0..4 {
        let (client, base, hostile) = (client.clone(), base.clone(), hostile.clone());
        let (at_cap, past_cap) = (at_cap.clone(), past_cap.clone());
        flood.spawn(async move {
            let mut statuses = Vec::new();
            let mut n = lane;
            while started.elapsed() < ATTACK {
                let fresh = if n % 2 == 0 {
                    at_cap.lock().unwrap().pop()
                } else {
                    None
                };
                let stored_kind = fresh.is_some();
                let body = fresh.unwrap_or_else(|| past_cap.clone());
                let status = post(&client, &base, &hostile, body.clone()).await.0;
                if stored_kind && status == 429 {
                    // Turned away before it was read: try it again later.
                    at_cap.lock().unwrap().push(body);
                }
                statuses.push(status);
                n += 1;
            }
            statuses
        });
    }
    let mut honest_statuses = Vec::new();
    let mut peak_kb = 0;
    let mut slowest = Duration::ZERO;
    let mut n = 1u64;
    while started.elapsed() < ATTACK {
        let asked = Instant::now();
        honest_statuses.push(
            post(&honest_client, &base, &honest, small(&honest_id, n * 1000))
                .await
                .0,
        );
        slowest = slowest.max(asked.elapsed());
        peak_kb = peak_kb.max(server.memory_kb("VmHWM").expect("the server is running"));
        n += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut hostile_statuses = Vec::new();
    while let Some(lane) = flood.join_next().await {
        hostile_statuses.extend(lane.unwrap());
    }
    peak_kb = peak_kb.max(server.memory_kb("VmHWM").expect("the server is running"));
    let count = |status: u16| hostile_statuses.iter().filter(|s| **s == status).count();
    println!(
        "baseline {baseline_kb} kB, peak {peak_kb} kB; hostile answers: {} x 200, {} x 413, \
         {} x 429, {} cut; honest answers {} x 200 of {}, slowest {slowest:?}",
        count(200),
        count(413),
        count(429),
        count(0),
        honest_statuses.iter().filter(|s| **s == 200).count(),
        honest_statuses.len()
    );
    assert!(
        peak_kb < PEAK_LIMIT_KB,
        "a hostile agent took the server from {baseline_kb} kB to {peak_kb} kB"
    );
    assert!(honest_statuses.len() >= 5, "{honest_statuses:?}");
    assert!(
        slowest < Duration::from_secs(10),
        "an honest batch took {slowest:?}"
    );
    assert!(
        honest_statuses.iter().all(|s| *s == 200),
        "the honest tenant was refused: {honest_statuses:?}"
    );
    // The hostile batches were stored (200: at the record cap, not past it), cut off at the
    // decompressed cap (413), or turned away by the tenant's slots (429, or the connection
    // closed before the body was read); none failed the server.
    assert_eq!(
        count(0) + count(200) + count(413) + count(429),
        hostile_statuses.len(),
        "other answers to the hostile agent"
    );
    // The tenant's slots turned batches away, and the server did work through hostile bodies
    // at the caps (how many in 12 s depends on the machine).
    assert!(count(429) > 0, "the tenant's slots never refused");
    assert!(count(200) + count(413) > 0, "no hostile body was processed");
}
