//! Splunk HEC and signed webhooks against local receivers that follow the documented
//! protocols: the fake HEC checks `Authorization: Splunk <token>` (401 code 2 without one, 403
//! code 4 for a wrong one), reads concatenated JSON envelopes (400 code 6 when one lacks `event`
//! or `time`) and answers `{"text":"Success","code":0}`; the webhook receiver verifies
//! `X-LeakGuard-Signature` with the recipe in the README (HMAC-SHA256 over `<t>.<raw body>`,
//! constant-time compare, five-minute window); the fake ServiceNow keeps `incident` records
//! behind Basic auth (401 with ServiceNow's error body otherwise), answers the Table API's
//! `sysparm_query=correlation_id=…` search, `POST` (201 with `Location` and `result`) and
//! `PATCH` of one record (404 for an unknown `sys_id`).

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use app_server::outbox::{Event, EventType, Recipients, Severity};
use hmac::{Hmac, KeyInit, Mac};
use leakguard_domain::ids::TenantId;
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::helpers::{Backend, TestApp, TestTenant, spawn_app_with};

const HEC_TOKEN: &str = "8d6c1a4e-0000-4000-8000-000000000042";
const WEBHOOK_KEY: &str = "whsec-test-signing-key";

const SN_USER: &str = "leakguard.integration";
const SN_PASSWORD: &str = "sn-password-123";

#[derive(Default)]
struct Received {
    incidents: Vec<serde_json::Value>,
    hec_requests: usize,
    hec_events: Vec<serde_json::Value>,
    webhooks: Vec<serde_json::Value>,
}

type Shared = web::Data<Arc<Mutex<Received>>>;

async fn hec(state: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let answer = |status: u16, text: &str, code: i64| {
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
            .json(serde_json::json!({"text": text, "code": code}))
    };
    let Some(auth) = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return answer(401, "Token is required", 2);
    };
    if auth != format!("Splunk {HEC_TOKEN}") {
        return answer(403, "Invalid token", 4);
    }
    let mut events = Vec::new();
    for envelope in serde_json::Deserializer::from_slice(&body).into_iter::<serde_json::Value>() {
        let Ok(envelope) = envelope else {
            return answer(400, "Invalid data format", 6);
        };
        if envelope["event"].is_null() || !envelope["time"].is_number() {
            return answer(400, "Invalid data format", 6);
        }
        events.push(envelope);
    }
    if events.is_empty() {
        return answer(400, "No data", 5);
    }
    let mut s = state.lock().unwrap();
    s.hec_requests += 1;
    s.hec_events.extend(events);
    answer(200, "Success", 0)
}

/// The verification recipe of the README, written here independently of the server's code.
fn signature_valid(header: &str, body: &[u8], key: &[u8], now_secs: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now_secs - t).abs() > 300 {
        return false;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

async fn webhook(state: Shared, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let header = req
        .headers()
        .get("X-LeakGuard-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !signature_valid(
        header,
        &body,
        WEBHOOK_KEY.as_bytes(),
        app_server::db::now_ms() / 1000,
    ) {
        return HttpResponse::Unauthorized().body("bad signature");
    }
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        req.headers()
            .get("X-LeakGuard-Event-Id")
            .unwrap()
            .to_str()
            .unwrap(),
        event["id"].as_str().unwrap()
    );
    state.lock().unwrap().webhooks.push(event);
    HttpResponse::NoContent().finish()
}

fn sn_error(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(serde_json::json!({"error": {"message": message, "detail": ""}, "status": "failure"}))
}

fn sn_authorised(req: &HttpRequest) -> bool {
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SN_USER}:{SN_PASSWORD}"))
    );
    req.headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

async fn sn_search(
    state: Shared,
    req: HttpRequest,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    if !sn_authorised(&req) {
        return sn_error(401, "User Not Authenticated");
    }
    let wanted = query
        .get("sysparm_query")
        .and_then(|q| q.strip_prefix("correlation_id="))
        .unwrap_or_default()
        .to_owned();
    let limit: usize = query
        .get("sysparm_limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10_000);
    let s = state.lock().unwrap();
    let result: Vec<&serde_json::Value> = s
        .incidents
        .iter()
        .filter(|i| i["correlation_id"] == wanted.as_str())
        .take(limit)
        .collect();
    HttpResponse::Ok().json(serde_json::json!({"result": result}))
}

async fn sn_create(
    state: Shared,
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    if !sn_authorised(&req) {
        return sn_error(401, "User Not Authenticated");
    }
    let mut record = body.0;
    let mut s = state.lock().unwrap();
    let sys_id = format!("{:032x}", s.incidents.len() + 1);
    record["sys_id"] = sys_id.clone().into();
    record["number"] = format!("INC{:07}", s.incidents.len() + 1).into();
    record["state"] = "1".into();
    record["work_notes_list"] = serde_json::json!([]);
    s.incidents.push(record.clone());
    HttpResponse::Created()
        .insert_header(("Location", format!("/api/now/table/incident/{sys_id}")))
        .json(serde_json::json!({"result": record}))
}

async fn sn_update(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    if !sn_authorised(&req) {
        return sn_error(401, "User Not Authenticated");
    }
    let mut s = state.lock().unwrap();
    let Some(record) = s
        .incidents
        .iter_mut()
        .find(|i| i["sys_id"] == path.as_str())
    else {
        return sn_error(404, "No Record found");
    };
    for (field, value) in body.0.as_object().unwrap() {
        if field == "work_notes" {
            record["work_notes_list"]
                .as_array_mut()
                .unwrap()
                .push(value.clone());
        } else {
            record[field] = value.clone();
        }
    }
    HttpResponse::Ok().json(serde_json::json!({"result": record}))
}

async fn receivers() -> (String, Arc<Mutex<Received>>) {
    let state = Arc::new(Mutex::new(Received::default()));
    let data = web::Data::new(state.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::default().limit(64 * 1024 * 1024))
            .route("/services/collector/event", web::post().to(hec))
            .route("/hook", web::post().to(webhook))
            .route("/api/now/table/incident", web::get().to(sn_search))
            .route("/api/now/table/incident", web::post().to(sn_create))
            .route(
                "/api/now/table/incident/{sys_id}",
                web::patch().to(sn_update),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), state)
}

async fn add(app: &TestApp, t: &TestTenant, body: serde_json::Value) -> String {
    let res = app.post_json("/api/v1/destinations", &t.key, body).await;
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn write_events(app: &TestApp, t: &TestTenant, n: usize, at: i64) {
    let ctx = app_server::tenancy::TenantCtx::system(TenantId(t.id), "test");
    let txn = app_server::db::begin_write(&app.state.db).await.unwrap();
    let recipients = Recipients::load(&txn, &ctx).await.unwrap();
    for i in 0..n {
        let event = Event {
            event_type: EventType::RetentionFindingOpened,
            subject_kind: "finding",
            subject_id: format!("finding-{i}"),
            severity: Severity::Medium,
            title: format!("Retention alert {i}"),
            data: serde_json::json!({"rows": i}),
            idempotency_key: format!("k-{i}"),
            occurred_at: at,
        };
        recipients.enqueue(&txn, event).await.unwrap();
    }
    txn.commit().await.unwrap();
}

async fn splunk_hec_takes_batches_with_the_token_and_a_wrong_token_is_a_dead_letter(
    backend: Backend,
) {
    let (base, received) = receivers().await;
    let app = spawn_app_with(backend, |s| s.outbound.allow_private_networks = true).await;
    let t = app.create_tenant("hec-a.myshopify.com").await;
    let url = format!("{base}/services/collector/event");
    add(&app, &t, serde_json::json!({"kind": "splunk_hec", "name": "Splunk", "config": {"url": url, "index": "security", "sourcetype": "leakguard:finding"}, "secret": HEC_TOKEN})).await;
    let n = 1200;
    let t0 = app_server::db::now_ms();
    write_events(&app, &t, n, t0).await;
    let started = Instant::now();
    let report = app_server::outbox::deliver_due(&app.state.outbound, t0, 60_000)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "Splunk HEC: {n} events in {:.3} s ({:.0} events/s, batches of 500, {backend:?})",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    assert_eq!((report.delivered, report.dead), (n as u64, 0));
    {
        let r = received.lock().unwrap();
        assert_eq!(
            (r.hec_requests, r.hec_events.len()),
            (3, n),
            "batches of 500"
        );
        assert!(
            r.hec_events
                .iter()
                .all(|e| e["index"] == "security" && e["sourcetype"] == "leakguard:finding")
        );
        assert!(
            r.hec_events
                .iter()
                .all(|e| e["source"] == format!("leakguard:{}", t.id))
        );
    }

    let t2 = app.create_tenant("hec-b.myshopify.com").await;
    let wrong = add(&app, &t2, serde_json::json!({"kind": "splunk_hec", "name": "Splunk", "config": {"url": url}, "secret": "not-the-token"})).await;
    write_events(&app, &t2, 2, t0).await;
    let report = app_server::outbox::deliver_due(&app.state.outbound, t0, 60_000)
        .await
        .unwrap();
    assert_eq!((report.delivered, report.dead), (0, 2));
    let dead: serde_json::Value = app
        .get(
            &format!("/api/v1/outbox?state=dead&destination_id={wrong}"),
            &t2.key,
        )
        .await
        .json()
        .await
        .unwrap();
    let reason = dead["entries"][0]["last_error"].as_str().unwrap();
    assert_eq!(reason, "Splunk answered 403 (code 4): Invalid token");
}

async fn webhook_deliveries_carry_a_signature_the_documented_recipe_verifies(backend: Backend) {
    let (base, received) = receivers().await;
    let app = spawn_app_with(backend, |s| s.outbound.allow_private_networks = true).await;
    let t = app.create_tenant("hook-a.myshopify.com").await;
    let url = format!("{base}/hook");
    let id = add(&app, &t, serde_json::json!({"kind": "webhook", "name": "Hook", "config": {"url": url}, "secret": WEBHOOK_KEY})).await;
    let t0 = app_server::db::now_ms();
    write_events(&app, &t, 3, t0).await;
    let report = app_server::outbox::deliver_due(&app.state.outbound, t0, 60_000)
        .await
        .unwrap();
    assert_eq!(report.delivered, 3);
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{id}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res, serde_json::json!({"delivered": true}));
    {
        let r = received.lock().unwrap();
        assert_eq!(r.webhooks.len(), 4);
        for event in &r.webhooks {
            for field in ["id", "type", "tenant_id", "occurred_at", "data"] {
                assert!(!event[field].is_null(), "{field} missing: {event}");
            }
            assert_eq!(event["tenant_id"], t.id.to_string());
        }
        assert_eq!(r.webhooks[3]["type"], "test");
    }
    // Signed with another key: the receiver refuses, the tenant sees why.
    let forged = add(&app, &t, serde_json::json!({"kind": "webhook", "name": "Forged", "config": {"url": url}, "secret": "another-signing-key"})).await;
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{forged}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        res,
        serde_json::json!({"delivered": false, "error": "the webhook answered 401: bad signature"})
    );
    assert_eq!(received.lock().unwrap().webhooks.len(), 4);
}

async fn servicenow_keeps_one_incident_per_subject_by_correlation_id(backend: Backend) {
    let (base, received) = receivers().await;
    let app = spawn_app_with(backend, |s| s.outbound.allow_private_networks = true).await;
    let t = app.create_tenant("sn-a.myshopify.com").await;
    let id = add(&app, &t, serde_json::json!({"kind": "servicenow", "name": "ITSM", "config": {"instance_url": base, "username": SN_USER}, "secret": SN_PASSWORD})).await;
    let ctx = app_server::tenancy::TenantCtx::system(TenantId(t.id), "test");
    let t0 = app_server::db::now_ms();
    let txn = app_server::db::begin_write(&app.state.db).await.unwrap();
    let recipients = Recipients::load(&txn, &ctx).await.unwrap();
    for (i, event_type) in [
        EventType::PermissionFindingOpened,
        EventType::PermissionFindingChanged,
        EventType::PermissionFindingResolved,
    ]
    .into_iter()
    .enumerate()
    {
        let event = Event {
            event_type,
            subject_kind: "permission_finding",
            subject_id: "f-9".into(),
            severity: Severity::Critical,
            title: format!("Permission finding step {i}"),
            data: serde_json::json!({"step": i}),
            idempotency_key: format!("sn-{i}"),
            occurred_at: t0,
        };
        recipients.enqueue(&txn, event).await.unwrap();
    }
    txn.commit().await.unwrap();
    let report = app_server::outbox::deliver_due(&app.state.outbound, t0, 60_000)
        .await
        .unwrap();
    assert_eq!((report.delivered, report.dead), (3, 0));
    {
        let r = received.lock().unwrap();
        assert_eq!(r.incidents.len(), 1, "one record per subject");
        let record = &r.incidents[0];
        assert_eq!(
            record["correlation_id"],
            format!("leakguard/{}/permission_finding/f-9", t.id)
        );
        assert_eq!(
            (record["urgency"].as_str(), record["impact"].as_str()),
            (Some("1"), Some("1"))
        );
        assert_eq!(record["work_notes_list"].as_array().unwrap().len(), 2);
        assert_eq!(record["state"], "6");
    }
    // The opening event again (a replay): found by its correlation id, not created twice.
    let page: serde_json::Value = app
        .get("/api/v1/outbox?limit=500", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let opened = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "permission_finding.opened")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.post_json(
            &format!("/api/v1/outbox/{opened}/replay"),
            &t.key,
            serde_json::json!({})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app_server::outbox::deliver_due(&app.state.outbound, app_server::db::now_ms(), 60_000)
            .await
            .unwrap()
            .delivered,
        1
    );
    assert_eq!(received.lock().unwrap().incidents.len(), 1);
    assert_eq!(
        received.lock().unwrap().incidents[0]["work_notes_list"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{id}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res, serde_json::json!({"delivered": true}));
    assert_eq!(received.lock().unwrap().incidents.len(), 2);
    // A wrong password: ServiceNow's refusal, shown without the password.
    let wrong = add(&app, &t, serde_json::json!({"kind": "servicenow", "name": "ITSM", "config": {"instance_url": base, "username": SN_USER}, "secret": "wrong-password-1"})).await;
    let res: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{wrong}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        res,
        serde_json::json!({"delivered": false, "error": "ServiceNow answered 401 to the new incident: User Not Authenticated"})
    );
}

crate::on_both_backends!(
    servicenow_keeps_one_incident_per_subject_by_correlation_id,
    splunk_hec_takes_batches_with_the_token_and_a_wrong_token_is_a_dead_letter,
    webhook_deliveries_carry_a_signature_the_documented_recipe_verifies,
);
