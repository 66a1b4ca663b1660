//! Parser and fingerprinter throughput: `cargo bench -p agent --bench parsers`.

use std::hint::black_box;

use agent::inspect::records_for;
use agent::parse::ParserOptions;
use agent::sql::{Fingerprinter, query_id};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakguard_domain::agent_wire::SourceKind;

const STATEMENTS: &[&str] = &[
    "SELECT `main_table`.* FROM `customer_entity` AS `main_table` WHERE (email LIKE '%@example.com') LIMIT 20",
    "SELECT e.email, a.city, a.region, a.telephone FROM customer_entity e JOIN customer_address_entity a ON a.parent_id = e.entity_id WHERE a.region = 'California'",
    "INSERT INTO `sales_order_grid` (`entity_id`, `status`, `store_id`, `customer_email`) VALUES (1001, 'pending', 1, 'jane@example.com'), (1002, 'complete', 1, 'john@example.com')",
    "UPDATE `quote` SET `updated_at` = '2026-11-28 08:18:01', `items_count` = 3 WHERE (entity_id = 42) /*lg_admin='12',lg_route='sales_order_view',lg_req='abc'*/",
    "SELECT `e`.* FROM `catalog_product_entity` AS `e` WHERE (`e`.`entity_id` IN(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)) ORDER BY `e`.`entity_id` ASC LIMIT 100 OFFSET 200",
];

fn general_log(lines: usize) -> Vec<u8> {
    let mut text = String::from(
        "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:\nTcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\nTime\t\t    Id Command\tArgument\n261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n",
    );
    for i in 0..lines {
        let statement = STATEMENTS[i % STATEMENTS.len()].replace("42", &i.to_string());
        text.push_str(&format!("\t\t    10 Query\t{statement}\n"));
    }
    text.into_bytes()
}

fn slow_log(entries: usize) -> Vec<u8> {
    let mut text = String::new();
    for i in 0..entries {
        let statement = STATEMENTS[i % STATEMENTS.len()].replace("42", &i.to_string());
        text.push_str(&format!(
            "# User@Host: magento[magento] @  [127.0.0.1]\n# Thread_id: 10  Schema: magento  QC_hit: No\n# Query_time: 0.000267  Lock_time: 0.000148  Rows_sent: 1  Rows_examined: {i}\n# Rows_affected: 0  Bytes_sent: 373\nSET timestamp={};\n{statement};\n",
            1_795_853_881 + i / 100
        ));
    }
    text.into_bytes()
}

fn benches(c: &mut Criterion) {
    let total: usize = STATEMENTS.iter().map(|s| s.len()).sum();
    let mut group = c.benchmark_group("fingerprint");
    group.throughput(Throughput::Bytes(total as u64));
    let mut fingerprinter = Fingerprinter::new();
    group.bench_function("magento statements", |b| {
        b.iter(|| {
            for statement in STATEMENTS {
                black_box(
                    fingerprinter
                        .fingerprint(black_box(statement.as_bytes()))
                        .len(),
                );
            }
        })
    });
    group.bench_function("magento statements + query id", |b| {
        b.iter(|| {
            for statement in STATEMENTS {
                let fingerprint = fingerprinter
                    .fingerprint(black_box(statement.as_bytes()))
                    .to_vec();
                black_box(query_id(&fingerprint));
            }
        })
    });
    group.finish();

    let options = ParserOptions::default();
    let general = general_log(10_000);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(general.len() as u64));
    group.bench_function("general log 10k lines", |b| {
        b.iter(|| {
            black_box(records_for(SourceKind::MariadbGeneral, &general, &options, 1 << 20).len())
        })
    });
    let slow = slow_log(2_000);
    group.throughput(Throughput::Bytes(slow.len() as u64));
    group.bench_function("slow log 2k entries", |b| {
        b.iter(|| black_box(records_for(SourceKind::MariadbSlow, &slow, &options, 1 << 20).len()))
    });
    group.finish();
}

criterion_group!(parsers, benches);
criterion_main!(parsers);
