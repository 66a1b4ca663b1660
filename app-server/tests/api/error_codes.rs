//! Each cause of a refused request has its own code: a client can branch on `code` without
//! reading the message. A few representative bad inputs per route family, each leaving
//! nothing changed.

use crate::helpers::{Backend, TestApp, spawn_app};
use serde_json::{Value, json};

async fn code_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    code_of(
        app.client
            .request(method, app.url(path))
            .bearer_auth(key)
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn json_bodies_and_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("codes-users.myshopify.com").await;
    let users_before = app.count_rows("users", t.id).await;
    let post = |body: &'static str, ct: &'static str| {
        send(
            &app,
            reqwest::Method::POST,
            "/api/v1/users",
            &t.key,
            ct,
            body,
        )
    };
    let json = "application/json";
    assert_eq!(
        post(
            r#"{"external_id":"a","display_name":"A","role":"superuser"}"#,
            json
        )
        .await,
        (400, "invalid_role".into())
    );
    assert_eq!(
        post(
            r#"{"external_id":"a","display_name":"A","role":"viewer","admin":true}"#,
            json
        )
        .await,
        (400, "unknown_field".into())
    );
    assert_eq!(
        post(r#"{"external_id":"a","role":"viewer"}"#, json).await,
        (400, "missing_field".into())
    );
    assert_eq!(
        post(
            r#"{"external_id":"a","display_name":7,"role":"viewer"}"#,
            json
        )
        .await,
        (400, "invalid_field".into())
    );
    assert_eq!(
        post(r#"{"external_id":"a","#, json).await,
        (400, "invalid_json".into())
    );
    assert_eq!(
        post(
            r#"{"external_id":"a","display_name":"A","role":"viewer"}"#,
            "text/plain"
        )
        .await,
        (415, "unsupported_media_type".into())
    );
    assert_eq!(app.count_rows("users", t.id).await, users_before);
}

async fn queries_and_limits(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("codes-queries.myshopify.com").await;
    for (path, expected) in [
        ("/api/v1/audit/entries?limit=0", "invalid_limit"),
        ("/api/v1/audit/entries?limit=many", "invalid_query"),
        ("/api/v1/permissions/runs?limit=501", "invalid_limit"),
        (
            "/api/v1/permissions/findings?state=forgotten",
            "invalid_filter",
        ),
        ("/api/v1/permissions/findings?colour=red", "invalid_query"),
        ("/api/v1/permissions/report?format=pdf", "invalid_format"),
    ] {
        assert_eq!(
            code_of(app.get(path, &t.key).await).await,
            (400, expected.to_owned()),
            "{path}"
        );
    }
}

async fn permission_and_retention_settings(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("codes-settings.myshopify.com").await;
    let audits_before = app.audit_count(t.id).await;
    let put = |path: &'static str, body: Value| {
        let app = &app;
        let key = t.key.clone();
        async move {
            code_of(
                app.client
                    .put(app.url(path))
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(
        put(
            "/api/v1/permissions/schedule",
            json!({"cron": "every day at noon"})
        )
        .await,
        (400, "invalid_cron".into())
    );
    assert_eq!(
        put(
            "/api/v1/permissions/policy",
            json!({"allowed": {"": ["read_orders"]}})
        )
        .await
        .1,
        "invalid_allow_list"
    );
    assert_eq!(
        put(
            "/api/v1/permissions/policy",
            json!({"allowed": {}, "stale_admin_days": 0})
        )
        .await,
        (400, "invalid_stale_admin_days".into())
    );
    let mut policy: Value = app
        .get("/api/v1/retention/policy", &t.key)
        .await
        .json()
        .await
        .unwrap();
    policy["classes"][0]["anchor"] = "token_expiry".into();
    assert_eq!(
        put("/api/v1/retention/policy", policy).await,
        (400, "invalid_retention_policy".into())
    );
    assert_eq!(
        app.audit_count(t.id).await,
        audits_before,
        "nothing refused was recorded"
    );
}

async fn module_documents(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app
        .create_magento_tenant("https://codes-module.example")
        .await;
    let key = app.enroll_module(&t, "https://codes-module.example").await;
    let res = app
        .signed(&key, "POST", "/api/v1/magento/events", "{\"events\": [")
        .await;
    assert_eq!(code_of(res).await, (400, "invalid_json".into()));
    let res = app
        .signed(&key, "POST", "/api/v1/magento/events", r#"{"entries": []}"#)
        .await;
    assert_eq!(code_of(res).await, (400, "invalid_module_document".into()));
    assert_eq!(app.count_rows("signals", t.id).await, 0);
}

crate::on_both_backends!(
    json_bodies_and_users,
    queries_and_limits,
    permission_and_retention_settings,
    module_documents,
);
