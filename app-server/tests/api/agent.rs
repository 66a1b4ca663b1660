//! Host agent ingest: enrollment, zstd batches, exactly-once storage under concurrency, the
//! zip-bomb cap, overload answers, the tenant's agent view, revocation and the CLI tokens.

use leakguard_domain::agent_wire::{
    Batch, Principal, Record, SecurityEvent, SecurityEventKind, SourceKind, SourceRef,
    SqlAggregate, bearer_token,
};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestTenant, spawn_app, spawn_app_with};

pub struct Agent {
    pub id: String,
    pub bearer: String,
}

pub async fn agent_token(app: &TestApp, t: &TestTenant) -> String {
    let res = app
        .post_json("/api/v1/agent/enrollment-tokens", &t.key, json!({}))
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn enroll_agent(app: &TestApp, t: &TestTenant) -> Agent {
    let token = agent_token(app, t).await;
    let res = app
        .client
        .post(app.url("/api/v1/agent/enroll"))
        .json(&json!({"token": token, "hostname": "db-1", "agent_version": "0.1.0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let id = body["agent_id"].as_str().unwrap().to_owned();
    let credential = body["credential"].as_str().unwrap();
    Agent {
        bearer: bearer_token(&id, credential),
        id,
    }
}

pub fn batch(agent: &str, start: u64, rows_sent: u64) -> Batch {
    Batch {
        schema: 1,
        agent_id: agent.to_owned(),
        batch_id: uuid::Uuid::new_v4().to_string(),
        source: SourceRef {
            file_id: "2049:77:00ff00ff00ff00ff".into(),
            path: "/var/log/mysql/slow.log".into(),
            kind: SourceKind::MariadbSlow,
        },
        start_offset: start,
        end_offset: start + 100,
        lines: 4,
        records: vec![
            Record::SqlAggregate(SqlAggregate {
                minute: Some("2026-11-28T08:18:00Z".into()),
                principal: Principal {
                    db_user: Some("magento".into()),
                    admin_user_id: Some("12".into()),
                    ..Principal::default()
                },
                db_user: Some("magento".into()),
                query_id: "0123456789ABCDEF".into(),
                fingerprint: Some("select * from customer_entity where entity_id = ?".into()),
                tables: vec!["customer_entity".into()],
                count: 2,
                rows_sent: Some(rows_sent),
                rows_examined: Some(rows_sent * 2),
                query_time_s: Some(0.25),
                masked: false,
                truncated: false,
            }),
            Record::SecurityEvent(SecurityEvent {
                kind: SecurityEventKind::DbIntoOutfile,
                ts: Some("2026-11-28T08:18:05Z".into()),
                principal: Principal {
                    db_user: Some("magento".into()),
                    db_host: Some("10.0.0.5".into()),
                    ..Principal::default()
                },
                ip: None,
                forwarded_ip: None,
                query_id: Some("FEDCBA9876543210".into()),
                fingerprint: None,
                tables: vec!["customer_entity".into()],
                entity_type: None,
                entity_ids: vec![],
                count: None,
                result: None,
                request_id: None,
                details: Default::default(),
            }),
        ],
    }
}

pub fn zstd(value: &impl serde::Serialize) -> Vec<u8> {
    zstd::encode_all(&serde_json::to_vec(value).unwrap()[..], 3).unwrap()
}

pub async fn post_batch(app: &TestApp, bearer: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/agent/batches"))
        .bearer_auth(bearer)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "zstd")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn aggregate_counts(app: &TestApp) -> Vec<(i64, i64)> {
    use sea_orm::EntityTrait;
    app_server::db::entities::agent_aggregates::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.count, a.rows_sent))
        .collect()
}

async fn an_agent_enrolls_and_its_batches_are_stored_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app
        .create_magento_tenant("https://agent-shop.example")
        .await;
    let agent = enroll_agent(&app, &t).await;
    let mut first = serde_json::to_value(batch(&agent.id, 0, 10)).unwrap();
    first["spool"] = json!({"bytes": 4096, "batches": 3});
    let res = post_batch(&app, &agent.bearer, zstd(&first)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"accepted": 2, "duplicate": false, "rejected": 0})
    );
    // Sent again (lost answer): acknowledged as a duplicate, nothing added.
    app.settle_detection().await;
    let audit = app.audit_count(t.id).await;
    let res = post_batch(&app, &agent.bearer, zstd(&first)).await;
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"accepted": 0, "duplicate": true, "rejected": 0})
    );
    assert_eq!(aggregate_counts(&app).await, vec![(2, 10)]);
    assert_eq!(app.count_rows("signals", t.id).await, 1);
    assert_eq!(app.audit_count(t.id).await, audit);
    // The next range adds into the same aggregate.
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 100, 5))).await;
    assert_eq!(res.json::<Value>().await.unwrap()["duplicate"], false);
    assert_eq!(aggregate_counts(&app).await, vec![(4, 15)]);
    assert_eq!(app.count_rows("signals", t.id).await, 2);
    assert_eq!(app.count_rows("agent_batches", t.id).await, 2);

    let agents: Vec<Value> = app
        .get("/api/v1/agents", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agents.len(), 1);
    let a = &agents[0];
    assert_eq!(a["id"], agent.id);
    assert_eq!(a["hostname"], "db-1");
    assert_eq!(a["batches"], 2);
    assert_eq!(a["duplicates"], 1);
    assert_eq!(a["records"], 4);
    assert_eq!(a["spool_bytes"], 4096);
    assert_eq!(a["spool_batches"], 3);
    assert!(a["lag_ms"].as_i64().unwrap() > 0);
    let last_seen = a["last_seen_at"].as_str().expect("an RFC 3339 time");
    assert!(
        app_server::api_time::parse(last_seen).unwrap() > 0,
        "{last_seen}"
    );
    let one = app
        .get(&format!("/api/v1/agents/{}", agent.id), &t.key)
        .await;
    assert_eq!(one.status(), 200);

    // Revoked: the credential stops working; the token cannot enroll twice.
    let res = app
        .post_json(
            &format!("/api/v1/agents/{}/revoke", agent.id),
            &t.key,
            json!({}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "revoked");
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 200, 1))).await;
    assert_eq!(res.status(), 401);
}

async fn ten_concurrent_deliveries_of_one_batch_store_it_once(backend: Backend) {
    // Room for all ten at once, so they really race.
    let app = spawn_app_with(backend, |s| {
        s.ingest.max_in_flight = 10;
        s.ingest.per_tenant_in_flight = 10;
    })
    .await;
    let t = app.create_magento_tenant("https://race-shop.example").await;
    let agent = enroll_agent(&app, &t).await;
    let body = zstd(&batch(&agent.id, 4096, 7));
    let sends = (0..10).map(|_| post_batch(&app, &agent.bearer, body.clone()));
    let answers = futures::future::join_all(sends).await;
    let mut fresh = 0;
    for res in answers {
        assert_eq!(res.status(), 200);
        let ack: Value = res.json().await.unwrap();
        if ack["duplicate"] == false {
            fresh += 1;
            assert_eq!(ack["accepted"], 2);
        } else {
            assert_eq!(ack["accepted"], 0);
        }
    }
    assert_eq!(fresh, 1);
    assert_eq!(app.count_rows("agent_batches", t.id).await, 1);
    assert_eq!(app.count_rows("signals", t.id).await, 1);
    assert_eq!(aggregate_counts(&app).await, vec![(2, 7)]);
    let agents: Vec<Value> = app
        .get("/api/v1/agents", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agents[0]["batches"], 1);
    assert_eq!(agents[0]["duplicates"], 9);
}

async fn bombs_odd_encodings_and_bad_batches_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant("https://bomb-shop.example").await;
    let agent = enroll_agent(&app, &t).await;
    let audit = app.audit_count(t.id).await;
    // 80 MiB of JSON whitespace compresses to a few KiB; the cap is 64 MiB.
    let mut padded = serde_json::to_vec(&batch(&agent.id, 0, 1)).unwrap();
    padded.splice(1..1, std::iter::repeat_n(b' ', 80 * 1024 * 1024));
    let bomb = zstd::encode_all(&padded[..], 1).unwrap();
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let res = post_batch(&app, &agent.bearer, bomb).await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "payload_too_large"
    );

    let plain = serde_json::to_vec(&batch(&agent.id, 0, 1)).unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/agent/batches"))
        .bearer_auth(&agent.bearer)
        .header("Content-Encoding", "br")
        .body(plain.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = post_batch(&app, &agent.bearer, b"not a zstd frame".to_vec()).await;
    assert_eq!(res.status(), 400);
    let res = post_batch(&app, &agent.bearer, zstd(&json!({"schema": 1}))).await;
    assert_eq!(res.status(), 400);
    let mut wrong_agent = batch(&uuid::Uuid::now_v7().to_string(), 0, 1);
    let res = post_batch(&app, &agent.bearer, zstd(&wrong_agent)).await;
    assert_eq!(res.status(), 400);
    wrong_agent.agent_id = agent.id.clone();
    wrong_agent.end_offset = wrong_agent.start_offset;
    let res = post_batch(&app, &agent.bearer, zstd(&wrong_agent)).await;
    assert_eq!(res.status(), 400);
    let mut schema2 = batch(&agent.id, 0, 1);
    schema2.schema = 2;
    assert_eq!(
        post_batch(&app, &agent.bearer, zstd(&schema2))
            .await
            .status(),
        400
    );
    let forged = bearer_token(&agent.id, "lgac_forged");
    assert_eq!(
        post_batch(&app, &forged, zstd(&batch(&agent.id, 0, 1)))
            .await
            .status(),
        401
    );
    let res = app
        .client
        .post(app.url("/api/v1/agent/batches"))
        .body(zstd(&batch(&agent.id, 0, 1)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    assert_eq!(app.count_rows("agent_batches", t.id).await, 0);
    assert_eq!(app.count_rows("agent_aggregates", t.id).await, 0);
    assert_eq!(app.count_rows("signals", t.id).await, 0);
    assert_eq!(app.audit_count(t.id).await, audit);
    // The same batch, well-formed, is then accepted.
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 0, 1))).await;
    assert_eq!(res.status(), 200);
}

async fn an_overloaded_server_answers_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.ingest.max_in_flight = 1;
        s.ingest.per_tenant_in_flight = 1;
        s.ingest.retry_after_secs = 7;
    })
    .await;
    let t = app.create_magento_tenant("https://busy-shop.example").await;
    let agent = enroll_agent(&app, &t).await;
    // Another tenant's batch holds the only slot of the process.
    let held = app.state.ingest_gate.admit(uuid::Uuid::now_v7()).unwrap();
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 0, 1))).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "rate_limited");
    assert_eq!(app.count_rows("agent_batches", t.id).await, 0);
    drop(held);
    let res = post_batch(&app, &agent.bearer, zstd(&batch(&agent.id, 0, 1))).await;
    assert_eq!(res.status(), 200);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("leakguard_agent_batches_total{outcome=\"busy\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("leakguard_agent_batches_total{outcome=\"stored\"} 1"),
        "{metrics}"
    );
}

async fn agent_tokens_are_single_use_and_expire(backend: Backend) {
    use app_server::enrollment::{TokenKind, issue};
    use leakguard_domain::agent_wire::EnrollRequest;
    let app = spawn_app(backend).await;
    let t = app
        .create_magento_tenant("https://token-shop.example")
        .await;
    let ctx = app_server::tenancy::TenantCtx::system(leakguard_domain::ids::TenantId(t.id), "test");
    let t0 = 1_800_000_000_000i64;
    let hour = 3_600_000;
    let issued = issue(&app.state.db, &ctx, TokenKind::Agent, hour, t0)
        .await
        .unwrap();
    let request = EnrollRequest {
        token: secrecy::ExposeSecret::expose_secret(&issued.token).to_owned(),
        hostname: "web-1".into(),
        agent_version: "0.1.0".into(),
    };
    let enroll = |now: i64| app_server::ingest::agents::enroll(&app.state.db, &request, now);
    assert!(matches!(
        enroll(t0 + hour).await,
        Err(app_server::ingest::IngestError::Unauthorized(_))
    ));
    assert!(enroll(t0 + hour - 1).await.is_ok());
    assert!(matches!(
        enroll(t0 + 1).await,
        Err(app_server::ingest::IngestError::Unauthorized(_))
    ));
    // Five agents racing for one token: exactly one enrolls.
    let racing = issue(
        &app.state.db,
        &ctx,
        TokenKind::Agent,
        hour,
        app_server::db::now_ms(),
    )
    .await
    .unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&racing.token).to_owned();
    let sends = (0..5).map(|i| {
        app.client
            .post(app.url("/api/v1/agent/enroll"))
            .json(&json!({"token": token, "hostname": format!("h{i}"), "agent_version": "0.1.0"}))
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        4,
        "{statuses:?}"
    );
    // A module token is no agent token, and HTTP says 401 for a used one.
    let res = app
        .client
        .post(app.url("/api/v1/agent/enroll"))
        .json(&json!({"token": request.token, "hostname": "web-1", "agent_version": "0.1.0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let agents: Vec<Value> = app
        .get("/api/v1/agents", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agents.len(), 2);
}

async fn the_cli_prints_enrollment_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant("https://cli-shop.example").await;
    let out = app.cli(&["agent", "token", "--tenant", "https://cli-shop.example"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = printed["token"].as_str().unwrap();
    assert!(token.starts_with("lgae_"));
    let res = app
        .client
        .post(app.url("/api/v1/agent/enroll"))
        .json(&json!({"token": token, "hostname": "h", "agent_version": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let out = app.cli(&["tenant", "enroll-token", "--tenant", &t.id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = printed["token"].as_str().unwrap();
    let res = app.client.post(app.url("/api/v1/magento/enroll"))
        .json(&json!({"enrollment_token": token, "base_url": "https://cli-shop.example", "module_version": "1.0.0"}))
        .send().await.unwrap();
    assert_eq!(res.status(), 200);
    let shop = app.create_tenant("cli.myshopify.com").await;
    let out = app.cli(&["tenant", "enroll-token", "--tenant", &shop.id.to_string()]);
    assert!(!out.status.success());
}

async fn a_large_batch_is_stored_whole_in_one_go(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant("https://big-shop.example").await;
    let agent = enroll_agent(&app, &t).await;
    let template = batch(&agent.id, 0, 1);
    let mut big = template.clone();
    big.records.clear();
    for i in 0..5000u64 {
        let mut r = template.records[0].clone();
        if let Record::SqlAggregate(a) = &mut r {
            a.query_id = format!("{i:016X}");
        }
        big.records.push(r);
    }
    for _ in 0..500 {
        big.records.push(template.records[1].clone());
    }
    let body = zstd(&big);
    let started = std::time::Instant::now();
    let res = post_batch(&app, &agent.bearer, body.clone()).await;
    let elapsed = started.elapsed();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["accepted"], 5500);
    let started = std::time::Instant::now();
    let again = post_batch(&app, &agent.bearer, body.clone()).await;
    let dup_elapsed = started.elapsed();
    assert_eq!(again.json::<Value>().await.unwrap()["duplicate"], true);
    assert_eq!(app.count_rows("agent_aggregates", t.id).await, 5000);
    assert_eq!(app.count_rows("signals", t.id).await, 500);
    eprintln!(
        "{backend:?}: batch of 5,500 records ({} bytes zstd) stored in {elapsed:?}; duplicate answered in {dup_elapsed:?}",
        body.len()
    );
}

/// The agent's own code (enrollment, record pipeline, encoding, sending) against this server.
async fn the_real_agent_enrolls_and_ships_to_this_server(backend: Backend) {
    use agent::ship::{SendOutcome, enroll, http_client, send_batch};
    let app = spawn_app_with(backend, |s| s.ingest.retry_after_secs = 9).await;
    let t = app
        .create_magento_tenant("https://real-agent.example")
        .await;
    let token = agent_token(&app, &t).await;
    let state_dir = tempfile::tempdir().unwrap();
    let client = http_client(None).unwrap();
    let credential = enroll(&client, &app.address, &token, state_dir.path())
        .await
        .unwrap();
    assert!(
        enroll(&client, &app.address, &token, state_dir.path())
            .await
            .is_err(),
        "single use"
    );

    let log =
        b"/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:\n\
Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n\
Time\t\t    Id Command\tArgument\n\
261128  8:18:01\t   12 Connect\tmagento@localhost on magento using Socket\n\
\t\t   12 Query\tSELECT * FROM customer_entity WHERE entity_id = 42\n\
\t\t   12 Query\tSELECT * FROM customer_entity WHERE entity_id = 43\n\
\t\t   12 Query\tSELECT email FROM customer_entity INTO OUTFILE '/tmp/x.csv'\n";
    let records = agent::inspect::records_for(
        SourceKind::MariadbGeneral,
        log,
        &agent::parse::ParserOptions::default(),
        1024 * 1024,
    );
    assert!(!records.is_empty());
    let wire = Batch {
        schema: 1,
        agent_id: credential.agent_id.clone(),
        batch_id: uuid::Uuid::new_v4().to_string(),
        source: SourceRef {
            file_id: "2049:99:0123456789abcdef".into(),
            path: "/var/log/mysql/general.log".into(),
            kind: SourceKind::MariadbGeneral,
        },
        start_offset: 0,
        end_offset: log.len() as u64,
        lines: 7,
        records: records.clone(),
    };
    let body = zstd::bulk::compress(&serde_json::to_vec(&wire).unwrap(), 3).unwrap();
    assert_eq!(
        send_batch(&client, &credential, body.clone()).await,
        SendOutcome::Delivered { duplicate: false }
    );
    assert_eq!(
        send_batch(&client, &credential, body.clone()).await,
        SendOutcome::Delivered { duplicate: true }
    );
    let held: Vec<_> = (0..app.state.settings.ingest.max_in_flight)
        .map(|_| app.state.ingest_gate.admit(uuid::Uuid::now_v7()).unwrap())
        .collect();
    assert_eq!(
        send_batch(&client, &credential, body.clone()).await,
        SendOutcome::Retry(Some(std::time::Duration::from_secs(9)))
    );
    drop(held);
    let mut bad = wire.clone();
    bad.start_offset = 10;
    bad.end_offset = 10;
    let bad = zstd::bulk::compress(&serde_json::to_vec(&bad).unwrap(), 3).unwrap();
    assert_eq!(
        send_batch(&client, &credential, bad).await,
        SendOutcome::Rejected(400)
    );
    let agents: Vec<Value> = app
        .get("/api/v1/agents", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agents[0]["records"], records.len() as u64);
    let outfile = records.iter().any(
        |r| matches!(r, Record::SecurityEvent(e) if e.kind == SecurityEventKind::DbIntoOutfile),
    );
    assert!(
        outfile,
        "the agent reports SELECT … INTO OUTFILE: {records:?}"
    );
    assert_eq!(app.count_rows("signals", t.id).await, 1);
    assert!(app.count_rows("agent_aggregates", t.id).await >= 1);
}

crate::on_both_backends!(
    the_real_agent_enrolls_and_ships_to_this_server,
    a_large_batch_is_stored_whole_in_one_go,
    an_agent_enrolls_and_its_batches_are_stored_exactly_once,
    ten_concurrent_deliveries_of_one_batch_store_it_once,
    bombs_odd_encodings_and_bad_batches_change_nothing,
    an_overloaded_server_answers_429_with_retry_after,
    agent_tokens_are_single_use_and_expire,
    the_cli_prints_enrollment_tokens,
);
