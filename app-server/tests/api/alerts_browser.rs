//! The alert pages in headless Chromium (the WebDriver client of `browser.rs`): an alert
//! raised by an agent batch is listed with its counts and filters; its page shows the
//! explanation, the volume chart against the usual band, the evidence and the history; a
//! false positive without a reason is refused on the page without a change; acknowledging
//! and escalating go through the feedback service with the real actor; screenshots at 1280
//! and 390 px beside the other console screenshots.

use serde_json::{Value, json};

use crate::alerts::tenant_with_alert;
use crate::browser::{Driver, browser_or_fail, screenshot_dir};
use crate::helpers::{Backend, spawn_app};

async fn no_horizontal_scroll(driver: &Driver) -> bool {
    driver
        .script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1",
            json!([]),
        )
        .await
        == json!(true)
}

async fn alert_pages_work_in_a_real_browser(backend: Backend) {
    let Some((driver_bin, chromium)) = browser_or_fail() else {
        return;
    };
    let app = spawn_app(backend).await;
    let (t, _agent, id) = tenant_with_alert(&app, "alert-console.myshopify.com").await;
    app.settle_detection().await;
    let driver = Driver::start(&driver_bin, &chromium).await;
    let shots = screenshot_dir();
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    driver.size(1280, 1000).await;
    driver.goto(&app.url("/console/login")).await;
    driver.type_into("#api_key", &t.key).await;
    driver.click("#sign-in").await;
    driver.wait_for("Permission audit").await;
    driver.click("nav.tabs a[href='/console/alerts']").await;
    let html = driver.wait_for("id=\"alerts\"").await;
    assert!(html.contains("intruder"), "the principal is listed");
    assert!(
        html.contains("data-state=\"open\">1<"),
        "one open alert counted"
    );
    assert!(html.contains("data-state=\"resolved\">0<"));
    driver
        .screenshot(&shots.join(format!("alerts-1280-{tag}.png")))
        .await;

    // A filter that matches nothing, then back.
    driver
        .goto(&app.url("/console/alerts?state=resolved"))
        .await;
    let html = driver.wait_for("No alert with these filters").await;
    assert!(!html.contains(&format!("/console/alerts/{id}")));
    driver.goto(&app.url("/console/alerts?state=open")).await;
    driver.wait_for("id=\"alerts\"").await;
    driver
        .click(&format!("a[href='/console/alerts/{id}']"))
        .await;
    let html = driver.wait_for("id=\"explanation\"").await;
    assert!(
        html.contains("class=\"volume-chart\""),
        "the chart is drawn"
    );
    assert!(html.contains("<title>Volume per hour of"), "and named");
    assert!(html.contains("id=\"evidence-table\""));
    assert!(
        html.contains("customer_entity"),
        "the evidence names the table"
    );
    assert!(
        html.contains("system:detection"),
        "the history names detection"
    );
    let points = driver
        .script(
            "return document.querySelectorAll('svg.volume-chart circle').length",
            json!([]),
        )
        .await;
    assert_eq!(points, json!(1), "one hour of evidence");
    driver
        .screenshot(&shots.join(format!("alert-1280-{tag}.png")))
        .await;

    // A false positive without a reason is refused on the page and changes nothing.
    driver.click("#false-positive-submit").await;
    let html = driver.wait_for("id=\"form-error\"").await;
    assert!(html.contains("reason"), "the service's message is shown");
    let stored: Value = app
        .get(&format!("/api/v1/alerts/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["state"], "open");

    // Acknowledge, then escalate: the alert links its incident.
    driver.click("#acknowledge-submit").await;
    driver.wait_for("Saved.").await;
    let html = driver.wait_for("badge state-acknowledged").await;
    assert!(!html.contains("id=\"acknowledge-form\""), "done once");
    driver
        .type_into("#escalate-title", "Customer table written to disk")
        .await;
    driver.click("#escalate-submit").await;
    let html = driver.wait_for("id=\"incident-link\"").await;
    assert!(html.contains("badge state-escalated"));
    let stored: Value = app
        .get(&format!("/api/v1/alerts/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["state"], "escalated");
    let kinds: Vec<&str> = stored["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.ends_with(&["acknowledged", "escalated"]), "{kinds:?}");
    assert!(
        stored["history"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .all(|e| e["actor"].as_str().unwrap() != "system:detection"),
        "the analyst's actions carry the real actor"
    );

    // Phone width: tables become cards, the chart shrinks, nothing scrolls sideways.
    driver.size(390, 1400).await;
    driver.goto(&app.url("/console/alerts")).await;
    driver.wait_for("id=\"alerts\"").await;
    assert!(no_horizontal_scroll(&driver).await, "alerts at 390 px");
    driver
        .screenshot(&shots.join(format!("alerts-390-{tag}.png")))
        .await;
    driver
        .goto(&app.url(&format!("/console/alerts/{id}")))
        .await;
    driver.wait_for("id=\"explanation\"").await;
    assert!(no_horizontal_scroll(&driver).await, "alert at 390 px");
    driver
        .screenshot(&shots.join(format!("alert-390-{tag}.png")))
        .await;
    eprintln!("console screenshots: {}", shots.display());
    let _ = driver.cmd(reqwest::Method::DELETE, "", None).await;
}

crate::on_both_backends!(alert_pages_work_in_a_real_browser);
