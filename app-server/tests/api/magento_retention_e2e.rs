//! The Magento path of payment-data retention, end to end: the module's own PHP classes
//! (`Enrollment`, `ServerClient`, `Signer`, `RetentionService`, `Executor`, the handlers), driven
//! by `magento-module/Test/e2e/retention_e2e.php` over php-curl against this server and over PDO
//! against a fresh database on the real MariaDB (127.0.0.1:3306, root) with Magento's tables.
//!
//! The server's policy reaches the module, the module clears the right columns and keeps order
//! history, the report lands in the run history, the inventory and the audit chain, and a
//! policy change on the server is applied on the next run. Without php or MariaDB the test
//! fails under `CI=true` and says so loudly otherwise.

use std::collections::BTreeMap;
use std::process::Command;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestTenant, spawn_app};

const BASE: &str = "https://e2e-shop.example";

fn module_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../magento-module").to_owned()
}

fn mysql_host() -> String {
    std::env::var("LEAKGUARD_TEST_MYSQL_HOST").unwrap_or_else(|_| "127.0.0.1".into())
}

fn mysql_port() -> String {
    std::env::var("LEAKGUARD_TEST_MYSQL_PORT").unwrap_or_else(|_| "3306".into())
}

fn mariadb_cli(database: Option<&str>) -> Command {
    let mut cmd = Command::new("mariadb");
    cmd.args(["-h", &mysql_host(), "-P", &mysql_port(), "-u"])
        .arg(std::env::var("LEAKGUARD_TEST_MYSQL_USER").unwrap_or_else(|_| "root".into()))
        .args(["--batch", "--skip-column-names", "--raw"]);
    if let Ok(password) = std::env::var("LEAKGUARD_TEST_MYSQL_PASSWORD") {
        cmd.arg(format!("--password={password}"));
    }
    if let Some(db) = database {
        cmd.arg(db);
    }
    cmd
}

/// True when php (with curl and pdo_mysql) and MariaDB answer. Missing under `CI=true` fails.
fn php_and_mariadb_available_or_fail() -> bool {
    let php = Command::new("php")
        .args([
            "-r",
            "exit(extension_loaded('curl') && extension_loaded('pdo_mysql') ? 0 : 1);",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    let maria = mariadb_cli(None)
        .args(["-e", "SELECT 1"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !(php && maria) {
        let what = format!(
            "php with curl and pdo_mysql: {}, MariaDB at {}:{}: {}",
            if php { "ok" } else { "MISSING" },
            mysql_host(),
            mysql_port(),
            if maria { "ok" } else { "UNREACHABLE" }
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} and CI=true"
        );
        eprintln!("WARNING: {what}; the Magento retention end-to-end test did not run");
    }
    php && maria
}

/// A fresh MariaDB database `lg_e2e_<random>` with Magento's tables, dropped on drop.
struct ShopDb {
    name: String,
}

impl ShopDb {
    fn create() -> Self {
        let name = format!(
            "lg_e2e_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let db = Self { name };
        db.admin(&format!(
            "CREATE DATABASE {} CHARACTER SET utf8mb4",
            db.name
        ));
        let fixture = std::fs::read(format!(
            "{}/Test/fixtures/magento-core-tables.sql",
            module_dir()
        ))
        .unwrap();
        db.run_stdin(&fixture);
        db
    }

    fn admin(&self, sql: &str) {
        let out = mariadb_cli(None).args(["-e", sql]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn run_stdin(&self, sql: &[u8]) {
        use std::io::Write;
        let mut child = mariadb_cli(Some(&self.name))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(sql).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs statements in UTC (Magento's connection time zone).
    fn exec(&self, sql: &str) {
        self.run_stdin(format!("SET time_zone = '+00:00';\n{sql}").as_bytes());
    }

    /// Rows of a query, tab-separated cells (`NULL` for NULL).
    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let out = mariadb_cli(Some(&self.name))
            .args(["-e", &format!("SET time_zone = '+00:00'; {sql}")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()
    }

    fn one(&self, sql: &str) -> String {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].clone()
    }

    /// A digest of every Magento payment table's content (for "nothing changed").
    fn checksum(&self) -> String {
        [
            "sales_order",
            "sales_order_payment",
            "sales_payment_transaction",
            "quote",
            "quote_payment",
            "vault_payment_token",
            "vault_payment_token_order_payment_link",
        ]
        .iter()
        .map(|t| {
            format!(
                "{t}:{:?}",
                self.rows(&format!("SELECT * FROM {t} ORDER BY 1, 2"))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
    }
}

impl Drop for ShopDb {
    fn drop(&mut self) {
        let _ = mariadb_cli(None)
            .args(["-e", &format!("DROP DATABASE IF EXISTS {}", self.name)])
            .output();
    }
}

/// Orders 1..5 with payments and transactions, quotes, vault tokens. Times are relative to now.
const SEED: &str = r#"
INSERT INTO sales_order (entity_id, state, status, increment_id, customer_email, grand_total, created_at, updated_at) VALUES
 (1, 'complete',   'complete',   '000000001', 'a@example.com', 101.5000, NOW() - INTERVAL 410 DAY, NOW() - INTERVAL 400 DAY),
 (2, 'closed',     'closed',     '000000002', 'b@example.com', 202.0000, NOW() - INTERVAL 110 DAY, NOW() - INTERVAL 100 DAY),
 (3, 'complete',   'complete',   '000000003', 'c@example.com',  33.0000, NOW() - INTERVAL 12 DAY,  NOW() - INTERVAL 10 DAY),
 (4, 'processing', 'processing', '000000004', 'd@example.com',  44.0000, NOW() - INTERVAL 410 DAY, NOW() - INTERVAL 400 DAY),
 (5, 'canceled',   'canceled',   '000000005', 'e@example.com',  55.0000, NOW() - INTERVAL 3 DAY,   NOW() - INTERVAL 2 DAY);
INSERT INTO sales_order_payment (entity_id, parent_id, method, cc_type, cc_last_4, cc_owner, cc_exp_month, cc_exp_year,
  cc_number_enc, cc_trans_id, last_trans_id, amount_ordered, additional_information) VALUES
 (1, 1, 'ccsave',    'VI', '1111', 'Jane Doe', '12', '2030', '0:3:encrypted-pan', 'txn1', 'txn1-capture', 101.5000,
  '{"method_title":"Credit Card","cc_last_4":"1111","iban":"DE89370400440532013000","account_holder":"Jane Doe"}'),
 (2, 2, 'braintree', 'MC', '4444', 'Max Roe',  '01', '2029', NULL, 'txn2', 'txn2-capture', 202.0000,
  '{"method_title":"Card","payer_email":"b@example.com"}'),
 (3, 3, 'braintree', 'VI', '3333', 'Ann Poe',  '02', '2031', NULL, 'txn3', 'txn3-capture', 33.0000,
  '{"method_title":"Card","payer_email":"c@example.com"}'),
 (4, 4, 'braintree', 'VI', '4242', 'Dan Moe',  '03', '2032', NULL, 'txn4', 'txn4-capture', 44.0000,
  '{"method_title":"Card","payer_email":"d@example.com"}'),
 (5, 5, 'braintree', 'AE', '0005', 'Eve Loe',  '04', '2033', NULL, 'txn5', 'txn5-capture', 55.0000,
  '{"method_title":"Card"}');
INSERT INTO sales_payment_transaction (transaction_id, order_id, payment_id, txn_id, txn_type, additional_information, created_at) VALUES
 (1, 1, 1, 'txn1', 'capture', '{"raw_details_info":{"avs":"Y","pan":"411111******1111"},"kept":1}', NOW() - INTERVAL 410 DAY),
 (2, 2, 2, 'txn2', 'capture', '{"raw_details_info":{"avs":"N"},"kept":2}', NOW() - INTERVAL 110 DAY),
 (3, 3, 3, 'txn3', 'capture', '{"raw_details_info":{"avs":"Y"},"kept":3}', NOW() - INTERVAL 12 DAY),
 (4, 4, 4, 'txn4', 'capture', '{"raw_details_info":{"avs":"Y"},"kept":4}', NOW() - INTERVAL 410 DAY),
 (5, 5, 5, 'txn5', 'capture', '{"raw_details_info":{"avs":"Y"},"kept":5}', NOW() - INTERVAL 3 DAY);
INSERT INTO quote (entity_id, is_active, customer_email, created_at, updated_at) VALUES
 (1, 1, 'q1@example.com', NOW() - INTERVAL 70 DAY, NOW() - INTERVAL 60 DAY),
 (2, 1, 'q2@example.com', NOW() - INTERVAL 2 DAY,  NOW() - INTERVAL 1 DAY),
 (3, 0, 'q3@example.com', NOW() - INTERVAL 2 DAY,  NOW() - INTERVAL 1 DAY);
INSERT INTO quote_payment (payment_id, quote_id, method, cc_type, cc_last_4, cc_owner, cc_exp_month, cc_exp_year,
  cc_number_enc, cc_cid_enc, additional_information) VALUES
 (1, 1, 'ccsave',    'VI', '1111', 'Quinn Abandoned', '05', 2030, '0:3:pan', '0:3:cvv', '{"method_title":"Card"}'),
 (2, 2, 'braintree', 'VI', '2222', 'Fresh Cart',      '06', 2031, NULL, NULL, '{"method_title":"Card"}'),
 (3, 3, 'braintree', 'VI', '3333', 'Converted Cart',  '07', 2032, NULL, NULL, '{"method_title":"Card"}');
INSERT INTO vault_payment_token (entity_id, customer_id, public_hash, payment_method_code, type, expires_at, gateway_token, details, is_active) VALUES
 (1, 1, 'hash1', 'braintree', 'card', NOW() - INTERVAL 10 DAY, 'gw1', '{"maskedCC":"1111"}', 1),
 (2, 1, 'hash2', 'braintree', 'card', NOW() + INTERVAL 365 DAY, 'gw2', '{"maskedCC":"4444"}', 1),
 (3, 1, 'hash3', 'braintree', 'card', NOW() + INTERVAL 365 DAY, 'gw3', '{"maskedCC":"3333"}', 0);
INSERT INTO vault_payment_token_order_payment_link (order_payment_id, payment_token_id) VALUES (1, 1), (2, 2);
"#;

/// Runs the PHP driver; returns its JSON summary.
fn drive(app: &TestApp, db: &ShopDb, state: &std::path::Path, token: Option<&str>) -> Value {
    let mut cmd = Command::new("php");
    cmd.arg(format!("{}/Test/e2e/retention_e2e.php", module_dir()))
        .args([
            "--server",
            &app.address,
            "--database",
            &db.name,
            "--base-url",
            BASE,
        ])
        .arg("--state")
        .arg(state)
        .args(["--batch-size", "2"]);
    if let Some(token) = token {
        cmd.args(["--enrollment-token", token]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "driver failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn by_class(report: &Value) -> BTreeMap<String, Value> {
    report["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["class"].as_str().unwrap().to_owned(), c.clone()))
        .collect()
}

fn rows_of(report: &Value) -> BTreeMap<String, i64> {
    by_class(report)
        .into_iter()
        .map(|(k, v)| (k, v["rows_affected"].as_i64().unwrap()))
        .collect()
}

async fn get_json(app: &TestApp, t: &TestTenant, path: &str) -> Value {
    let res = app.get(path, &t.key).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

async fn audit_actions(app: &TestApp, t: &TestTenant, action: &str) -> u64 {
    use app_server::db::entities::audit_entries;
    audit_entries::Entity::find()
        .filter(audit_entries::Column::ChainId.eq(t.id))
        .filter(audit_entries::Column::Action.eq(action))
        .count(&app.state.db)
        .await
        .unwrap()
}

fn magento_inventory(inventory: &Value) -> BTreeMap<String, Value> {
    inventory
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "magento")
        .map(|e| (e["class"].as_str().unwrap().to_owned(), e.clone()))
        .collect()
}

async fn the_module_applies_the_servers_policy_on_mariadb(backend: Backend) {
    if !php_and_mariadb_available_or_fail() {
        return;
    }
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let token = app.module_token(&t).await;
    let shop = ShopDb::create();
    shop.exec(SEED);
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("core_config_data.json");

    // Before any report the inventory says the Magento classes were never reported.
    let inv = magento_inventory(&get_json(&app, &t, "/api/v1/retention/inventory").await);
    assert_eq!(inv.len(), 5);
    assert_eq!(
        inv["card_holder_data"]["attention"],
        json!(["never_reported"])
    );

    // Run 1: enroll with the token, fetch policy version 1 (the default), apply, report.
    let first = drive(&app, &shop, &state, Some(&token));
    assert_eq!(first["enrolled_now"], true);
    assert_eq!(first["tenant_id"], t.id.to_string());
    assert_eq!(first["delivered"], true, "{first}");
    assert_eq!(first["queued"], 0);
    let stored_state = std::fs::read_to_string(&state).unwrap();
    assert!(!stored_state.contains(&token), "the token is forgotten");
    let report = &first["report"];
    assert_eq!(report["policy_version"], 1);
    assert_eq!(report["dry_run"], false);
    let counts = rows_of(report);
    assert_eq!(
        counts,
        BTreeMap::from([
            ("card_holder_data".into(), 4),           // final orders 1, 2, 3, 5
            ("gateway_raw_response".into(), 2),       // completed > 30 days ago: 1, 2
            ("vault_tokens".into(), 2),               // expired 1, inactive 3
            ("abandoned_checkout_payment".into(), 2), // abandoned 1, converted 3
            ("additional_information".into(), 2),     // completed > 90 days ago: 1, 2
        ])
    );
    let classes = by_class(report);
    assert_eq!(
        classes["card_holder_data"]["batches"], 3,
        "keys 1..5 in batches of 2"
    );
    assert_eq!(first["log"], json!([]));
    assert_eq!(
        classes["card_holder_data"]["alerts"],
        json!([{"code": "cc_number_enc_present", "rows": 1}])
    );

    // MariaDB: cardholder columns cleared, history intact.
    let p1 = &shop.rows(
        "SELECT cc_owner, cc_exp_month, cc_exp_year, cc_number_enc, method, cc_type, cc_last_4, amount_ordered, \
         cc_trans_id FROM sales_order_payment WHERE entity_id = 1",
    )[0];
    assert_eq!(
        p1,
        &[
            "NULL", "NULL", "NULL", "NULL", "ccsave", "VI", "1111", "101.5000", "txn1"
        ]
    );
    for id in [2, 3, 5] {
        assert_eq!(
            shop.one(&format!(
                "SELECT cc_owner FROM sales_order_payment WHERE entity_id = {id}"
            )),
            "NULL"
        );
    }
    assert_eq!(
        shop.one("SELECT cc_owner FROM sales_order_payment WHERE entity_id = 4"),
        "Dan Moe",
        "an order in progress keeps its card data"
    );
    assert_eq!(shop.one("SELECT COUNT(*) FROM sales_order"), "5");
    assert_eq!(
        shop.one("SELECT SUM(grand_total) FROM sales_order"),
        "435.5000"
    );
    assert_eq!(shop.one("SELECT COUNT(*) FROM sales_order_payment"), "5");
    assert_eq!(
        shop.one("SELECT COUNT(*) FROM sales_payment_transaction"),
        "5"
    );
    let info: Value = serde_json::from_str(
        &shop.one("SELECT additional_information FROM sales_order_payment WHERE entity_id = 1"),
    )
    .unwrap();
    assert_eq!(
        info,
        json!({"method_title": "Credit Card", "cc_last_4": "1111"})
    );
    assert!(
        shop.one("SELECT additional_information FROM sales_order_payment WHERE entity_id = 3")
            .contains("payer_email"),
        "completed 10 days ago: extra keys stay until 90 days"
    );
    let raw = |id: i64| {
        shop.one(&format!(
            "SELECT additional_information FROM sales_payment_transaction WHERE transaction_id = {id}"
        ))
    };
    assert_eq!(
        serde_json::from_str::<Value>(&raw(1)).unwrap(),
        json!({"kept": 1})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&raw(2)).unwrap(),
        json!({"kept": 2})
    );
    for id in [3, 4, 5] {
        assert!(raw(id).contains("raw_details_info"), "transaction {id}");
    }
    assert_eq!(
        shop.rows("SELECT entity_id FROM vault_payment_token ORDER BY 1"),
        vec![vec!["2".to_owned()]]
    );
    assert_eq!(
        shop.one("SELECT COUNT(*) FROM vault_payment_token_order_payment_link"),
        "1"
    );
    assert_eq!(
        shop.rows("SELECT payment_id, cc_owner, cc_number_enc, cc_cid_enc, cc_exp_year, cc_last_4 FROM quote_payment ORDER BY 1"),
        vec![
            vec!["1", "NULL", "NULL", "NULL", "0", "1111"],
            vec!["2", "Fresh Cart", "NULL", "NULL", "2031", "2222"],
            vec!["3", "NULL", "NULL", "NULL", "0", "3333"],
        ]
        .into_iter()
        .map(|r| r.into_iter().map(str::to_owned).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );

    // Server: the report, the runs, the findings, the audit chain, the inventory.
    assert_eq!(app.count_rows("retention_reports", t.id).await, 1);
    assert_eq!(
        audit_actions(&app, &t, "magento.retention_report.stored").await,
        1
    );
    let findings: Vec<(String, String)> = {
        use app_server::db::entities::findings;
        findings::Entity::find()
            .filter(findings::Column::TenantId.eq(t.id))
            .all(&app.state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|f| (f.code, f.severity.as_str().to_owned()))
            .collect()
    };
    let mut codes: Vec<&str> = findings.iter().map(|(c, _)| c.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        [
            "cc_cid_enc_present",
            "cc_number_enc_present",
            "cc_number_enc_present"
        ],
        "the stored card numbers (order and cart) and the stored CVV surface as findings"
    );
    assert!(findings.iter().all(|(_, severity)| severity == "high"));
    let runs = get_json(&app, &t, "/api/v1/retention/runs").await;
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 5);
    for run in runs {
        assert_eq!(run["source"], "magento");
        assert_eq!(run["status"], "complete");
        assert_eq!(run["policy_version"], 1);
        let class = &classes[run["class"].as_str().unwrap()];
        assert_eq!(run["rows_affected"], class["rows_affected"]);
        assert_eq!(run["ids_sha256"], class["affected_ids_sha256"]);
        assert_eq!(run["batches"], class["batches"]);
        assert_eq!(run["details"]["run_id"], report["run_id"]);
        assert_eq!(run["details"]["alerts"], class["alerts"]);
    }
    let card_run = runs
        .iter()
        .find(|r| r["class"] == "card_holder_data")
        .unwrap();
    let one = get_json(
        &app,
        &t,
        &format!(
            "/api/v1/retention/runs/{}",
            card_run["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(one["rows_affected"], 4);
    let inventory = get_json(&app, &t, "/api/v1/retention/inventory").await;
    assert_eq!(inventory[0]["source"], "server");
    let inv = magento_inventory(&inventory);
    assert_eq!(inv["card_holder_data"]["status"], "complete");
    assert_eq!(
        inv["card_holder_data"]["alerts"],
        json!([{"code": "cc_number_enc_present", "rows": 1}])
    );
    assert_eq!(inv["card_holder_data"]["attention"], json!(["alerts"]));
    assert_eq!(inv["vault_tokens"]["attention"], json!([]));
    assert_eq!(
        inv["abandoned_checkout_payment"]["attention"],
        json!(["alerts"])
    );

    // Run 2: nothing left to clear, nothing counted, nothing changed.
    let before = shop.checksum();
    let second = drive(&app, &shop, &state, None);
    assert_eq!(second["enrolled_now"], false);
    assert_eq!(second["delivered"], true);
    assert!(
        rows_of(&second["report"]).values().all(|n| *n == 0),
        "{second}"
    );
    assert!(
        by_class(&second["report"])
            .values()
            .all(|c| c["alerts"] == json!([]))
    );
    assert_eq!(shop.checksum(), before);
    assert_eq!(app.count_rows("retention_reports", t.id).await, 2);
    let inv = magento_inventory(&get_json(&app, &t, "/api/v1/retention/inventory").await);
    assert!(inv.values().all(|c| c["attention"] == json!([])), "{inv:?}");

    // A shorter limit for raw gateway responses on the server reaches the module next run.
    let mut policy = get_json(&app, &t, "/api/v1/retention/policy").await;
    for rule in policy["classes"].as_array_mut().unwrap() {
        if rule["class"] == "gateway_raw_response" {
            rule["max_age_days"] = json!(7);
        }
    }
    let res = app
        .client
        .put(app.url("/api/v1/retention/policy"))
        .bearer_auth(&t.key)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let inv = magento_inventory(&get_json(&app, &t, "/api/v1/retention/inventory").await);
    assert_eq!(
        inv["gateway_raw_response"]["attention"],
        json!(["policy_not_applied"])
    );
    assert_eq!(inv["gateway_raw_response"]["max_age_days"], 7);

    let third = drive(&app, &shop, &state, None);
    assert_eq!(third["report"]["policy_version"], 2);
    let counts = rows_of(&third["report"]);
    assert_eq!(
        counts["gateway_raw_response"], 1,
        "transaction 3, completed 10 days ago"
    );
    assert_eq!(
        counts.values().sum::<i64>(),
        1,
        "the other classes have nothing left: {counts:?}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&raw(3)).unwrap(),
        json!({"kept": 3})
    );
    assert!(
        raw(4).contains("raw_details_info"),
        "order 4 is in progress"
    );
    assert!(
        raw(5).contains("raw_details_info"),
        "order 5 ended 2 days ago"
    );
    let runs = get_json(&app, &t, "/api/v1/retention/runs").await;
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 15);
    assert!(runs.iter().all(|r| r["source"] == "magento"));
    assert_eq!(
        runs.iter()
            .filter(|r| r["policy_version"] == 2 && r["class"] == "gateway_raw_response")
            .map(|r| r["rows_affected"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1]
    );
    let inv = magento_inventory(&get_json(&app, &t, "/api/v1/retention/inventory").await);
    assert!(inv.values().all(|c| c["attention"] == json!([])), "{inv:?}");
    assert_eq!(inv["gateway_raw_response"]["applied_policy_version"], 2);
    assert_eq!(
        audit_actions(&app, &t, "magento.retention_report.stored").await,
        3
    );

    let verified = app.cli(&["audit", "verify", "--tenant", &t.id.to_string()]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    drop(shop);
}

/// Without php or MariaDB: what the server makes of reports with an unsupported class, a dry run
/// and a redelivery (signed here with the module's wire format).
async fn magento_reports_feed_the_run_history_and_inventory(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let key = app.enroll_module(&t, BASE).await;
    let chain = "a".repeat(64);
    let report = |run_id: &str, dry_run: bool| {
        json!({
            "run_id": run_id, "policy_version": 1, "policy_sha256": "b".repeat(64), "dry_run": dry_run,
            "started_at": "2026-11-28T02:41:00Z", "finished_at": "2026-11-28T02:41:09Z", "module_version": "1.0.0",
            "classes": [
                {"class": "card_holder_data", "status": "complete", "table": "sales_order_payment", "action": "null",
                 "anchor": "order_completion", "max_age_days": 0, "class_run_id": "c1", "resumed": true,
                 "cutoff": "2026-11-28T02:41:00Z", "started_at": "2026-11-28T02:41:01Z", "finished_at": "2026-11-28T02:41:02Z",
                 "rows_affected": 7, "first_affected_id": 3, "last_affected_id": 40, "affected_ids_sha256": chain,
                 "undecodable": 0, "batches": 3, "max_transaction_ms": 12, "alerts": []},
                {"class": "gateway_raw_response", "status": "unsupported", "reason": "unsupported action \"delete\""}
            ]
        })
        .to_string()
    };
    let dry = app
        .signed(
            &key,
            "POST",
            "/api/v1/magento/retention-reports",
            &report("dry-1", true),
        )
        .await;
    assert_eq!(dry.status(), 200);
    let runs = get_json(&app, &t, "/api/v1/retention/runs").await;
    assert_eq!(runs, json!([]), "a dry run changed nothing: no runs");
    let inv = magento_inventory(&get_json(&app, &t, "/api/v1/retention/inventory").await);
    assert_eq!(
        inv["card_holder_data"]["attention"],
        json!(["never_reported"])
    );

    let body = report("run-1", false);
    for _ in 0..2 {
        let res = app
            .signed(&key, "POST", "/api/v1/magento/retention-reports", &body)
            .await;
        assert_eq!(res.status(), 200);
    }
    let runs = get_json(&app, &t, "/api/v1/retention/runs").await;
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "a redelivery adds no runs");
    let card = runs
        .iter()
        .find(|r| r["class"] == "card_holder_data")
        .unwrap();
    assert_eq!(card["source"], "magento");
    assert_eq!(card["status"], "complete");
    assert_eq!(card["rows_affected"], 7);
    assert_eq!(card["ids_sha256"], chain);
    assert_eq!(card["batches"], 3);
    assert_eq!(card["max_batch_ms"], 12);
    assert_eq!(card["cutoff"], "2026-11-28T02:41:00.000Z");
    assert_eq!(card["details"]["resumed"], true);
    let raw = runs
        .iter()
        .find(|r| r["class"] == "gateway_raw_response")
        .unwrap();
    assert_eq!(raw["status"], "unsupported");
    assert_eq!(raw["error"], "unsupported action \"delete\"");
    assert_eq!(raw["rows_affected"], 0);

    let inv = magento_inventory(&get_json(&app, &t, "/api/v1/retention/inventory").await);
    assert_eq!(inv["card_holder_data"]["attention"], json!([]));
    assert_eq!(
        inv["gateway_raw_response"]["attention"],
        json!(["not_complete"])
    );
    assert_eq!(
        inv["gateway_raw_response"]["reason"],
        "unsupported action \"delete\""
    );
    assert_eq!(inv["vault_tokens"]["attention"], json!(["not_in_report"]));

    // Another tenant sees none of it.
    let other = app
        .create_magento_tenant("https://other-shop.example")
        .await;
    assert_eq!(
        get_json(&app, &other, "/api/v1/retention/runs").await,
        json!([])
    );
    let res = app
        .get(
            &format!("/api/v1/retention/runs/{}", card["id"].as_str().unwrap()),
            &other.key,
        )
        .await;
    assert_eq!(res.status(), 404);
    // A Shopify tenant's inventory has no Magento lines.
    let shopify = app.create_tenant("plain-shop.myshopify.com").await;
    let inv = get_json(&app, &shopify, "/api/v1/retention/inventory").await;
    assert_eq!(inv.as_array().unwrap().len(), 1);
    assert_eq!(inv[0]["source"], "server");
}

crate::on_both_backends!(
    the_module_applies_the_servers_policy_on_mariadb,
    magento_reports_feed_the_run_history_and_inventory,
);
