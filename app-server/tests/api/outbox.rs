//! The outbox: events written with their cause, delivered by the worker (called with the test's
//! clock) to a PagerDuty-like receiver that the tests make fail, hang or come back; dead
//! letters, replay, a worker killed mid-delivery, the destinations API and the metrics.

use app_server::db::entities::outbox;
use app_server::outbox::{DeliveryReport, Event, EventType, Recipients, Severity, State};
use leakguard_domain::ids::TenantId;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::fake_pagerduty::{FakePagerDuty, Mode};
use crate::helpers::{Backend, TestApp, TestTenant, spawn_app_with};

const MINUTE: i64 = 60_000;

async fn outbox_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.outbound.allow_private_networks = true;
        s.outbound.max_attempts = 4;
    })
    .await
}

async fn add_pagerduty(app: &TestApp, tenant: &TestTenant, events_url: &str) -> String {
    let res = app
        .post_json(
            "/api/v1/destinations",
            &tenant.key,
            serde_json::json!({"kind": "pagerduty", "name": "On call", "config": {"events_url": events_url}, "secret": "R0UTINGKEY-super-secret"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        !body.to_string().contains("R0UTINGKEY"),
        "the secret came back: {body}"
    );
    body["id"].as_str().unwrap().to_owned()
}

/// Writes events about `subject` in one transaction, as a cause would.
async fn write_events(
    app: &TestApp,
    tenant: &TestTenant,
    subject: &str,
    types: &[EventType],
    at: i64,
) {
    let ctx = app_server::tenancy::TenantCtx::system(TenantId(tenant.id), "test");
    let txn = app_server::db::begin_write(&app.state.db).await.unwrap();
    let recipients = Recipients::load(&txn, &ctx).await.unwrap();
    for (i, event_type) in types.iter().enumerate() {
        recipients
            .enqueue(
                &txn,
                Event {
                    event_type: *event_type,
                    subject_kind: "permission_finding",
                    subject_id: subject.to_owned(),
                    severity: Severity::High,
                    title: format!("{} #{i}", event_type.as_str()),
                    data: serde_json::json!({"step": i}),
                    idempotency_key: format!("{subject}:{i}"),
                    occurred_at: at,
                },
            )
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

async fn deliver(app: &TestApp, now: i64) -> DeliveryReport {
    app_server::outbox::deliver_due(&app.state.outbound, now, 60_000)
        .await
        .unwrap()
}

async fn rows(app: &TestApp, tenant: &TestTenant) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::TenantId.eq(tenant.id))
        .order_by_asc(outbox::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn a_permission_finding_is_queued_with_its_cause_and_reaches_the_pager_once(
    backend: Backend,
) {
    let app = outbox_app(backend).await;
    let pd = FakePagerDuty::start().await;
    let t = app.create_tenant("outbox-a.myshopify.com").await;
    add_pagerduty(&app, &t, &pd.events_url).await;
    let ctx = app_server::tenancy::TenantCtx::system(TenantId(t.id), "test");
    let now = app_server::db::now_ms();
    app_server::permission_audits::run_now(
        &app.state.db,
        &ctx,
        &crate::permissions::static_source(),
        app_server::permission_audits::Trigger::Manual,
        now,
    )
    .await
    .unwrap();
    let findings = app.count_rows("perm_findings", t.id).await;
    assert!(findings > 0);
    let queued = rows(&app, &t).await;
    assert_eq!(
        queued.len() as i64,
        findings,
        "one entry per finding opened"
    );
    assert!(queued.iter().all(|r| r.state == State::Queued));

    let report = deliver(&app, now).await;
    assert_eq!(report.delivered as i64, findings);
    let bodies = pd.bodies();
    assert_eq!(bodies.len() as i64, findings);
    for body in &bodies {
        assert_eq!(body["event_action"], "trigger");
        assert_eq!(body["routing_key"], "R0UTINGKEY-super-secret");
        assert!(
            body["dedup_key"]
                .as_str()
                .unwrap()
                .starts_with(&format!("leakguard/{}/permission_finding/", t.id))
        );
        assert!(
            !body.to_string().contains("Loyalty"),
            "a principal's name left the server: {body}"
        );
    }
    assert!(
        rows(&app, &t)
            .await
            .iter()
            .all(|r| r.state == State::Delivered)
    );
    // Nothing is sent twice.
    assert_eq!(deliver(&app, now + MINUTE).await.delivered, 0);
    assert_eq!(pd.bodies().len() as i64, findings);
    let list: serde_json::Value = app
        .get("/api/v1/destinations", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["destinations"][0]["health"]["last_success_at"].is_string());
}

async fn the_receiver_down_for_ten_minutes_gets_everything_in_order_when_back(backend: Backend) {
    // The default number of attempts: ten minutes down must not make a dead letter.
    let app = spawn_app_with(backend, |s| s.outbound.allow_private_networks = true).await;
    let pd = FakePagerDuty::start().await;
    let t = app.create_tenant("outbox-b.myshopify.com").await;
    add_pagerduty(&app, &t, &pd.events_url).await;
    let t0 = app_server::db::now_ms();
    let steps = [
        EventType::PermissionFindingOpened,
        EventType::PermissionFindingChanged,
        EventType::PermissionFindingResolved,
    ];
    write_events(&app, &t, "f-1", &steps, t0).await;
    write_events(&app, &t, "f-2", &steps[..1], t0).await;
    pd.set_mode(Mode::Fail(503));
    let mut now = t0;
    while now <= t0 + 10 * MINUTE {
        let report = deliver(&app, now).await;
        assert_eq!(report.delivered, 0);
        now += MINUTE;
    }
    // Only the head of each subject was tried: nothing overtook the first event of f-1.
    let tried: Vec<String> = pd
        .bodies()
        .iter()
        .map(|b| {
            b["payload"]["summary"]
                .as_str()
                .unwrap_or("resolve")
                .to_owned()
        })
        .collect();
    assert!(tried.iter().all(|s| s.ends_with("#0")), "{tried:?}");
    let waiting = rows(&app, &t).await;
    assert!(waiting.iter().all(|r| r.state == State::Queued));
    assert!(
        waiting[0].attempts >= 3,
        "retried with back-off: {}",
        waiting[0].attempts
    );
    assert!(waiting[0].last_error.as_deref().unwrap().contains("503"));
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
        metrics.contains("leakguard_outbox_queued_events 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("leakguard_outbox_deliveries_total{kind=\"pagerduty\",outcome=\"retry\"}")
    );

    pd.set_mode(Mode::Accept);
    let before = pd.bodies().len();
    // The longest back-off after these attempts is below an hour.
    let report = deliver(&app, t0 + 70 * MINUTE).await;
    assert_eq!(report.delivered, 4);
    let arrived: Vec<serde_json::Value> = pd.bodies()[before..].to_vec();
    let f1: Vec<&str> = arrived
        .iter()
        .filter(|b| b["dedup_key"].as_str().unwrap().ends_with("/f-1"))
        .map(|b| b["event_action"].as_str().unwrap())
        .collect();
    assert_eq!(f1, ["trigger", "trigger", "resolve"]);
    let f1_summaries: Vec<&str> = arrived
        .iter()
        .filter(|b| b["dedup_key"].as_str().unwrap().ends_with("/f-1"))
        .filter_map(|b| b["payload"]["summary"].as_str())
        .collect();
    assert_eq!(
        f1_summaries,
        [
            "permission_finding.opened #0",
            "permission_finding.changed #1"
        ]
    );
    assert!(
        rows(&app, &t)
            .await
            .iter()
            .all(|r| r.state == State::Delivered)
    );
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
        metrics.contains("leakguard_outbox_queued_events 0"),
        "{metrics}"
    );
    assert!(metrics.contains("leakguard_outbox_oldest_queued_age_seconds 0"));
}

async fn a_refusal_is_a_dead_letter_with_its_reason_and_replay_sends_it_again(backend: Backend) {
    let app = outbox_app(backend).await;
    let pd = FakePagerDuty::start().await;
    let t = app.create_tenant("outbox-c.myshopify.com").await;
    let destination = add_pagerduty(&app, &t, &pd.events_url).await;
    let t0 = app_server::db::now_ms();
    write_events(&app, &t, "f-3", &[EventType::PermissionFindingOpened], t0).await;
    pd.set_mode(Mode::Fail(400));
    let report = deliver(&app, t0).await;
    assert_eq!((report.delivered, report.dead), (0, 1));
    let dead: serde_json::Value = app
        .get(
            &format!("/api/v1/outbox?state=dead&destination_id={destination}"),
            &t.key,
        )
        .await
        .json()
        .await
        .unwrap();
    let entry = &dead["entries"][0];
    assert_eq!(entry["state"], "dead");
    let reason = entry["last_error"].as_str().unwrap();
    assert!(
        reason.contains("400") && reason.contains("Event object is invalid"),
        "{reason}"
    );
    assert!(!reason.contains("R0UTINGKEY"));
    let health: serde_json::Value = app
        .get(&format!("/api/v1/destinations/{destination}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["health"]["last_error"], reason);
    let audit: serde_json::Value = app
        .get("/api/v1/audit/entries?limit=500", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("outbox.dead_lettered"));

    pd.set_mode(Mode::Accept);
    assert_eq!(
        deliver(&app, t0 + 100 * MINUTE).await.delivered,
        0,
        "a dead letter waits for a replay"
    );
    let id = entry["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/outbox/{id}/replay"),
            &t.key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let replayed: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (replayed["state"].as_str(), replayed["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );
    assert_eq!(deliver(&app, app_server::db::now_ms()).await.delivered, 1);
    assert_eq!(rows(&app, &t).await[0].state, State::Delivered);
    // After the last attempt a failing entry is dead too (max_attempts = 4 here).
    write_events(&app, &t, "f-4", &[EventType::PermissionFindingOpened], t0).await;
    pd.set_mode(Mode::Fail(500));
    let mut now = app_server::db::now_ms();
    for _ in 0..4 {
        deliver(&app, now).await;
        now += 3 * 3600 * 1000;
    }
    let last = rows(&app, &t).await.pop().unwrap();
    assert_eq!((last.state, last.attempts), (State::Dead, 4));
    assert!(last.last_error.unwrap().contains("500"));
}

async fn a_worker_killed_mid_delivery_loses_nothing_and_the_repeat_carries_the_same_dedup_key(
    backend: Backend,
) {
    let app = outbox_app(backend).await;
    let pd = FakePagerDuty::start().await;
    let t = app.create_tenant("outbox-d.myshopify.com").await;
    add_pagerduty(&app, &t, &pd.events_url).await;
    let t0 = app_server::db::now_ms();
    write_events(&app, &t, "f-5", &[EventType::PermissionFindingOpened], t0).await;
    pd.set_mode(Mode::Hang);
    let outbound = app.state.outbound.clone();
    let worker =
        tokio::spawn(async move { app_server::outbox::deliver_due(&outbound, t0, 60_000).await });
    pd.wait_for(1).await;
    // The worker dies with the request sent and no answer: nothing after the send runs.
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());
    let claimed = rows(&app, &t).await.remove(0);
    assert_eq!((claimed.state, claimed.attempts), (State::Delivering, 1));

    pd.set_mode(Mode::Accept);
    // Another worker leaves it alone while the claim lasts, then takes it over.
    assert_eq!(deliver(&app, t0 + MINUTE).await.delivered, 0);
    assert_eq!(deliver(&app, t0 + 16 * MINUTE).await.delivered, 1);
    let done = rows(&app, &t).await.remove(0);
    assert_eq!((done.state, done.attempts), (State::Delivered, 2));
    let bodies = pd.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["dedup_key"], bodies[1]["dedup_key"]);
    assert_eq!(
        bodies[0]["payload"]["custom_details"]["event_id"],
        bodies[1]["payload"]["custom_details"]["event_id"]
    );
}

async fn destinations_are_for_admins_keep_their_secret_and_answer_a_test_event(backend: Backend) {
    let app = outbox_app(backend).await;
    let pd = FakePagerDuty::start().await;
    let t = app.create_tenant("outbox-e.myshopify.com").await;
    let analyst = app.user_key(&t, "analyst-1", "analyst").await;
    let res = app.get("/api/v1/destinations", &analyst).await;
    assert_eq!(res.status(), 403);
    let id = add_pagerduty(&app, &t, &pd.events_url).await;
    assert_eq!(app.count_rows("secrets", t.id).await, 1);
    let res = app
        .post_json(
            &format!("/api/v1/destinations/{id}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"delivered": true})
    );
    assert_eq!(pd.bodies()[0]["payload"]["class"], "test");
    pd.set_mode(Mode::Fail(401));
    let result: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{id}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result["delivered"], false);
    assert!(result["error"].as_str().unwrap().contains("401"));
    let view: serde_json::Value = app
        .get(&format!("/api/v1/destinations/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        view["health"]["last_success_at"].is_string()
            && view["health"]["last_error_at"].is_string()
    );
    assert!(!view.to_string().contains("R0UTINGKEY"));

    for (body, code) in [
        (
            serde_json::json!({"kind": "pagerduty", "name": "x", "config": {"events_url": pd.events_url}}),
            "invalid_destination",
        ),
        (
            serde_json::json!({"kind": "jira", "name": "x", "config": {}, "secret": "t"}),
            "invalid_destination",
        ),
        (
            serde_json::json!({"kind": "syslog_tls", "name": "x", "config": {"host": "127.0.0.1", "ca_pem": "nope"}}),
            "invalid_destination",
        ),
        (
            serde_json::json!({"kind": "pagerduty", "name": " ", "config": {}, "secret": "routing-key-1"}),
            "invalid_destination",
        ),
    ] {
        let res = app.post_json("/api/v1/destinations", &t.key, body).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<serde_json::Value>().await.unwrap()["code"], code);
    }
    // Edit: a new name and routing key; the key stays write-only, a bad config is refused.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/destinations/{id}")))
        .bearer_auth(&t.key)
        .json(&serde_json::json!({"name": "Night pager", "secret": "R0UTINGKEY-rotated-key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let edited: serde_json::Value = res.json().await.unwrap();
    assert_eq!(edited["name"], "Night pager");
    assert!(!edited.to_string().contains("R0UTINGKEY"));
    pd.set_mode(Mode::Accept);
    let result: serde_json::Value = app
        .post_json(
            &format!("/api/v1/destinations/{id}/test"),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result["delivered"], true);
    assert_eq!(
        pd.bodies().last().unwrap()["routing_key"],
        "R0UTINGKEY-rotated-key"
    );
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/destinations/{id}")))
        .bearer_auth(&t.key)
        .json(&serde_json::json!({"config": {"events_url": "ftp://x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/destinations/{id}")))
        .bearer_auth(&t.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.count_rows("secrets", t.id).await, 0);
    assert_eq!(
        app.get(&format!("/api/v1/destinations/{id}"), &t.key)
            .await
            .status(),
        404
    );
}

async fn a_destination_on_a_private_address_is_refused_unless_the_operator_allows_it(
    backend: Backend,
) {
    let strict = crate::helpers::spawn_app(backend).await;
    let t = strict.create_tenant("outbox-f.myshopify.com").await;
    for url in [
        "http://127.0.0.1:9/v2/enqueue",
        "http://169.254.169.254/latest",
        "http://localhost:9/",
        "http://[::1]:9/",
    ] {
        let res = strict
            .post_json("/api/v1/destinations", &t.key, serde_json::json!({"kind": "pagerduty", "name": "x", "config": {"events_url": url}, "secret": "routing-key-1"}))
            .await;
        assert_eq!(res.status(), 400, "{url}");
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["code"],
            "destination_address_refused",
            "{url}"
        );
    }
    // One stored while private networks were allowed is refused again at connection time.
    let ctx = app_server::tenancy::TenantCtx::system(TenantId(t.id), "test");
    let lenient = app_server::outbox::Outbound {
        sender: app_server::outbox::targets::Sender::new(
            &app_server::config::OutboundSettings {
                allow_private_networks: true,
                ..Default::default()
            },
            "test".into(),
        )
        .unwrap(),
        ..strict.state.outbound.clone()
    };
    let pd = FakePagerDuty::start().await;
    let view = app_server::outbox::destinations::create(
        &lenient,
        &ctx,
        serde_json::from_value(serde_json::json!({"kind": "pagerduty", "name": "x", "config": {"events_url": pd.events_url}, "secret": "routing-key-1"})).unwrap(),
    )
    .await
    .unwrap();
    let result: serde_json::Value = strict
        .post_json(
            &format!("/api/v1/destinations/{}/test", view.id),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result["delivered"], false);
    assert!(
        result["error"]
            .as_str()
            .unwrap()
            .contains("loopback, private"),
        "{result}"
    );
    assert!(pd.bodies().is_empty(), "the refused address was reached");
    let open = outbox_app(backend).await;
    let t = open.create_tenant("outbox-g.myshopify.com").await;
    add_pagerduty(&open, &t, &pd.events_url).await;
}

crate::on_both_backends!(
    a_permission_finding_is_queued_with_its_cause_and_reaches_the_pager_once,
    the_receiver_down_for_ten_minutes_gets_everything_in_order_when_back,
    a_refusal_is_a_dead_letter_with_its_reason_and_replay_sends_it_again,
    a_worker_killed_mid_delivery_loses_nothing_and_the_repeat_carries_the_same_dedup_key,
    destinations_are_for_admins_keep_their_secret_and_answer_a_test_event,
    a_destination_on_a_private_address_is_refused_unless_the_operator_allows_it,
);
