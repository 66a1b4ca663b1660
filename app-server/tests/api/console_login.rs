//! Login CSRF on `POST /console/login`: a post from another site (by `Origin` or
//! `Sec-Fetch-Site`) is refused with `cross_site_request`, a post without the token that
//! `GET /console/login` put in its cookie is refused with `csrf_failed`; neither opens a session.
//! The console's own form still signs in.

use reqwest::Response;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, spawn_app};

const SHOP: &str = "login-csrf.myshopify.com";

fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// Loads the sign-in form as a browser would: the `Cookie` header value of its CSRF cookie and
/// the token of its hidden field.
pub async fn login_form(app: &TestApp) -> (String, String) {
    let res = app
        .client
        .get(app.url("/console/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let set = set_cookie(&res, "lg_login_csrf").expect("the form sets its CSRF cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let html = res.text().await.unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("hidden token field") + marker.len();
    let end = start + html[start..].find('"').unwrap();
    let token = html[start..end].to_owned();
    assert_eq!(cookie, format!("lg_login_csrf={token}"));
    (cookie, token)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_login(app: &TestApp, headers: &[(&str, &str)], fields: &[(&str, &str)]) -> Response {
    let mut req = no_redirects().post(app.url("/console/login")).form(fields);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

async fn assert_refused(res: Response, code: &str) {
    assert_eq!(res.status(), 403);
    assert!(
        set_cookie(&res, "lg_session").is_none(),
        "no session is opened"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
}

async fn a_login_post_from_another_site_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant(SHOP).await;
    let (cookie, token) = login_form(&app).await;
    let fields = [("api_key", t.key.as_str()), ("csrf_token", token.as_str())];
    // A cross-site form carries the victim's cookie and even a valid token would not help.
    for headers in [
        vec![
            ("cookie", cookie.as_str()),
            ("origin", "https://evil.example"),
        ],
        vec![
            ("cookie", cookie.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![("cookie", cookie.as_str()), ("sec-fetch-site", "same-site")],
        vec![("cookie", cookie.as_str()), ("origin", "null")],
    ] {
        let res = post_login(&app, &headers, &fields).await;
        assert_refused(res, "cross_site_request").await;
    }
    let sessions = app.count_rows("console_sessions", t.id).await;
    assert_eq!(sessions, 0);
}

async fn a_login_post_without_the_forms_token_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant(SHOP).await;
    let (cookie, token) = login_form(&app).await;
    let (_, other_token) = login_form(&app).await;
    let key = t.key.as_str();
    for (headers, fields) in [
        // No token at all (the attacker's form).
        (vec![("cookie", cookie.as_str())], vec![("api_key", key)]),
        // Another form's token.
        (
            vec![("cookie", cookie.as_str())],
            vec![("api_key", key), ("csrf_token", other_token.as_str())],
        ),
        // A token without its cookie.
        (
            vec![],
            vec![("api_key", key), ("csrf_token", token.as_str())],
        ),
        // An empty cookie and an empty field.
        (
            vec![("cookie", "lg_login_csrf=")],
            vec![("api_key", key), ("csrf_token", "")],
        ),
    ] {
        let res = post_login(&app, &headers, &fields).await;
        assert_refused(res, "csrf_failed").await;
    }
    assert_eq!(app.count_rows("console_sessions", t.id).await, 0);
}

async fn the_consoles_own_form_still_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant(SHOP).await;
    let (cookie, token) = login_form(&app).await;
    // What a browser sends for its own page's form.
    let headers = [
        ("cookie", cookie.as_str()),
        ("origin", app.address.as_str()),
        ("sec-fetch-site", "same-origin"),
        ("accept", "text/html"),
    ];
    let wrong = post_login(
        &app,
        &headers,
        &[("api_key", "lgk_wrong"), ("csrf_token", token.as_str())],
    )
    .await;
    assert_eq!(wrong.status(), 401, "a wrong key is still told apart");
    let page = wrong.text().await.unwrap();
    assert!(
        page.contains(&format!("value=\"{token}\"")),
        "the form shown again keeps its token"
    );
    let res = post_login(
        &app,
        &headers,
        &[("api_key", t.key.as_str()), ("csrf_token", token.as_str())],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/console/permissions");
    let cleared = set_cookie(&res, "lg_login_csrf").expect("the form's cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let session = set_cookie(&res, "lg_session").expect("session cookie");
    let session = session.split(';').next().unwrap().to_owned();
    let overview = no_redirects()
        .get(app.url("/console/permissions"))
        .header("cookie", session)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(overview.status(), 200);
    // A client that is no browser (no Origin, no Sec-Fetch-Site) signs in with the token too.
    let (cookie, token) = login_form(&app).await;
    let res = post_login(
        &app,
        &[("cookie", cookie.as_str())],
        &[("api_key", t.key.as_str()), ("csrf_token", token.as_str())],
    )
    .await;
    assert_eq!(res.status(), 303);
}

crate::on_both_backends!(
    a_login_post_from_another_site_is_refused,
    a_login_post_without_the_forms_token_is_refused,
    the_consoles_own_form_still_signs_in,
);
