//! Agent ingest under a hostile or broken agent: one tenant's slots and quota, the body
//! deadline, the record cap, and the masking check the server applies again to every record.

use leakguard_domain::agent_wire::{
    AppLogAggregate, HttpAggregate, Principal, Record, SecurityEvent, SecurityEventKind,
};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::agent::{batch, enroll_agent, post_batch, zstd};
use crate::helpers::{Backend, TestApp, spawn_app_with};

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Sends headers and the start of a body that never finishes; returns the first line of the
/// answer (or "" when none came within `wait`).
async fn held_body(app: &TestApp, bearer: &str, wait: Duration) -> String {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/agent/batches HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {bearer}\r\nContent-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n{{\"schema\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(wait, stream.read(&mut buf))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

async fn a_tenant_holding_its_slots_is_told_to_wait_and_others_are_served(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.ingest.max_in_flight = 3;
        s.ingest.per_tenant_in_flight = 2;
        s.ingest.retry_after_secs = 4;
        s.ingest.body_timeout_secs = 1;
    })
    .await;
    let greedy = app.create_magento_tenant("https://greedy.example").await;
    let other = app.create_magento_tenant("https://other.example").await;
    let greedy_agent = enroll_agent(&app, &greedy).await;
    let other_agent = enroll_agent(&app, &other).await;

    // The greedy tenant's two slots are held (as by two slow uploads).
    let held: Vec<_> = (0..2)
        .map(|_| app.state.ingest_gate.admit(greedy.id).unwrap())
        .collect();
    let res = post_batch(
        &app,
        &greedy_agent.bearer,
        zstd(&batch(&greedy_agent.id, 0, 1)),
    )
    .await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "4");
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "tenant_busy");
    assert_eq!(app.count_rows("agent_batches", greedy.id).await, 0);
    let res = post_batch(
        &app,
        &other_agent.bearer,
        zstd(&batch(&other_agent.id, 0, 1)),
    )
    .await;
    assert_eq!(res.status(), 200, "another tenant keeps its share");
    drop(held);

    // A real slow body: answered 408 after the deadline, and its slot comes back.
    let first_line = held_body(&app, &greedy_agent.bearer, Duration::from_secs(10)).await;
    assert!(first_line.starts_with("HTTP/1.1 408"), "{first_line:?}");
    let res = post_batch(
        &app,
        &greedy_agent.bearer,
        zstd(&batch(&greedy_agent.id, 0, 1)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let metrics = metrics(&app).await;
    for outcome in ["tenant_busy", "timeout"] {
        assert!(
            metrics.contains(&format!(
                "leakguard_agent_batches_total{{outcome=\"{outcome}\"}} 1"
            )),
            "{outcome}: {metrics}"
        );
    }
    assert_eq!(app.state.ingest_gate.tenants_in_flight(), 0);
}

async fn an_unauthenticated_upload_takes_no_slot_and_reads_no_body(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.ingest.max_in_flight = 1;
        s.ingest.per_tenant_in_flight = 1;
    })
    .await;
    let t = app.create_magento_tenant("https://door.example").await;
    let agent = enroll_agent(&app, &t).await;
    // A held body without a valid credential is answered at once, before its body.
    let bogus = format!("{}.{}", agent.id, "x".repeat(43));
    let first_line = held_body(&app, &bogus, Duration::from_secs(5)).await;
    assert!(first_line.starts_with("HTTP/1.1 401"), "{first_line:?}");
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 0, 1))).await;
    assert_eq!(res.status(), 200);
}

fn personal_records() -> Vec<Record> {
    let mut records = batch("x", 0, 1).records;
    // A fingerprint with an e-mail address.
    if let Record::SqlAggregate(a) = &mut records[0] {
        a.fingerprint =
            Some("select * from customer_entity where email = 'ann.lee@mailbox.example'".into());
    }
    // A card number in an event's details.
    let mut details = serde_json::Map::new();
    details.insert("note".into(), Value::from("card 4111 1111 1111 1111"));
    records.push(Record::SecurityEvent(SecurityEvent {
        kind: SecurityEventKind::AdminGridExport,
        ts: Some("2026-11-28T08:19:00Z".into()),
        principal: Principal {
            admin_user_id: Some("3".into()),
            ..Principal::default()
        },
        ip: None,
        forwarded_ip: None,
        query_id: None,
        fingerprint: None,
        tables: vec![],
        entity_type: None,
        entity_ids: vec![],
        count: None,
        result: None,
        request_id: None,
        details: details.into_iter().collect(),
    }));
    // A password in a route.
    records.push(Record::HttpAggregate(HttpAggregate {
        minute: Some("2026-11-28T08:19:00Z".into()),
        area: "admin".into(),
        method: "GET".into(),
        route: "/admin/login?password=hunter2".into(),
        status: 200,
        ip: "10.0.0.9".into(),
        count: 1,
        bytes: 100,
        max_page_size: None,
    }));
    // An SSN in a log template.
    records.push(Record::AppLogAggregate(AppLogAggregate {
        minute: Some("2026-11-28T08:19:00Z".into()),
        channel: "main".into(),
        level: "info".into(),
        template: Some("customer 078-05-1120 saved".into()),
        template_id: "00000000000000AA".into(),
        count: 1,
    }));
    // And one clean record.
    records.push(Record::AppLogAggregate(AppLogAggregate {
        minute: Some("2026-11-28T08:19:00Z".into()),
        channel: "cron".into(),
        level: "info".into(),
        template: Some("cron job sales_clean_quotes ran".into()),
        template_id: "00000000000000BB".into(),
        count: 1,
    }));
    records
}

async fn records_with_personal_data_are_refused_counted_and_never_stored(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let t = app
        .create_magento_tenant("https://leaky-agent.example")
        .await;
    let agent = enroll_agent(&app, &t).await;
    let mut body = batch(&agent.id, 0, 1);
    body.records = personal_records();
    let total = body.records.len() as u64;
    let res = post_batch(&app, &agent.bearer, zstd(&body)).await;
    assert_eq!(res.status(), 200);
    let ack: Value = res.json().await.unwrap();
    assert_eq!(ack["rejected"], 4, "{ack}");
    assert_eq!(ack["accepted"], total - 4, "{ack}");

    // Nothing of what was refused reached a table.
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let mut stored = String::new();
    for sql in [
        "SELECT subject || ' ' || detail || ' ' || principal FROM agent_aggregates",
        "SELECT payload FROM signals",
        "SELECT details FROM audit_entries",
    ] {
        for row in db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
        {
            stored.push_str(&row.try_get_by_index::<String>(0).unwrap());
            stored.push('\n');
        }
    }
    for secret in ["ann.lee", "4111", "hunter2", "078-05-1120"] {
        assert!(!stored.contains(secret), "{secret} was stored");
    }
    assert!(
        stored.contains("sales_clean_quotes"),
        "the clean record is stored"
    );
    let metrics = metrics(&app).await;
    for field in ["fingerprint", "details", "route", "template"] {
        assert!(
            metrics.contains(&format!(
                "leakguard_agent_records_rejected_total{{field=\"{field}\"}} 1"
            )),
            "{field}: {metrics}"
        );
    }
}

async fn the_daily_quota_stops_a_tenant_until_midnight_and_no_other(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.ingest.daily_records_per_tenant = 3).await;
    let t = app.create_magento_tenant("https://quota.example").await;
    let other = app
        .create_magento_tenant("https://quota-other.example")
        .await;
    let agent = enroll_agent(&app, &t).await;
    let other_agent = enroll_agent(&app, &other).await;
    // Two records fit; two more do not.
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 0, 1))).await;
    assert_eq!(res.status(), 200);
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 100, 1))).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "quota_exceeded");
    assert_eq!(app.count_rows("agent_batches", t.id).await, 1);
    assert_eq!(app.count_rows("signals", t.id).await, 1);
    let res = post_batch(
        &app,
        &other_agent.bearer,
        zstd(&batch(&other_agent.id, 0, 1)),
    )
    .await;
    assert_eq!(res.status(), 200, "another tenant has its own quota");
    // The refused batch was not remembered as delivered: it is refused again, not taken for
    // a duplicate, until the reset.
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 100, 1))).await;
    assert_eq!(res.status(), 429, "still the same day");
}

async fn a_batch_over_the_record_cap_is_refused_before_it_is_stored(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let t = app
        .create_magento_tenant("https://many-records.example")
        .await;
    let agent = enroll_agent(&app, &t).await;
    let mut body = batch(&agent.id, 0, 1);
    let record = body.records[0].clone();
    body.records = vec![record; app_server::ingest::decode::MAX_RECORDS + 1];
    let res = post_batch(&app, &agent.bearer, zstd(&body)).await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "payload_too_large"
    );
    assert_eq!(app.count_rows("agent_batches", t.id).await, 0);
    assert_eq!(app.count_rows("agent_aggregates", t.id).await, 0);
}

crate::on_both_backends!(
    a_tenant_holding_its_slots_is_told_to_wait_and_others_are_served,
    an_unauthenticated_upload_takes_no_slot_and_reads_no_body,
    records_with_personal_data_are_refused_counted_and_never_stored,
    the_daily_quota_stops_a_tenant_until_midnight_and_no_other,
    a_batch_over_the_record_cap_is_refused_before_it_is_stored,
);
