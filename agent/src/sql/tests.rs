//! Unit tests of the SQL pass through its public functions.
#![allow(clippy::unwrap_used)]

use md5::{Digest, Md5};

use super::*;

fn fp(query: &str) -> String {
    fingerprint(query.as_bytes())
}

#[test]
fn magento_statements_collapse_to_one_shape() {
    assert_eq!(
        fp(
            "SELECT `main_table`.* FROM `customer_entity` AS `main_table` WHERE (email LIKE '%@example.com') LIMIT 20"
        ),
        "select `main_table`.* from `customer_entity` as `main_table` where (email like ?) limit ?"
    );
    assert_eq!(
        fp("SELECT * FROM sequence_order_1"),
        "select * from sequence_order_?"
    );
}

#[test]
fn the_query_id_is_the_upper_hex_tail_of_the_md5() {
    // md5("select ?") = 8b2f4a5b9b8a7b2f... computed independently below.
    let id = query_id(b"select * from foo where a = ?");
    assert_eq!(id.len(), 16);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
    );
    let digest = Md5::digest(b"select * from foo where a = ?");
    let tail: String = digest[8..].iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(id, tail);
}

#[test]
fn an_unterminated_quote_fails_the_mask() {
    let fingerprint = fp("SELECT * FROM customer_entity WHERE email = 'jane@example.com");
    assert!(!passes_mask(fingerprint.as_bytes()));
    assert!(passes_mask(fp("SELECT @@session.tx_isolation").as_bytes()));
    assert!(!passes_mask(b"select * from t where a = jane@example.com"));
    assert!(!passes_mask(b"select /* jane */ 1"));
    assert!(passes_mask(b"select ? /*repeat union*/"));
}

#[test]
fn sqlcommenter_attributes_are_parsed_and_validated() {
    let attributes = comment_attributes(
        b"SELECT 1 /*lg_admin='12',lg_integration='3',lg_route='customer_index_index',lg_req='abc%2D1'*/",
    );
    assert_eq!(attributes.admin_user_id.as_deref(), Some("12"));
    assert_eq!(attributes.integration_id.as_deref(), Some("3"));
    assert_eq!(attributes.route.as_deref(), Some("customer_index_index"));
    assert_eq!(attributes.request_id.as_deref(), Some("abc-1"));
    let bad = comment_attributes(b"/*lg_admin='jane%40example.com'*/ SELECT 1");
    assert_eq!(bad.admin_user_id, None);
}

#[test]
fn tables_are_found_after_from_join_into_and_update() {
    let fingerprint = fp(
        "SELECT e.email FROM customer_entity e JOIN customer_address_entity a ON a.parent_id = e.entity_id",
    );
    assert_eq!(
        tables(fingerprint.as_bytes()),
        vec!["customer_address_entity", "customer_entity"]
    );
    assert_eq!(
        tables(fp("select * from a, b x, `db`.`c`").as_bytes()),
        vec!["a", "b", "db.c"]
    );
    assert_eq!(
        tables(fp("UPDATE admin_user SET x = 1").as_bytes()),
        vec!["admin_user"]
    );
    assert_eq!(
        tables(fp("insert into foo(a) values(1)").as_bytes()),
        vec!["foo"]
    );
}

#[test]
fn a_mysqldump_read_keeps_its_table() {
    let query = "SELECT /*!40001 SQL_NO_CACHE */ * FROM `customer_entity`";
    let fingerprint = fp(query);
    assert_eq!(
        fingerprint,
        "select /*!? sql_no_cache */ * from `customer_entity`"
    );
    assert_eq!(tables(fingerprint.as_bytes()), vec!["customer_entity"]);
    assert_ne!(
        query_id(fingerprint.as_bytes()),
        query_id(fp("SELECT /*!40001 SQL_NO_CACHE */ * FROM `sales_order`").as_bytes())
    );
    assert!(passes_mask(fingerprint.as_bytes()));
}

#[test]
fn every_table_of_lock_tables_is_found() {
    assert_eq!(
        tables(fp("LOCK TABLES x READ, y WRITE").as_bytes()),
        vec!["x", "y"]
    );
    // mysqldump's own form
    assert_eq!(
        tables(
            fp("LOCK TABLES `customer_entity` READ /*!32311 LOCAL */,`sales_order` READ /*!32311 LOCAL */")
                .as_bytes()
        ),
        vec!["customer_entity", "sales_order"]
    );
    assert_eq!(
        tables(fp("lock table a as t1 read local, b low_priority write").as_bytes()),
        vec!["a", "b"]
    );
    assert!(tables(fp("UNLOCK TABLES").as_bytes()).is_empty());
}

#[test]
fn quoted_parts_that_join_into_an_e_mail_shape_name_no_table() {
    // Found by the agent_sql fuzz target: `d@b`.`sal...` passes the check as a fingerprint,
    // but the joined name `d@b.sal...` has an e-mail shape.
    let fingerprint = fp("se8ect * from `d@b`.`salCKC o join* from `db`.`sales_r`");
    assert!(passes_mask(fingerprint.as_bytes()), "{fingerprint}");
    let found = tables(fingerprint.as_bytes());
    assert!(
        found
            .iter()
            .all(|t| passes_mask(t.as_bytes()) && !t.contains(' ')),
        "{found:?}"
    );
    assert_eq!(
        tables(fp("SELECT * FROM `db`.`sales_order`").as_bytes()),
        vec!["db.sales_order"]
    );
}

#[test]
fn the_update_of_on_duplicate_key_update_names_no_table() {
    assert_eq!(
        tables(
            fp("INSERT INTO `customer_grid_flat` (`entity_id`, `email`) VALUES (1, 'a@b.c') ON DUPLICATE KEY UPDATE `email` = VALUES(`email`)")
                .as_bytes()
        ),
        vec!["customer_grid_flat"]
    );
    assert_eq!(
        tables(fp("SELECT * FROM quote WHERE entity_id = 5 FOR UPDATE NOWAIT").as_bytes()),
        vec!["quote"]
    );
    assert_eq!(
        tables(fp("CREATE TABLE t (u TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)").as_bytes()),
        vec!["t"]
    );
}

#[test]
fn statements_are_classified() {
    let class = |q: &str| classify(q.as_bytes(), fp(q).as_bytes());
    assert_eq!(
        class("SET GLOBAL server_audit_logging=OFF"),
        StatementClass::LoggingDisabled
    );
    assert_eq!(
        class("SET GLOBAL general_log = 0"),
        StatementClass::LoggingDisabled
    );
    assert_eq!(
        class("SET GLOBAL general_log_file = '/tmp/x'"),
        StatementClass::Plain
    );
    assert_eq!(
        class("SET sql_log_off = ON"),
        StatementClass::LoggingDisabled
    );
    assert_eq!(
        class("SELECT * FROM customer_entity INTO OUTFILE '/tmp/c.csv'"),
        StatementClass::IntoOutfile
    );
    assert_eq!(
        class("CREATE USER 'm'@'%' IDENTIFIED BY 'Secr3t!pw'"),
        StatementClass::AccountChange
    );
    assert_eq!(
        class("SELECT /*!40001 SQL_NO_CACHE */ `entity_id` FROM `customer_entity`"),
        StatementClass::Dump
    );
    assert!(is_sensitive_table("magento.admin_user"));
    assert!(is_sensitive_table("mg_core_config_data"));
    assert!(!is_sensitive_table("admin_user_extra"));
}

#[test]
fn account_fingerprints_are_cut_after_identified() {
    let mut fingerprint =
        fp("ALTER USER 'm'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('x')").into_bytes();
    redact_account_fingerprint(&mut fingerprint);
    assert_eq!(fingerprint, b"alter user ?@? identified ?");
}

#[test]
fn odd_bytes_never_panic() {
    for query in [
        &b"'"[..],
        b"\"",
        b"/*",
        b"--",
        b"#",
        b"-",
        b"\\",
        b"'\\",
        b"\xff\xfe'\x00",
        b"call (",
        b"INSERT INTO",
    ] {
        let _ = fingerprint(query);
    }
}
