//! Permission audits end to end: a fake Shopify over real HTTP (pages, a throttled answer,
//! ACCESS_DENIED), findings and their lifecycle, reviews, schedules, the CLI and the console.

use crate::fake_shopify::{FakeShopify, app};
use crate::helpers::{Backend, TestApp, TestTenant, cli_with_env, spawn_app_with};
use app_server::permission_audits::{self, FindingFilter, StaticSource, Trigger};
use app_server::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;
use leakguard_domain::permissions::{Platform, Principal, PrincipalKind, Snapshot};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub const TOKEN: &str = "shpat_fake_admin_token";
pub const SHOP: &str = "perm-shop.myshopify.com";
const DAY_MS: i64 = 86_400_000;
const MAILER: &str = "shopify_app:gid://shopify/App/3";
pub const MAILER_KEY: &str = MAILER;
const REVIEWS: &str = "shopify_app:gid://shopify/App/2";

pub async fn setup(backend: Backend) -> (TestApp, FakeShopify, TestTenant) {
    let fake = FakeShopify::start(
        TOKEN,
        app(
            1,
            "LeakGuard",
            &["read_customers", "read_orders", "write_products"],
        ),
        vec![
            app(2, "Reviews", &["read_products"]),
            app(3, "Mailer", &["read_customers"]),
            app(4, "Shipping", &["read_orders", "read_shipping"]),
            app(5, "<script>alert('x')</script>", &["read_themes"]),
        ],
    )
    .await;
    let base = fake.base_url.clone();
    let app = spawn_app_with(backend, move |s| {
        s.shopify.admin_base_url = Some(base);
        s.shopify.api_version = Some("2026-10".into());
    })
    .await;
    let tenant = app.create_shopify_tenant_with_token(SHOP, TOKEN).await;
    (app, fake, tenant)
}

pub async fn run(app: &TestApp, key: &str) -> Value {
    let res = app
        .post_json("/api/v1/permissions/runs", key, json!({}))
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

pub async fn findings(app: &TestApp, key: &str, state: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/permissions/findings?state={state}"), key)
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Vec<Value>>().await.unwrap()
}

fn find<'a>(list: &'a [Value], kind: &str, principal: &str) -> Option<&'a Value> {
    list.iter()
        .find(|f| f["kind"] == kind && f["principal"] == principal)
}

async fn actions(app: &TestApp, key: &str) -> Vec<String> {
    let entries: Vec<Value> = app
        .get("/api/v1/audit/entries?limit=1000", key)
        .await
        .json()
        .await
        .unwrap();
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_shopify_audit_pages_through_every_app_and_finds_an_escalation(backend: Backend) {
    let (app, fake, t) = setup(backend).await;
    let first = run(&app, &t.key).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["complete"], true);
    assert_eq!(first["principals"], 5);
    {
        let s = fake.state.lock().unwrap();
        assert_eq!(s.throttled, 1, "one THROTTLED answer was retried");
        assert_eq!(s.pages_served, 3, "5 installations in pages of 2");
    }
    let active = findings(&app, &t.key, "active").await;
    assert!(
        find(&active, "not_allow_listed", MAILER).is_some(),
        "{active:?}"
    );
    let own = find(
        &active,
        "own_app_over_granted",
        "shopify_app:gid://shopify/App/1",
    )
    .unwrap();
    assert_eq!(own["grants"], json!(["read_products", "write_products"]));
    assert!(find(&active, "escalation", REVIEWS).is_none());

    // The reviews app gains read_customers.
    fake.set_scopes("Reviews", &["read_products", "read_customers"]);
    let second = run(&app, &t.key).await;
    assert_eq!(second["status"], "succeeded");
    let active = findings(&app, &t.key, "active").await;
    let esc = find(&active, "escalation", REVIEWS).expect("escalation finding");
    assert_eq!(esc["severity"], "high");
    assert_eq!(esc["grants"], json!(["read_customers"]));
    assert_eq!(esc["state"], "open");

    let run_detail: Value = app
        .get(
            &format!(
                "/api/v1/permissions/runs/{}",
                second["id"].as_str().unwrap()
            ),
            &t.key,
        )
        .await
        .json()
        .await
        .unwrap();
    let changes = run_detail["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["change"] == "escalated"
        && c["principal_name"] == "Reviews"
        && c["grants"] == json!(["read_customers"])
        && c["level"] == "high"));
    let over_time: Vec<Value> = app
        .get("/api/v1/permissions/changes", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(over_time.len(), 2);
    assert_eq!(over_time[0]["run_id"], second["id"]);

    // Back to read_products only: the escalation is resolved.
    fake.set_scopes("Reviews", &["read_products"]);
    let third = run(&app, &t.key).await;
    assert!(third["findings_resolved"].as_i64().unwrap() >= 1);
    let resolved = findings(&app, &t.key, "resolved").await;
    assert!(find(&resolved, "escalation", REVIEWS).is_some());

    let acts = actions(&app, &t.key).await;
    for action in [
        "permission_audit.started",
        "permission_audit.completed",
        "permission_finding.opened",
        "permission_finding.resolved",
    ] {
        assert!(
            acts.iter().any(|a| a == action),
            "{action} not in the audit chain"
        );
    }
    let verify: Value = app
        .get("/api/v1/audit/verify", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], true, "{verify}");

    let principals: Value = app
        .get("/api/v1/permissions/principals", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let mailer = principals["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == MAILER)
        .unwrap();
    assert_eq!(mailer["level"], "high");
    assert_eq!(mailer["grants"][0]["grant"], "read_customers");
    let csv = app
        .get("/api/v1/permissions/report?format=csv", &t.key)
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("principal_key,principal_kind"));
    assert!(
        csv.contains("\"Mailer\",\"high\",\"read_customers\",\"high\""),
        "{csv}"
    );
}

async fn an_accepted_risk_reopens_when_it_expires_or_the_grant_grows(backend: Backend) {
    let (app, fake, t) = setup(backend).await;
    run(&app, &t.key).await;
    let active = findings(&app, &t.key, "active").await;
    let mailer = find(&active, "not_allow_listed", MAILER).unwrap().clone();
    let id = mailer["id"].as_str().unwrap().to_owned();
    let review_path = format!("/api/v1/permissions/findings/{id}/reviews");
    let now = app_server::db::now_ms();
    let rfc3339 = app_server::api_time::format;

    let viewer = app.user_key(&t, "viewer-1", "viewer").await;
    let res = app
        .post_json(&review_path, &viewer, json!({"decision": "acknowledge"}))
        .await;
    assert_eq!(res.status(), 403, "a viewer cannot review");
    for bad in [
        json!({"decision": "accept_risk", "expires_at": rfc3339(now + 30 * DAY_MS)}),
        json!({"decision": "accept_risk", "justification": "  ", "expires_at": rfc3339(now + 30 * DAY_MS)}),
        json!({"decision": "accept_risk", "justification": "DPA"}),
        json!({"decision": "accept_risk", "justification": "DPA", "expires_at": rfc3339(now + 366 * DAY_MS)}),
        // Unix milliseconds are refused: times are RFC 3339.
        json!({"decision": "accept_risk", "justification": "DPA", "expires_at": now + 30 * DAY_MS}),
        json!({"decision": "accept_risk", "justification": "DPA", "expires_at": "in 30 days"}),
        json!({"decision": "accept_risk", "justification": "DPA", "expires_at": rfc3339(now - 1)}),
        json!({"decision": "acknowledge", "expires_at": rfc3339(now + DAY_MS)}),
        json!({"decision": "approve"}),
    ] {
        let res = app.post_json(&review_path, &t.key, bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let detail: Value = app
        .get(&format!("/api/v1/permissions/findings/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["reviews"], json!([]), "bad input changed nothing");

    let analyst = app.user_key(&t, "analyst-1", "analyst").await;
    let until = now + 30 * DAY_MS;
    let res = app
        .post_json(
            &review_path,
            &analyst,
            json!({"decision": "accept_risk", "justification": "Mailer is under a DPA; reviewed with legal.", "expires_at": rfc3339(until)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let detail: Value = app
        .get(&format!("/api/v1/permissions/findings/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["finding"]["state"], "risk_accepted");
    assert_eq!(detail["reviews"][0]["actor_name"], "analyst-1");
    assert_eq!(detail["reviews"][0]["expires_at"], rfc3339(until));
    assert_eq!(detail["finding"]["decision"]["until"], rfc3339(until));

    // Expiry: the state is computed at read time, with the clock as a parameter.
    let ctx = TenantCtx::system(TenantId(t.id), "test");
    let at = |ms| {
        let db = app.state.db.clone();
        let ctx = ctx.clone();
        async move {
            let list = permission_audits::list_findings(&db, &ctx, FindingFilter::Active, ms)
                .await
                .unwrap();
            list.into_iter()
                .find(|f| f.principal.as_deref() == Some(MAILER) && f.kind == "not_allow_listed")
                .unwrap()
                .state
        }
    };
    assert_eq!(at(until - 1).await, "risk_accepted");
    assert_eq!(at(until).await, "open", "expired");
    // A run after the expiry shows it open in the API too.
    let open_later =
        permission_audits::list_findings(&app.state.db, &ctx, FindingFilter::Open, until + 1)
            .await
            .unwrap();
    assert!(open_later.iter().any(|f| f.id.to_string() == id));

    // The grant grows: the accepted risk re-opens at once.
    fake.set_scopes(
        "Mailer",
        &["read_customers", "read_customer_payment_methods"],
    );
    run(&app, &t.key).await;
    let detail: Value = app
        .get(&format!("/api/v1/permissions/findings/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["finding"]["state"], "open", "{detail}");
    assert_eq!(detail["finding"]["severity"], "critical");
    assert!(
        actions(&app, &t.key)
            .await
            .iter()
            .any(|a| a == "permission_finding.changed")
    );

    // Mark for revocation: kept for the ticketing step.
    let res = app
        .post_json(
            &review_path,
            &t.key,
            json!({"decision": "mark_for_revocation", "justification": "no longer needed"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let pending: Vec<Value> = app
        .get(
            "/api/v1/permissions/reviews?pending_revocations=true",
            &t.key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["finding_id"], id.as_str());
    assert_eq!(pending[0]["ticket_status"], "pending");
    let history: Vec<Value> = app
        .get("/api/v1/permissions/reviews", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["decision"], "mark_for_revocation");
    assert_eq!(history[1]["decision"], "accept_risk");
    let count = actions(&app, &t.key)
        .await
        .iter()
        .filter(|a| *a == "permission_finding.reviewed")
        .count();
    assert_eq!(count, 2);
}

async fn without_read_apps_the_audit_covers_what_is_visible_and_says_how_to_get_it(
    backend: Backend,
) {
    let (app, fake, t) = setup(backend).await;
    run(&app, &t.key).await;
    fake.state.lock().unwrap().deny_read_apps = true;
    let denied = run(&app, &t.key).await;
    assert_eq!(denied["status"], "succeeded", "{denied}");
    assert_eq!(denied["complete"], false);
    let notice = denied["notice"].as_str().unwrap();
    assert!(notice.contains("read_apps") && notice.contains("Shopify Support"));
    assert!(notice.contains("custom-distribution"));
    let principals: Value = app
        .get("/api/v1/permissions/principals", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(principals["complete"], false);
    let listed = principals["principals"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "only our own installation is visible");
    assert_eq!(listed[0]["kind"], "own_app");
    let active = findings(&app, &t.key, "active").await;
    assert!(active.iter().any(|f| f["kind"] == "incomplete_audit"));
    assert!(
        find(&active, "not_allow_listed", MAILER).is_some(),
        "an incomplete run does not resolve what it could not see"
    );
    // With read_apps again, the incomplete-audit finding resolves.
    fake.state.lock().unwrap().deny_read_apps = false;
    let full = run(&app, &t.key).await;
    assert_eq!(full["complete"], true);
    let active = findings(&app, &t.key, "active").await;
    assert!(!active.iter().any(|f| f["kind"] == "incomplete_audit"));
}

async fn when_nothing_is_listable_the_last_scopes_update_stands_in(backend: Backend) {
    let (app, fake, t) = setup(backend).await;
    {
        let mut s = fake.state.lock().unwrap();
        s.deny_read_apps = true;
        s.deny_current = true;
    }
    let failed = run(&app, &t.key).await;
    assert_eq!(
        failed["status"], "failed",
        "nothing visible at all: {failed}"
    );
    // An app/scopes_update webhook recorded LeakGuard's scopes in the audit chain.
    let ctx = TenantCtx::system(TenantId(t.id), "shopify_webhooks");
    let txn = app_server::db::begin_write(&app.state.db).await.unwrap();
    app_server::audit_chain::record(
        &txn,
        &ctx,
        "shopify.scopes_updated",
        leakguard_domain::audit::Subject::new("tenant", t.id.to_string()),
        json!({"current": ["read_customers", "read_orders", "write_orders"], "previous": ["read_customers"], "source": "app/scopes_update"}),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let run2 = run(&app, &t.key).await;
    assert_eq!(run2["status"], "succeeded", "{run2}");
    assert_eq!(run2["complete"], false);
    let active = findings(&app, &t.key, "active").await;
    let own = find(&active, "own_app_over_granted", "shopify_app:leakguard").unwrap();
    assert_eq!(own["grants"], json!(["write_orders"]));
}

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

async fn an_installed_app_audits_through_the_shopify_admin_client(backend: Backend) {
    use crate::shopify_support::{API_KEY, SECRET};
    let fake = FakeShopify::start(
        TOKEN,
        app(1, "LeakGuard", &["read_customers", "read_orders"]),
        vec![
            app(3, "Mailer", &["read_customers"]),
            app(4, "Reviews", &["read_products"]),
        ],
    )
    .await;
    let base = fake.base_url.clone();
    let app = spawn_app_with(backend, move |s| {
        s.shopify.api_key = Some(API_KEY.into());
        s.shopify.api_secret = Some(SECRET.to_owned().into());
        s.shopify.admin_base_url = Some(base);
    })
    .await;
    let tenant = crate::shopify_oauth::install_via_oauth(&app).await;
    let ctx = TenantCtx::system(TenantId(tenant), "test");
    let now = app_server::db::now_ms();
    let run = permission_audits::run_for_tenant(
        &app.state.permission_sources,
        &ctx,
        Trigger::Manual,
        now,
    )
    .await
    .unwrap();
    assert_eq!(run.status.as_str(), "succeeded", "{:?}", run.error);
    assert!(run.complete);
    assert_eq!(run.principals, 3);
    assert_eq!(
        fake.state.lock().unwrap().throttled,
        1,
        "THROTTLED retried by the client"
    );
    let list = permission_audits::list_findings(&app.state.db, &ctx, FindingFilter::Active, now)
        .await
        .unwrap();
    assert!(
        list.iter()
            .any(|f| f.principal.as_deref() == Some(MAILER) && f.kind == "not_allow_listed")
    );
    fake.state.lock().unwrap().deny_read_apps = true;
    let denied = permission_audits::run_for_tenant(
        &app.state.permission_sources,
        &ctx,
        Trigger::Manual,
        now + 1,
    )
    .await
    .unwrap();
    assert_eq!(denied.status.as_str(), "succeeded");
    assert!(!denied.complete);
    assert!(denied.notice.unwrap().contains("read_apps"));
}

async fn the_embedded_console_takes_shopify_session_tokens(backend: Backend) {
    use crate::shopify_support::{API_KEY, SECRET, SHOP};
    let fake = FakeShopify::start(
        TOKEN,
        app(1, "LeakGuard", &["read_customers", "read_orders"]),
        vec![app(3, "Mailer", &["read_customers"])],
    )
    .await;
    let base = fake.base_url.clone();
    let app = spawn_app_with(backend, move |s| {
        s.shopify.api_key = Some(API_KEY.into());
        s.shopify.api_secret = Some(SECRET.to_owned().into());
        s.shopify.admin_base_url = Some(base);
    })
    .await;
    let tenant = crate::shopify_oauth::install_via_oauth(&app).await;
    let ctx = TenantCtx::system(TenantId(tenant), "test");
    permission_audits::run_for_tenant(
        &app.state.permission_sources,
        &ctx,
        Trigger::Manual,
        app_server::db::now_ms(),
    )
    .await
    .unwrap();
    // The document load carries the session token in the URL.
    let token = crate::shopify_session::session_token("42");
    let res = app
        .client
        .get(app.url(&format!("/console/permissions?embedded=1&id_token={token}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains(&format!(
        "frame-ancestors https://{SHOP} https://admin.shopify.com"
    )));
    assert!(csp.contains("https://cdn.shopify.com"));
    let html = res.text().await.unwrap();
    assert!(
        html.contains("https://cdn.shopify.com/shopifycloud/app-bridge.js"),
        "production: App Bridge loads"
    );
    assert!(html.contains(&format!("content=\"{API_KEY}\"")));
    // Fetches inside the admin send a fresh token in the Authorization header.
    let res = app
        .client
        .get(app.url("/console/permissions/findings"))
        .bearer_auth(crate::shopify_session::session_token("42"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Mailer"));
    // A forged token is refused.
    let res = app
        .client
        .get(app.url("/console/permissions?id_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// The module's reports, from memory.
struct Reports(std::sync::Mutex<Option<(Value, i64)>>);

impl permission_audits::magento_source::ModuleReports for Reports {
    fn latest(
        &self,
        _ctx: &TenantCtx,
    ) -> impl std::future::Future<Output = Result<Option<(Value, i64)>, permission_audits::SourceError>>
    {
        let v = self.0.lock().unwrap().clone();
        async move { Ok(v) }
    }
}

fn magento_report(resources: &[&str]) -> Value {
    json!({
        "schema": "leakguard.magento.permission_snapshot.v1",
        "generated_at": "2026-11-28T03:17:00Z",
        "base_url": "https://shop.example",
        "integration_bearer_enabled": false,
        "integrations": [{"integration_id": 7, "name": "ERP sync", "status": "active",
            "all_resources": false, "resources": resources}],
        "admin_users": [{"user_id": 1, "username": "owner", "email_domain": "shop.example",
            "is_active": true, "created_at": "2026-01-01T00:00:00Z", "last_login_at": "2026-11-27T00:00:00Z",
            "all_resources": true, "resources": ["Magento_Backend::all"]}],
    })
}

async fn a_magento_audit_reads_the_module_report(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let created = app_server::tenants::create_tenant(
        &app.state.db,
        &app.state.keyring,
        app_server::tenants::PlatformAddress::parse("magento", "https://shop.example").unwrap(),
        None,
        &leakguard_domain::audit::Actor::new("operator", "test"),
    )
    .await
    .unwrap();
    let ctx = TenantCtx::system(TenantId(created.tenant.id), "test");
    let now = app_server::db::now_ms();
    let reports = Reports(std::sync::Mutex::new(None));
    let source = permission_audits::magento_source::MagentoSource::new(reports, now);
    let failed = permission_audits::run_now(&app.state.db, &ctx, &source, Trigger::Manual, now)
        .await
        .unwrap();
    assert_eq!(failed.status.as_str(), "failed");
    assert!(
        failed
            .error
            .unwrap()
            .contains("has not sent a permission report")
    );

    let reports = Reports(std::sync::Mutex::new(Some((
        magento_report(&["Magento_Sales::sales_order"]),
        now,
    ))));
    let source = permission_audits::magento_source::MagentoSource::new(reports, now);
    let first = permission_audits::run_now(&app.state.db, &ctx, &source, Trigger::Manual, now)
        .await
        .unwrap();
    assert_eq!(first.status.as_str(), "succeeded");
    assert_eq!(first.principals, 2);
    let reports = Reports(std::sync::Mutex::new(Some((
        magento_report(&["Magento_Sales::sales_order", "Magento_Customer::manage"]),
        now,
    ))));
    let source = permission_audits::magento_source::MagentoSource::new(reports, now + 1);
    permission_audits::run_now(&app.state.db, &ctx, &source, Trigger::Manual, now + 1)
        .await
        .unwrap();
    let list =
        permission_audits::list_findings(&app.state.db, &ctx, FindingFilter::Active, now + 1)
            .await
            .unwrap();
    let esc = list
        .iter()
        .find(|f| f.kind == "escalation" && f.principal.as_deref() == Some("magento_integration:7"))
        .expect("escalation");
    assert_eq!(esc.grants, vec!["Magento_Customer::manage".to_owned()]);
    assert_eq!(esc.severity, "high");
    assert!(list.iter().any(|f| f.kind == "all_resources"));
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

fn session_cookie(res: &reqwest::Response) -> String {
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lg_session="))
        .expect("session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker).unwrap() + marker.len();
    html[start..start + 64].to_owned()
}

pub async fn console_login(app: &TestApp, key: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (login_cookie, token) = crate::console_login::login_form(app).await;
    let res = client
        .post(app.url("/console/login"))
        .header("cookie", login_cookie)
        .form(&[("api_key", key), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    session_cookie(&res)
}

async fn the_console_shows_findings_and_records_a_review_with_csrf(backend: Backend) {
    let (app, _fake, t) = setup(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |path: &str, cookie: Option<&str>| {
        let mut req = client.get(app.url(path)).header("accept", "text/html");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    let res = page("/console/permissions", None).await.unwrap();
    assert_eq!(
        res.status(),
        303,
        "a browser without a session is sent to sign in"
    );
    assert_eq!(res.headers()["location"], "/console/login");
    let res = client
        .get(app.url("/console/permissions"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (login_cookie, token) = crate::console_login::login_form(&app).await;
    let res = client
        .post(app.url("/console/login"))
        .header("cookie", login_cookie)
        .form(&[("api_key", "lgk_wrong"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let cookie = console_login(&app, &t.key).await;
    let res = page("/console/permissions", Some(&cookie)).await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!(
            "frame-ancestors https://{SHOP} https://admin.shopify.com"
        )),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("cdn.shopify.com"),
        "App Bridge loads only in production"
    );
    let csrf = csrf_of(&html);

    // Run now from the console (CSRF checked).
    let res = client
        .post(app.url("/console/permissions/runs"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(app.url("/console/permissions/runs"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    let html = page("/console/permissions/findings", Some(&cookie))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Mailer"));
    let principals = page("/console/permissions/principals", Some(&cookie))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        principals.contains("&lt;script&gt;alert("),
        "app titles are escaped"
    );
    assert!(!principals.contains("<script>alert("));

    let active = findings(&app, &t.key, "active").await;
    let id = find(&active, "not_allow_listed", MAILER).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let review = format!("/console/permissions/findings/{id}/review");
    let res = client
        .post(app.url(&review))
        .header("cookie", &cookie)
        .form(&[
            ("decision", "accept_risk"),
            ("justification", "x"),
            ("expires_on", "2099-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no CSRF token");
    let res = client
        .post(app.url(&review))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("decision", "accept_risk"),
            ("justification", ""),
            ("expires_on", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("needs a justification"));
    let in_30_days =
        app_server::console::pages::format_date(app_server::db::now_ms() + 30 * DAY_MS);
    let res = client
        .post(app.url(&review))
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("decision", "accept_risk"),
            ("justification", "Contract reviewed by legal"),
            ("expires_on", in_30_days.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = page(
        &format!("/console/permissions/findings/{id}?saved=1"),
        Some(&cookie),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(html.contains("Decision saved."));
    assert!(html.contains("Contract reviewed by legal"));
    assert!(html.contains("Risk accepted"));

    for path in [
        "/console/permissions/changes",
        "/console/permissions/runs",
        "/console/permissions/findings?state=all",
    ] {
        let res = page(path, Some(&cookie)).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let csv = page("/console/permissions/report.csv", Some(&cookie))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("\"Mailer\""));
    let json: Value = page("/console/permissions/report.json", Some(&cookie))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["format"], "leakguard-permission-report/v1");
    // Another tenant's finding is a 404 page.
    let res = page(
        "/console/permissions/findings/00000000-0000-7000-8000-000000000000",
        Some(&cookie),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 404);
}

async fn a_magento_admin_signs_in_from_the_module_and_reviews_its_report(backend: Backend) {
    use crate::console::{BASE, claims, sign_in, token};
    let app = spawn_app_with(backend, |_| {}).await;
    let t = app.create_magento_tenant(BASE).await;
    let key = app.enroll_module(&t, BASE).await;
    let mut report = magento_report(&["Magento_Sales::sales_order"]);
    report["base_url"] = json!(BASE);
    report["integrations"][0]["all_resources"] = json!(true);
    report["integrations"][0]["resources"] = json!(["Magento_Backend::all"]);
    let res = app
        .signed(
            &key,
            "POST",
            "/api/v1/magento/permission-snapshots",
            &report.to_string(),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());

    let (session, csrf, _) = sign_in(&app, &token(&key, &claims("12", "analyst"))).await;
    let cookie = format!("lg_session={session}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .get(app.url("/console/permissions"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "standalone console: {csp}"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Sign out"));
    let res = client
        .post(app.url("/console/permissions/runs"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "the module's stored report is the source"
    );
    let runs: Vec<Value> = app
        .get("/api/v1/permissions/runs", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    assert_eq!(runs[0]["platform"], "magento");
    let active = findings(&app, &t.key, "active").await;
    let all = find(&active, "all_resources", "magento_integration:7").expect("all resources");
    let id = all["id"].as_str().unwrap().to_owned();
    let res = client
        .post(app.url(&format!("/console/permissions/findings/{id}/review")))
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("decision", "mark_for_revocation"),
            ("justification", "The ERP needs orders only."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let detail: Value = app
        .get(&format!("/api/v1/permissions/findings/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["finding"]["state"], "revocation_requested");
    assert_eq!(detail["reviews"][0]["actor_name"], "Jane <Doe>");
    let page = client
        .get(app.url(&format!("/console/permissions/findings/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Jane &lt;Doe&gt;"));
}

fn many_apps(n: usize, escalated: usize) -> StaticSource {
    let principals = (0..n)
        .map(|i| {
            let mut grants = BTreeSet::from(["read_products".to_owned()]);
            if i % 2 == 0 || i < escalated {
                grants.insert("read_customers".to_owned());
            }
            Principal {
                key: format!("shopify_app:gid://shopify/App/{i}"),
                kind: PrincipalKind::App,
                name: format!("App {i}"),
                grants,
                attributes: BTreeMap::new(),
            }
        })
        .collect();
    StaticSource(permission_audits::Collected {
        snapshot: Snapshot {
            platform: Platform::Shopify,
            principals,
            complete: true,
            settings: BTreeMap::new(),
        },
        notice: None,
        own_scopes_used: BTreeSet::new(),
    })
}

async fn a_store_with_two_thousand_apps_is_audited_in_one_pass(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let t = app.create_tenant("many-apps.myshopify.com").await;
    let ctx = TenantCtx::system(TenantId(t.id), "test");
    let now = app_server::db::now_ms();
    let started = std::time::Instant::now();
    let first = permission_audits::run_now(
        &app.state.db,
        &ctx,
        &many_apps(2000, 0),
        Trigger::Manual,
        now,
    )
    .await
    .unwrap();
    let first_ms = started.elapsed().as_millis();
    assert_eq!(first.findings_active, 1000);
    assert_eq!(first.findings_new, 1000);
    // 100 odd-numbered apps gain read_customers: 50 new findings and 50 escalations each.
    let started = std::time::Instant::now();
    let second = permission_audits::run_now(
        &app.state.db,
        &ctx,
        &many_apps(2000, 100),
        Trigger::Manual,
        now + 1,
    )
    .await
    .unwrap();
    let second_ms = started.elapsed().as_millis();
    assert_eq!(second.changes, 50);
    assert_eq!(second.findings_new, 100);
    assert_eq!(second.findings_active, 1100);
    eprintln!(
        "permission audit of 2,000 apps on {backend:?}: first run {first_ms} ms (1,000 findings opened), second run {second_ms} ms (100 opened)"
    );
}

/// A snapshot with one app that reads customers, for tenants without a fake platform.
pub fn static_source() -> StaticSource {
    StaticSource(permission_audits::Collected {
        snapshot: Snapshot {
            platform: Platform::Shopify,
            principals: vec![Principal {
                key: "shopify_app:gid://shopify/App/77".into(),
                kind: PrincipalKind::App,
                name: "Loyalty".into(),
                grants: BTreeSet::from(["read_customers".to_owned()]),
                attributes: BTreeMap::new(),
            }],
            complete: true,
            settings: BTreeMap::new(),
        },
        notice: None,
        own_scopes_used: BTreeSet::new(),
    })
}

crate::on_both_backends!(
    a_shopify_audit_pages_through_every_app_and_finds_an_escalation,
    an_accepted_risk_reopens_when_it_expires_or_the_grant_grows,
    without_read_apps_the_audit_covers_what_is_visible_and_says_how_to_get_it,
    when_nothing_is_listable_the_last_scopes_update_stands_in,
    the_allow_list_clears_listed_apps_and_flags_what_exceeds_it,
    a_magento_admin_signs_in_from_the_module_and_reviews_its_report,
    a_store_with_two_thousand_apps_is_audited_in_one_pass,
    an_installed_app_audits_through_the_shopify_admin_client,
    the_embedded_console_takes_shopify_session_tokens,
    a_magento_audit_reads_the_module_report,
    scheduled_audits_run_once_per_slot_and_follow_the_tenant_schedule,
    the_cli_runs_an_audit_and_prints_the_report,
    the_console_shows_findings_and_records_a_review_with_csrf,
);
