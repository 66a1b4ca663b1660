//! The console in headless Chromium, driven over the W3C WebDriver protocol (chromedriver on a
//! free port, started by the test): sign in, run an audit, see the findings, accept a risk with
//! a justification and an expiry, see it in the history; screenshots at 1280 and 390 px.
//!
//! The WebDriver client is the few JSON calls below, over the reqwest the suite already uses.
//! Without Chromium the test fails under `CI=true` and says so loudly elsewhere.

use crate::helpers::Backend;
use crate::permissions::{MAILER_KEY, findings, setup};
use base64::Engine;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// chromedriver and chromium, or `None` (a failure under `CI=true`).
pub(crate) fn browser_or_fail() -> Option<(PathBuf, PathBuf)> {
    let driver = find_binary(&["chromedriver"]);
    let chromium = find_binary(&["chromium", "chromium-browser", "google-chrome"]);
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "chromium and chromedriver are required with CI=true (scripts/setup installs them)"
                );
            }
            eprintln!(
                "WARNING: chromium/chromedriver not found; the console browser test did not run"
            );
            None
        }
    }
}

pub(crate) struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub(crate) async fn start(driver: &Path, chromium: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        // Wait for chromedriver to accept connections (a process starting, not a clock).
        let mut ready = false;
        for _ in 0..200 {
            if let Ok(res) = http.get(format!("{base}/status")).send().await
                && res.status().is_success()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not start");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display())],
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_owned();
        Self {
            child,
            base,
            http,
            session,
            _profile: profile,
        }
    }

    pub(crate) async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if res["value"]["error"].is_string() {
            panic!("webdriver {path}: {}", res["value"]);
        }
        res["value"].clone()
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub(crate) async fn size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    pub(crate) async fn element(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    pub(crate) async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    pub(crate) async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    pub(crate) async fn source(&self) -> String {
        self.get("/source").await.as_str().unwrap().to_owned()
    }

    /// The page source once it contains `needle` (pages load after a click asynchronously).
    pub(crate) async fn wait_for(&self, needle: &str) -> String {
        let mut html = String::new();
        for _ in 0..200 {
            html = self.source().await;
            if html.contains(needle) {
                return html;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the page never showed {needle:?}: {html}");
    }

    pub(crate) async fn screenshot(&self, path: &Path) {
        let b64 = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(path, png).unwrap();
    }
}

pub(crate) fn screenshot_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn the_console_works_in_a_real_browser_at_desktop_and_phone_widths(backend: Backend) {
    let Some((driver_bin, chromium)) = browser_or_fail() else {
        return;
    };
    let (app, _fake, t) = setup(backend).await;
    let driver = Driver::start(&driver_bin, &chromium).await;
    let shots = screenshot_dir();
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    driver.size(1280, 1000).await;

    driver.goto(&app.url("/console/permissions")).await;
    driver.wait_for("Sign in").await;
    driver.type_into("#api_key", &t.key).await;
    driver.click("#sign-in").await;
    driver.wait_for("Permission audit").await;
    driver.click("#run-now").await;
    let run_page = driver.wait_for("Changes since the run before").await;
    assert!(run_page.contains("succeeded"), "the run page shows the run");

    driver.goto(&app.url("/console/permissions/findings")).await;
    let html = driver.source().await;
    assert!(html.contains("Mailer") && html.contains("Not allow-listed"));
    let header_display = driver
        .script(
            "return getComputedStyle(document.querySelector('#findings thead')).display",
            json!([]),
        )
        .await;
    assert_eq!(header_display, "table-header-group", "a table at 1280 px");
    driver
        .screenshot(&shots.join(format!("findings-1280-{tag}.png")))
        .await;
    driver
        .goto(&app.url("/console/permissions/principals"))
        .await;
    driver
        .screenshot(&shots.join(format!("principals-1280-{tag}.png")))
        .await;

    driver.goto(&app.url("/console/permissions/changes")).await;
    driver
        .screenshot(&shots.join(format!("changes-1280-{tag}.png")))
        .await;

    // Review: accept the risk with a justification and an expiry.
    let id = findings(&app, &t.key, "active")
        .await
        .into_iter()
        .find(|f| f["principal"] == MAILER_KEY && f["kind"] == "not_allow_listed")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    driver
        .goto(&app.url(&format!("/console/permissions/findings/{id}")))
        .await;
    let hidden = driver
        .script(
            "return document.querySelector('.accept-fields').hidden",
            json!([]),
        )
        .await;
    assert_eq!(
        hidden, true,
        "the script hides the accept-risk fields until chosen"
    );
    driver.click("#decision-accept").await;
    let hidden = driver
        .script(
            "return document.querySelector('.accept-fields').hidden",
            json!([]),
        )
        .await;
    assert_eq!(hidden, false);
    driver
        .type_into(
            "#justification",
            "Mailer sends order e-mails under a signed DPA.",
        )
        .await;
    let until = app_server::console::pages::format_date(app_server::db::now_ms() + 90 * 86_400_000);
    driver
        .script(
            "document.getElementById('expires_on').value = arguments[0]",
            json!([until]),
        )
        .await;
    driver.click("#review-submit").await;
    let html = driver.wait_for("Decision saved.").await;
    assert!(html.contains("Risk accepted"));
    assert!(html.contains("Mailer sends order e-mails under a signed DPA."));
    assert!(html.contains(&until));
    driver
        .screenshot(&shots.join(format!("finding-1280-{tag}.png")))
        .await;
    let detail: Value = app
        .get(&format!("/api/v1/permissions/findings/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["finding"]["state"], "risk_accepted");
    assert_eq!(detail["reviews"][0]["decision"], "accept_risk");

    // Embedded in Shopify admin there is no cookie: with App Bridge present (here a stand-in
    // whose idToken() returns the API key) links and forms go through fetch with the
    // Authorization header.
    driver.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    driver
        .script(
            "window.shopify = {idToken: function () { return Promise.resolve(arguments[0]); }.bind(null, arguments[0])}",
            json!([t.key]),
        )
        .await;
    driver
        .click("nav.tabs a[href='/console/permissions/runs']")
        .await;
    driver.wait_for("id=\"runs\"").await;
    let url = driver.get("/url").await;
    assert!(url.as_str().unwrap().ends_with("/console/permissions/runs"));
    driver.click("#run-now").await;
    driver.wait_for("Changes since the run before").await;
    let runs: Vec<Value> = app
        .get("/api/v1/permissions/runs", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);

    // Phone width: tables become cards (signed in again with the cookie).
    driver.goto(&app.url("/console/login")).await;
    driver.type_into("#api_key", &t.key).await;
    driver.click("#sign-in").await;
    driver.wait_for("Permission audit").await;
    driver.size(390, 1400).await;
    driver
        .goto(&app.url("/console/permissions/findings?state=all"))
        .await;
    let header_display = driver
        .script(
            "return getComputedStyle(document.querySelector('#findings thead')).display",
            json!([]),
        )
        .await;
    assert_eq!(header_display, "none", "cards at 390 px");
    let overflow = driver
        .script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1",
            json!([]),
        )
        .await;
    assert_eq!(overflow, true, "no horizontal scrolling at 390 px");
    driver
        .screenshot(&shots.join(format!("findings-390-{tag}.png")))
        .await;
    driver
        .goto(&app.url(&format!("/console/permissions/findings/{id}")))
        .await;
    driver
        .screenshot(&shots.join(format!("finding-390-{tag}.png")))
        .await;
    driver.goto(&app.url("/console/permissions")).await;
    driver
        .screenshot(&shots.join(format!("overview-390-{tag}.png")))
        .await;
    eprintln!("console screenshots: {}", shots.display());
    let _ = driver.cmd(reqwest::Method::DELETE, "", None).await;
}

crate::on_both_backends!(the_console_works_in_a_real_browser_at_desktop_and_phone_widths);
