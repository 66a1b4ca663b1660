//! Incidents through the API: the lifecycle with its timeline and audit entries, the notice
//! obligations the law module gives for the stored facts, refusals that change nothing, the
//! reopening rule, roles, tenant isolation and paging.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestTenant, spawn_app};

async fn patch(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn code_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

async fn open(app: &TestApp, key: &str, body: Value) -> Value {
    let res = app.post_json("/api/v1/incidents", key, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

fn kinds(incident: &Value) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn incident_count(app: &TestApp, t: &TestTenant) -> i64 {
    app.count_rows("incidents", t.id).await
}

async fn a_lifecycle_is_on_the_timeline_and_in_the_audit_chain(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-life.myshopify.com").await;
    let before = app.audit_count(t.id).await;

    let created = open(
        &app,
        &t.key,
        json!({"title": "  Exposed backup bucket ", "severity": "high",
               "owner_user_id": t.owner,
               "facts": {"discovered_at": "2026-03-02", "residents": {"ca": 600},
                         "categories": ["US_SSN", "PERSON"], "records_estimate": 1200}}),
    )
    .await;
    assert_eq!(created["title"], "Exposed backup bucket");
    assert_eq!(created["status"], "triage");
    assert_eq!(created["severity"], "high");
    assert_eq!(created["owner_user_id"], t.owner.to_string());
    // The actor is the owner's user and the key used, as in the audit chain.
    let owner_actor = created["created_by"].as_str().unwrap().to_owned();
    assert!(
        owner_actor.starts_with(&format!("user:{}:api_key:", t.owner)),
        "{owner_actor}"
    );
    assert_eq!(created["facts"]["residents"], json!({"CA": 600}));
    assert_eq!(created["facts"]["categories"], json!(["PERSON", "US_SSN"]));
    assert_eq!(created["facts"]["determined_at"], Value::Null);
    assert_eq!(created["closed_at"], Value::Null);
    assert_eq!(kinds(&created), ["created"]);
    assert_eq!(created["timeline"][0]["actor"], owner_actor);
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/incidents/{id}");

    let res = app
        .post_json(
            &format!("{path}/events"),
            &t.key,
            json!({"kind": "determination", "date": "2026-03-04", "note": "forensics report"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let after_event: Value = res.json().await.unwrap();
    assert_eq!(after_event["facts"]["determined_at"], "2026-03-04");
    assert_eq!(
        after_event["timeline"][1]["detail"],
        json!({"date": "2026-03-04", "note": "forensics report"})
    );

    for (status, kind) in [
        ("investigating", "status_changed"),
        ("contained", "status_changed"),
        ("closed", "status_changed"),
    ] {
        let res = patch(&app, &path, &t.key, json!({"status": status})).await;
        assert_eq!(res.status(), 200, "to {status}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], status);
        assert_eq!(kinds(&body).last().unwrap(), kind);
    }
    let closed: Value = app.get(&path, &t.key).await.json().await.unwrap();
    assert!(closed["closed_at"].is_string());
    assert_eq!(
        closed["timeline"][4]["detail"]["status"],
        json!({"from": "contained", "to": "closed"})
    );

    // Reopening needs a reason; without one nothing changes.
    let audit_closed = app.audit_count(t.id).await;
    for body in [
        json!({"status": "investigating"}),
        json!({"status": "investigating", "reason": "   "}),
        json!({"status": "triage", "reason": "wrong step"}),
    ] {
        let res = patch(&app, &path, &t.key, body).await;
        assert_eq!(code_of(res).await, (400, "invalid_transition".into()));
    }
    let unchanged: Value = app.get(&path, &t.key).await.json().await.unwrap();
    assert_eq!(unchanged, closed);
    assert_eq!(app.audit_count(t.id).await, audit_closed);

    let res = patch(
        &app,
        &path,
        &t.key,
        json!({"status": "investigating", "reason": "more records found"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let reopened: Value = res.json().await.unwrap();
    assert_eq!(reopened["status"], "investigating");
    assert_eq!(reopened["closed_at"], Value::Null);
    let last = reopened["timeline"].as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "reopened");
    assert_eq!(last["actor"], owner_actor);
    assert_eq!(last["detail"]["reason"], "more records found");

    // A field change is an `updated` event with from and to.
    let res = patch(
        &app,
        &path,
        &t.key,
        json!({"severity": "critical", "facts": {"residents": {"CA": 900}}}),
    )
    .await;
    let updated: Value = res.json().await.unwrap();
    let last = updated["timeline"].as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "updated");
    assert_eq!(
        last["detail"],
        json!({"severity": {"from": "high", "to": "critical"},
               "residents": {"from": {"CA": 600}, "to": {"CA": 900}}})
    );
    assert_eq!(
        kinds(&updated),
        [
            "created",
            "determination",
            "status_changed",
            "status_changed",
            "status_changed",
            "reopened",
            "updated"
        ]
    );

    // One audit entry per timeline event, each with the caller as actor.
    assert_eq!(app.audit_count(t.id).await, before + 7);
    let entries: Vec<Value> = app
        .get("/api/v1/audit/entries?limit=1000", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let incident_entries: Vec<&Value> = entries
        .iter()
        .filter(|e| e["subject"]["type"] == "incident")
        .collect();
    let actions: Vec<&str> = incident_entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "incident.created",
            "incident.event_added",
            "incident.status_changed",
            "incident.status_changed",
            "incident.status_changed",
            "incident.reopened",
            "incident.updated"
        ]
    );
    for e in &incident_entries {
        let actor = format!(
            "{}:{}",
            e["actor"]["type"].as_str().unwrap(),
            e["actor"]["id"].as_str().unwrap()
        );
        assert_eq!(actor, owner_actor);
        assert_eq!(e["subject"]["id"], id);
    }
    let verified: Value = app
        .get("/api/v1/audit/verify", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
    let out = app.cli(&["audit", "verify", "--tenant", &t.id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn find<'a>(all: &'a [Value], jurisdiction: &str, audience: &str) -> Option<&'a Value> {
    all.iter()
        .find(|o| o["jurisdiction"] == jurisdiction && o["audience"] == audience)
}

async fn obligations_follow_the_stored_facts(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-law.myshopify.com").await;
    let version = leakguard_domain::law::RuleTable::builtin()
        .unwrap()
        .table_version
        .clone();

    let over = open(
        &app,
        &t.key,
        json!({"title": "CA 600", "severity": "high",
               "facts": {"discovered_at": "2026-03-02", "residents": {"CA": 600},
                         "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;
    let res = app
        .get(
            &format!(
                "/api/v1/incidents/{}/obligations",
                over["id"].as_str().unwrap()
            ),
            &t.key,
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["rule_table_version"], version.as_str());
    assert_eq!(body["incident_id"], over["id"]);
    let all = body["obligations"].as_array().unwrap();
    let individuals = find(all, "US-CA", "individuals").unwrap();
    assert_eq!(individuals["triggered"], true);
    assert_eq!(individuals["due"], "2026-04-01");
    assert_eq!(individuals["rule_version"], "US-CA/2026-01-01");
    assert!(individuals["basis"].as_str().unwrap().contains("Why:"));
    let ag = find(all, "US-CA", "regulator").unwrap();
    assert_eq!(ag["triggered"], true);
    assert_eq!(ag["recipient"], "California Attorney General");
    assert_eq!(
        ag["due_after"],
        json!({"event": "individual_notice_sent", "days": 15})
    );
    assert!(ag.get("due").is_none());
    assert_eq!(body["exposure"]["california_consumers"], 600);

    // A later discovery date moves the individuals' deadline with it.
    let res = app
        .post_json(
            &format!("/api/v1/incidents/{}/events", over["id"].as_str().unwrap()),
            &t.key,
            json!({"kind": "discovered", "date": "2026-03-10"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let moved: Value = app
        .get(
            &format!(
                "/api/v1/incidents/{}/obligations",
                over["id"].as_str().unwrap()
            ),
            &t.key,
        )
        .await
        .json()
        .await
        .unwrap();
    let all = moved["obligations"].as_array().unwrap();
    assert_eq!(
        find(all, "US-CA", "individuals").unwrap()["due"],
        "2026-04-09"
    );

    let at = open(
        &app,
        &t.key,
        json!({"title": "CA 500", "severity": "medium",
               "facts": {"discovered_at": "2026-03-02", "residents": {"CA": 500},
                         "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;
    let body: Value = app
        .get(
            &format!(
                "/api/v1/incidents/{}/obligations",
                at["id"].as_str().unwrap()
            ),
            &t.key,
        )
        .await
        .json()
        .await
        .unwrap();
    let all = body["obligations"].as_array().unwrap();
    assert_eq!(
        find(all, "US-CA", "individuals").unwrap()["due"],
        "2026-04-01"
    );
    let ag_owed = find(all, "US-CA", "regulator").is_some_and(|o| o["triggered"] == true);
    assert!(!ag_owed, "no Attorney General sample at 500: {all:#?}");
}

async fn bad_input_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-bad.myshopify.com").await;
    let audit_before = app.audit_count(t.id).await;
    for (body, code) in [
        (
            json!({"title": "x", "severity": "high", "facts": {"residents": {"ZZ": 1}}}),
            "invalid_incident_facts",
        ),
        (
            json!({"title": "x", "severity": "high", "facts": {"residents": {"CA": -1}}}),
            "invalid_incident_facts",
        ),
        (
            json!({"title": "x", "severity": "high", "facts": {"countries": {"XQ": 3}}}),
            "invalid_incident_facts",
        ),
        (
            json!({"title": "x", "severity": "high",
                   "facts": {"discovered_at": "2026-03-02", "determined_at": "2026-03-01"}}),
            "invalid_incident_facts",
        ),
        (
            json!({"title": "x", "severity": "high", "facts": {"categories": ["NOT_A_THING"]}}),
            "invalid_incident_facts",
        ),
        (
            json!({"title": "x", "severity": "high", "facts": {"discovered_at": "2026-02-30"}}),
            "invalid_incident_facts",
        ),
        (
            json!({"title": "x", "severity": "high", "facts": {"key_compromised": true}}),
            "invalid_incident_facts",
        ),
        (
            json!({"title": "x", "severity": "severe"}),
            "invalid_severity",
        ),
        (json!({"title": " ", "severity": "low"}), "invalid_field"),
        (
            json!({"title": "x", "severity": "low", "owner_user_id": uuid::Uuid::now_v7()}),
            "invalid_owner",
        ),
        (
            json!({"title": "x", "severity": "low", "status": "closed"}),
            "unknown_field",
        ),
    ] {
        let res = app
            .post_json("/api/v1/incidents", &t.key, body.clone())
            .await;
        assert_eq!(code_of(res).await, (400, code.to_owned()), "{body}");
    }
    assert_eq!(incident_count(&app, &t).await, 0);
    assert_eq!(app.audit_count(t.id).await, audit_before);

    let created = open(
        &app,
        &t.key,
        json!({"title": "Leak", "severity": "low",
               "facts": {"discovered_at": "2026-03-02", "residents": {"TX": 300}}}),
    )
    .await;
    let path = format!("/api/v1/incidents/{}", created["id"].as_str().unwrap());
    let res = patch(&app, &path, &t.key, json!({"status": "investigating"})).await;
    assert_eq!(res.status(), 200);
    let snapshot: Value = app.get(&path, &t.key).await.json().await.unwrap();
    let audit_snapshot = app.audit_count(t.id).await;

    for (body, code) in [
        (json!({"status": "done"}), "invalid_incident_status"),
        (json!({"status": "triage"}), "invalid_transition"),
        (
            json!({"title": "ok", "status": "triage"}),
            "invalid_transition",
        ),
        (
            json!({"facts": {"window_start": "2026-02-10", "window_end": "2026-02-01"}}),
            "invalid_incident_facts",
        ),
        (
            json!({"facts": {"window_start": "2026-03-05"}}),
            "invalid_incident_facts",
        ),
        (
            json!({"facts": {"residents": {"TX": 300, "tx": 2}}}),
            "invalid_incident_facts",
        ),
        (
            json!({"facts": {"law_enforcement_delay_days": -3}}),
            "invalid_incident_facts",
        ),
        (
            json!({"severity": "critical", "facts": {"records_estimate": -1}}),
            "invalid_incident_facts",
        ),
        (
            json!({"owner_user_id": uuid::Uuid::now_v7()}),
            "invalid_owner",
        ),
        (json!({}), "invalid_request"),
    ] {
        let res = patch(&app, &path, &t.key, body.clone()).await;
        assert_eq!(code_of(res).await, (400, code.to_owned()), "{body}");
    }
    for (body, code) in [
        (
            json!({"kind": "explosion", "date": "2026-03-03"}),
            "invalid_event_kind",
        ),
        (json!({"kind": "created"}), "invalid_event_kind"),
        (json!({"kind": "aware"}), "invalid_event_kind"),
        (json!({"kind": "note", "note": "  "}), "invalid_event_kind"),
        (
            json!({"kind": "note", "note": "x", "days": 3}),
            "invalid_event_kind",
        ),
        (
            json!({"kind": "aware", "date": "2026-03-01"}),
            "invalid_incident_facts",
        ),
        (
            json!({"kind": "aware", "date": "03/04/2026"}),
            "invalid_incident_facts",
        ),
        (
            json!({"kind": "law_enforcement_delay", "days": 4000}),
            "invalid_incident_facts",
        ),
    ] {
        let res = app
            .post_json(&format!("{path}/events"), &t.key, body.clone())
            .await;
        assert_eq!(code_of(res).await, (400, code.to_owned()), "{body}");
    }
    let after: Value = app.get(&path, &t.key).await.json().await.unwrap();
    assert_eq!(after, snapshot);
    assert_eq!(app.audit_count(t.id).await, audit_snapshot);

    for (query, code) in [
        ("status=bogus", "invalid_filter"),
        ("limit=0", "invalid_limit"),
        ("limit=501", "invalid_limit"),
        ("color=red", "invalid_query"),
    ] {
        let res = app.get(&format!("/api/v1/incidents?{query}"), &t.key).await;
        assert_eq!(code_of(res).await, (400, code.to_owned()), "{query}");
    }
}

async fn readers_read_and_writers_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-roles.myshopify.com").await;
    let viewer = app.user_key(&t, "viewer-1", "viewer").await;
    let legal = app.user_key(&t, "legal-1", "legal").await;
    let analyst = app.user_key(&t, "analyst-1", "analyst").await;

    let created = open(
        &app,
        &analyst,
        json!({"title": "Phished admin", "severity": "medium"}),
    )
    .await;
    let created_by = created["created_by"].as_str().unwrap();
    assert!(created_by.starts_with("user:"), "{created_by}");
    assert!(!created_by.starts_with(&format!("user:{}", t.owner)));
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/incidents/{id}");
    let audit_before = app.audit_count(t.id).await;

    for key in [&viewer, &legal] {
        let res = app
            .post_json(
                "/api/v1/incidents",
                key,
                json!({"title": "x", "severity": "low"}),
            )
            .await;
        assert_eq!(code_of(res).await, (403, "insufficient_role".into()));
        let res = patch(&app, &path, key, json!({"title": "renamed"})).await;
        assert_eq!(code_of(res).await, (403, "insufficient_role".into()));
        let res = app
            .post_json(
                &format!("{path}/events"),
                key,
                json!({"kind": "note", "note": "hello"}),
            )
            .await;
        assert_eq!(code_of(res).await, (403, "insufficient_role".into()));
        assert_eq!(app.get(&path, key).await.status(), 200);
        assert_eq!(app.get("/api/v1/incidents", key).await.status(), 200);
        assert_eq!(
            app.get(&format!("{path}/obligations"), key).await.status(),
            200
        );
    }
    assert_eq!(app.audit_count(t.id).await, audit_before);
    assert_eq!(incident_count(&app, &t).await, 1);
    let res = patch(&app, &path, &analyst, json!({"title": "renamed"})).await;
    assert_eq!(res.status(), 200);
}

async fn another_tenant_gets_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.create_tenant("incident-a.myshopify.com").await;
    let b = app.create_tenant("incident-b.myshopify.com").await;
    let created = open(&app, &a.key, json!({"title": "A's", "severity": "low"})).await;
    let path = format!("/api/v1/incidents/{}", created["id"].as_str().unwrap());
    let audit_a = app.audit_count(a.id).await;
    assert_eq!(
        code_of(app.get(&path, &b.key).await).await,
        (404, "not_found".into())
    );
    assert_eq!(
        code_of(app.get(&format!("{path}/obligations"), &b.key).await).await,
        (404, "not_found".into())
    );
    let res = patch(&app, &path, &b.key, json!({"title": "mine"})).await;
    assert_eq!(code_of(res).await, (404, "not_found".into()));
    let res = app
        .post_json(
            &format!("{path}/events"),
            &b.key,
            json!({"kind": "note", "note": "mine"}),
        )
        .await;
    assert_eq!(code_of(res).await, (404, "not_found".into()));
    let listed: Value = app
        .get("/api/v1/incidents", &b.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["incidents"], json!([]));
    assert_eq!(app.audit_count(a.id).await, audit_a);
    let own: Value = app.get(&path, &a.key).await.json().await.unwrap();
    assert_eq!(own["title"], "A's");
    assert_eq!(kinds(&own), ["created"]);
}

async fn lists_page_newest_first_and_filter_by_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-list.myshopify.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let created = open(
            &app,
            &t.key,
            json!({"title": format!("incident {i}"), "severity": "low"}),
        )
        .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let res = patch(
        &app,
        &format!("/api/v1/incidents/{}", ids[1]),
        &t.key,
        json!({"status": "contained"}),
    )
    .await;
    assert_eq!(res.status(), 200);

    let first: Value = app
        .get("/api/v1/incidents?limit=2", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let titles = |page: &Value| -> Vec<String> {
        page["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(titles(&first), ["incident 2", "incident 1"]);
    assert_eq!(first["next_before"], ids[1]);
    let second: Value = app
        .get(
            &format!("/api/v1/incidents?limit=2&before={}", ids[1]),
            &t.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&second), ["incident 0"]);
    assert_eq!(second["next_before"], Value::Null);
    let contained: Value = app
        .get("/api/v1/incidents?status=contained", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&contained), ["incident 1"]);
}

async fn each_event_sets_its_fact(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-events.myshopify.com").await;
    let created = open(
        &app,
        &t.key,
        json!({"title": "Card skimmer", "severity": "critical",
               "facts": {"discovered_at": "2026-03-02", "residents": {"CA": 600}}}),
    )
    .await;
    let path = format!("/api/v1/incidents/{}", created["id"].as_str().unwrap());
    let audit_before = app.audit_count(t.id).await;
    for (event, field, value) in [
        (
            json!({"kind": "aware", "date": "2026-03-03"}),
            "aware_at",
            json!("2026-03-03"),
        ),
        (
            json!({"kind": "containment", "date": "2026-03-05"}),
            "contained_at",
            json!("2026-03-05"),
        ),
        (
            json!({"kind": "breach_window", "window_start": "2026-01-10", "window_end": "2026-03-01"}),
            "window_start",
            json!("2026-01-10"),
        ),
        (
            json!({"kind": "law_enforcement_delay", "days": 10, "note": "FBI request"}),
            "law_enforcement_delay_days",
            json!(10),
        ),
        (
            json!({"kind": "note", "note": "call with the processor"}),
            "title",
            json!("Card skimmer"),
        ),
    ] {
        let res = app
            .post_json(&format!("{path}/events"), &t.key, event.clone())
            .await;
        assert_eq!(res.status(), 201, "{event}");
        let body: Value = res.json().await.unwrap();
        let shown = if field == "title" {
            &body["title"]
        } else {
            &body["facts"][field]
        };
        assert_eq!(shown, &value, "{event}");
        let last = body["timeline"].as_array().unwrap().last().unwrap();
        assert_eq!(last["kind"], event["kind"]);
    }
    let incident: Value = app.get(&path, &t.key).await.json().await.unwrap();
    assert_eq!(incident["facts"]["window_end"], "2026-03-01");
    assert_eq!(
        incident["timeline"][4]["detail"],
        json!({"days": 10, "note": "FBI request"})
    );
    assert_eq!(app.audit_count(t.id).await, audit_before + 5);
    // The law-enforcement delay moves the individuals' deadline by its days.
    let body: Value = app
        .get(&format!("{path}/obligations"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    let all = body["obligations"].as_array().unwrap();
    assert_eq!(
        find(all, "US-CA", "individuals").unwrap()["due"],
        "2026-04-11"
    );
}

crate::on_both_backends!(
    each_event_sets_its_fact,
    a_lifecycle_is_on_the_timeline_and_in_the_audit_chain,
    obligations_follow_the_stored_facts,
    bad_input_is_refused_and_changes_nothing,
    readers_read_and_writers_write,
    another_tenant_gets_not_found,
    lists_page_newest_first_and_filter_by_status,
);
