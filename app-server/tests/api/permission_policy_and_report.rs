//! The tenant's permission audit settings and the report: the allow-list policy, the audit
//! schedule (one run per slot) and the CLI that runs an audit and prints the report.

use crate::helpers::{Backend, cli_with_env};
use crate::permissions::{DAY_MS, MAILER, SHOP, find, findings, run, setup};
use app_server::permission_audits;
use serde_json::{Value, json};

async fn the_allow_list_clears_listed_apps_and_flags_what_exceeds_it(backend: Backend) {
    let (app, _fake, t) = setup(backend).await;
    run(&app, &t.key).await;
    let put = |key: &str, body: Value| {
        app.client
            .put(app.url("/api/v1/permissions/policy"))
            .bearer_auth(key.to_owned())
            .json(&body)
            .send()
    };
    let analyst = app.user_key(&t, "analyst-3", "analyst").await;
    let res = put(&analyst, json!({"allowed": {}})).await.unwrap();
    assert_eq!(res.status(), 403, "only admins change the allow-list");
    let viewer = app.user_key(&t, "viewer-3", "viewer").await;
    let res = app
        .post_json("/api/v1/permissions/runs", &viewer, json!({}))
        .await;
    assert_eq!(res.status(), 403, "a viewer cannot start a run");
    let res = put(&t.key, json!({"allowed": {"": ["read_orders"]}}))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = put(
        &t.key,
        json!({"allowed": {MAILER: ["read_customers"], "shopify_app:gid://shopify/App/4": ["read_orders"]}}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let third = run(&app, &t.key).await;
    assert!(third["findings_resolved"].as_i64().unwrap() >= 1);
    let active = findings(&app, &t.key, "active").await;
    assert!(
        find(&active, "not_allow_listed", MAILER).is_none(),
        "allow-listed"
    );
    let violation = find(
        &active,
        "policy_violation",
        "shopify_app:gid://shopify/App/4",
    )
    .unwrap();
    assert_eq!(violation["grants"], json!(["read_shipping"]));
    let policy: Value = app
        .get("/api/v1/permissions/policy", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["allowed"][MAILER], json!(["read_customers"]));
}

async fn scheduled_audits_run_once_per_slot_and_follow_the_tenant_schedule(backend: Backend) {
    let (app, _fake, t) = setup(backend).await;
    let job = |ms| {
        let audits = app_server::startup::scheduled_audits(&app.state);
        async move {
            permission_audits::schedule::permission_audit_job(&audits, ms)
                .await
                .unwrap()
        }
    };
    // 2026-11-28 10:30 UTC; the default schedule is daily at 03:00 UTC.
    let now = 1_795_861_800_000;
    assert_eq!(job(now).await, 1);
    assert_eq!(job(now + 60_000).await, 0, "the slot is claimed");
    assert_eq!(job(now + DAY_MS).await, 1, "the next day's slot");
    let runs: Vec<Value> = app
        .get("/api/v1/permissions/runs", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter()
            .all(|r| r["trigger"] == "schedule" && r["status"] == "succeeded")
    );

    let viewer = app.user_key(&t, "viewer-2", "viewer").await;
    let put = |key: String, body: Value| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/v1/permissions/schedule"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        put(viewer, json!({"cron": "0 0 * * * *"})).await.status(),
        403
    );
    assert_eq!(
        put(t.key.clone(), json!({"cron": "daily"})).await.status(),
        400
    );
    let res = put(
        t.key.clone(),
        json!({"cron": "0 0 3 * * *", "enabled": false}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(job(now + 2 * DAY_MS).await, 0, "paused");
    let res = put(t.key.clone(), json!({"cron": "0 0 */6 * * *"})).await;
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["enabled"], true);
    assert_eq!(job(now + 2 * DAY_MS).await, 1);
}

async fn the_cli_runs_an_audit_and_prints_the_report(backend: Backend) {
    let (app, fake, _t) = setup(backend).await;
    let env = [
        ("LEAKGUARD_SHOPIFY__ADMIN_BASE_URL", fake.base_url.as_str()),
        ("LEAKGUARD_SHOPIFY__API_VERSION", "2026-10"),
    ];
    let out = cli_with_env(
        app.dir.path(),
        &app.db.url,
        &["permissions", "audit", "--tenant", SHOP, "--json"],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["run"]["status"], "succeeded");
    assert_eq!(report["run"]["trigger"], "cli");
    assert_eq!(report["report"]["principals"].as_array().unwrap().len(), 5);
    let out = cli_with_env(
        app.dir.path(),
        &app.db.url,
        &["permissions", "audit", "--tenant", SHOP],
        &env,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("Mailer") && text.contains("read_customers"),
        "{text}"
    );
    assert!(text.contains("Findings"));
    let missing = cli_with_env(
        app.dir.path(),
        &app.db.url,
        &["permissions", "audit", "--tenant", "nope.myshopify.com"],
        &env,
    );
    assert!(!missing.status.success());
}

crate::on_both_backends!(
    the_allow_list_clears_listed_apps_and_flags_what_exceeds_it,
    scheduled_audits_run_once_per_slot_and_follow_the_tenant_schedule,
    the_cli_runs_an_audit_and_prints_the_report,
);
