//! Every endpoint that takes an id, asked for tenant B's object with tenant A's credentials,
//! must answer 404 exactly as for a missing object, and the same request with B's credentials
//! must succeed (so the probe is known to reach the object). A route with an id that is not in
//! the probe table fails the suite: add it here when you add the route.
//!
//! Views keyed by an outside id (a Shopify customer GID) answer every id with 200: for another
//! tenant's customer they must answer exactly what they answer for an unknown customer.

use crate::helpers::{Backend, TestApp, TestTenant};
use sea_orm::EntityTrait;
use std::collections::BTreeSet;

/// Ids of tenant B's objects that probes substitute into route templates.
struct Objects {
    user_id: String,
    other_user_id: String,
    api_key_id: String,
    audit_seq: String,
    finding_id: String,
    run_id: String,
    data_request_id: String,
    agent_id: String,
    retention_run_id: String,
    incident_id: String,
    alert_id: String,
    destination_id: String,
    outbox_entry_id: String,
}

/// The customer tenant B holds a data request about.
const B_CUSTOMER_GID: &str = "gid%3A%2F%2Fshopify%2FCustomer%2F191167";

/// (method, route template as registered, concrete path for B's object). `FORM` posts
/// `decision=acknowledge` as a console form; `REVIEW` posts the same decision as JSON;
/// `ALERT_FEEDBACK_FORM` resolves (after `ALERT_FEEDBACK` acknowledged) through the console.
fn probes(b: &Objects) -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "GET",
            "/permissions/findings/{id}",
            format!("/api/v1/permissions/findings/{}", b.finding_id),
        ),
        (
            "REVIEW",
            "/permissions/findings/{id}/reviews",
            format!("/api/v1/permissions/findings/{}/reviews", b.finding_id),
        ),
        (
            "GET",
            "/permissions/runs/{id}",
            format!("/api/v1/permissions/runs/{}", b.run_id),
        ),
        (
            "GET",
            "/permissions/findings/{finding_id}",
            format!("/console/permissions/findings/{}", b.finding_id),
        ),
        (
            "FORM",
            "/permissions/findings/{finding_id}/review",
            format!("/console/permissions/findings/{}/review", b.finding_id),
        ),
        (
            "GET",
            "/permissions/runs/{run_id}",
            format!("/console/permissions/runs/{}", b.run_id),
        ),
        ("GET", "/users/{id}", format!("/api/v1/users/{}", b.user_id)),
        (
            "PATCH",
            "/users/{id}",
            format!("/api/v1/users/{}", b.other_user_id),
        ),
        (
            "GET",
            "/users/{id}/api-keys",
            format!("/api/v1/users/{}/api-keys", b.user_id),
        ),
        (
            "POST",
            "/api-keys/{id}/revoke",
            format!("/api/v1/api-keys/{}/revoke", b.api_key_id),
        ),
        (
            "POST",
            "/users/{id}/api-keys",
            format!("/api/v1/users/{}/api-keys", b.user_id),
        ),
        (
            "GET",
            "/audit/entries/{seq}",
            format!("/api/v1/audit/entries/{}", b.audit_seq),
        ),
        (
            "GET",
            "/compliance/data-requests/{id}",
            format!("/api/v1/compliance/data-requests/{}", b.data_request_id),
        ),
        (
            "GET",
            "/compliance/data-requests/{id}/report",
            format!(
                "/api/v1/compliance/data-requests/{}/report",
                b.data_request_id
            ),
        ),
        (
            "GET",
            "/agents/{id}",
            format!("/api/v1/agents/{}", b.agent_id),
        ),
        (
            "POST",
            "/agents/{id}/revoke",
            format!("/api/v1/agents/{}/revoke", b.agent_id),
        ),
        (
            "GET",
            "/retention/runs/{id}",
            format!("/api/v1/retention/runs/{}", b.retention_run_id),
        ),
        (
            "GET",
            "/incidents/{id}",
            format!("/api/v1/incidents/{}", b.incident_id),
        ),
        (
            "PATCH_INCIDENT",
            "/incidents/{id}",
            format!("/api/v1/incidents/{}", b.incident_id),
        ),
        (
            "INCIDENT_EVENT",
            "/incidents/{id}/events",
            format!("/api/v1/incidents/{}/events", b.incident_id),
        ),
        (
            "GET",
            "/incidents/{id}/obligations",
            format!("/api/v1/incidents/{}/obligations", b.incident_id),
        ),
        (
            "GET",
            "/alerts/{id}",
            format!("/api/v1/alerts/{}", b.alert_id),
        ),
        (
            "ALERT_FEEDBACK",
            "/alerts/{id}/feedback",
            format!("/api/v1/alerts/{}/feedback", b.alert_id),
        ),
        (
            "GET",
            "/alerts/{alert_id}",
            format!("/console/alerts/{}", b.alert_id),
        ),
        (
            "ALERT_FEEDBACK_FORM",
            "/alerts/{alert_id}/feedback",
            format!("/console/alerts/{}/feedback", b.alert_id),
        ),
        (
            "GET",
            "/incidents/{incident_id}",
            format!("/console/incidents/{}", b.incident_id),
        ),
        (
            "INCIDENT_NOTE_FORM",
            "/incidents/{incident_id}/events",
            format!("/console/incidents/{}/events", b.incident_id),
        ),
        (
            "INCIDENT_STATUS_FORM",
            "/incidents/{incident_id}/status",
            format!("/console/incidents/{}/status", b.incident_id),
        ),
        (
            "INCIDENT_FACTS_FORM",
            "/incidents/{incident_id}/facts",
            format!("/console/incidents/{}/facts", b.incident_id),
        ),
        (
            "GET",
            "/destinations/{id}",
            format!("/api/v1/destinations/{}", b.destination_id),
        ),
        (
            "POST",
            "/destinations/{id}/test",
            format!("/api/v1/destinations/{}/test", b.destination_id),
        ),
        (
            "PATCH_DESTINATION",
            "/destinations/{id}",
            format!("/api/v1/destinations/{}", b.destination_id),
        ),
        (
            "POST",
            "/outbox/{id}/replay",
            format!("/api/v1/outbox/{}/replay", b.outbox_entry_id),
        ),
        // Last: the probes above use the destination.
        (
            "DELETE",
            "/destinations/{id}",
            format!("/api/v1/destinations/{}", b.destination_id),
        ),
    ]
}

/// Views keyed by an outside id: (route template, concrete path for B's customer).
fn view_probes() -> Vec<(&'static str, String)> {
    vec![(
        "/customers/{customerGid}/findings",
        format!("/api/v1/customers/{B_CUSTOMER_GID}/findings"),
    )]
}

/// Route templates with a path parameter, read from the route table source.
fn registered_id_routes() -> BTreeSet<String> {
    let source: String = include_str!("../../src/http/routes/mod.rs")
        .split_whitespace()
        .collect();
    source
        .split(".route(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|path| path.contains('{'))
        .map(str::to_owned)
        .collect()
}

async fn call(app: &TestApp, method: &str, path: &str, key: &str) -> reqwest::Response {
    match method {
        "GET" => app.get(path, key).await,
        "POST" => app.post_json(path, key, serde_json::json!({})).await,
        "DELETE" => app
            .client
            .delete(app.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap(),
        "PATCH" => app
            .client
            .patch(app.url(path))
            .bearer_auth(key)
            .json(&serde_json::json!({"role": "analyst"}))
            .send()
            .await
            .unwrap(),
        "PATCH_INCIDENT" => app
            .client
            .patch(app.url(path))
            .bearer_auth(key)
            .json(&serde_json::json!({"title": "renamed"}))
            .send()
            .await
            .unwrap(),
        "PATCH_DESTINATION" => app
            .client
            .patch(app.url(path))
            .bearer_auth(key)
            .json(&serde_json::json!({"name": "renamed"}))
            .send()
            .await
            .unwrap(),
        "INCIDENT_EVENT" => {
            app.post_json(
                path,
                key,
                serde_json::json!({"kind": "note", "note": "probe"}),
            )
            .await
        }
        "ALERT_FEEDBACK" => {
            app.post_json(path, key, serde_json::json!({"action": "acknowledge"}))
                .await
        }
        "REVIEW" => {
            app.post_json(path, key, serde_json::json!({"decision": "acknowledge"}))
                .await
        }
        "FORM" => app
            .client
            .post(app.url(path))
            .bearer_auth(key)
            .form(&[("decision", "acknowledge")])
            .send()
            .await
            .unwrap(),
        "ALERT_FEEDBACK_FORM" => app
            .client
            .post(app.url(path))
            .bearer_auth(key)
            .form(&[("action", "resolve")])
            .send()
            .await
            .unwrap(),
        "INCIDENT_NOTE_FORM" | "INCIDENT_STATUS_FORM" | "INCIDENT_FACTS_FORM" => {
            let fields: &[(&str, &str)] = match method {
                "INCIDENT_NOTE_FORM" => &[("kind", "note"), ("note", "probe")],
                "INCIDENT_STATUS_FORM" => &[("status", "investigating")],
                _ => &[("residents", "CA=3")],
            };
            app.client
                .post(app.url(path))
                .bearer_auth(key)
                .form(fields)
                .send()
                .await
                .unwrap()
        }
        other => panic!("add method {other} to the harness"),
    }
}

async fn no_tenant_reaches_another_tenants_objects(backend: Backend) {
    let app = crate::shopify_support::shopify_app(backend, None).await;
    let a: TestTenant = app.create_tenant("tenant-a.myshopify.com").await;
    let b: TestTenant = app.create_tenant("tenant-b.myshopify.com").await;
    // A privacy request in B's shop about one of B's customers.
    let request = serde_json::json!({"shop_id": 2, "shop_domain": "tenant-b.myshopify.com", "orders_requested": [], "customer": {"id": 191167, "email": "b-customer@example.com"}, "data_request": {"id": 1}});
    let res = app
        .deliver("customers/data_request", "tenant-b.myshopify.com", &request)
        .await;
    assert_eq!(res.status(), 200);
    app.process_webhooks().await;
    let listed: serde_json::Value = app
        .get("/api/v1/compliance/data-requests", &b.key)
        .await
        .json()
        .await
        .unwrap();
    let data_request_id = listed["data_requests"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Give B more audit entries than A, so B's last seq does not exist in A's chain.
    let mut b_users = Vec::new();
    for i in 0..3 {
        let res = app
            .post_json(
                "/api/v1/users",
                &b.key,
                serde_json::json!({"external_id": format!("b{i}"), "display_name": "B user", "role": "viewer"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let user: serde_json::Value = res.json().await.unwrap();
        b_users.push(user["id"].as_str().unwrap().to_owned());
    }
    // A spare key of B's (the revoke probe ends it).
    let res = app
        .post_json(
            &format!("/api/v1/users/{}/api-keys", b_users[0]),
            &b.key,
            serde_json::json!({"label": "spare"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let api_key_id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_ctx =
        app_server::tenancy::TenantCtx::system(leakguard_domain::ids::TenantId(b.id), "test");
    // A destination of B's, stored as if private networks were allowed (this server refuses
    // them, so B's own test event answers `delivered: false` without leaving the host).
    let lenient = app_server::outbox::Outbound {
        sender: app_server::outbox::targets::Sender::new(
            &app_server::config::OutboundSettings {
                allow_private_networks: true,
                ..Default::default()
            },
            "test".into(),
        )
        .unwrap(),
        ..app.state.outbound.clone()
    };
    let b_destination = app_server::outbox::destinations::create(
        &lenient,
        &b_ctx,
        serde_json::from_value(serde_json::json!({"kind": "pagerduty", "name": "B pager", "config": {"events_url": "http://127.0.0.1:9/v2/enqueue"}, "secret": "routing-key-b"})).unwrap(),
    )
    .await
    .unwrap();
    // B has a permission audit run with a finding (and its event waits in B's outbox).
    let now = app_server::db::now_ms();
    let b_run = app_server::permission_audits::run_now(
        &app.state.db,
        &b_ctx,
        &crate::permissions::static_source(),
        app_server::permission_audits::Trigger::Manual,
        now,
    )
    .await
    .unwrap();
    let b_finding = app_server::permission_audits::list_findings(
        &app.state.db,
        &b_ctx,
        app_server::permission_audits::FindingFilter::Active,
        now,
    )
    .await
    .unwrap()
    .remove(0);
    // An agent enrolled under B (its audit entries keep B's chain ahead of A's).
    let b_agent = crate::agent::enroll_agent(&app, &b).await;
    let retention_run_id = {
        use sea_orm::ActiveValue::Set;
        let id = uuid::Uuid::now_v7();
        app_server::db::entities::webhook_deliveries::Entity::insert(
            app_server::db::entities::webhook_deliveries::ActiveModel {
                id: Set(id),
                tenant_id: Set(Some(b.id)),
                source: Set(app_server::db::entities::webhook_deliveries::Source::Shopify),
                delivery_id: Set(format!("x-{id}")),
                topic: Set("orders/create".into()),
                shop_domain: Set("tenant-b.myshopify.com".into()),
                received_at: Set(0),
                status: Set(app_server::db::entities::webhook_deliveries::Status::Processed),
                attempts: Set(1),
                next_attempt_at: Set(0),
                last_error: Set(None),
                payload: Set(Some(b"{}".to_vec())),
            },
        )
        .exec_without_returning(&app.state.db)
        .await
        .unwrap();
        let res = app
            .client
            .post(app.url("/api/v1/retention/runs"))
            .bearer_auth(&b.key)
            .send()
            .await
            .unwrap();
        let reports: Vec<serde_json::Value> = res.json().await.unwrap();
        reports[0]["run_id"].as_str().unwrap().to_owned()
    };
    // An incident of B's.
    let res = app
        .post_json(
            "/api/v1/incidents",
            &b.key,
            serde_json::json!({"title": "B's incident", "severity": "low"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let incident_id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An alert of B's, raised by an outfile in a batch of B's agent.
    crate::alerts::send_outfile(&app, &b_agent, 0, "intruder", "2026-11-28T02:00:00Z").await;
    let alert_id = crate::alerts::wait_for_alerts(&app, &b.key, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settle_detection().await;
    let b_entry = app_server::db::entities::outbox::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.tenant_id == b.id)
        .expect("B's finding queued an outbox entry");
    let b_objects = Objects {
        user_id: b.owner.to_string(),
        other_user_id: b_users[1].clone(),
        api_key_id,
        audit_seq: app.audit_count(b.id).await.to_string(),
        finding_id: b_finding.id.to_string(),
        run_id: b_run.id.to_string(),
        data_request_id,
        retention_run_id,
        agent_id: b_agent.id,
        incident_id,
        alert_id,
        destination_id: b_destination.id.to_string(),
        outbox_entry_id: b_entry.id.to_string(),
    };
    assert!(app.audit_count(a.id).await < app.audit_count(b.id).await);

    let probes = probes(&b_objects);
    let views = view_probes();
    let probed: BTreeSet<String> = probes
        .iter()
        .map(|(_, t, _)| (*t).to_owned())
        .chain(views.iter().map(|(t, _)| (*t).to_owned()))
        .collect();
    let missing: Vec<_> = registered_id_routes()
        .difference(&probed)
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "routes with ids not in the cross-tenant harness: {missing:?}"
    );

    for (method, template, path) in &probes {
        let res = call(&app, method, path, &a.key).await;
        assert_eq!(
            res.status(),
            404,
            "{method} {template} leaked across tenants"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "not_found");
        let own = call(&app, method, path, &b.key).await;
        assert!(
            own.status().is_success(),
            "{method} {template} did not reach B's own object: {}",
            own.status()
        );
    }

    for (template, path) in &views {
        let unknown_path = path.replace("191167", "999999999");
        let as_a: serde_json::Value = app.get(path, &a.key).await.json().await.unwrap();
        let unknown: serde_json::Value = app.get(&unknown_path, &a.key).await.json().await.unwrap();
        assert_eq!(
            as_a["findings"], unknown["findings"],
            "{template} leaked across tenants"
        );
        assert_eq!(
            as_a["data_requests"], unknown["data_requests"],
            "{template} leaked across tenants"
        );
        assert_eq!(as_a["data_requests"], serde_json::json!([]));
        let own: serde_json::Value = app.get(path, &b.key).await.json().await.unwrap();
        assert_eq!(
            own["data_requests"].as_array().map(Vec::len),
            Some(1),
            "{template} did not reach B's own customer"
        );
    }
}

crate::on_both_backends!(no_tenant_reaches_another_tenants_objects);
