//! The outbox against real receivers, started by the tests:
//! - rsyslog from Debian with its TLS driver (gnutls), requiring a client certificate, receives
//!   every event exactly once; its own RFC 5424 parser reads version, app name, MSGID and
//!   structured data out of each octet-counted frame;
//! - PagerDuty and Jira requests are checked by Prism against the vendors' published OpenAPI
//!   documents (`tests/openapi/`); Prism answers 400 to a request that breaks them.
//!
//! Both tools are installed by `scripts/setup`; with CI=true a missing one fails the test.

use app_server::db::entities::outbox;
use app_server::outbox::{Event, EventType, Recipients, Severity, State};
use leakguard_domain::ids::TenantId;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp, TestTenant, spawn_app_with};

/// The tool at `path`, or `None` (with a warning) when it is absent outside CI.
fn tool(name: &str, path: PathBuf) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{name} is not installed at {} and CI=true: run scripts/setup",
            path.display()
        );
    }
    eprintln!(
        "WARNING: {name} is not installed at {}; run scripts/setup. This test did not run.",
        path.display()
    );
    None
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{what} did not listen on {port}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate it signed for `name` (`server` or `client`), PEM files in `dir`.
fn make_ca(dir: &Path, ca: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=LeakGuard test {ca}"),
        ],
    );
}

fn make_cert(dir: &Path, ca: &str, name: &str, extensions: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), extensions).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

/// rsyslog listening with TLS on a free port and requiring a client certificate of the CA;
/// it writes each message's parsed fields to `received.log`.
async fn start_rsyslog(dir: &Path) -> Option<(Running, u16)> {
    let rsyslogd = tool("rsyslogd", PathBuf::from("/usr/sbin/rsyslogd"))?;
    let driver = std::fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("rsyslog/lmnsd_gtls.so"))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"));
    tool("rsyslog-gnutls", driver)?;
    make_ca(dir, "ca");
    make_cert(
        dir,
        "ca",
        "server",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    );
    make_cert(
        dir,
        "ca",
        "client",
        "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
    );
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        r#"global(workDirectory="{d}" maxMessageSize="64k"
  DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{d}/ca.pem"
  DefaultNetstreamDriverCertFile="{d}/server.pem" DefaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="x509/certvalid")
input(type="imtcp" port="{port}")
template(name="fields" type="string" string="%protocol-version%|%app-name%|%msgid%|%structured-data%|%msg%\n")
action(type="omfile" file="{d}/received.log" template="fields")
"#
    );
    std::fs::write(dir.join("rsyslog.conf"), conf).unwrap();
    let log = dir.join("rsyslogd.out");
    let child = Command::new(rsyslogd)
        .args(["-n", "-f"])
        .arg(dir.join("rsyslog.conf"))
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("rsyslogd.err")).unwrap(),
        ))
        .spawn()
        .expect("rsyslogd starts");
    let running = Running(child);
    wait_for_port(port, "rsyslogd", &dir.join("rsyslogd.err")).await;
    Some((running, port))
}

fn received(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("received.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn wait_for_lines(dir: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = received(dir);
        if lines.len() >= n || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn add_destination(app: &TestApp, t: &TestTenant, body: serde_json::Value) -> String {
    let res = app.post_json("/api/v1/destinations", &t.key, body).await;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn write_events(app: &TestApp, t: &TestTenant, n: usize, at: i64) {
    let ctx = app_server::tenancy::TenantCtx::system(TenantId(t.id), "test");
    let txn = app_server::db::begin_write(&app.state.db).await.unwrap();
    let recipients = Recipients::load(&txn, &ctx).await.unwrap();
    for i in 0..n {
        let event_type = match i % 3 {
            0 => EventType::PermissionFindingOpened,
            1 => EventType::PermissionFindingChanged,
            _ => EventType::PermissionFindingResolved,
        };
        recipients
            .enqueue(
                &txn,
                Event {
                    event_type,
                    subject_kind: "permission_finding",
                    subject_id: format!("f-{}", i / 3),
                    severity: Severity::Critical,
                    title: format!("Finding \"{i}\" | escalation = high ]"),
                    data: serde_json::json!({"i": i}),
                    idempotency_key: format!("k-{i}"),
                    occurred_at: at,
                },
            )
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

async fn syslog_tls_events_reach_rsyslog_once_each_with_valid_rfc_5424_framing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((_rsyslog, port)) = start_rsyslog(dir.path()).await else {
        return;
    };
    let app = spawn_app_with(backend, |s| s.outbound.allow_private_networks = true).await;
    let t = app.create_tenant("syslog-a.myshopify.com").await;
    let config = |format: &str| {
        serde_json::json!({"kind": "syslog_tls", "name": format!("SIEM {format}"), "secret": read(dir.path(), "client.key"),
            "config": {"host": "localhost", "port": port, "ca_pem": read(dir.path(), "ca.pem"), "format": format,
                "client_cert_pem": read(dir.path(), "client.pem")}})
    };
    let json_destination = add_destination(&app, &t, config("json")).await;
    let cef_destination = add_destination(&app, &t, config("cef")).await;
    let n = 1000;
    let t0 = app_server::db::now_ms();
    write_events(&app, &t, n, t0).await;
    let started = Instant::now();
    let report = app_server::outbox::deliver_due(&app.state.outbound, t0, 60_000)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        (report.delivered, report.retried, report.dead),
        (2 * n as u64, 0, 0)
    );
    eprintln!(
        "syslog-TLS: {} events to rsyslog in {:.3} s ({:.0} events/s, batches of 500, {backend:?})",
        2 * n,
        elapsed.as_secs_f64(),
        (2 * n) as f64 / elapsed.as_secs_f64()
    );
    let lines = wait_for_lines(dir.path(), 2 * n).await;
    assert_eq!(lines.len(), 2 * n, "rsyslog got {} messages", lines.len());
    // Once more: nothing is due, nothing is sent again.
    assert_eq!(
        app_server::outbox::deliver_due(&app.state.outbound, t0 + 60_000, 60_000)
            .await
            .unwrap()
            .delivered,
        0
    );

    let entries = outbox::Entity::find()
        .filter(outbox::Column::TenantId.eq(t.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(entries.iter().all(|e| e.state == State::Delivered));
    let expected: BTreeMap<String, &'static str> = entries
        .iter()
        .map(|e| (e.event_id.to_string(), e.event_type.as_str()))
        .collect();
    let mut seen: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for line in &lines {
        let fields: Vec<&str> = line.splitn(5, '|').collect();
        assert_eq!(fields.len(), 5, "{line}");
        assert_eq!(
            (fields[0], fields[1]),
            ("1", "leakguard"),
            "not parsed as RFC 5424: {line}"
        );
        let sd = fields[3];
        assert!(sd.starts_with("[leakguard@32473 event=\""), "{line}");
        let event = sd.split('"').nth(1).unwrap().to_owned();
        assert_eq!(
            expected.get(&event).copied(),
            Some(fields[2]),
            "MSGID is the event type: {line}"
        );
        assert!(sd.contains(&format!("tenant=\"{}\"", t.id)), "{line}");
        let msg = fields[4].trim_start_matches('\u{feff}');
        let is_cef = msg.starts_with("CEF:0|LeakGuard|LeakGuard Server|");
        if !is_cef {
            let body: serde_json::Value =
                serde_json::from_str(msg).unwrap_or_else(|e| panic!("{e}: {msg}"));
            assert_eq!(body["id"], event);
        }
        *seen.entry((event, is_cef)).or_default() += 1;
    }
    assert_eq!(seen.len(), 2 * n, "every event once in each format");
    assert!(seen.values().all(|c| *c == 1));

    // The test event, and a destination whose CA did not sign the server's certificate.
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{json_destination}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res, serde_json::json!({"delivered": true}));
    let lines = wait_for_lines(dir.path(), 2 * n + 1).await;
    assert!(
        lines.last().unwrap().starts_with("1|leakguard|test|"),
        "{:?}",
        lines.last()
    );
    make_ca(dir.path(), "other-ca");
    let mut wrong = config("json");
    wrong["config"]["ca_pem"] = read(dir.path(), "other-ca.pem").into();
    let wrong = add_destination(&app, &t, wrong).await;
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{wrong}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res["delivered"], false);
    assert!(
        res["error"].as_str().unwrap().contains("TLS handshake"),
        "{res}"
    );
    assert_eq!(received(dir.path()).len(), 2 * n + 1);
    let _ = cef_destination;
}

/// Prism serving `tests/openapi/<document>` on a free port: the process, the port, its log.
async fn start_prism(document: &str, dir: &Path) -> Option<(Running, u16, PathBuf)> {
    let tools = std::env::var("LEAKGUARD_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/leakguard/tools")
        });
    let prism = tool("prism", tools.join("prism/node_modules/.bin/prism"))?;
    let spec = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/openapi")
        .join(document);
    let port = free_port();
    let log = dir.join("prism.log");
    let running = Running(
        Command::new(prism)
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(&spec)
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::null())
            .spawn()
            .expect("prism starts"),
    );
    wait_for_port(port, "prism", &log).await;
    Some((running, port, log))
}

async fn pagerduty_requests_satisfy_pagerduty_s_published_openapi_document(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((_prism, port, log)) = start_prism("pagerduty-events-v2.json", dir.path()).await
    else {
        return;
    };
    let mock = format!("http://127.0.0.1:{port}/enqueue");
    // Control: the mock refuses what the document does not allow.
    let bad = reqwest::Client::new().post(&mock).json(&serde_json::json!({"routing_key": "k", "event_action": "escalate", "payload": {"summary": "s", "source": "s", "severity": "high"}})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.headers()["sl-violations"]
            .to_str()
            .unwrap()
            .contains("event_action")
    );

    let app = spawn_app_with(backend, |s| s.outbound.allow_private_networks = true).await;
    let t = app.create_tenant("pagerduty-a.myshopify.com").await;
    let id = add_destination(&app, &t, serde_json::json!({"kind": "pagerduty", "name": "PD", "config": {"events_url": mock}, "secret": "R0UT1NGKEY000000000000000000000"})).await;
    let t0 = app_server::db::now_ms();
    write_events(&app, &t, 6, t0).await;
    let report = app_server::outbox::deliver_due(&app.state.outbound, t0, 60_000)
        .await
        .unwrap();
    assert_eq!(
        (report.delivered, report.retried, report.dead),
        (6, 0, 0),
        "Prism refused a request: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{id}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res, serde_json::json!({"delivered": true}));
}

async fn jira_requests_satisfy_atlassian_s_published_openapi_document(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((_prism, port, log)) = start_prism("jira-cloud-platform-v3.json", dir.path()).await
    else {
        return;
    };
    let base = format!("http://127.0.0.1:{port}");
    // Control: the mock refuses an issue the document does not allow.
    let client = reqwest::Client::new();
    let bad = client
        .post(format!("{base}/rest/api/3/issue"))
        .basic_auth("ops@acme.example", Some("token"))
        .json(&serde_json::json!({"fields": "not an object"}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(bad.status().as_u16(), 400 | 422),
        "{}",
        bad.status()
    );
    assert!(bad.headers().contains_key("sl-violations"));

    let app = spawn_app_with(backend, |s| s.outbound.allow_private_networks = true).await;
    let t = app.create_tenant("jira-a.myshopify.com").await;
    let id = add_destination(&app, &t, serde_json::json!({"kind": "jira", "name": "Privacy board", "config": {"base_url": base, "project_key": "PRIV", "issue_type": "Task", "email": "ops@acme.example"}, "secret": "jira-api-token-123"})).await;
    // The test event creates an issue (POST /rest/api/3/issue with an ADF description).
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{id}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        res,
        serde_json::json!({"delivered": true}),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Opened, changed, resolved: the search finds the documented example issue, so each event
    // comments on it and the last one asks for its transitions.
    let t0 = app_server::db::now_ms();
    write_events(&app, &t, 3, t0).await;
    let report = app_server::outbox::deliver_due(&app.state.outbound, t0, 60_000)
        .await
        .unwrap();
    assert_eq!(
        (report.delivered, report.retried, report.dead),
        (3, 0, 0),
        "Prism refused a request: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let requests = std::fs::read_to_string(&log).unwrap_or_default();
    for path in [
        "/rest/api/3/search/jql",
        "/rest/api/3/issue/ED-1/comment",
        "/rest/api/3/issue/ED-1/transitions",
    ] {
        assert!(
            requests.contains(path),
            "{path} was not requested: {requests}"
        );
    }
}

crate::on_both_backends!(
    syslog_tls_events_reach_rsyslog_once_each_with_valid_rfc_5424_framing,
    pagerduty_requests_satisfy_pagerduty_s_published_openapi_document,
    jira_requests_satisfy_atlassian_s_published_openapi_document,
);
