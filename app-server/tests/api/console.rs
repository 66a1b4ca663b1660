//! Console sign-in from the Magento admin: the HS256 token, the session cookie as a credential
//! of the API, CSRF on unsafe requests, cookie flags, logout.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Backend, ModuleKey, TestApp, spawn_app, spawn_app_with};

const BASE: &str = "https://console-shop.example";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_with(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

fn claims(sub: &str, role: &str) -> Value {
    let now = app_server::db::now_ms() / 1000;
    json!({
        "iss": BASE, "aud": "leakguard-console", "sub": sub, "name": "Jane <Doe>", "role": role,
        "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().simple().to_string(),
    })
}

fn token(key: &ModuleKey, claims: &Value) -> String {
    token_with(&json!({"alg": "HS256", "typ": "JWT"}), claims, &key.secret)
}

/// Signs in; returns (session cookie, csrf token, raw Set-Cookie headers).
async fn sign_in(app: &TestApp, token: &str) -> (String, String, Vec<String>) {
    let res = app
        .client
        .get(app.url("/console/sso"))
        .query(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let value = |name: &str| {
        cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .map(|kv| kv[name.len() + 1..].to_owned())
            .unwrap()
    };
    let body = res.text().await.unwrap();
    assert!(body.contains("url=/console"));
    (value("lg_session"), value("lg_csrf"), cookies)
}

async fn enrolled(app: &TestApp) -> (crate::helpers::TestTenant, ModuleKey) {
    let t = app.create_magento_tenant(BASE).await;
    let key = app.enroll_module(&t, BASE).await;
    (t, key)
}

async fn a_signed_in_admin_uses_the_console_and_the_api_with_csrf(backend: Backend) {
    let app = spawn_app(backend).await;
    let (t, key) = enrolled(&app).await;
    let (session, csrf, cookies) = sign_in(&app, &token(&key, &claims("12", "admin"))).await;
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("lg_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session_cookie.contains(flag), "{session_cookie}");
    }
    assert!(
        !session_cookie.contains("Secure"),
        "plain http on 127.0.0.1 is not Secure"
    );
    let csrf_cookie = cookies.iter().find(|c| c.starts_with("lg_csrf=")).unwrap();
    assert!(!csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    // Only a hash of the session id is stored.
    let rows = {
        use sea_orm::EntityTrait;
        app_server::db::entities::console_sessions::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
    };
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].session_hash, session);

    let cookie = format!("lg_session={session}");
    let page = app
        .client
        .get(app.url("/console"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains(BASE) && html.contains("admin") && html.contains(&csrf));
    assert!(html.contains("Jane &lt;Doe&gt;"), "names are escaped");
    assert!(html.contains("action=\"/console/logout\""));

    // The user exists as magento:12 with the mapped role.
    let users: Vec<Value> = app
        .client
        .get(app.url("/api/v1/users"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = users
        .iter()
        .find(|u| u["external_id"] == "magento:12")
        .unwrap();
    assert_eq!(user["role"], "admin");

    // Unsafe requests with the cookie need the CSRF token.
    let new_user = json!({"external_id": "x", "display_name": "X", "role": "viewer"});
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .header("cookie", &cookie)
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "csrf_failed");
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .header("cookie", &cookie)
        .header("X-CSRF-Token", "0".repeat(64))
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .header("cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // Logout needs the form's token; afterwards the cookie is worthless.
    let res = app
        .client
        .post(app.url("/console/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(app.url("/console/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cleared: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("lg_session=;") && c.contains("Max-Age=0"))
    );
    let res = app
        .client
        .get(app.url("/console"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let _ = t;
}

async fn bad_sign_in_tokens_are_refused_and_create_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (t, key) = enrolled(&app).await;
    let now = app_server::db::now_ms() / 1000;
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut expired = claims("12", "admin");
    expired["iat"] = json!(now - 200);
    expired["exp"] = json!(now - 140);
    cases.push(("expired", token(&key, &expired)));
    let mut aud = claims("12", "admin");
    aud["aud"] = json!("someone-else");
    cases.push(("wrong aud", token(&key, &aud)));
    let mut iss = claims("12", "admin");
    iss["iss"] = json!("https://other-shop.example");
    cases.push(("unknown iss", token(&key, &iss)));
    let mut long = claims("12", "admin");
    long["exp"] = json!(now + 3600);
    cases.push(("long lifetime", token(&key, &long)));
    let mut future = claims("12", "admin");
    future["iat"] = json!(now + 120);
    future["exp"] = json!(now + 170);
    cases.push(("issued in the future", token(&key, &future)));
    cases.push(("role owner", token(&key, &claims("12", "owner"))));
    cases.push((
        "wrong secret",
        token_with(&hs, &claims("12", "admin"), "lgms_not-the-secret"),
    ));
    let none_header = b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes());
    let none_claims = b64(claims("12", "admin").to_string().as_bytes());
    cases.push(("alg none", format!("{none_header}.{none_claims}.")));
    cases.push((
        "alg HS512",
        token_with(
            &json!({"alg": "HS512"}),
            &claims("12", "admin"),
            &key.secret,
        ),
    ));
    cases.push(("garbage", "a.b.c".into()));
    let audit = app.audit_count(t.id).await;
    for (name, token) in &cases {
        let res = app
            .client
            .get(app.url("/console/sso"))
            .query(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{name}");
        assert!(res.headers().get("set-cookie").is_none(), "{name}");
        let body = res.text().await.unwrap();
        assert!(!body.contains(&key.secret), "{name}");
    }
    assert_eq!(app.count_rows("console_sessions", t.id).await, 0);
    assert_eq!(app.audit_count(t.id).await, audit);

    // A token id works once.
    let once = token(&key, &claims("12", "viewer"));
    sign_in(&app, &once).await;
    let res = app
        .client
        .get(app.url("/console/sso"))
        .query(&[("token", &once)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(app.count_rows("console_sessions", t.id).await, 1);
}

async fn roles_map_and_follow_the_magento_acl(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_t, key) = enrolled(&app).await;
    let role_of = |session: String| {
        let app = &app;
        async move {
            let page = app
                .client
                .get(app.url("/console"))
                .header("cookie", format!("lg_session={session}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            page.split("<dd id=\"role\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        }
    };
    for (claim, role) in [
        ("viewer", "viewer"),
        ("analyst", "analyst"),
        ("admin", "admin"),
    ] {
        let (session, _, _) = sign_in(&app, &token(&key, &claims("7", claim))).await;
        assert_eq!(role_of(session).await, role);
    }
    // Same admin, now a viewer in Magento: the role follows.
    let (session, csrf, _) = sign_in(&app, &token(&key, &claims("7", "viewer"))).await;
    assert_eq!(role_of(session.clone()).await, "viewer");
    let res = app
        .client
        .post(app.url("/api/v1/users"))
        .header("cookie", format!("lg_session={session}"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"external_id": "y", "display_name": "Y", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "insufficient_role"
    );
}

async fn cookies_are_secure_behind_an_https_public_url(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.public_url = Some("https://leakguard.example".into())
    })
    .await;
    let (_t, key) = enrolled(&app).await;
    let (_, _, cookies) = sign_in(&app, &token(&key, &claims("1", "viewer"))).await;
    assert_eq!(cookies.len(), 2);
    assert!(
        cookies
            .iter()
            .all(|c| c.contains("Secure") && c.contains("SameSite=Strict"))
    );
}

crate::on_both_backends!(
    a_signed_in_admin_uses_the_console_and_the_api_with_csrf,
    bad_sign_in_tokens_are_refused_and_create_nothing,
    roles_map_and_follow_the_magento_acl,
    cookies_are_secure_behind_an_https_public_url,
);
