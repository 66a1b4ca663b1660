//! The response loop inside the server: an agent batch raises an alert, an analyst escalates
//! it into an incident, residents and categories are entered, the obligations show their due
//! dates and countdowns through the API and the console, the reminder job raises the
//! reminder on its simulated day, and the tenant's audit chain holds every step with its real
//! actor and verifies.

use app_server::incidents::reminder_job;
use serde_json::{Value, json};

use crate::alerts::tenant_with_alert;
use crate::helpers::{Backend, spawn_app};

/// Unix ms of `YYYY-MM-DD` at `hour`:00 UTC.
fn at(day: &str, hour: u8) -> i64 {
    let date = leakguard_domain::law::parse_date(day).unwrap();
    let t = date.with_hms(hour, 0, 0).unwrap().assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
}

async fn an_escalated_alert_becomes_an_incident_with_deadlines_and_reminders(backend: Backend) {
    let app = spawn_app(backend).await;
    let (t, _agent, alert_id) = tenant_with_alert(&app, "alert-to-incident.myshopify.com").await;
    let analyst = app.user_key(&t, "analyst-1", "analyst").await;

    let res = app
        .post_json(
            &format!("/api/v1/alerts/{alert_id}/feedback"),
            &analyst,
            json!({"action": "escalate", "title": "Customer table written to a file"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let alert: Value = res.json().await.unwrap();
    assert_eq!(alert["state"], "escalated");
    let incident_id = alert["incident_id"].as_str().unwrap().to_owned();

    // Counsel's facts: discovered on 2 March 2026, 600 Californians, SSNs with names.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/incidents/{incident_id}")))
        .bearer_auth(&analyst)
        .json(
            &json!({"facts": {"discovered_at": "2026-03-02", "residents": {"CA": 600},
                                "categories": ["US_SSN", "PERSON"]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let obligations: Value = app
        .get(
            &format!("/api/v1/incidents/{incident_id}/obligations"),
            &t.key,
        )
        .await
        .json()
        .await
        .unwrap();
    let individuals = obligations["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["jurisdiction"] == "US-CA" && o["audience"] == "individuals")
        .unwrap_or_else(|| panic!("no California notice: {obligations:#}"));
    // § 1798.82(a) as amended by SB 446: 30 calendar days after discovery.
    assert_eq!(individuals["triggered"], true);
    assert_eq!(individuals["due"], "2026-04-01");
    assert!(individuals["days_left"].is_i64(), "{individuals}");
    // More than 500 Californians: the Attorney General's sample, 15 days after the notice.
    let ag = obligations["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["jurisdiction"] == "US-CA" && o["audience"] == "regulator")
        .unwrap_or_else(|| panic!("no Attorney General sample: {obligations:#}"));
    assert_eq!(ag["triggered"], true);
    assert_eq!(
        ag["due_after"],
        json!({"event": "individual_notice_sent", "days": 15})
    );

    // The console shows the incident with its deadline.
    let page = app
        .client
        .get(app.url(&format!("/console/incidents/{incident_id}")))
        .bearer_auth(&t.key)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Customer table written to a file"));
    assert!(html.contains("2026-04-01"), "no due date on the page");

    // A week before the due date the reminder is raised, once.
    let db = &app.state.db;
    assert_eq!(reminder_job(db, at("2026-03-24", 12)).await.unwrap(), 0);
    assert_eq!(reminder_job(db, at("2026-03-25", 9)).await.unwrap(), 1);
    assert_eq!(reminder_job(db, at("2026-03-25", 10)).await.unwrap(), 0);
    let incident: Value = app
        .get(&format!("/api/v1/incidents/{incident_id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    let timeline = incident["timeline"].as_array().unwrap();
    let reminder = timeline
        .iter()
        .find(|e| e["kind"] == "reminder")
        .unwrap_or_else(|| panic!("no reminder on the timeline: {timeline:#?}"));
    assert_eq!(reminder["actor"], "system:reminders");
    assert_eq!(reminder["detail"]["reminder"], "due_in_7_days");
    assert_eq!(reminder["detail"]["due"], "2026-04-01");
    // The timeline names the alert it came from.
    assert!(
        timeline.iter().any(|e| e.to_string().contains(&alert_id)),
        "the incident does not name its alert: {timeline:#?}"
    );

    // Every step is in the audit chain with its actor, and the chain verifies.
    let entries: Vec<Value> = app
        .get("/api/v1/audit/entries?limit=1000", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let actor_of = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .map(|e| e["actor"].clone())
            .unwrap_or_else(|| panic!("{action} missing from the audit chain"))
    };
    assert_eq!(actor_of("alert.escalate")["type"], "user");
    assert_eq!(
        actor_of("incident.reminder_raised"),
        json!({"type": "system", "id": "reminders"})
    );
    assert!(
        entries
            .iter()
            .any(|e| e["actor"] == json!({"type": "system", "id": "detection"})),
        "no detection entry in the audit chain"
    );
    let verified: Value = app
        .get("/api/v1/audit/verify", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
}

crate::on_both_backends!(an_escalated_alert_becomes_an_incident_with_deadlines_and_reminders,);
