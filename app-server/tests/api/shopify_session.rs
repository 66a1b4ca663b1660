//! Session tokens from the official library authenticate the embedded API; every kind of bad
//! token is a 401 that asks App Bridge to retry, with no user created. The `/app` document load
//! runs the managed install (token exchange) and answers with the frame-ancestors CSP.

use base64::Engine;
use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::shopify_oauth::install_via_oauth;
use crate::shopify_support::*;

pub fn session_token(sub: &str) -> String {
    let out = oracle(
        "session-token",
        json!({"api_key": API_KEY, "secret": SECRET, "shop": SHOP, "sub": sub}),
    );
    assert_eq!(out["library_checked"], true);
    out["token"].as_str().unwrap().to_owned()
}

pub const FINDINGS_191167: &str =
    "/api/v1/customers/gid%3A%2F%2Fshopify%2FCustomer%2F191167/findings";

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn claims(iss_shop: &str, dest_shop: &str) -> serde_json::Value {
    let now = app_server::db::now_ms() / 1000;
    json!({"aud": API_KEY, "iss": format!("https://{iss_shop}/admin"), "dest": format!("https://{dest_shop}"), "sub": "42", "iat": now, "nbf": now, "exp": now + 60, "jti": "j", "sid": "s"})
}

fn hs256(payload: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        payload,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn users(app: &TestApp) -> i64 {
    app.count_where("users", "1 = 1").await
}

async fn official_session_tokens_authenticate_the_embedded_api(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    install_via_oauth(&app).await;

    let owner = session_token("42");
    let res = app.get(FINDINGS_191167, &owner).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"customer_id": "gid://shopify/Customer/191167", "findings": [], "data_requests": []})
    );
    // The shop owner (per Shopify's online token) became an owner; other staff are viewers.
    let res = app
        .get("/api/v1/compliance/data-requests", &session_token("42"))
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .get("/api/v1/compliance/data-requests", &session_token("7"))
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count_where("users", "role = 'owner'").await, 1);
    assert_eq!(app.count_where("users", "role = 'viewer'").await, 1);
    // Seen again: no new user.
    app.get(FINDINGS_191167, &session_token("7")).await;
    assert_eq!(users(&app).await, 2);

    // Preflight for the extension's origin.
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url(FINDINGS_191167))
        .header("origin", "https://extensions.shopifycdn.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-max-age"], "7200");
    assert!(
        res.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );

    // A malformed customer id is a 400, not a lookup.
    let res = app
        .get(
            "/api/v1/customers/gid%3A%2F%2Fshopify%2FOrder%2F1/findings",
            &owner,
        )
        .await;
    assert_eq!(res.status(), 400);
}

async fn bad_session_tokens_get_401_with_the_retry_header_and_change_nothing(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    install_via_oauth(&app).await;
    let now = app_server::db::now_ms() / 1000;
    let expired = oracle(
        "session-token",
        json!({"api_key": API_KEY, "secret": SECRET, "shop": SHOP, "iat": now - 100}),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_aud = oracle(
        "session-token",
        json!({"api_key": "other-key", "secret": SECRET, "shop": SHOP}),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_secret = oracle(
        "session-token",
        json!({"api_key": API_KEY, "secret": "not-the-secret", "shop": SHOP}),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let payload = claims(SHOP, SHOP);
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&payload)
    );
    let dest_not_iss = hs256(&claims("evil-shop.myshopify.com", SHOP));
    let bad_iss_path = {
        let mut c = claims(SHOP, SHOP);
        c["iss"] = json!(format!("https://{SHOP}/not-admin"));
        hs256(&c)
    };
    let unanchored = hs256(&claims(
        "evil.com/x.myshopify.com",
        "evil.com/x.myshopify.com",
    ));
    for (name, token) in [
        ("expired", expired),
        ("wrong aud", wrong_aud),
        ("other secret", other_secret),
        ("alg none", alg_none),
        ("dest != iss", dest_not_iss),
        ("iss path", bad_iss_path),
        ("unanchored shop", unanchored),
    ] {
        let res = app.get(FINDINGS_191167, &token).await;
        assert_eq!(res.status(), 401, "{name}");
        assert_eq!(
            res.headers()["x-shopify-retry-invalid-session-request"],
            "1",
            "{name}"
        );
        assert_eq!(res.headers()["access-control-allow-origin"], "*");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "invalid_credentials", "{name}");
    }
    assert_eq!(users(&app).await, 0);
    // A valid token for a shop LeakGuard does not serve: 404, as the extension expects.
    let other = oracle(
        "session-token",
        json!({"api_key": API_KEY, "secret": SECRET, "shop": "unknown-shop"}),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get(FINDINGS_191167, &other).await.status(), 404);
    assert_eq!(users(&app).await, 0);
}

async fn the_embedded_document_load_installs_through_token_exchange(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let host = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w";
    // No id_token yet: bounce so App Bridge reloads with one.
    let q = oracle(
        "oauth-query",
        json!({"secret": SECRET, "shop": SHOP, "extra": {"embedded": "1", "host": host, "locale": "en"}}),
    );
    let res = client
        .get(app.url(&format!("/app?{}", q["query"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let bounce = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(bounce.contains("shopify-reload="), "{bounce}");
    let res = client.get(app.url(&bounce)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("app-bridge.js"));
    assert_eq!(app.count_where("tenants", "1 = 1").await, 0);

    // With a session token: managed install by token exchange.
    let token = session_token("42");
    let q = oracle(
        "oauth-query",
        json!({"secret": SECRET, "shop": SHOP, "extra": {"embedded": "1", "host": host, "id_token": token}}),
    );
    let res = client
        .get(app.url(&format!("/app?{}", q["query"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-security-policy"],
        format!("frame-ancestors https://{SHOP} https://admin.shopify.com;")
    );
    fake.with(|s| {
        let r = &s.token_requests[0];
        assert_eq!(
            r["grant_type"],
            "urn:ietf:params:oauth:grant-type:token-exchange"
        );
        assert_eq!(
            r["subject_token_type"],
            "urn:ietf:params:oauth:token-type:id_token"
        );
        assert_eq!(
            r["requested_token_type"],
            "urn:shopify:params:oauth:token-type:offline-access-token"
        );
        assert_eq!(r["expiring"], "1");
        assert_eq!(s.graphql_tokens, vec!["shpat_fake_1"]);
    });
    assert_eq!(app.count_where("tenants", "status = 'active'").await, 1);
    // A second load reuses the stored token.
    let q = oracle(
        "oauth-query",
        json!({"secret": SECRET, "shop": SHOP, "extra": {"embedded": "1", "id_token": session_token("42")}}),
    );
    let res = client
        .get(app.url(&format!("/app?{}", q["query"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    fake.with(|s| assert_eq!(s.token_requests.len(), 1));

    // A token for another shop than the signed query's, or a forged query: refused.
    let other = oracle(
        "session-token",
        json!({"api_key": API_KEY, "secret": SECRET, "shop": "other-shop"}),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = oracle(
        "oauth-query",
        json!({"secret": SECRET, "shop": SHOP, "extra": {"embedded": "1", "id_token": other}}),
    );
    let res = client
        .get(app.url(&format!("/app?{}", q["query"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let forged = q["query"]
        .as_str()
        .unwrap()
        .replace("embedded=1", "embedded=0");
    let res = client
        .get(app.url(&format!("/app?{forged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(app.count_where("tenants", "1 = 1").await, 1);
}

crate::on_both_backends!(
    official_session_tokens_authenticate_the_embedded_api,
    bad_session_tokens_get_401_with_the_retry_header_and_change_nothing,
    the_embedded_document_load_installs_through_token_exchange,
);
