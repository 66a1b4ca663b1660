//! The real `leakguard-agent` binary against a local fake server over HTTP on 127.0.0.1:
//! enrollment, privacy of every shipped byte, and delivery across `kill -9`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::http::FakeServer;
use common::{append, append_ids, assert_exactly_once};

const BIN: &str = env!("CARGO_BIN_EXE_leakguard-agent");

fn write_config(path: &Path, server: &str, state: &Path, sources: &str, tail: &str) {
    fs::write(
        path,
        format!(
            "[agent]\nserver = {server:?}\nstate_dir = {:?}\nstatus_listen = \"\"\n\n[tail]\nbatch_linger_ms = 20\nrotate_grace_ms = 0\nrescan_ms = 50\nidle_close_ms = 0\n{tail}\n{sources}",
            state.display().to_string()
        ),
    )
    .unwrap();
}

fn source(name: &str, kind: &str, glob: &Path) -> String {
    format!(
        "[[source]]\nname = {name:?}\nkind = {kind:?}\ninclude = [{:?}]\n",
        glob.display().to_string()
    )
}

fn run_once(config: &Path) {
    let output = Command::new(BIN)
        .args(["run", "--once", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "run --once failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn enroll(server: &FakeServer, state: &Path) {
    let output = Command::new(BIN)
        .args([
            "enroll",
            "--server",
            &server.url(),
            "--token",
            "one-time-token",
            "--state-dir",
        ])
        .arg(state)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn enrollment_stores_a_private_credential_that_batches_then_use() {
    let server = FakeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    enroll(&server, &state);
    let credential = state.join("credential.json");
    let mode = fs::metadata(&credential).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = fs::read_to_string(&credential).unwrap();
    assert!(text.contains("agent-7"));
    let log = dir.path().join("admin.log");
    let expected = append_ids(&log, "e", 0..20);
    let config = dir.path().join("agent.toml");
    write_config(
        &config,
        &server.url(),
        &state,
        &source("admin", "magento-admin", &log),
        "",
    );
    server
        .state
        .lock()
        .unwrap()
        .fail_first
        .store(20, std::sync::atomic::Ordering::Relaxed);
    run_once(&config);
    let guard = server.state.lock().unwrap();
    assert_eq!(guard.bad_auth.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_exactly_once(&guard.server, &expected);
}

/// Known personal data and secrets, each of which must never appear in a shipped byte.
const SEEDS: &[&str] = &[
    "jane.roe@example.com",
    "jane",
    "evergreen",
    "415-555-0199",
    "4155550199",
    "4111111111111111",
    "4111 1111 1111 1111",
    "secr3t",
    "hunter2",
    "tok_9f8e7d6c5b4a",
    "s3cret",
    "90210",
];

const GENERAL: &str = "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:
Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock
Time\t\t    Id Command\tArgument
261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP
\t\t    10 Query\tINSERT INTO customer_entity (email, firstname, lastname, telephone) VALUES ('jane.roe@example.com', 'Jane', 'Roe', '+1-415-555-0199')
\t\t    10 Query\tUPDATE sales_order_payment SET cc_number_enc = '4111111111111111', cc_last_4 = 1111 WHERE entity_id = 7
\t\t    10 Query\tSELECT * FROM customer_address_entity WHERE street = '742 Evergreen Terrace' AND postcode = 90210
\t\t    10 Query\tSELECT * FROM customer_entity WHERE email = \"jane.roe@example.com\" /*lg_admin='12',lg_route='customer_index_index',lg_req='abc'*/
\t\t    10 Query\tSELECT * FROM customer_entity WHERE email = 'jane.roe@example.com
\t\t    10 Query\tSELECT 1 /* Jane Roe asked */
\t\t    10 Query\tSELECT 2 -- jane.roe@example.com ' trailing
\t\t    10 Query\tSELECT * FROM t WHERE phone = 4155550199 AND card = 4111111111111111
\t\t    10 Query\tSELECT *
FROM customer_entity
WHERE firstname = 'Jane'
  AND token = 'tok_9f8e7d6c5b4a'
\t\t    11 Connect\troot@localhost on mysql using Socket
\t\t    11 Query\tCREATE USER 'shop'@'%' IDENTIFIED BY 'Secr3t!pw'
\t\t    11 Query\tSET PASSWORD FOR 'shop'@'%' = PASSWORD('hunter2-XYZ')
\t\t    11 Query\tGRANT ALL ON *.* TO 'shop2'@'%' IDENTIFIED BY 'Secr3t!pw'
\t\t    11 Query\tALTER USER 'shop'@'%' IDENTIFIED BY 'hunter2-XYZ'
\t\t    11 Query\tALTER USER 'shop'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('Secr3t!pw')
\t\t    11 Query\tSELECT * FROM admin_user WHERE username = 'Secr3t'
\t\t    11 Query\tSELECT * FROM customer_entity INTO OUTFILE '/tmp/jane.csv'
\t\t    12 Connect\tAccess denied for user 'magento'@'127.0.0.1' (using password: YES)
";

const SLOW: &str = "# Time: 261128  8:18:01
# User@Host: magento[magento] @  [127.0.0.1]
# Query_time: 0.000267  Lock_time: 0.000148  Rows_sent: 1  Rows_examined: 1
SET timestamp=1795853881;
SELECT entity_id FROM customer_entity WHERE email = 'jane.roe@example.com' AND telephone = '415-555-0199';
# User@Host: root[root] @ localhost []
# Query_time: 0.000095  Lock_time: 0.000035  Rows_sent: 0  Rows_examined: 0
SET timestamp=1795853881;
CREATE USER 'x'@'%' IDENTIFIED BY 'Secr3t!pw';
";

const AUDIT: &str = "20261128 08:18:01,vm,magento,127.0.0.1,10,37,QUERY,magento,'SELECT * FROM customer_entity WHERE email = \\'jane.roe@example.com\\' AND firstname = \\'Jane\\'',0
20261128 08:17:59,vm,root,localhost,9,27,QUERY,mysql,'CREATE USER \\'magento\\'@\\'127.0.0.1\\' IDENTIFIED BY *****',0
20261128 08:18:02,vm,magento,127.0.0.1,10,38,QUERY,magento,'SELECT * FROM t WHERE note = \\'Jane Roe, 742 Evergreen Terrace, 90210',0
20261128 08:18:03,vm,root,localhost,9,28,QUERY,mysql,'SET GLOBAL server_audit_logging=OFF',0
";

const ADMIN: &str = r#"{"ts":"2026-11-28T08:21:12+00:00","admin_user_id":12,"admin_username":"jdoe","ip":"10.0.0.5","event":"grid_export","entity_type":"customer","entity_ids":[1,2],"count":2,"result":"success","request_id":"abc","details":{"namespace":"customer_listing","search":"jane.roe@example.com","customer_name":"Jane Roe","phone":"415-555-0199","token":"tok_9f8e7d6c5b4a","note":"Jane"}}
{"ts":"2026-11-28T08:21:13+00:00","admin_username":"jane.roe@example.com","ip":"10.0.0.6","event":"admin_login_failure","result":"failure","details":{"typed":"Secr3t!pw"}}
{"ts":"2026-11-28T08:21:14+00:00","admin_username":"Jane","event":"admin_login_failure","entity_ids":["4111111111111111","Jane",4111111111111111]}
"#;

const MONOLOG: &str = "[2026-11-28T08:21:12.330974+00:00] main.INFO: Customer Jane Roe (jane.roe@example.com) placed order 100000123 [] []
[2026-11-28T08:21:12.331224+00:00] main.INFO: Admin export started {\"namespace\":\"customer_listing\",\"user\":\"jane\"} []
[2026-11-28T08:21:12.331631+00:00] main.CRITICAL: Card 4111111111111111 declined for jane at 742 Evergreen Terrace
Stack trace:
#0 {main} [] []
[2026-11-28T08:21:13.000000+00:00] main.ERROR: payment failed for token tok_9f8e7d6c5b4a [] []
";

const NGINX: &str = "127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /admin/customer/index/edit/id/42/?email=jane.roe@example.com HTTP/1.1\" 200 3 \"-\" \"Mozilla\"
127.0.0.1 - jane [28/Nov/2026:08:21:30 +0000] \"GET /rest/V1/customers/search?searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=jane.roe%40example.com&searchCriteria%5BpageSize%5D=1000 HTTP/1.1\" 200 3 \"-\" \"python\"
127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /rest/V1/customers/jane.roe@example.com/4111111111111111 HTTP/1.1\" 404 3 \"-\" \"curl\"
127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"POST /admin/admin/export/export/key/9a8b7c/ HTTP/1.1\" 200 3 \"-\" \"Mozilla\"
";

#[test]
fn no_seeded_personal_data_or_password_reaches_a_shipped_byte() {
    let server = FakeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    enroll(&server, &state);
    let logs = dir.path().join("logs");
    let export = dir.path().join("export");
    fs::create_dir_all(&logs).unwrap();
    fs::create_dir_all(&export).unwrap();
    let files: &[(&str, &str, &str)] = &[
        ("general.log", "mariadb-general", GENERAL),
        ("slow.log", "mariadb-slow", SLOW),
        ("server_audit.log", "mariadb-audit", AUDIT),
        ("admin.log", "magento-admin", ADMIN),
        ("system.log", "monolog", MONOLOG),
        ("access.log", "nginx", NGINX),
    ];
    let mut sources = String::new();
    for (name, kind, text) in files {
        let path = logs.join(name);
        fs::write(&path, text).unwrap();
        sources.push_str(&source(kind, kind, &path));
    }
    fs::write(
        export.join("customers_jane.roe@example.com.csv"),
        "email\njane.roe@example.com\n",
    )
    .unwrap();
    fs::write(export.join("export_1.csv"), "x\n").unwrap();
    sources.push_str(&source("export", "magento-export", &export.join("*")));
    let config = dir.path().join("agent.toml");
    write_config(&config, &server.url(), &state, &sources, "");
    run_once(&config);

    let guard = server.state.lock().unwrap();
    assert!(
        guard.bodies.len() >= files.len(),
        "only {} batches arrived",
        guard.bodies.len()
    );
    let mut shipped = Vec::new();
    for body in &guard.bodies {
        shipped.extend(zstd::decode_all(&body[..]).unwrap());
    }
    let text = String::from_utf8(shipped).unwrap().to_ascii_lowercase();
    for seed in SEEDS {
        if let Some(at) = text.find(&seed.to_ascii_lowercase()) {
            let context = &text[at.saturating_sub(120)..(at + 60).min(text.len())];
            panic!("{seed:?} was shipped: ...{context}...");
        }
    }
    // What must still get through.
    for expected in [
        "\"db_login_failure\"",
        "\"db_account_change\"",
        "\"db_into_outfile\"",
        "\"db_sensitive_table_read\"",
        "\"db_logging_disabled\"",
        "\"admin_user_id\":\"12\"",
        "\"route\":\"customer_index_index\"",
        "\"admin_grid_export\"",
        "\"admin_login_failure\"",
        "\"export_file_created\"",
        "\"http_sensitive_request\"",
        "\"max_page_size\":1000",
        "\"rows_examined\":1",
        "\"masked\":true",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
}

fn spawn_agent(config: &Path) -> std::process::Child {
    Command::new(BIN)
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// F3: 100 `kill -9`s of the real agent at random points while it tails a growing, rotating
/// log and ships to a server that first answers 503; afterwards the server holds every line
/// exactly once (after de-duplication on the dedup key).
#[test]
fn f3_every_line_arrives_exactly_once_across_a_hundred_kill_nines() {
    let server = FakeServer::start();
    server
        .state
        .lock()
        .unwrap()
        .fail_first
        .store(12, std::sync::atomic::Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    enroll(&server, &state);
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    let log: PathBuf = logs.join("admin.log");
    let config = dir.path().join("agent.toml");
    write_config(
        &config,
        &server.url(),
        &state,
        &source("admin", "magento-admin", &logs.join("admin.log*")),
        "batch_max_bytes = 16384\n",
    );
    let mut random = Lcg(0x5eed);
    let mut expected = Vec::new();
    let mut rotations = 0;
    for iteration in 0..100 {
        let mut child = spawn_agent(&config);
        let start = expected.len() as u64;
        expected.extend(append_ids(
            &log,
            &format!("k{iteration}-"),
            start..start + 150,
        ));
        if random.next(5) == 0 {
            rotations += 1;
            fs::rename(&log, logs.join(format!("admin.log.{rotations}"))).unwrap();
        }
        if random.next(4) == 0 {
            // A partial line the next iteration completes.
            let id = format!("p{iteration}");
            let line = common::admin_line(&id);
            let (head, tail) = line.split_at(30);
            append(&log, head);
            std::thread::sleep(Duration::from_millis(random.next(30)));
            append(&log, tail);
            expected.push(id);
        }
        std::thread::sleep(Duration::from_millis(5 + random.next(120)));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    run_once(&config);
    let guard = server.state.lock().unwrap();
    assert_exactly_once(&guard.server, &expected);
    assert!(guard.requests.load(std::sync::atomic::Ordering::Relaxed) > 10);
}

#[test]
fn the_status_endpoint_serves_prometheus_text() {
    let server = FakeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    enroll(&server, &state);
    let log = dir.path().join("admin.log");
    append_ids(&log, "s", 0..10);
    let config = dir.path().join("agent.toml");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    write_config(
        &config,
        &server.url(),
        &state,
        &source("admin", "magento-admin", &log),
        "",
    );
    let text = fs::read_to_string(&config).unwrap().replace(
        "status_listen = \"\"",
        &format!("status_listen = \"{address}\""),
    );
    fs::write(&config, text).unwrap();
    let mut child = spawn_agent(&config);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut body = String::new();
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            use std::io::{Read, Write};
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            body.clear();
            stream.read_to_string(&mut body).unwrap();
            if body.contains("leakguard_agent_lines_read_total 10") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for metric in [
        "leakguard_agent_lines_read_total 10",
        "leakguard_agent_read_bytes_total",
        "leakguard_agent_lag_bytes",
        "leakguard_agent_spool_bytes",
        "leakguard_agent_drops_total",
        "leakguard_agent_long_lines_total",
        "leakguard_agent_invalid_utf8_lines_total",
    ] {
        assert!(body.contains(metric), "{metric} missing: {body}");
    }
}

#[test]
fn inspect_prints_exactly_the_records_as_json_lines_without_a_network() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.log");
    fs::write(&path, SLOW).unwrap();
    let output = Command::new(BIN)
        .args(["inspect", "--format", "mariadb-slow"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let records: Vec<leakguard_domain::agent_wire::Record> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let expected = agent::inspect::records_for(
        leakguard_domain::agent_wire::SourceKind::MariadbSlow,
        SLOW.as_bytes(),
        &agent::parse::ParserOptions::default(),
        1024 * 1024,
    );
    assert_eq!(records, expected);
    assert!(records.len() >= 2);
    assert!(!stdout.contains("jane"));
}

#[test]
fn check_config_names_an_unknown_key_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    fs::write(
        &config,
        "[agent]\nserver = \"https://x\"\nstate_dir = \"/tmp/x\"\nsurprise = true\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("surprise"));
    fs::write(&config, include_str!("../dist/agent.toml")).unwrap();
    let output = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The bearer credential must never travel in clear text: every entry point refuses an
/// `http://` URL whose host is not loopback before any connection is made (192.0.2.1 is a
/// documentation address; a connection attempt would hang for the connect timeout).
#[test]
fn plain_http_to_a_remote_host_is_refused_by_enroll_run_and_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let remote = "http://192.0.2.1:9";
    let started = Instant::now();
    let output = Command::new(BIN)
        .args(["enroll", "--server", remote, "--token", "t", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(!state.join("credential.json").exists());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it tried to connect"
    );

    // A credential from an earlier enrollment, and a config that is fine on its own.
    fs::create_dir_all(&state).unwrap();
    fs::write(
        state.join("credential.json"),
        r#"{"server":"https://leakguard.example.com","agent_id":"agent-7","credential":"s3cret"}"#,
    )
    .unwrap();
    let config = dir.path().join("agent.toml");
    write_config(&config, "https://leakguard.example.com", &state, "", "");
    let output = Command::new(BIN)
        .args(["run", "--once", "--server", remote, "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("--server") && stderr.contains("loopback"),
        "{stderr}"
    );

    for server in ["http://leakguard.example.com", "http://10.1.2.3:8080/"] {
        write_config(&config, server, &state, "", "");
        let output = Command::new(BIN)
            .args(["check-config", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{server}");
        assert!(
            stderr.contains("agent.server") && stderr.contains("loopback"),
            "{stderr}"
        );
    }
    write_config(&config, "http://[::1]:8080", &state, "", "");
    let output = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// With the periodic rescan ten minutes away, a file created after start is found through
/// inotify alone.
#[test]
fn inotify_finds_a_new_file_long_before_the_next_rescan() {
    let server = FakeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    enroll(&server, &state);
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    let config = dir.path().join("agent.toml");
    write_config(
        &config,
        &server.url(),
        &state,
        &source("admin", "magento-admin", &logs.join("*.log")),
        "",
    );
    let text = fs::read_to_string(&config)
        .unwrap()
        .replace("rescan_ms = 50", "rescan_ms = 600000");
    fs::write(&config, text).unwrap();
    let mut child = spawn_agent(&config);
    // The agent's first scan sees an empty directory; wait until it is running.
    let started = Instant::now() + Duration::from_secs(20);
    while !state.join("spool").exists() && Instant::now() < started {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let expected = append_ids(&logs.join("new.log"), "i", 0..5);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && server.state.lock().unwrap().server.request_ids().len() < expected.len()
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_exactly_once(&server.state.lock().unwrap().server, &expected);
}
