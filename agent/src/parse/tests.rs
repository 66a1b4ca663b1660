//! Unit tests of the parsers on real-format lines.
#![allow(clippy::unwrap_used, clippy::panic)]

use leakguard_domain::agent_wire::{Record, SecurityEventKind, SourceKind};

use super::*;
use crate::records::Processor;

fn run(kind: SourceKind, text: &str) -> Vec<Record> {
    let mut parser = parser_for(kind, &ParserOptions::default());
    let mut processor = Processor::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        parser.line(
            line.trim_end_matches('\n').as_bytes(),
            offset,
            false,
            &mut processor,
        );
        offset += line.len() as u64;
    }
    parser.flush(&mut processor);
    processor.take_records()
}

const GENERAL: &str = "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:\nTcp port: 33306  Unix socket: /run/mysqld/mysqld.sock\nTime\t\t    Id Command\tArgument\n261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n\t\t    10 Query\tSELECT entity_id, email, firstname, lastname FROM customer_entity WHERE entity_id = 1\n\t\t    10 Query\tSELECT e.email, a.city\nFROM customer_entity e JOIN customer_address_entity a ON a.parent_id = e.entity_id WHERE a.region = 'California'\n\t\t    10 Quit\t\n\t\t    11 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n\t\t    11 Connect\tAccess denied for user 'magento'@'127.0.0.1' (using password: YES)\n";

#[test]
fn the_general_log_keeps_users_timestamps_and_multi_line_statements() {
    let records = run(SourceKind::MariadbGeneral, GENERAL);
    let aggregates: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::SqlAggregate(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(aggregates.len(), 2);
    assert_eq!(aggregates[0].db_user.as_deref(), Some("magento"));
    assert_eq!(
        aggregates[0].minute.as_deref(),
        Some("2026-11-28T08:18:00Z")
    );
    assert_eq!(
        aggregates[1].fingerprint.as_deref(),
        Some(
            "select e.email, a.city from customer_entity e join customer_address_entity a on a.parent_id = e.entity_id where a.region = ?"
        )
    );
    assert!(records.iter().any(
        |r| matches!(r, Record::SecurityEvent(e) if e.kind == SecurityEventKind::DbLoginFailure)
    ));
}

const SLOW: &str = "# Time: 261128  8:18:01\n# User@Host: magento[magento] @  [127.0.0.1]\n# Thread_id: 10  Schema: magento  QC_hit: No\n# Query_time: 0.000267  Lock_time: 0.000148  Rows_sent: 1  Rows_examined: 1\n# Rows_affected: 0  Bytes_sent: 373\n#\nSET timestamp=1795853881;\nSELECT entity_id, email FROM customer_entity WHERE entity_id = 1;\n# User@Host: magento[magento] @  [127.0.0.1]\n# Query_time: 0.000095  Lock_time: 0.000035  Rows_sent: 3  Rows_examined: 3\nuse magento;\nSET timestamp=1795853881;\nSELECT * FROM customer_entity;\n";

#[test]
fn the_slow_log_sums_rows_per_shape() {
    let records = run(SourceKind::MariadbSlow, SLOW);
    let Record::SqlAggregate(first) = &records[0] else {
        panic!("{records:?}")
    };
    assert_eq!(first.rows_sent, Some(1));
    assert_eq!(first.principal.db_host.as_deref(), Some("127.0.0.1"));
    let Record::SqlAggregate(second) = &records[1] else {
        panic!("{records:?}")
    };
    assert_eq!(
        second.fingerprint.as_deref(),
        Some("select * from customer_entity")
    );
    assert_eq!(second.rows_examined, Some(3));
}

#[test]
fn the_audit_log_unescapes_queries_and_reports_failed_logins() {
    let text = "20261128 08:18:01,vm,magento,127.0.0.1,10,37,QUERY,magento,'SELECT e.email FROM customer_entity e WHERE a.region = \\'California\\'',0\n20261128 08:18:01,vm,magento,127.0.0.1,11,0,FAILED_CONNECT,,,1045\n20261128 08:18:01,vm,root,localhost,12,41,QUERY,mysql,'SET GLOBAL server_audit_logging=OFF',0\n";
    let records = run(SourceKind::MariadbAudit, text);
    let json = serde_json::to_string(&records).unwrap();
    assert!(!json.contains("California"), "{json}");
    assert!(json.contains("db_login_failure"));
    assert!(json.contains("db_logging_disabled"));
}

#[test]
fn access_logs_keep_admin_and_rest_shapes_only() {
    let text = "127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /admin/mui/export/gridToCsv/key/5f1c0d9e2b7a4c3d8e6f/?namespace=customer_listing HTTP/1.1\" 200 3 \"-\" \"Mozilla\"\n127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /rest/V1/customers/search?searchCriteria%5BpageSize%5D=1000 HTTP/1.1\" 200 3 \"-\" \"python\"\n127.0.0.1 - - [28/Nov/2026:08:21:30 +0000] \"GET /checkout/cart HTTP/1.1\" 200 3 \"-\" \"x\"\n";
    let records = run(SourceKind::Nginx, text);
    let json = serde_json::to_string(&records).unwrap();
    assert!(
        json.contains("/admin/mui/export/gridToCsv/key/?/"),
        "{json}"
    );
    assert!(json.contains("\"max_page_size\":1000"), "{json}");
    assert!(!json.contains("checkout"));
    assert!(json.contains("http_sensitive_request"));
}

#[test]
fn monolog_records_span_lines_and_withhold_names() {
    let text = "[2026-11-28T08:21:12.331631+00:00] main.CRITICAL: RuntimeException: No such entity with customerId = 42 in /srv/x.php:17\nStack trace:\n#0 {main} [] []\n[2026-11-28T08:21:13.000000+00:00] main.INFO: Customer Jane Roe logged in [] []\n";
    let records = run(SourceKind::Monolog, text);
    assert_eq!(records.len(), 2);
    let json = serde_json::to_string(&records).unwrap();
    assert!(!json.contains("Jane") && !json.contains("jane"), "{json}");
    assert!(json.contains("CRITICAL"));
}

#[test]
fn admin_log_lines_become_security_events() {
    let text = r#"{"ts":"2026-11-28T08:21:12+00:00","admin_user_id":12,"admin_username":"jdoe","ip":"10.0.0.5","forwarded_ip":null,"action":"mui_export_gridToCsv","event":"grid_export","entity_type":"customer","entity_ids":[1,2,"3"],"count":3,"result":"success","request_id":"abc","details":{"namespace":"customer_listing","search":"jane@example.com"}}
{"ts":"2026-11-28T08:21:13+00:00","admin_username":"jane@example.com","ip":"10.0.0.6","event":"admin_login_failure","result":"failure"}
"#;
    let records = run(SourceKind::MagentoAdmin, text);
    assert_eq!(records.len(), 2);
    let json = serde_json::to_string(&records).unwrap();
    assert!(!json.contains("jane@example.com"), "{json}");
    assert!(json.contains("\"entity_ids\":[\"1\",\"2\",\"3\"]"));
    assert!(json.contains("admin_login_failure"));
}

#[test]
fn a_connect_entry_whose_account_makes_an_e_mail_address_ships_no_principal() {
    // A query's continuation line can forge a `Connect` entry; found by the agent_log_lines
    // fuzz target (an address split at `@` into the user and the host).
    let text = "261128  8:18:01\t    10 Connect\tann.lee@mailbox.example on magento using TCP/IP\n\t\t    10 Query\tSELECT 1 FROM customer_entity\n\t\t    11 Connect\tmagento@127.ann.lee@mailbox.example on magento\n\t\t    11 Query\tSELECT 2 FROM sales_order\n\t\t    12 Connect\tAccess denied for user 'ann.lee'@'mailbox.example' (using password: YES)\n\t\t    13 Connect\tmagento@localhost on magento using TCP/IP\n\t\t    13 Query\tSELECT 3 FROM quote\n";
    let records = run(SourceKind::MariadbGeneral, text);
    let json = serde_json::to_string(&records).unwrap();
    assert!(!json.contains("mailbox.example"), "{json}");
    let users: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::SqlAggregate(a) => Some(a.db_user.as_deref()),
            _ => None,
        })
        .collect();
    assert_eq!(users, [None, None, Some("magento")]);
    let Some(Record::SecurityEvent(failure)) = records.iter().find(
        |r| matches!(r, Record::SecurityEvent(e) if e.kind == SecurityEventKind::DbLoginFailure),
    ) else {
        panic!("no login failure in {json}");
    };
    assert_eq!(failure.principal.db_host, None);
    assert_eq!(failure.ip, None);
}

#[test]
fn client_hosts_are_addresses_or_single_labels() {
    assert_eq!(
        client_host_token(b"127.0.0.1").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        client_host_token(b"::ffff:10.0.0.9").as_deref(),
        Some("::ffff:10.0.0.9")
    );
    assert_eq!(
        client_host_token(b"localhost").as_deref(),
        Some("localhost")
    );
    assert_eq!(client_host_token(b"%").as_deref(), Some("%"));
    assert_eq!(client_host_token(b"mailbox.example"), None);
    assert_eq!(client_host_token(b"127.ann.lee@mailbox.example"), None);
}

#[test]
fn a_query_time_no_server_writes_is_dropped() {
    // Found by the agent_log_lines fuzz target: a 100-digit Query_time did not come back from
    // the wire's JSON as the same number.
    let huge = "2".repeat(100);
    let text = SLOW.replacen("0.000267", &huge, 1);
    let records = run(SourceKind::MariadbSlow, &text);
    let times: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::SqlAggregate(a) => Some(a.query_time_s),
            _ => None,
        })
        .collect();
    assert_eq!(times, [None, Some(0.000095)]);
}
