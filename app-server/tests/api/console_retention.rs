//! The retention console page: policy, inventory, runs; admins save a new policy version and run
//! a dry run from the page (with the session's CSRF token); bad input and missing CSRF change
//! nothing; viewers read but cannot change.

use crate::helpers::{Backend, spawn_app};
use crate::permissions::console_login;

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker).unwrap() + marker.len();
    html[start..start + 64].to_owned()
}

async fn admins_edit_retention_from_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("console-retention.myshopify.com").await;
    let cookie = console_login(&app, &t.key).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get_page = || async {
        let res = client
            .get(app.url("/console/retention"))
            .header("accept", "text/html")
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.text().await.unwrap()
    };
    let html = get_page().await;
    assert!(html.contains("version 1"), "{html}");
    assert!(html.contains("webhook_payloads") && html.contains("card_holder_data"));
    assert!(html.contains("No retention run yet."));
    let csrf = csrf_of(&html);

    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let req = client
            .post(app.url(path))
            .header("accept", "text/html")
            .header("cookie", &cookie)
            .form(&fields);
        async move { req.send().await.unwrap() }
    };
    let before = app.audit_count(t.id).await;
    // Without the CSRF token: refused, nothing saved.
    let res = post(
        "/console/retention/policy",
        vec![("max_age_gateway_raw_response", "7".into())],
    )
    .await;
    assert_eq!(res.status(), 403);
    // A value the policy refuses (card data may be kept at most 90 days): 400, nothing saved.
    let res = post(
        "/console/retention/policy",
        vec![
            ("csrf_token", csrf.clone()),
            ("max_age_card_holder_data", "400".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("at most 90"));
    let res = post(
        "/console/retention/policy",
        vec![
            ("csrf_token", csrf.clone()),
            ("max_age_card_holder_data", "soon".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(app.audit_count(t.id).await, before);

    let res = post(
        "/console/retention/policy",
        vec![
            ("csrf_token", csrf.clone()),
            ("max_age_gateway_raw_response", "7".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let policy: serde_json::Value = app
        .get("/api/v1/retention/policy", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["version"], 2);
    let gateway = policy["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "gateway_raw_response")
        .unwrap();
    assert_eq!(gateway["max_age_days"], 7);
    assert_eq!(app.audit_count(t.id).await, before + 1);
    assert!(get_page().await.contains("version 2"));

    let res = post(
        "/console/retention/runs",
        vec![("csrf_token", csrf.clone()), ("mode", "dry_run".into())],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"dry-run-result\""));

    // A viewer reads the page but has no forms and cannot post.
    let viewer: serde_json::Value = app
        .post_json(
            "/api/v1/users",
            &t.key,
            serde_json::json!({"external_id": "v", "display_name": "Vera", "role": "viewer"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key: serde_json::Value = app
        .post_json(
            &format!("/api/v1/users/{}/api-keys", viewer["id"].as_str().unwrap()),
            &t.key,
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let viewer_cookie = console_login(&app, key["api_key"].as_str().unwrap()).await;
    let res = client
        .get(app.url("/console/retention"))
        .header("accept", "text/html")
        .header("cookie", &viewer_cookie)
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(!html.contains("id=\"policy-form\""));
    let viewer_csrf = csrf_of(&html);
    let res = client
        .post(app.url("/console/retention/runs"))
        .header("accept", "text/html")
        .header("cookie", &viewer_cookie)
        .form(&[("csrf_token", viewer_csrf.as_str()), ("mode", "enforce")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

crate::on_both_backends!(admins_edit_retention_from_the_console);
