//! Alerts through the real path: agent batches, module events and Shopify webhooks are
//! queued for detection when they commit and the alert is visible through the API within
//! 60 s; episodes grow instead of repeating; feedback moves an alert through its states with
//! the real actor (false positives silence the principal until revoked, escalation opens a
//! linked incident); refusals change nothing; a second process started on the same database
//! catches up without raising an alert twice.

use leakguard_domain::agent_wire::{
    Batch, Principal, Record, SecurityEvent, SecurityEventKind, SourceKind, SourceRef,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::agent::{Agent, enroll_agent, post_batch, zstd};
use crate::helpers::{Backend, TestApp, TestTenant, spawn_app, test_settings};

/// A batch with one `INTO OUTFILE` by `db_user` over the customer table at `ts`.
pub fn outfile_batch(agent: &str, start: u64, db_user: &str, ts: &str) -> Batch {
    Batch {
        schema: 1,
        agent_id: agent.to_owned(),
        batch_id: uuid::Uuid::new_v4().to_string(),
        source: SourceRef {
            file_id: "2049:78:00ff00ff00ff00ff".into(),
            path: "/var/log/mysql/general.log".into(),
            kind: SourceKind::MariadbGeneral,
        },
        start_offset: start,
        end_offset: start + 100,
        lines: 1,
        records: vec![Record::SecurityEvent(SecurityEvent {
            kind: SecurityEventKind::DbIntoOutfile,
            ts: Some(ts.into()),
            principal: Principal {
                db_user: Some(db_user.into()),
                db_host: Some("10.0.0.66".into()),
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
        })],
    }
}

pub async fn send_outfile(app: &TestApp, agent: &Agent, start: u64, db_user: &str, ts: &str) {
    let res = post_batch(
        app,
        &agent.bearer,
        zstd(&outfile_batch(&agent.id, start, db_user, ts)),
    )
    .await;
    assert_eq!(res.status(), 200);
}

/// Polls the alert list until it holds `n` alerts; fails after 60 s.
pub async fn wait_for_alerts(app: &TestApp, key: &str, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let page: Value = app.get("/api/v1/alerts", key).await.json().await.unwrap();
        let alerts = page["alerts"].as_array().unwrap().clone();
        if alerts.len() >= n {
            assert_eq!(alerts.len(), n, "{alerts:?}");
            return alerts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{n} alert(s) not visible within 60 s: {alerts:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn list(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/alerts{query}"), key).await;
    assert_eq!(res.status(), 200, "{query}");
    res.json::<Value>().await.unwrap()["alerts"]
        .as_array()
        .unwrap()
        .clone()
}

async fn feedback(app: &TestApp, key: &str, id: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/api/v1/alerts/{id}/feedback"), key, body)
        .await
}

async fn code_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

async fn actions(app: &TestApp, tenant: uuid::Uuid, action: &str) -> Vec<(String, String)> {
    use app_server::db::entities::audit_entries as ae;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    ae::Entity::find()
        .filter(ae::Column::ChainId.eq(tenant))
        .filter(ae::Column::Action.eq(action))
        .order_by_asc(ae::Column::Seq)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor_type, e.actor_id))
        .collect()
}

/// A tenant with one open `into_outfile` alert of `intruder`: (tenant, agent, alert id).
pub async fn tenant_with_alert(app: &TestApp, shop: &str) -> (TestTenant, Agent, String) {
    let t = app.create_tenant(shop).await;
    let agent = enroll_agent(app, &t).await;
    send_outfile(app, &agent, 0, "intruder", "2026-11-28T02:00:00Z").await;
    let alerts = wait_for_alerts(app, &t.key, 1).await;
    let id = alerts[0]["id"].as_str().unwrap().to_owned();
    (t, agent, id)
}

async fn an_agent_batch_raises_an_alert_that_grows_as_one_episode(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("alerts-agent.myshopify.com").await;
    let agent = enroll_agent(&app, &t).await;
    let sent = Instant::now();
    send_outfile(&app, &agent, 0, "intruder", "2026-11-28T02:00:00Z").await;
    let alerts = wait_for_alerts(&app, &t.key, 1).await;
    assert!(sent.elapsed() < Duration::from_secs(60));
    let alert = &alerts[0];
    assert_eq!(alert["rule"], "into_outfile");
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["state"], "open");
    assert_eq!(alert["episode_open"], true);
    assert_eq!(alert["principal"]["db_user"], "intruder");
    assert_eq!(alert["principal_label"], "db user intruder@10.0.0.66");
    assert_eq!(alert["categories"], json!(["customer"]));
    assert_eq!(alert["tables"], json!(["customer_entity"]));
    assert_eq!(alert["started_at"], "2026-11-28T02:00:00.000Z");
    assert_eq!(alert["records_estimate"], 1);
    assert!(
        alert["explanation"]
            .as_str()
            .unwrap()
            .contains("INTO OUTFILE")
    );
    let id = alert["id"].as_str().unwrap().to_owned();

    // The same principal again within the episode's gap: the alert grows, no second alert.
    send_outfile(&app, &agent, 100, "intruder", "2026-11-28T02:20:00Z").await;
    // A re-delivery of the first batch adds nothing.
    send_outfile(&app, &agent, 0, "intruder", "2026-11-28T02:00:00Z").await;
    app.settle_detection().await;
    let alerts = wait_for_alerts(&app, &t.key, 1).await;
    assert_eq!(alerts[0]["id"], id);
    assert_eq!(alerts[0]["records_estimate"], 2);
    assert_eq!(alerts[0]["last_seen_at"], "2026-11-28T02:20:00.000Z");

    let detail: Value = app
        .get(&format!("/api/v1/alerts/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    let evidence = detail["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2, "{detail}");
    assert_eq!(evidence[0]["source"], "agent");
    assert_eq!(evidence[0]["kind"], "into_outfile");
    assert_eq!(evidence[0]["at"], "2026-11-28T02:00:00.000Z");
    assert_eq!(evidence[1]["at"], "2026-11-28T02:20:00.000Z");
    assert_eq!(detail["history"][0]["kind"], "opened");
    assert_eq!(detail["history"][0]["actor"], "system:detection");
    assert_eq!(
        actions(&app, t.id, "alert.opened").await,
        vec![("system".to_owned(), "detection".to_owned())]
    );
    assert!(!actions(&app, t.id, "detection.processed").await.is_empty());
    // The run that grew the alert names it in its audit entry.
    {
        use app_server::db::entities::audit_entries as ae;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let grown = ae::Entity::find()
            .filter(ae::Column::ChainId.eq(t.id))
            .filter(ae::Column::Action.eq("detection.processed"))
            .all(&app.state.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.details.contains(&id))
            .count();
        assert_eq!(grown, 2, "opened in one run, grown in the next");
    }
    assert_eq!(app.count_rows("detection_inputs", t.id).await, 0);
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
        metrics.contains("leakguard_alerts_opened_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("leakguard_detection_runs_total{outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("leakguard_detection_queue_tenants 0\n"));

    // Filters.
    assert_eq!(list(&app, &t.key, "?state=open").await.len(), 1);
    assert_eq!(list(&app, &t.key, "?state=resolved").await.len(), 0);
    assert_eq!(list(&app, &t.key, "?severity=high").await.len(), 1);
    assert_eq!(list(&app, &t.key, "?severity=low").await.len(), 0);
    assert_eq!(list(&app, &t.key, "?principal=intruder").await.len(), 1);
    assert_eq!(list(&app, &t.key, "?principal=someone").await.len(), 0);
    assert_eq!(
        list(&app, &t.key, "?since=2026-11-28T02:10:00Z")
            .await
            .len(),
        1
    );
    assert_eq!(
        list(&app, &t.key, "?since=2026-11-29T00:00:00Z")
            .await
            .len(),
        0
    );
    assert_eq!(
        list(&app, &t.key, "?until=2026-11-28T01:00:00%2B00:00")
            .await
            .len(),
        0
    );
    for (query, code) in [
        ("?state=closed", "invalid_filter"),
        ("?severity=critical", "invalid_filter"),
        ("?since=yesterday", "invalid_filter"),
        ("?since=1795850000000", "invalid_filter"),
        ("?limit=0", "invalid_limit"),
        ("?limit=501", "invalid_limit"),
        ("?colour=red", "invalid_query"),
    ] {
        let res = app.get(&format!("/api/v1/alerts{query}"), &t.key).await;
        assert_eq!(code_of(res).await, (400, code.to_owned()), "{query}");
    }
    let res = app.get("/api/v1/alerts/not-a-uuid", &t.key).await;
    assert_eq!(res.status(), 404);
    let res = app
        .get(&format!("/api/v1/alerts/{}", uuid::Uuid::now_v7()), &t.key)
        .await;
    assert_eq!(res.status(), 404);
}

async fn feedback_moves_an_alert_through_its_states_with_the_real_actor(backend: Backend) {
    let app = spawn_app(backend).await;
    let (t, agent, id) = tenant_with_alert(&app, "alerts-feedback.myshopify.com").await;
    let viewer = app.user_key(&t, "viewer-1", "viewer").await;
    let analyst = app.user_key(&t, "analyst-1", "analyst").await;
    app.settle_detection().await;
    let path = format!("/api/v1/alerts/{id}");
    let before: Value = app.get(&path, &t.key).await.json().await.unwrap();
    let audit = app.audit_count(t.id).await;

    // Refusals: nothing changes.
    let res = feedback(&app, &viewer, &id, json!({"action": "acknowledge"})).await;
    assert_eq!(code_of(res).await, (403, "insufficient_role".into()));
    for (body, code) in [
        (json!({"action": "delete"}), "invalid_feedback_action"),
        (json!({"action": "false_positive"}), "invalid_justification"),
        (
            json!({"action": "false_positive", "reason": "   "}),
            "invalid_justification",
        ),
        (
            json!({"action": "false_positive", "reason": "ours", "scope": "everyone"}),
            "invalid_suppression_scope",
        ),
        (
            json!({"action": "false_positive", "reason": "ours", "scope": "rule"}),
            "invalid_suppression_scope",
        ),
        (
            json!({"action": "false_positive", "reason": "ours", "until": "2020-01-01T00:00:00Z"}),
            "invalid_expiry",
        ),
        (
            json!({"action": "false_positive", "reason": "ours", "until": "2099-01-01T00:00:00Z"}),
            "invalid_expiry",
        ),
        (
            json!({"action": "acknowledge", "scope": "rule"}),
            "invalid_field",
        ),
        (json!({"action": "reopen"}), "invalid_transition"),
        (
            json!({"action": "acknowledge", "colour": 1}),
            "unknown_field",
        ),
        (json!({"reason": "no action"}), "missing_field"),
        (
            json!({"action": "acknowledge", "reason": "x".repeat(2001)}),
            "invalid_justification",
        ),
    ] {
        let res = feedback(&app, &analyst, &id, body.clone()).await;
        assert_eq!(code_of(res).await, (400, code.to_owned()), "{body}");
    }
    let res = feedback(
        &app,
        &analyst,
        &uuid::Uuid::now_v7().to_string(),
        json!({"action": "acknowledge"}),
    )
    .await;
    assert_eq!(res.status(), 404);
    let unchanged: Value = app.get(&path, &t.key).await.json().await.unwrap();
    assert_eq!(unchanged, before);
    assert_eq!(app.audit_count(t.id).await, audit);

    // Acknowledge, by the analyst: the actor is the analyst's user.
    let res = feedback(
        &app,
        &analyst,
        &id,
        json!({"action": "acknowledge", "reason": "looking"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let acked: Value = res.json().await.unwrap();
    assert_eq!(acked["state"], "acknowledged");
    let event = acked["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["kind"], "acknowledged");
    assert_eq!(event["detail"]["reason"], "looking");
    assert!(
        event["actor"].as_str().unwrap().starts_with("user:"),
        "{event}"
    );
    let audited = actions(&app, t.id, "alert.acknowledge").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].0, "user");
    assert_eq!(
        code_of(feedback(&app, &analyst, &id, json!({"action": "acknowledge"})).await).await,
        (400, "invalid_transition".into())
    );

    // False positive for this principal and rule: the engine stays quiet for it.
    let res = feedback(
        &app,
        &analyst,
        &id,
        json!({"action": "false_positive", "reason": "the DBA's export job",
               "until": format!("{}T00:00:00Z", next_month())}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let marked: Value = res.json().await.unwrap();
    assert_eq!(marked["state"], "false_positive");
    assert_eq!(marked["episode_open"], false);
    assert_eq!(marked["suppressions"][0]["scope"], "principal_and_rule");
    assert_eq!(marked["suppressions"][0]["reason"], "the DBA's export job");
    assert_eq!(marked["suppressions"][0]["revoked_at"], Value::Null);
    send_outfile(&app, &agent, 100, "intruder", "2026-11-28T05:00:00Z").await;
    app.settle_detection().await;
    assert_eq!(list(&app, &t.key, "").await.len(), 1);

    // Reopen: the suppression is revoked and the next outfile opens a new alert.
    let res = feedback(&app, &t.key, &id, json!({"action": "reopen"})).await;
    assert_eq!(res.status(), 200);
    let reopened: Value = res.json().await.unwrap();
    assert_eq!(reopened["state"], "open");
    assert!(reopened["suppressions"][0]["revoked_at"].is_string());
    send_outfile(&app, &agent, 200, "intruder", "2026-11-28T09:00:00Z").await;
    let alerts = wait_for_alerts(&app, &t.key, 2).await;
    let second = alerts[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(second, id);

    // Escalate: an incident in the same transaction, linked both ways.
    let res = feedback(&app, &analyst, &second, json!({"action": "escalate"})).await;
    assert_eq!(res.status(), 200);
    let escalated: Value = res.json().await.unwrap();
    assert_eq!(escalated["state"], "escalated");
    let incident_id = escalated["incident_id"].as_str().unwrap().to_owned();
    let incident: Value = app
        .get(&format!("/api/v1/incidents/{incident_id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(incident["severity"], "high");
    assert_eq!(incident["status"], "triage");
    assert_eq!(incident["facts"]["records_estimate"], 1);
    assert_eq!(incident["created_by"], event["actor"]);
    let note = incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "note")
        .unwrap()
        .clone();
    assert_eq!(note["detail"]["alert_id"], second);
    assert_eq!(actions(&app, t.id, "alert.escalate").await.len(), 1);
    assert_eq!(
        code_of(feedback(&app, &analyst, &second, json!({"action": "escalate"})).await).await,
        (400, "invalid_transition".into())
    );
    let res = feedback(&app, &analyst, &second, json!({"action": "resolve"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "resolved");
    assert_eq!(list(&app, &t.key, "?state=resolved").await.len(), 1);
    assert_eq!(list(&app, &t.key, "?state=open").await.len(), 1);
}

/// The first day of next month as `YYYY-MM-DD` (a suppression expiry in the near future).
fn next_month() -> String {
    let now = time::OffsetDateTime::now_utc() + time::Duration::days(31);
    format!("{:04}-{:02}-01", now.year(), u8::from(now.month()))
}

async fn a_second_process_catches_up_without_repeating_an_alert(backend: Backend) {
    let app = spawn_app(backend).await;
    let (t, agent, id) = tenant_with_alert(&app, "alerts-restart.myshopify.com").await;
    app.settle_detection().await;
    // Inputs stored while no worker is told (as if the process died after the commit): a
    // second process on the same database finds them when it starts.
    let line = serde_json::to_string(
        &outfile_batch(&agent.id, 900, "exporter", "2026-11-28T03:00:00Z").records[0],
    )
    .unwrap();
    {
        use sea_orm::TransactionTrait;
        let txn = app.state.db.begin().await.unwrap();
        app_server::alerts::inputs::enqueue(
            &txn,
            t.id,
            app_server::alerts::inputs::Source::Agent,
            vec![line],
            app_server::db::now_ms(),
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }
    let second = app_server::startup::Application::build(test_settings(app.dir.path(), &app.db))
        .await
        .unwrap();
    let second_state = second.state();
    tokio::spawn(second.run_until_stopped());
    let alerts = wait_for_alerts(&app, &t.key, 2).await;
    let principals: Vec<&str> = alerts
        .iter()
        .map(|a| a["principal"]["db_user"].as_str().unwrap())
        .collect();
    assert_eq!(principals, ["exporter", "intruder"]);
    // The first alert was neither repeated nor counted twice.
    let first = alerts.iter().find(|a| a["id"] == id.as_str()).unwrap();
    assert_eq!(first["records_estimate"], 1);
    // Both processes see the same queue empty; the first alert is opened once in the chain.
    send_outfile(&app, &agent, 0, "intruder", "2026-11-28T02:00:00Z").await;
    second_state.detection.mark(t.id);
    app.state.detection.mark(t.id);
    app.settle_detection().await;
    assert_eq!(list(&app, &t.key, "").await.len(), 2);
    assert_eq!(actions(&app, t.id, "alert.opened").await.len(), 2);
    assert_eq!(app.count_rows("detection_inputs", t.id).await, 0);
}

async fn module_events_and_webhooks_reach_detection(backend: Backend) {
    let app = crate::shopify_support::shopify_app(backend, None).await;
    // A Magento tenant: a burst of failed admin logins from one address, then a success.
    let base = "https://alerts-module.example";
    let m = app.create_magento_tenant(base).await;
    let key = app.enroll_module(&m, base).await;
    let mut events = Vec::new();
    for i in 0..6 {
        events.push(json!({"source": "admin_action", "source_id": i, "event": "admin_login_failure",
            "admin_username": "admin", "ip": "203.0.113.9", "ts": format!("2026-11-28T02:0{i}:00Z")}));
    }
    events.push(json!({"source": "admin_action", "source_id": 6, "event": "admin_login_success",
        "admin_user_id": 1, "admin_username": "admin", "ip": "203.0.113.9", "ts": "2026-11-28T02:07:00Z"}));
    let body = json!({"events": events}).to_string();
    let res = app
        .signed(&key, "POST", "/api/v1/magento/events", &body)
        .await;
    assert_eq!(res.status(), 200);
    let alerts = wait_for_alerts(&app, &m.key, 1).await;
    assert_eq!(alerts[0]["rule"], "login_burst_then_success");
    assert_eq!(alerts[0]["principal"]["admin_user_id"], "1");
    let detail: Value = app
        .get(
            &format!("/api/v1/alerts/{}", alerts[0]["id"].as_str().unwrap()),
            &m.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["evidence"][0]["source"], "magento_module");
    assert_eq!(detail["observed"], 6.0);

    // A Shopify tenant: the app is granted customer data.
    let shop = "alerts-shopify.myshopify.com";
    let s = app.create_tenant(shop).await;
    let res = app
        .deliver(
            "app/scopes_update",
            shop,
            &json!({"id": 1, "previous": ["read_products"], "current": ["read_products", "read_customers"],
                    "updated_at": "2026-11-28T04:00:00Z", "app_id": "4242"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.process_webhooks().await;
    let alerts = wait_for_alerts(&app, &s.key, 1).await;
    assert_eq!(alerts[0]["rule"], "scope_grant");
    assert_eq!(alerts[0]["categories"], json!(["customer"]));
    assert!(
        alerts[0]["explanation"]
            .as_str()
            .unwrap()
            .contains("read_customers")
    );
    // Each tenant sees only its own.
    assert_eq!(list(&app, &m.key, "").await.len(), 1);
}

async fn a_run_is_bounded_and_odd_lines_are_counted_not_fatal(backend: Backend) {
    use app_server::alerts::{detect, inputs};
    use sea_orm::{EntityTrait, TransactionTrait};
    let app = spawn_app(backend).await;
    let t = app.create_tenant("alerts-bounded.myshopify.com").await;
    // More lines than one run reads: broken ones, a line without a time, then an outfile.
    let mut lines: Vec<String> = (0..detect::BATCH + 500)
        .map(|i| match i % 3 {
            0 => "{not json".to_owned(),
            1 => r#"{"type":"sql_aggregate","principal":{},"query_id":"X","tables":[],"count":1,"masked":true}"#.to_owned(),
            _ => "[1,2]".to_owned(),
        })
        .collect();
    lines.push(
        serde_json::to_string(
            &outfile_batch("agent", 0, "late", "2026-11-28T06:00:00Z").records[0],
        )
        .unwrap(),
    );
    let txn = app.state.db.begin().await.unwrap();
    inputs::enqueue(&txn, t.id, inputs::Source::Agent, lines, 1)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let now = app_server::db::now_ms();
    let first = detect::process_tenant(&app.state.db, t.id, now)
        .await
        .unwrap();
    assert_eq!(
        (first.inputs, first.signals, first.more),
        (detect::BATCH, 0, true)
    );
    assert_eq!(app.count_rows("detection_inputs", t.id).await, 501);
    let second = detect::process_tenant(&app.state.db, t.id, now)
        .await
        .unwrap();
    assert_eq!((second.inputs, second.signals, second.opened), (501, 1, 1));
    assert!(!second.more);
    let idle = detect::process_tenant(&app.state.db, t.id, now)
        .await
        .unwrap();
    assert_eq!(idle, detect::RunOutcome::default());
    let state = app_server::db::entities::detection_states::Entity::find_by_id(t.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.malformed, i64::try_from(detect::BATCH + 500).unwrap());
    assert_eq!(state.signals, 1);
    let alerts = list(&app, &t.key, "").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["principal"]["db_user"], "late");
}

crate::on_both_backends!(
    a_run_is_bounded_and_odd_lines_are_counted_not_fatal,
    an_agent_batch_raises_an_alert_that_grows_as_one_episode,
    feedback_moves_an_alert_through_its_states_with_the_real_actor,
    a_second_process_catches_up_without_repeating_an_alert,
    module_events_and_webhooks_reach_detection,
);
