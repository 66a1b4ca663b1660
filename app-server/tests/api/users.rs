use serde_json::json;

use crate::helpers::{Backend, spawn_app};

async fn an_admin_adds_users_and_each_change_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("users-shop.myshopify.com").await;
    let before = app.audit_count(t.id).await;
    let res = app
        .post_json(
            "/api/v1/users",
            &t.key,
            json!({"external_id": "42", "display_name": "Ana Analyst", "role": "analyst"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let user: serde_json::Value = res.json().await.unwrap();
    assert_eq!(user["role"], "analyst");
    assert_eq!(app.audit_count(t.id).await, before + 1);

    let list: Vec<serde_json::Value> = app.get("/api/v1/users", &t.key).await.json().await.unwrap();
    assert_eq!(list.len(), 2);
    let id = user["id"].as_str().unwrap();
    let one = app.get(&format!("/api/v1/users/{id}"), &t.key).await;
    assert_eq!(one.status(), 200);
}

async fn bad_input_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("bad-input.myshopify.com").await;
    let before = app.audit_count(t.id).await;
    for (body, code) in [
        (
            json!({"external_id": "1", "display_name": "X", "role": "superuser"}),
            "invalid_role",
        ),
        (
            json!({"external_id": "", "display_name": "X", "role": "viewer"}),
            "invalid_request",
        ),
        (
            json!({"external_id": "1", "display_name": "X", "role": "viewer", "extra": 1}),
            "unknown_field",
        ),
        (json!({"external_id": "1"}), "missing_field"),
    ] {
        let res = app.post_json("/api/v1/users", &t.key, body).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<serde_json::Value>().await.unwrap()["code"], code);
    }
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&t.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let list: Vec<serde_json::Value> = app.get("/api/v1/users", &t.key).await.json().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(app.audit_count(t.id).await, before);
}

async fn a_viewer_cannot_administer(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("roles.myshopify.com").await;
    let viewer: serde_json::Value = app
        .post_json(
            "/api/v1/users",
            &t.key,
            json!({"external_id": "v", "display_name": "Vera Viewer", "role": "viewer"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key: serde_json::Value = app
        .post_json(
            &format!("/api/v1/users/{}/api-keys", viewer["id"].as_str().unwrap()),
            &t.key,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let viewer_key = key["api_key"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/users", viewer_key).await.status(), 200);
    let res = app
        .post_json(
            "/api/v1/users",
            viewer_key,
            json!({"external_id": "x", "display_name": "X", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "insufficient_role"
    );
}

crate::on_both_backends!(
    an_admin_adds_users_and_each_change_is_audited,
    bad_input_is_refused_and_changes_nothing,
    a_viewer_cannot_administer,
);
