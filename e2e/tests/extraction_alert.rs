//! The real path of detection: the real agent tails the real MariaDB general log while a
//! database user never seen before reads 20,000 rows of `customer_entity`; the alert is
//! visible through `GET /api/v1/alerts` within 60 s, names the user and the table, and after
//! both processes restart the user's next read grows the same alert instead of raising another.
//!
//! Needs the MariaDB service on 127.0.0.1:3306 (root, no password) and the `mariadb` client.
//! The general log is a server-wide setting: the test points it at its own file and puts the
//! previous file and switch back when it ends, and it asserts only on its own user's alerts
//! (other clients of the shared server are logged too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

fn mariadb(user: &str, password: &str, database: &str, sql: &str) -> Output {
    let mut command = Command::new("mariadb");
    command.args(["-h", "127.0.0.1", "-P", "3306", "-u", user, "--batch"]);
    if !password.is_empty() {
        command.arg(format!("-p{password}"));
    }
    if !database.is_empty() {
        command.arg(database);
    }
    command.args(["-e", sql]).output().unwrap()
}

fn root_sql(sql: &str) -> String {
    let out = mariadb("root", "", "", sql);
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Puts the server's general log back and drops the test's database and user.
struct MariadbSetup {
    database: String,
    user: String,
    log_was_on: bool,
    log_file: String,
}

impl Drop for MariadbSetup {
    fn drop(&mut self) {
        let _ = mariadb(
            "root",
            "",
            "",
            &format!(
                "SET GLOBAL general_log = {}; SET GLOBAL general_log_file = '{}'; \
                 DROP DATABASE IF EXISTS {}; DROP USER IF EXISTS '{}'@'%'",
                if self.log_was_on { "ON" } else { "OFF" },
                self.log_file.replace('\'', "''"),
                self.database,
                self.user
            ),
        );
    }
}

/// A child process killed and reaped when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn leakguard(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(e2e::binary("leakguard"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAKGUARD_DATA_DIR", dir)
        .env("LEAKGUARD_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn start_server(data: &Path, port: u16) -> e2e::Server {
    let server = e2e::Server {
        child: Command::new(e2e::binary("leakguard"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEAKGUARD_DATA_DIR", data)
            .env("LEAKGUARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("LEAKGUARD_LOG_LEVEL", "warn")
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

fn run_agent(config: &Path) -> Process {
    Process(
        Command::new(e2e::binary("leakguard-agent"))
            .args(["run", "--config", config.to_str().unwrap()])
            .env("RUST_LOG", "warn")
            .spawn()
            .unwrap(),
    )
}

/// The user's alerts, polled until `ready` holds for them; fails after 60 s.
async fn alerts_of(
    base: &str,
    api_key: &str,
    user: &str,
    ready: impl Fn(&[serde_json::Value]) -> bool,
) -> (Vec<serde_json::Value>, Duration) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let res = client
            .get(format!("{base}/api/v1/alerts?principal={user}"))
            .bearer_auth(api_key)
            .send()
            .await;
        if let Ok(res) = res {
            let page: serde_json::Value = res.json().await.unwrap();
            let alerts = page["alerts"].as_array().cloned().unwrap_or_default();
            if ready(&alerts) {
                return (alerts, started.elapsed());
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no alert for {user} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn general_log_line_time(days_ago: u32) -> String {
    let out = Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("{days_ago} days ago"),
            "+%y%m%d %k:%M:%S",
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_seen_database_user_reading_the_customer_table_is_an_alert_once() {
    let reachable = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", "-e", "SELECT 1"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !reachable {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "MariaDB is not reachable at 127.0.0.1:3306"
        );
        eprintln!("WARNING: MariaDB is not reachable at 127.0.0.1:3306; this test did not run");
        return;
    }
    let suffix = &uuid_like()[..12];
    let database = format!("lg_e2e_{suffix}");
    let user = format!("lg_exfil_{suffix}");
    let password = "e2e-pass-1";
    let previous = root_sql("SELECT @@general_log, @@general_log_file");
    let mut fields = previous.lines().nth(1).unwrap_or("0\t").split('\t');
    let setup = MariadbSetup {
        database: database.clone(),
        user: user.clone(),
        log_was_on: fields.next() == Some("1"),
        log_file: fields.next().unwrap_or("").to_owned(),
    };
    root_sql(&format!(
        "CREATE DATABASE {database}; \
         CREATE TABLE {database}.customer_entity (entity_id INT PRIMARY KEY, email VARCHAR(255), \
           firstname VARCHAR(64), lastname VARCHAR(64)); \
         INSERT INTO {database}.customer_entity SELECT seq, CONCAT('c', seq, '@example.com'), \
           'Jane', 'Roe' FROM {database}.seq_1_to_20000; \
         CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'; \
         GRANT SELECT ON {database}.* TO '{user}'@'%'"
    ));

    // The server with a Magento tenant and an agent enrollment token.
    let data = tempfile::tempdir().unwrap();
    let created = leakguard(
        data.path(),
        &[
            "tenant",
            "create",
            "--platform",
            "magento",
            "--base-url",
            "https://e2e-detect.example.com",
        ],
    );
    let api_key = created["owner_api_key"].as_str().unwrap().to_owned();
    let token = leakguard(
        data.path(),
        &[
            "agent",
            "token",
            "--tenant",
            "https://e2e-detect.example.com",
        ],
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = e2e::free_port().unwrap();
    let server = start_server(data.path(), port).await;
    let base = server.base();

    // Two days of history first (the application account on the catalog), so the tenant is
    // past its first day of learning when the new user appears.
    let host = tempfile::tempdir().unwrap();
    let history = host.path().join("history.log");
    std::fs::write(
        &history,
        format!(
            "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:\n\
             Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n\
             Time\t\t    Id Command\tArgument\n\
             {}\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n\
             \t\t    10 Query\tSELECT * FROM catalog_product_entity WHERE entity_id = 5\n\
             \t\t    10 Quit\t\n",
            general_log_line_time(2)
        ),
    )
    .unwrap();
    let state = host.path().join("state");
    let live_dir = host.path().join("mysql");
    std::fs::create_dir(&live_dir).unwrap();
    // mariadbd runs as its own user and must create the log file here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(host.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&live_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let live = live_dir.join("general.log");
    let config = host.path().join("agent.toml");
    let write_config = |sources: &[(&str, &Path)]| {
        let mut text = format!(
            "[agent]\nserver = {base:?}\nstate_dir = {state:?}\nstatus_listen = \"\"\n\n\
             [tail]\nbatch_linger_ms = 500\nrescan_ms = 500\n"
        );
        for (name, path) in sources {
            text.push_str(&format!(
                "\n[[source]]\nname = {name:?}\nkind = \"mariadb-general\"\ninclude = [{path:?}]\n"
            ));
        }
        std::fs::write(&config, text).unwrap();
    };
    write_config(&[("history", &history)]);
    let enroll = Command::new(e2e::binary("leakguard-agent"))
        .args([
            "enroll",
            "--server",
            &base,
            "--token",
            &token,
            "--config",
            config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        enroll.status.success(),
        "{}",
        String::from_utf8_lossy(&enroll.stderr)
    );
    let once = Command::new(e2e::binary("leakguard-agent"))
        .args(["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        once.status.success(),
        "{}",
        String::from_utf8_lossy(&once.stderr)
    );

    // The live general log of the real server, tailed by the agent.
    root_sql(&format!(
        "SET GLOBAL general_log_file = '{}'; SET GLOBAL general_log = ON",
        live.display()
    ));
    write_config(&[("history", &history), ("live", &live)]);
    let agent = run_agent(&config);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let read_started = Instant::now();
    let read = mariadb(&user, password, &database, "SELECT * FROM customer_entity");
    let read_took = read_started.elapsed();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert_eq!(read.stdout.iter().filter(|b| **b == b'\n').count(), 20_001);
    let (alerts, _) = alerts_of(&base, &api_key, &user, |a| !a.is_empty()).await;
    let visible = read_started.elapsed();
    eprintln!(
        "the read took {} ms; the alert was visible {} ms after it started",
        read_took.as_millis(),
        visible.as_millis()
    );
    assert!(visible < Duration::from_secs(60));
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["principal"]["db_user"], user.as_str());
    assert!(
        alert["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "customer_entity"),
        "{alert}"
    );
    assert!(
        alert["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "customer"),
        "{alert}"
    );
    let explanation = alert["explanation"].as_str().unwrap();
    assert!(explanation.contains(&user), "{explanation}");
    let first_records = alert["records_estimate"].as_i64().unwrap();

    // Both processes restart; the user reads again within the episode: the same alert grows.
    drop(agent);
    drop(server);
    let server = start_server(data.path(), port).await;
    let agent = run_agent(&config);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = mariadb(&user, password, &database, "SELECT * FROM customer_entity");
    assert!(again.status.success());
    let id = alert["id"].clone();
    let (alerts, _) = alerts_of(&base, &api_key, &user, |a| {
        a.iter()
            .any(|x| x["id"] == id && x["records_estimate"].as_i64().unwrap_or(0) > first_records)
            || a.len() > 1
    })
    .await;
    assert_eq!(alerts.len(), 1, "a second alert appeared: {alerts:?}");
    assert_eq!(alerts[0]["id"], id);
    drop(agent);
    drop(server);
    drop(setup);
}

/// 32 hex digits from the clock and the process id (no extra dependency for a unique name).
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{:x}{:08x}", nanos, std::process::id())
        .chars()
        .rev()
        .collect()
}
