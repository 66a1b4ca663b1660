//! The incident pages in headless Chromium (the WebDriver client of `browser.rs`): open an
//! incident from the console, enter the affected people and the data, see the countdowns,
//! have a bad count refused without a change, see a reminder the job raised at a simulated
//! time and an overdue flag, record a notice as sent, move the status, add a note; screenshots
//! at 1280 and 390 px beside the other console screenshots.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::browser::{Driver, browser_or_fail, screenshot_dir};
use crate::helpers::{Backend, spawn_app};

async fn set_value(driver: &Driver, id: &str, value: &str) {
    driver
        .script(
            "document.getElementById(arguments[0]).value = arguments[1]",
            json!([id, value]),
        )
        .await;
}

async fn no_horizontal_scroll(driver: &Driver) -> bool {
    driver
        .script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1",
            json!([]),
        )
        .await
        == json!(true)
}

async fn incident_pages_work_in_a_real_browser(backend: Backend) {
    let Some((driver_bin, chromium)) = browser_or_fail() else {
        return;
    };
    let app = spawn_app(backend).await;
    let t = app.create_tenant("incident-console.myshopify.com").await;
    let driver = Driver::start(&driver_bin, &chromium).await;
    let shots = screenshot_dir();
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let today = OffsetDateTime::now_utc().date();
    let discovered = today - Duration::days(10);
    driver.size(1280, 1000).await;

    driver.goto(&app.url("/console/login")).await;
    driver.type_into("#api_key", &t.key).await;
    driver.click("#sign-in").await;
    driver.wait_for("Permission audit").await;
    driver.click("nav.tabs a[href='/console/incidents']").await;
    driver.wait_for("Open an incident").await;

    // Open an incident by hand.
    driver
        .type_into("#title", "Customer export on a public share")
        .await;
    set_value(&driver, "discovered_at", &discovered.to_string()).await;
    driver.click("#open-submit").await;
    driver.wait_for("Saved.").await;
    let url = driver.get("/url").await;
    let id = url
        .as_str()
        .unwrap()
        .split("/console/incidents/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let html = driver.source().await;
    assert!(
        html.contains("No jurisdiction yet"),
        "no obligations before people are entered"
    );

    // Affected people and data: the countdowns appear.
    driver.type_into("#residents", "CA=600").await;
    driver.type_into("#categories", "US_SSN, PERSON").await;
    driver.type_into("#records_estimate", "1200").await;
    driver.click("#facts-submit").await;
    let html = driver.wait_for("20 days left").await;
    assert!(
        html.contains("Waits for notice to individuals"),
        "the AG sample is relative"
    );
    assert!(html.contains("California Attorney General"));
    assert!(
        html.contains("Statutory damages"),
        "the exposure estimate is shown"
    );
    assert!(html.contains("id=\"exposure-sources\""), "with its sources");
    assert!(!html.contains("id=\"overdue-banner\""));

    // A negative count is refused on the page and changes nothing.
    set_value(&driver, "residents", "CA=-5").await;
    driver.click("#facts-submit").await;
    let html = driver.wait_for("id=\"form-error\"").await;
    assert!(
        html.contains("must be 0 to"),
        "the service's message is shown"
    );
    let stored: Value = app
        .get(&format!("/api/v1/incidents/{id}"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["facts"]["residents"], json!({"CA": 600}));

    // The reminder job, at the simulated start of the day 7 days before the due date.
    let due = discovered + Duration::days(30);
    let seven_before = (due - Duration::days(7)).midnight().assume_utc();
    let at_ms = i64::try_from(seven_before.unix_timestamp_nanos() / 1_000_000).unwrap();
    let raised = app_server::incidents::reminder_job(&app.state.db, at_ms)
        .await
        .unwrap();
    assert_eq!(raised, 1);
    driver
        .goto(&app.url(&format!("/console/incidents/{id}")))
        .await;
    let html = driver.wait_for("reminder-due_in_7_days").await;
    assert!(
        html.contains("system:reminders"),
        "the timeline names the job"
    );
    driver
        .screenshot(&shots.join(format!("incident-1280-{tag}.png")))
        .await;

    // Record the notice to individuals: it shows as sent and the AG sample gets its date.
    set_value(&driver, "notice-audience", "individuals").await;
    set_value(
        &driver,
        "notice-date",
        &(today - Duration::days(2)).to_string(),
    )
    .await;
    driver.click("#notice-submit").await;
    driver.wait_for("Saved.").await;
    let html = driver.wait_for("13 days left").await;
    assert!(html.contains(&format!("Sent {}", today - Duration::days(2))));

    // Status and a note.
    set_value(&driver, "next-status", "investigating").await;
    driver.click("#status-submit").await;
    driver.wait_for("badge status-investigating").await;
    let status = driver
        .script(
            "return document.getElementById('status').textContent",
            json!([]),
        )
        .await;
    assert_eq!(status, "Investigating");
    driver
        .type_into("#event-note", "Share link revoked by the vendor.")
        .await;
    driver.click("#event-submit").await;
    let html = driver.wait_for("Share link revoked by the vendor.").await;
    assert!(html.contains("Saved."));

    // An older incident whose notice is overdue is flagged on its page and in the list.
    let res = app
        .post_json(
            "/api/v1/incidents",
            &t.key,
            json!({"title": "Old ticket export", "severity": "critical",
                   "facts": {"discovered_at": "2026-03-02", "residents": {"CA": 600},
                             "categories": ["US_SSN", "PERSON"]}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let old: Value = res.json().await.unwrap();
    driver
        .goto(&app.url(&format!(
            "/console/incidents/{}",
            old["id"].as_str().unwrap()
        )))
        .await;
    let html = driver.wait_for("id=\"overdue-banner\"").await;
    assert!(html.contains("Overdue by"));
    driver.goto(&app.url("/console/incidents")).await;
    let html = driver.wait_for("Old ticket export").await;
    assert!(html.contains("Customer export on a public share"));
    assert_eq!(
        html.matches("1 overdue").count(),
        1,
        "only the old incident is flagged in the list"
    );
    driver
        .screenshot(&shots.join(format!("incidents-1280-{tag}.png")))
        .await;

    // Phone width: tables become cards, nothing scrolls sideways.
    driver.size(390, 1400).await;
    driver.goto(&app.url("/console/incidents")).await;
    driver.wait_for("Old ticket export").await;
    assert!(no_horizontal_scroll(&driver).await, "incidents at 390 px");
    driver
        .screenshot(&shots.join(format!("incidents-390-{tag}.png")))
        .await;
    driver
        .goto(&app.url(&format!("/console/incidents/{id}")))
        .await;
    driver.wait_for("13 days left").await;
    let header_display = driver
        .script(
            "return getComputedStyle(document.querySelector('#obligations-table thead')).display",
            json!([]),
        )
        .await;
    assert_eq!(header_display, "none", "cards at 390 px");
    assert!(no_horizontal_scroll(&driver).await, "incident at 390 px");
    driver
        .screenshot(&shots.join(format!("incident-390-{tag}.png")))
        .await;
    eprintln!("console screenshots: {}", shots.display());
    let _ = driver.cmd(reqwest::Method::DELETE, "", None).await;
}

crate::on_both_backends!(incident_pages_work_in_a_real_browser);
