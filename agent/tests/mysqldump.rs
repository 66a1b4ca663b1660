//! mysqldump as the database logs it: every dumped table keeps its own fingerprint and name,
//! and the `db_dump` event of a principal and minute lists the tables it read.
//!
//! `fixtures/mariadb-10.11-mysqldump-general.log` is the general log MariaDB 10.11 wrote while
//! `mariadb-dump` dumped a database of two tables (it names columns in its `SELECT`); the
//! other inputs follow the formats in the same logs (MySQL's mysqldump reads `*`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use agent::inspect::records_for;
use agent::parse::ParserOptions;
use leakguard_domain::agent_wire::{
    Record, SecurityEvent, SecurityEventKind, SourceKind, SqlAggregate,
};

const MARIADB_GENERAL: &[u8] = include_bytes!("fixtures/mariadb-10.11-mysqldump-general.log");

fn records(kind: SourceKind, log: &[u8]) -> Vec<Record> {
    records_for(kind, log, &ParserOptions::default(), 1 << 20)
}

fn aggregates(records: &[Record]) -> Vec<&SqlAggregate> {
    records
        .iter()
        .filter_map(|record| match record {
            Record::SqlAggregate(aggregate) => Some(aggregate),
            _ => None,
        })
        .collect()
}

fn dump_events(records: &[Record]) -> Vec<&SecurityEvent> {
    records
        .iter()
        .filter_map(|record| match record {
            Record::SecurityEvent(event) if event.kind == SecurityEventKind::DbDump => Some(event),
            _ => None,
        })
        .collect()
}

fn aggregate_with_prefix<'a>(records: &'a [Record], prefix: &str) -> Vec<&'a SqlAggregate> {
    aggregates(records)
        .into_iter()
        .filter(|a| {
            a.fingerprint
                .as_deref()
                .is_some_and(|f| f.starts_with(prefix))
        })
        .collect()
}

#[test]
fn a_mariadb_dump_in_the_general_log_keeps_every_table() {
    let records = records(SourceKind::MariadbGeneral, MARIADB_GENERAL);
    let reads = aggregate_with_prefix(&records, "select /*!? sql_no_cache */");
    let mut read_tables: Vec<_> = reads.iter().map(|a| a.tables.clone()).collect();
    read_tables.sort();
    assert_eq!(
        read_tables,
        vec![
            vec!["customer_entity".to_owned()],
            vec!["sales_order".to_owned()]
        ],
        "{records:#?}"
    );
    assert!(reads.iter().all(|a| a.count == 1 && !a.masked));
    assert_ne!(reads[0].query_id, reads[1].query_id);

    let lock = aggregate_with_prefix(&records, "lock tables");
    assert_eq!(lock.len(), 1);
    assert_eq!(lock[0].tables, vec!["customer_entity", "sales_order"]);

    let events = dump_events(&records);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].tables, vec!["customer_entity", "sales_order"]);
    assert_eq!(events[0].count, Some(2));
    assert_eq!(events[0].details["tables_total"], 2);
    assert_eq!(events[0].principal.db_user.as_deref(), Some("root"));
    assert_eq!(events[0].ts.as_deref(), Some("2026-12-05T13:06:00Z"));
}

#[test]
fn a_mysql_dump_reading_star_gets_one_record_per_table_and_minute() {
    let mut log = String::from(
        "261128  8:18:01\t    29 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n",
    );
    for table in ["customer_entity", "sales_order", "customer_address_entity"] {
        log.push_str(&format!(
            "\t\t    29 Query\tSELECT /*!40001 SQL_NO_CACHE */ * FROM `{table}`\n"
        ));
    }
    // The next minute: one more table, and the first again.
    log.push_str(
        "261128  8:19:02\t    29 Query\tSELECT /*!40001 SQL_NO_CACHE */ * FROM `admin_user`\n",
    );
    log.push_str("\t\t    29 Query\tSELECT /*!40001 SQL_NO_CACHE */ * FROM `customer_entity`\n");
    let records = records(SourceKind::MariadbGeneral, log.as_bytes());
    let reads = aggregate_with_prefix(&records, "select /*!? sql_no_cache */ * from");
    let shapes: Vec<_> = reads
        .iter()
        .map(|a| (a.minute.clone().unwrap(), a.tables.join(","), a.count))
        .collect();
    assert_eq!(
        shapes,
        vec![
            (
                "2026-11-28T08:18:00Z".to_owned(),
                "customer_entity".to_owned(),
                1
            ),
            (
                "2026-11-28T08:18:00Z".to_owned(),
                "sales_order".to_owned(),
                1
            ),
            (
                "2026-11-28T08:18:00Z".to_owned(),
                "customer_address_entity".to_owned(),
                1
            ),
            (
                "2026-11-28T08:19:00Z".to_owned(),
                "admin_user".to_owned(),
                1
            ),
            (
                "2026-11-28T08:19:00Z".to_owned(),
                "customer_entity".to_owned(),
                1
            ),
        ]
    );
    assert!(
        !serde_json::to_string(&records)
            .unwrap()
            .contains("\"mysqldump\""),
        "the tables were folded into one `mysqldump` shape"
    );
    let events = dump_events(&records);
    assert_eq!(
        events.len(),
        2,
        "one event per principal and minute: {events:#?}"
    );
    assert_eq!(
        events[0].tables,
        vec!["customer_address_entity", "customer_entity", "sales_order"]
    );
    assert_eq!(events[0].count, Some(3));
    assert_eq!(events[1].tables, vec!["admin_user", "customer_entity"]);
    assert_eq!(events[1].details["tables_total"], 2);
}

#[test]
fn a_dump_in_the_slow_log_keeps_its_table() {
    let log = "# Time: 261128  8:18:27\n# User@Host: magento[magento] @  [127.0.0.1]\n# Thread_id: 29  Schema: magento  QC_hit: No\n# Query_time: 0.000129  Lock_time: 0.000000  Rows_sent: 3  Rows_examined: 3\n# Rows_affected: 0  Bytes_sent: 758\n# Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No\n#\nSET timestamp=1795853907;\nSELECT /*!40001 SQL_NO_CACHE */ `entity_id`, `website_id`, `email`, `firstname`, `lastname`, `dob`, `created_at` FROM `customer_entity`;\n";
    let records = records(SourceKind::MariadbSlow, log.as_bytes());
    let reads = aggregate_with_prefix(&records, "select /*!? sql_no_cache */");
    assert_eq!(reads.len(), 1, "{records:#?}");
    assert_eq!(reads[0].tables, vec!["customer_entity"]);
    assert_eq!(reads[0].rows_sent, Some(3));
    let events = dump_events(&records);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tables, vec!["customer_entity"]);
}

#[test]
fn a_dump_of_a_large_schema_lists_a_hundred_tables_and_counts_them_all() {
    let mut log = String::from(
        "261128  8:18:01\t    29 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n",
    );
    for n in 0..150 {
        log.push_str(&format!(
            "\t\t    29 Query\tSELECT /*!40001 SQL_NO_CACHE */ * FROM `t_{}`\n",
            char::from(b'a' + (n / 26) as u8).to_string()
                + &char::from(b'a' + (n % 26) as u8).to_string()
        ));
    }
    let records = records(SourceKind::MariadbGeneral, log.as_bytes());
    let events = dump_events(&records);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tables.len(), 100);
    assert!(events[0].tables.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert_eq!(events[0].tables[0], "t_aa");
    assert_eq!(events[0].details["tables_total"], 150);
    assert_eq!(events[0].count, Some(150));
}

#[test]
fn an_upsert_reports_its_table_and_not_the_updated_column() {
    let log = "261128  8:18:01\t    10 Query\tINSERT INTO `customer_grid_flat` (`entity_id`, `name`) VALUES (7, 'Jane Roe') ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)\n";
    let records = records(SourceKind::MariadbGeneral, log.as_bytes());
    let all = aggregates(&records);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].tables, vec!["customer_grid_flat"]);
}
