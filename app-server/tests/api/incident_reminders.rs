//! Notices sent and deadline reminders: recording a notice dates the deadlines that count from
//! it and ends the countdown of the obligation it answers; bad notices are refused with a
//! clear message and change nothing; the reminder job, called at simulated times, raises each
//! reminder on its day, exactly once, on the timeline and in the audit chain as
//! `system:reminders`, and the obligations show countdowns and overdue flags.

use app_server::incidents::reminder_job;
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};

use crate::helpers::{Backend, TestApp, spawn_app};

async fn open(app: &TestApp, key: &str, body: Value) -> String {
    let res = app.post_json("/api/v1/incidents", key, body).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

async fn obligations(app: &TestApp, key: &str, id: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/incidents/{id}/obligations"), key)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn find<'a>(body: &'a Value, jurisdiction: &str, audience: &str) -> &'a Value {
    body["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["jurisdiction"] == jurisdiction && o["audience"] == audience)
        .unwrap_or_else(|| panic!("no {jurisdiction} {audience} obligation: {body:#}"))
}

async fn event(app: &TestApp, key: &str, id: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/api/v1/incidents/{id}/events"), key, body)
        .await
}

async fn refused(res: reqwest::Response) -> (u16, String, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_owned(),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Unix ms of `YYYY-MM-DD` at `hour`:00 UTC.
fn at(day: &str, hour: u8) -> i64 {
    let date = leakguard_domain::law::parse_date(day).unwrap();
    let t = date.with_hms(hour, 0, 0).unwrap().assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
}

async fn timeline(app: &TestApp, key: &str, id: &str) -> Vec<Value> {
    let body: Value = app
        .get(&format!("/api/v1/incidents/{id}"), key)
        .await
        .json()
        .await
        .unwrap();
    body["timeline"].as_array().unwrap().clone()
}

async fn a_notice_sent_dates_the_attorney_general_sample_and_ends_its_countdown(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-notice.myshopify.com").await;
    let legal = app.user_key(&t, "legal-1", "legal").await;
    let viewer = app.user_key(&t, "viewer-1", "viewer").await;
    let discovered = today() - Duration::days(10);
    let id = open(
        &app,
        &t.key,
        json!({"title": "Exposed export", "severity": "high",
               "facts": {"discovered_at": discovered.to_string(), "residents": {"CA": 600},
                         "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;

    let before = obligations(&app, &t.key, &id).await;
    assert_eq!(before["today"], today().to_string());
    let individuals = find(&before, "US-CA", "individuals");
    assert_eq!(individuals["state"], "due");
    assert_eq!(individuals["days_left"], 20, "30 days from discovery");
    assert_eq!(individuals["overdue"], false);
    let ag = find(&before, "US-CA", "regulator");
    assert_eq!(ag["state"], "awaiting_notice");
    assert_eq!(
        ag["due_after"],
        json!({"event": "individual_notice_sent", "days": 15})
    );
    assert!(ag.get("due").is_none() && ag.get("days_left").is_none());

    // A viewer may not record a notice; legal may, and is the actor.
    let sent_on = today() - Duration::days(2);
    let body = json!({"kind": "notice_sent", "jurisdiction": "us-ca",
                      "audience": "individuals", "date": sent_on.to_string()});
    let res = event(&app, &viewer, &id, body.clone()).await;
    assert_eq!(res.status(), 403);
    let audit_before = app.audit_count(t.id).await;
    let res = event(&app, &legal, &id, body).await;
    assert_eq!(res.status(), 201);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(
        detail["facts"]["notices_sent"],
        json!([{"jurisdiction": "US-CA", "audience": "individuals", "sent_on": sent_on.to_string()}])
    );
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "notice_sent");
    assert!(
        last["actor"].as_str().unwrap().starts_with("user:"),
        "{last}"
    );
    assert!(
        !last["actor"]
            .as_str()
            .unwrap()
            .starts_with(&format!("user:{}", t.owner)),
        "the legal user, not the owner, is the actor"
    );
    assert_eq!(
        last["detail"],
        json!({"date": sent_on.to_string(), "jurisdiction": "US-CA", "audience": "individuals"})
    );
    assert_eq!(app.audit_count(t.id).await, audit_before + 1);
    let entries: Vec<Value> = app
        .get("/api/v1/audit/entries?limit=1000", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let entry = entries
        .iter()
        .find(|e| e["action"] == "incident.notice_sent")
        .unwrap();
    assert_eq!(entry["actor"]["type"], "user");
    assert_eq!(entry["subject"]["id"], id);

    let after = obligations(&app, &t.key, &id).await;
    let individuals = find(&after, "US-CA", "individuals");
    assert_eq!(individuals["state"], "sent");
    assert_eq!(individuals["sent_on"], sent_on.to_string());
    assert!(individuals.get("days_left").is_none());
    let ag = find(&after, "US-CA", "regulator");
    let ag_due = sent_on + Duration::days(15);
    assert_eq!(ag["due"], ag_due.to_string(), "15 days after the notice");
    assert!(ag.get("due_after").is_none());
    assert_eq!(ag["state"], "due");
    assert_eq!(ag["days_left"], 13);

    // The sample to the Attorney General: its one recipient may be left out.
    let res = event(
        &app,
        &t.key,
        &id,
        json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "regulator",
               "date": today().to_string()}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let done = obligations(&app, &t.key, &id).await;
    let ag = find(&done, "US-CA", "regulator");
    assert_eq!(ag["state"], "sent");
    assert_eq!(ag["recipient"], "California Attorney General");
    assert_eq!(done["overdue"], 0);
    let verified: Value = app
        .get("/api/v1/audit/verify", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
}

async fn a_bad_notice_is_refused_with_a_clear_message_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-bad-notice.myshopify.com").await;
    let discovered = today() - Duration::days(5);
    let id = open(
        &app,
        &t.key,
        json!({"title": "NY and CA", "severity": "high",
               "facts": {"discovered_at": discovered.to_string(),
                         "residents": {"CA": 600, "NY": 6000},
                         "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;
    let audit_before = app.audit_count(t.id).await;
    let timeline_before = timeline(&app, &t.key, &id).await;
    let obligations_before = obligations(&app, &t.key, &id).await;
    let day = today().to_string();
    let cases = [
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-ZZ", "audience": "individuals", "date": day}),
            "invalid_incident_facts",
            "unknown jurisdiction",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "EU-GDPR", "audience": "regulator", "date": day}),
            "invalid_incident_facts",
            "no obligations in EU-GDPR",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "media", "date": day}),
            "invalid_incident_facts",
            "US-CA has no media notice",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "press", "date": day}),
            "invalid_incident_facts",
            "audience must be",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "individuals",
                   "date": (discovered - Duration::days(1)).to_string()}),
            "invalid_incident_facts",
            "discovery date",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "individuals",
                   "date": (today() + Duration::days(1)).to_string()}),
            "invalid_incident_facts",
            "in the future",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-NY", "audience": "regulator", "date": day}),
            "invalid_incident_facts",
            "name the recipient",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-NY", "audience": "regulator",
                   "recipient": "Mayor of New York", "date": day}),
            "invalid_incident_facts",
            "New York Attorney General",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "individuals",
                   "recipient": "someone", "date": day}),
            "invalid_incident_facts",
            "recipient applies to",
        ),
        (
            json!({"kind": "notice_sent", "audience": "individuals", "date": day}),
            "invalid_event_kind",
            "needs a jurisdiction",
        ),
        (
            json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "individuals"}),
            "invalid_event_kind",
            "needs a date",
        ),
        (
            json!({"kind": "note", "note": "x", "jurisdiction": "US-CA"}),
            "invalid_event_kind",
            "does not apply",
        ),
    ];
    for (body, code, words) in cases {
        let (status, got_code, message) =
            refused(event(&app, &t.key, &id, body.clone()).await).await;
        assert_eq!(
            (status, got_code.as_str()),
            (400, code),
            "{body}: {message}"
        );
        assert!(
            message.contains(words),
            "{body}: {message:?} lacks {words:?}"
        );
    }
    // Facts: negative counts, unknown states, dates in the wrong order.
    for (facts, words) in [
        (json!({"residents": {"CA": -1}}), "0 to"),
        (json!({"residents": {"ZZ": 5}}), "unknown US state code"),
        (
            json!({"window_start": "2026-03-05", "window_end": "2026-03-01"}),
            "is before window_start",
        ),
        (json!({"records_estimate": -5}), "records_estimate must be"),
    ] {
        let res = app
            .client
            .patch(app.url(&format!("/api/v1/incidents/{id}")))
            .bearer_auth(&t.key)
            .json(&json!({"facts": facts}))
            .send()
            .await
            .unwrap();
        let (status, code, message) = refused(res).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "invalid_incident_facts"),
            "{facts}"
        );
        assert!(message.contains(words), "{facts}: {message:?}");
    }
    assert_eq!(app.audit_count(t.id).await, audit_before);
    assert_eq!(timeline(&app, &t.key, &id).await, timeline_before);
    assert_eq!(obligations(&app, &t.key, &id).await, obligations_before);

    // The NY Attorney General by name (any case) is accepted.
    let res = event(
        &app,
        &t.key,
        &id,
        json!({"kind": "notice_sent", "jurisdiction": "US-NY", "audience": "regulator",
               "recipient": "new york attorney general", "date": day}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let after = obligations(&app, &t.key, &id).await;
    let sent: Vec<&Value> = after["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["state"] == "sent")
        .collect();
    assert_eq!(sent.len(), 1, "{after:#}");
    assert_eq!(sent[0]["recipient"], "New York Attorney General");
}

fn reminder_kinds(body: &Value) -> Vec<(String, String, String)> {
    body["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["audience"].as_str().unwrap().to_owned(),
                r["due"].as_str().unwrap().to_owned(),
                r["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn reminders_are_raised_on_their_simulated_day_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = &app.state.db;
    let t = app.create_tenant("incident-reminders.myshopify.com").await;
    // Notice to individuals in California is due 30 days after discovery: 2026-04-01.
    let id = open(
        &app,
        &t.key,
        json!({"title": "Leaked customer export", "severity": "critical",
               "facts": {"discovered_at": "2026-03-02", "residents": {"CA": 600},
                         "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;
    let audit_before = app.audit_count(t.id).await;

    assert_eq!(
        reminder_job(db, at("2026-03-24", 23)).await.unwrap(),
        0,
        "8 days before"
    );
    assert_eq!(
        reminder_job(db, at("2026-03-25", 0)).await.unwrap(),
        1,
        "7 days before"
    );
    assert_eq!(
        reminder_job(db, at("2026-03-25", 1)).await.unwrap(),
        0,
        "not twice"
    );
    assert_eq!(
        reminder_job(db, at("2026-03-27", 9)).await.unwrap(),
        0,
        "5 days before"
    );
    // Two replicas at once: one raises it, the other finds it raised.
    let (a, b) = tokio::join!(
        reminder_job(db, at("2026-03-29", 6)),
        reminder_job(db, at("2026-03-29", 6))
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "3 days before, once");
    // A restarted server (a new pool on the same database) raises nothing again.
    let fresh = sea_orm::Database::connect(&app.db.url).await.unwrap();
    assert_eq!(reminder_job(&fresh, at("2026-03-29", 18)).await.unwrap(), 0);
    assert_eq!(
        reminder_job(db, at("2026-03-31", 8)).await.unwrap(),
        1,
        "1 day before"
    );
    assert_eq!(
        reminder_job(db, at("2026-04-01", 8)).await.unwrap(),
        1,
        "on the day"
    );
    assert_eq!(
        reminder_job(db, at("2026-04-02", 8)).await.unwrap(),
        1,
        "overdue"
    );
    assert_eq!(reminder_job(db, at("2026-04-09", 8)).await.unwrap(), 0);

    let body = obligations(&app, &t.key, &id).await;
    let raised: Vec<(String, String, String)> = [
        "due_in_7_days",
        "due_in_3_days",
        "due_in_1_day",
        "due_today",
        "overdue",
    ]
    .iter()
    .map(|k| {
        (
            "individuals".to_owned(),
            "2026-04-01".to_owned(),
            (*k).to_owned(),
        )
    })
    .collect();
    assert_eq!(reminder_kinds(&body), raised);
    let individuals = find(&body, "US-CA", "individuals");
    assert_eq!(individuals["state"], "overdue");
    assert_eq!(individuals["overdue"], true);
    let days_left =
        (leakguard_domain::law::parse_date("2026-04-01").unwrap() - today()).whole_days();
    assert_eq!(individuals["days_left"], days_left);
    assert_eq!(body["overdue"], 1);

    // Each reminder is a timeline event and an audit entry of system:reminders.
    let reminders: Vec<Value> = timeline(&app, &t.key, &id)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "reminder")
        .collect();
    assert_eq!(reminders.len(), 5);
    assert!(reminders.iter().all(|e| e["actor"] == "system:reminders"));
    assert_eq!(reminders[0]["at"], "2026-03-25T00:00:00.000Z");
    assert_eq!(
        reminders[0]["detail"],
        json!({"reminder": "due_in_7_days", "jurisdiction": "US-CA", "audience": "individuals",
               "due": "2026-04-01", "days_left": 7})
    );
    assert_eq!(app.audit_count(t.id).await, audit_before + 5);
    let entries: Vec<Value> = app
        .get("/api/v1/audit/entries?limit=1000", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let raised_entries: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "incident.reminder_raised")
        .collect();
    assert_eq!(raised_entries.len(), 5);
    assert!(
        raised_entries
            .iter()
            .all(|e| e["actor"] == json!({"type": "system", "id": "reminders"}))
    );
    let verified: Value = app
        .get("/api/v1/audit/verify", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");

    // Once the notice is recorded, its reminders stop and the Attorney General sample, now
    // dated (2026-03-30 + 15 days), gets its own.
    let res = event(
        &app,
        &t.key,
        &id,
        json!({"kind": "notice_sent", "jurisdiction": "US-CA", "audience": "individuals",
               "date": "2026-03-30"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(reminder_job(db, at("2026-04-06", 8)).await.unwrap(), 0);
    assert_eq!(reminder_job(db, at("2026-04-07", 8)).await.unwrap(), 1);
    let body = obligations(&app, &t.key, &id).await;
    assert_eq!(
        reminder_kinds(&body).last().unwrap(),
        &(
            "regulator".to_owned(),
            "2026-04-14".to_owned(),
            "due_in_7_days".to_owned()
        )
    );
    assert_eq!(
        body["reminders"].as_array().unwrap().last().unwrap()["recipient"],
        "California Attorney General"
    );

    // A run that first sees a deadline 2 days out raises "3 days", not a late "7 days"; a
    // closed incident gets none (the first incident's sample is overdue by then: one more).
    let late = open(
        &app,
        &t.key,
        json!({"title": "Seen late", "severity": "high",
               "facts": {"discovered_at": "2026-05-01", "residents": {"CA": 10},
                         "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;
    let closed = open(
        &app,
        &t.key,
        json!({"title": "Closed", "severity": "low",
               "facts": {"discovered_at": "2026-05-01", "residents": {"CA": 10},
                         "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/incidents/{closed}")))
        .bearer_auth(&t.key)
        .json(&json!({"status": "closed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(reminder_job(db, at("2026-05-29", 8)).await.unwrap(), 2);
    let first = obligations(&app, &t.key, &id).await;
    assert_eq!(reminder_kinds(&first).last().unwrap().2, "overdue");
    let body = obligations(&app, &t.key, &late).await;
    assert_eq!(
        reminder_kinds(&body),
        [(
            "individuals".to_owned(),
            "2026-05-31".to_owned(),
            "due_in_3_days".to_owned()
        )]
    );
    assert!(
        obligations(&app, &t.key, &closed).await["reminders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn console_page(app: &TestApp, key: &str, id: &str) -> String {
    let res = app
        .client
        .get(app.url(&format!("/console/incidents/{id}")))
        .bearer_auth(key)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn the_console_offers_each_role_its_own_forms(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app
        .create_tenant("incident-console-roles.myshopify.com")
        .await;
    let legal = app.user_key(&t, "legal-1", "legal").await;
    let viewer = app.user_key(&t, "viewer-1", "viewer").await;
    let id = open(
        &app,
        &t.key,
        json!({"title": "Roles", "severity": "medium",
               "facts": {"discovered_at": (today() - Duration::days(3)).to_string(),
                         "residents": {"CA": 20}, "categories": ["US_SSN", "PERSON"]}}),
    )
    .await;
    let owner_page = console_page(&app, &t.key, &id).await;
    for form in ["notice-form", "facts-form", "status-form", "event-form"] {
        assert!(
            owner_page.contains(&format!("id=\"{form}\"")),
            "owner sees {form}"
        );
    }
    let legal_page = console_page(&app, &legal, &id).await;
    assert!(
        legal_page.contains("id=\"notice-form\""),
        "legal records notices"
    );
    for form in ["facts-form", "status-form", "event-form"] {
        assert!(
            !legal_page.contains(&format!("id=\"{form}\"")),
            "legal has no {form}"
        );
    }
    let viewer_page = console_page(&app, &viewer, &id).await;
    assert!(!viewer_page.contains("<form method=\"post\" action=\"/console/incidents/"));

    // Legal's notice through the console form is recorded with legal as the actor.
    let sent_on = today().to_string();
    let res = app
        .client
        .post(app.url(&format!("/console/incidents/{id}/events")))
        .bearer_auth(&legal)
        .form(&[
            ("kind", "notice_sent"),
            ("jurisdiction", "US-CA"),
            ("audience", "individuals"),
            ("recipient", ""),
            ("date", sent_on.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the form answers with the page again");
    let body = obligations(&app, &t.key, &id).await;
    assert_eq!(find(&body, "US-CA", "individuals")["state"], "sent");
    let last = timeline(&app, &t.key, &id).await.pop().unwrap();
    assert_eq!(last["kind"], "notice_sent");
    assert!(
        !last["actor"]
            .as_str()
            .unwrap()
            .starts_with(&format!("user:{}", t.owner))
    );

    // A viewer's post is refused and changes nothing.
    let res = app
        .client
        .post(app.url(&format!("/console/incidents/{id}/events")))
        .bearer_auth(&viewer)
        .form(&[("kind", "note"), ("note", "not mine to add")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        timeline(&app, &t.key, &id)
            .await
            .iter()
            .all(|e| e["kind"] != "note")
    );
}

crate::on_both_backends!(
    the_console_offers_each_role_its_own_forms,
    a_notice_sent_dates_the_attorney_general_sample_and_ends_its_countdown,
    a_bad_notice_is_refused_with_a_clear_message_and_changes_nothing,
    reminders_are_raised_on_their_simulated_day_exactly_once,
);
