use crate::helpers::{Backend, spawn_app};

async fn health_and_readiness_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
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
        metrics.contains(
            "leakguard_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
}

async fn unknown_routes_and_missing_credentials_get_catalogued_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["type"], "state");
    assert!(body["link"].as_str().unwrap().ends_with("#not_found"));

    let res = app
        .client
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "missing_credentials"
    );

    let res = app.get("/api/v1/users", "lgk_not-a-key").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "invalid_credentials"
    );
}

async fn a_request_id_sent_by_the_caller_is_echoed(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\twith spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id\twith spaces");
}

crate::on_both_backends!(
    health_and_readiness_answer,
    unknown_routes_and_missing_credentials_get_catalogued_errors,
    a_request_id_sent_by_the_caller_is_echoed,
);

#[tokio::test]
async fn readiness_fails_while_migrations_are_pending() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let db = app_server::db::connect_url(&url, 1).await.unwrap();
    let err = app_server::db::readiness(&db).await.unwrap_err();
    assert!(err.contains("pending"), "{err}");
    migrations::migrate(&db).await.unwrap();
    assert_eq!(app_server::db::readiness(&db).await, Ok(()));
}
