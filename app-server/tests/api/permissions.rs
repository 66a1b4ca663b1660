//! Permission audits end to end: a fake Shopify over real HTTP (pages, a throttled answer,
//! ACCESS_DENIED), an installed app, the embedded console, the Magento module's report and a
//! large store; runs and the findings they open and resolve. The shared setup and helpers of
//! the permission tests (`permission_reviews`, `permission_policy_and_report`) live here too.

use crate::fake_shopify::{FakeShopify, app};
use crate::helpers::{Backend, TestApp, TestTenant, spawn_app_with};
use app_server::permission_audits::{self, FindingFilter, StaticSource, Trigger};
use app_server::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;
use leakguard_domain::permissions::{Platform, Principal, PrincipalKind, Snapshot};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub const TOKEN: &str = "shpat_fake_admin_token";
pub const SHOP: &str = "perm-shop.myshopify.com";
pub const DAY_MS: i64 = 86_400_000;
pub const MAILER: &str = "shopify_app:gid://shopify/App/3";
pub const MAILER_KEY: &str = MAILER;
pub const REVIEWS: &str = "shopify_app:gid://shopify/App/2";

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

pub fn find<'a>(list: &'a [Value], kind: &str, principal: &str) -> Option<&'a Value> {
    list.iter()
        .find(|f| f["kind"] == kind && f["principal"] == principal)
}

pub async fn actions(app: &TestApp, key: &str) -> Vec<String> {
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

pub fn magento_report(resources: &[&str]) -> Value {
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

pub fn csrf_of(html: &str) -> String {
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
    without_read_apps_the_audit_covers_what_is_visible_and_says_how_to_get_it,
    when_nothing_is_listable_the_last_scopes_update_stands_in,
    an_installed_app_audits_through_the_shopify_admin_client,
    the_embedded_console_takes_shopify_session_tokens,
    a_magento_audit_reads_the_module_report,
    a_store_with_two_thousand_apps_is_audited_in_one_pass,
);
