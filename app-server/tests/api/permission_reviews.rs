//! Reviews of permission findings end to end: an accepted risk that re-opens when it expires or
//! the grant grows, a review recorded in the console with its CSRF token, and a Magento admin
//! who signs in from the module and reviews its report.

use crate::helpers::{Backend, spawn_app_with};
use crate::permissions::{
    DAY_MS, MAILER, SHOP, actions, console_login, csrf_of, find, findings, magento_report, run,
    setup,
};
use app_server::permission_audits::{self, FindingFilter};
use app_server::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;
use serde_json::{Value, json};

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

crate::on_both_backends!(
    an_accepted_risk_reopens_when_it_expires_or_the_grant_grows,
    the_console_shows_findings_and_records_a_review_with_csrf,
    a_magento_admin_signs_in_from_the_module_and_reviews_its_report,
);
