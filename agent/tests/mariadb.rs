//! Logs written by the real MariaDB at 127.0.0.1:3306 (root, no password): slow log with
//! `long_query_time=0`, general log and `server_audit`, including a `FLUSH LOGS` rotation
//! while the agent tails them. Global settings are restored afterwards. With `CI=true` an
//! unreachable server fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Harness;
use leakguard_domain::agent_wire::{Record, SecurityEventKind};

fn mariadb(args: &[&str], sql: &str) -> Result<String, String> {
    let output = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "--comments", "-N", "-B"])
        .args(args)
        .arg("-e")
        .arg(sql)
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn root(sql: &str) -> String {
    mariadb(&["-u", "root"], sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn global(name: &str) -> String {
    root(&format!("SELECT @@GLOBAL.{name}")).trim().to_owned()
}

/// Restores the server's logging settings when the test ends, however it ends.
struct Restore {
    settings: Vec<(String, String)>,
    audit_installed_by_test: bool,
}

impl Drop for Restore {
    fn drop(&mut self) {
        // One statement per call: a failing one must not keep the others from running.
        let mut statements = Vec::new();
        for (name, value) in &self.settings {
            let literal = if value.parse::<f64>().is_ok() {
                value.clone()
            } else {
                format!("'{}'", value.replace('\'', "''"))
            };
            statements.push(format!("SET GLOBAL {name} = {literal}"));
        }
        if self.audit_installed_by_test {
            statements.push("SET GLOBAL server_audit_logging = OFF".to_owned());
            statements.push("UNINSTALL SONAME 'server_audit'".to_owned());
        }
        statements.push("DROP DATABASE IF EXISTS lg_agent_test".to_owned());
        statements.push("DROP USER IF EXISTS 'lg_shop'@'localhost'".to_owned());
        for statement in statements {
            if let Err(error) = mariadb(&["-u", "root"], &statement) {
                eprintln!("restoring MariaDB failed: {statement}: {error}");
            }
        }
    }
}

fn sources(dir: &Path) -> String {
    let mut text = String::new();
    for (name, kind, file) in [
        ("slow", "mariadb-slow", "slow.log*"),
        ("general", "mariadb-general", "general.log*"),
        ("audit", "mariadb-audit", "audit.log*"),
    ] {
        text.push_str(&format!(
            "[[source]]\nname = {name:?}\nkind = {kind:?}\ninclude = [{:?}]\n",
            dir.join(file).display().to_string()
        ));
    }
    text
}

#[derive(Default, Debug)]
struct Seen {
    counts: HashMap<String, u64>,
    rows_sent: HashMap<String, u64>,
    events: Vec<SecurityEventKind>,
    /// `db_dump` events per source kind: (tables, tables_total).
    dumps: Vec<(String, Vec<String>, u64)>,
    /// Tables of the dump reads per source kind.
    dump_read_tables: Vec<(String, Vec<String>)>,
}

fn collect(harness: &Harness) -> Seen {
    let mut seen = Seen::default();
    for batch in harness.server.batches.values() {
        for record in &batch.records {
            match record {
                Record::SqlAggregate(aggregate) => {
                    let key = format!(
                        "{}|{}",
                        batch.source.kind,
                        aggregate.fingerprint.clone().unwrap_or_default().trim_end()
                    );
                    if aggregate
                        .fingerprint
                        .as_deref()
                        .is_some_and(|f| f.starts_with("select /*!? sql_no_cache */"))
                    {
                        seen.dump_read_tables
                            .push((batch.source.kind.to_string(), aggregate.tables.clone()));
                    }
                    *seen.counts.entry(key.clone()).or_default() += aggregate.count;
                    *seen.rows_sent.entry(key).or_default() += aggregate.rows_sent.unwrap_or(0);
                }
                Record::SecurityEvent(event) => {
                    if event.kind == SecurityEventKind::DbDump {
                        seen.dumps.push((
                            batch.source.kind.to_string(),
                            event.tables.clone(),
                            event.details["tables_total"].as_u64().unwrap(),
                        ));
                    }
                    seen.events.push(event.kind);
                }
                _ => {}
            }
        }
    }
    seen
}

#[test]
fn logs_of_the_real_mariadb_are_tailed_across_flush_logs() {
    if let Err(error) = mariadb(&["-u", "root"], "SELECT 1") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "MariaDB at 127.0.0.1:3306 is unreachable: {error}"
        );
        eprintln!("MariaDB is unreachable ({error}); not running outside CI.");
        return;
    }
    let mut harness = Harness::admin(&["unused"]);
    let dir = tempfile::Builder::new()
        .prefix("lg-mariadb-")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    harness.sources = sources(dir.path());

    let names = [
        "log_output",
        "general_log",
        "general_log_file",
        "slow_query_log",
        "slow_query_log_file",
        "long_query_time",
    ];
    let settings: Vec<(String, String)> =
        names.iter().map(|n| ((*n).to_owned(), global(n))).collect();
    let audit_status = root(
        "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'SERVER_AUDIT'",
    );
    let audit_was_active = audit_status.trim() == "ACTIVE";
    let mut restore = Restore {
        settings,
        audit_installed_by_test: false,
    };
    if !audit_was_active {
        root("INSTALL SONAME 'server_audit'");
        restore.audit_installed_by_test = true;
    } else {
        for name in [
            "server_audit_logging",
            "server_audit_file_path",
            "server_audit_events",
            "server_audit_output_type",
        ] {
            restore.settings.push((name.to_owned(), global(name)));
        }
    }
    let path = |name: &str| dir.path().join(name).display().to_string();
    root(&format!(
        "SET GLOBAL log_output = 'FILE'; SET GLOBAL general_log_file = '{}'; SET GLOBAL slow_query_log_file = '{}'; \
         SET GLOBAL long_query_time = 0; SET GLOBAL general_log = ON; SET GLOBAL slow_query_log = ON; \
         SET GLOBAL server_audit_output_type = 'file'; SET GLOBAL server_audit_file_path = '{}'; \
         SET GLOBAL server_audit_events = 'CONNECT,QUERY,TABLE'; SET GLOBAL server_audit_logging = ON;",
        path("general.log"),
        path("slow.log"),
        path("audit.log"),
    ));

    root(
        "DROP DATABASE IF EXISTS lg_agent_test; CREATE DATABASE lg_agent_test; \
         CREATE TABLE lg_agent_test.customer_entity (entity_id INT PRIMARY KEY, email VARCHAR(255), firstname VARCHAR(64)); \
         INSERT INTO lg_agent_test.customer_entity VALUES (1, 'jane.roe@example.com', 'Jane'), (2, 'john.doe@example.com', 'John'), (3, 'x@example.com', 'Xavier'); \
         CREATE TABLE lg_agent_test.sales_order (entity_id INT PRIMARY KEY, customer_email VARCHAR(255)); \
         INSERT INTO lg_agent_test.sales_order VALUES (7, 'jane.roe@example.com');",
    );
    for id in 1..=3 {
        root(&format!(
            "SELECT email, firstname FROM lg_agent_test.customer_entity WHERE entity_id = {id} /*lg_admin='12',lg_route='customer_index_index',lg_req='r{id}'*/"
        ));
    }
    let _ = mariadb(&["-u", "lg_nobody", "-pwrong-Secr3t"], "SELECT 1");
    root("CREATE USER 'lg_shop'@'localhost' IDENTIFIED BY 'Secr3t!pw'");

    let mut agent = harness.agent();
    for _ in 0..20 {
        agent.step(true, false).unwrap();
        harness.drain(&agent);
    }
    // Rotation the Debian way: rename, then FLUSH LOGS reopens the files by path.
    fs::rename(
        dir.path().join("general.log"),
        dir.path().join("general.log.1"),
    )
    .unwrap();
    fs::rename(dir.path().join("slow.log"), dir.path().join("slow.log.1")).unwrap();
    root("FLUSH LOGS");
    root("SELECT * FROM lg_agent_test.customer_entity");
    root("SELECT COUNT(*) FROM lg_agent_test.customer_entity WHERE email LIKE '%@example.com'");
    // A real mysqldump of the test database: LOCK TABLES, then one read per table.
    let dump = Command::new("mariadb-dump")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-u",
            "root",
            "lg_agent_test",
        ])
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    root("SET GLOBAL server_audit_logging = OFF");
    root("SET GLOBAL server_audit_logging = ON");

    let fingerprint_select =
        "select email, firstname from lg_agent_test.customer_entity where entity_id = ?";
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Seen::default();
    while Instant::now() < deadline {
        agent.step(true, false).unwrap();
        harness.drain(&agent);
        seen = collect(&harness);
        let done = seen
            .counts
            .get(&format!("mariadb-general|{fingerprint_select}"))
            == Some(&3)
            && seen
                .counts
                .get(&format!("mariadb-slow|{fingerprint_select}"))
                == Some(&3)
            && seen
                .counts
                .contains_key("mariadb-general|select * from lg_agent_test.customer_entity")
            && seen
                .counts
                .contains_key("mariadb-slow|select * from lg_agent_test.customer_entity")
            && seen.events.contains(&SecurityEventKind::DbLoggingDisabled)
            && seen
                .dumps
                .iter()
                .any(|(kind, _, _)| kind == "mariadb-general")
            && seen.dumps.iter().any(|(kind, _, _)| kind == "mariadb-slow");
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(restore);
    assert_eq!(
        seen.counts
            .get(&format!("mariadb-general|{fingerprint_select}")),
        Some(&3),
        "{seen:#?}"
    );
    assert_eq!(
        seen.counts
            .get(&format!("mariadb-slow|{fingerprint_select}")),
        Some(&3),
        "{seen:#?}"
    );
    assert_eq!(
        seen.rows_sent
            .get(&format!("mariadb-slow|{fingerprint_select}")),
        Some(&3),
        "{seen:#?}"
    );
    assert!(
        seen.counts
            .get(&format!("mariadb-audit|{fingerprint_select}"))
            .is_some_and(|n| *n >= 3),
        "{seen:#?}"
    );
    // After FLUSH LOGS, from the new files.
    assert_eq!(
        seen.counts
            .get("mariadb-slow|select * from lg_agent_test.customer_entity"),
        Some(&1),
        "{seen:#?}"
    );
    assert_eq!(
        seen.counts
            .get("mariadb-general|select * from lg_agent_test.customer_entity"),
        Some(&1),
        "{seen:#?}"
    );
    assert!(
        seen.events.contains(&SecurityEventKind::DbLoginFailure),
        "{seen:#?}"
    );
    assert!(
        seen.events.contains(&SecurityEventKind::DbAccountChange),
        "{seen:#?}"
    );
    assert!(
        seen.events.contains(&SecurityEventKind::DbLoggingDisabled),
        "{seen:#?}"
    );
    // The dump: each table its own read with its name, and db_dump events listing the tables
    // (one per minute and batch: a dump that straddles either is split, never merged away).
    let both = vec!["customer_entity".to_owned(), "sales_order".to_owned()];
    for kind in ["mariadb-general", "mariadb-slow"] {
        let dumps: Vec<_> = seen.dumps.iter().filter(|(k, _, _)| k == kind).collect();
        assert!(!dumps.is_empty(), "{kind}: {seen:#?}");
        let mut dumped: Vec<_> = dumps.iter().flat_map(|(_, t, _)| t.clone()).collect();
        dumped.sort();
        dumped.dedup();
        assert_eq!(dumped, both, "{kind}: {seen:#?}");
        assert!(
            dumps.iter().all(|(_, t, total)| t.len() as u64 == *total),
            "{kind}: {seen:#?}"
        );
        let mut reads: Vec<_> = seen
            .dump_read_tables
            .iter()
            .filter(|(k, _)| k == kind)
            .flat_map(|(_, tables)| tables.clone())
            .collect();
        reads.sort();
        assert_eq!(reads, both, "{kind}: {seen:#?}");
    }
    // The sqlcommenter attributes became the principal.
    let json = serde_json::to_string(&harness.server.records()).unwrap();
    assert!(json.contains("\"admin_user_id\":\"12\""));
    for secret in ["jane.roe", "Jane", "Secr3t", "example.com"] {
        assert!(!json.contains(secret), "{secret} shipped");
    }
}
