//! The three privacy compliance webhooks end to end, signed by the official library: the data
//! request report is produced and downloadable by the tenant admin, the customer's data and then
//! the shop's are gone from the tables, and the audit chain holds the evidence without PII.

use serde_json::json;

use crate::helpers::Backend;
use crate::shopify_oauth::install_via_oauth;
use crate::shopify_session::{FINDINGS_191167, session_token};
use crate::shopify_support::*;
use app_server::shopify::webhooks::{self, DeliveryHeaders, Receipt};

const EMAIL: &str = "john@example.com";
const PHONE: &str = "555-625-1199";

async fn the_compliance_webhooks_run_end_to_end(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let tenant = install_via_oauth(&app).await;
    let owner = session_token("42");
    assert_eq!(app.get(FINDINGS_191167, &owner).await.status(), 200);

    // What LeakGuard learns about two customers.
    for (topic, body) in [
        (
            "customers/create",
            json!({"id": 191167, "email": EMAIL, "phone": PHONE, "first_name": "John"}),
        ),
        (
            "orders/create",
            json!({"id": 299938, "line_items": [], "email": EMAIL, "customer": {"id": 191167, "email": EMAIL}, "payment_details": {"credit_card_number": "•••• 4242"}}),
        ),
        (
            "orders/create",
            json!({"id": 111, "line_items": [], "customer": {"id": 555, "email": "other@example.com"}}),
        ),
        (
            "customers/update",
            json!({"id": 555, "email": "other@example.com"}),
        ),
    ] {
        assert_eq!(app.deliver(topic, SHOP, &body).await.status(), 200);
    }
    app.process_webhooks().await;
    assert_eq!(app.count_where("shopify_signals", "1 = 1").await, 4);

    // customers/data_request (the docs' example payload), signed by the official library.
    let request = json!({"shop_id": 954889, "shop_domain": SHOP, "orders_requested": [299938, 280263, 220458], "customer": {"id": 191167, "email": EMAIL, "phone": PHONE}, "data_request": {"id": 9999}});
    let (headers, body) = oracle_webhook("customers/data_request", SHOP, &request);
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    app.process_webhooks().await;
    let list: serde_json::Value = app
        .get("/api/v1/compliance/data-requests", &owner)
        .await
        .json()
        .await
        .unwrap();
    let item = &list["data_requests"][0];
    assert_eq!(item["topic"], "customers/data_request");
    assert_eq!(item["status"], "open");
    assert_eq!(item["shopify_request_id"], "9999");
    assert_eq!(item["report_available"], true);
    let received = time::OffsetDateTime::parse(
        item["received_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let due = time::OffsetDateTime::parse(
        item["due_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(due - received, time::Duration::days(30));
    let id = item["id"].as_str().unwrap().to_owned();
    let findings: serde_json::Value = app.get(FINDINGS_191167, &owner).await.json().await.unwrap();
    assert_eq!(
        findings["data_requests"][0]["topic"],
        "customers/data_request"
    );
    assert_eq!(findings["data_requests"][0]["status"], "open");
    // Staff without the admin role cannot read the report.
    let viewer = session_token("7");
    let report_path = format!("/api/v1/compliance/data-requests/{id}/report");
    assert_eq!(app.get(&report_path, &viewer).await.status(), 403);
    let res = app.get(&report_path, &owner).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let report: serde_json::Value = res.json().await.unwrap();
    let held = report["held_data"]["shopify_signals"].as_array().unwrap();
    let topics: Vec<&str> = held.iter().map(|s| s["topic"].as_str().unwrap()).collect();
    assert_eq!(topics, vec!["customers/create", "orders/create"]);
    let text = report.to_string();
    assert!(text.contains(EMAIL) && text.contains(PHONE));
    assert!(!text.contains("other@example.com"));
    assert!(!text.contains("4242"));
    let after: serde_json::Value = app
        .get(&format!("/api/v1/compliance/data-requests/{id}"), &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["status"], "done");

    // customers/redact, with a delivery about the customer still waiting to be processed.
    let config = app.state.shopify.shopify.config.clone().unwrap();
    let receive = |topic: &'static str, id: &'static str, body: serde_json::Value| {
        let config = config.clone();
        let db = app.state.db.clone();
        async move {
            let body = body.to_string();
            let headers = DeliveryHeaders {
                hmac: Some(app_server::shopify::hmac::sign_webhook(
                    SECRET.as_bytes(),
                    body.as_bytes(),
                )),
                topic: Some(topic.into()),
                shop_domain: Some(SHOP.into()),
                webhook_id: Some(id.into()),
                api_version: Some("2026-07".into()),
                triggered_at: None,
            };
            match webhooks::receive(
                &db,
                &config,
                &headers,
                body.as_bytes(),
                app_server::db::now_ms(),
            )
            .await
            .unwrap()
            {
                Receipt::Stored(id) => id,
                Receipt::Duplicate => panic!("duplicate"),
            }
        }
    };
    receive(
        "customers/update",
        "late-1",
        json!({"id": 191167, "email": EMAIL}),
    )
    .await;
    let redact = receive(
        "customers/redact",
        "redact-1",
        json!({"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 191167, "email": EMAIL, "phone": PHONE}, "orders_to_redact": [299938]}),
    )
    .await;
    webhooks::process_delivery(&app.state.shopify, redact, app_server::db::now_ms())
        .await
        .unwrap();
    assert_eq!(
        app.count_where("shopify_signals", "customer_id = '191167'")
            .await,
        0
    );
    assert_eq!(
        app.count_where("shopify_signals", "resource_id = '299938'")
            .await,
        0
    );
    assert_eq!(
        app.count_where("shopify_signals", "customer_id = '555'")
            .await,
        2
    );
    assert_eq!(
        app.count_where("shopify_compliance_requests", "report IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count_where("webhook_deliveries", "payload IS NOT NULL")
            .await,
        0
    );
    assert_eq!(app.get(&report_path, &owner).await.status(), 404);
    webhooks::retry_deliveries_job(&app.state.shopify, app_server::db::now_ms())
        .await
        .unwrap();
    assert_eq!(
        app.count_where("shopify_signals", "customer_id = '191167'")
            .await,
        0
    );
    let audit = app.audit_text(tenant).await;
    for pii in ["191167", EMAIL, PHONE, "299938", "John"] {
        assert!(!audit.contains(pii), "audit chain holds {pii}");
    }
    let actions = app.audit_actions(tenant).await;
    for action in [
        "shopify.customer_data_request_reported",
        "shopify.customer_data_report_downloaded",
        "shopify.customer_redacted",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action} missing");
    }

    // app/uninstalled (the REST Shop resource as payload): Shopify has revoked the token, which
    // the Admin API confirms; then shop/redact, acted on 48 h after the uninstall.
    fake.with(|s| s.revoked = true);
    let (headers, body) = oracle_webhook(
        "app/uninstalled",
        SHOP,
        &json!({"id": 954889, "name": "Some Shop", "email": "owner@example.com", "domain": "shop.example.com", "myshopify_domain": SHOP, "phone": "555-0100"}),
    );
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    app.process_webhooks().await;
    assert_eq!(
        app.count_where("tenants", "status = 'uninstalled'").await,
        1
    );
    assert_eq!(
        app.count_where("secrets", "name LIKE 'shopify.%token'")
            .await,
        0
    );
    assert_eq!(
        app.count_where("shopify_installations", "shop_redact_due_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(app.get(FINDINGS_191167, &owner).await.status(), 404);

    let (headers, body) = oracle_webhook(
        "shop/redact",
        SHOP,
        &json!({"shop_id": 954889, "shop_domain": SHOP}),
    );
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    app.process_webhooks().await;
    // Too early: the delivery waits for the 48 hours, nothing is purged yet.
    assert_eq!(app.count_where("tenants", "status = 'purged'").await, 0);
    assert_eq!(
        app.count_where("webhook_deliveries", "status = 'deferred'")
            .await,
        1
    );
    assert!(app.count_where("users", "1 = 1").await > 0);
    let day = 24 * 3_600_000;
    webhooks::retry_deliveries_job(&app.state.shopify, app_server::db::now_ms() + day)
        .await
        .unwrap();
    assert_eq!(app.count_where("tenants", "status = 'purged'").await, 0);
    webhooks::retry_deliveries_job(
        &app.state.shopify,
        app_server::db::now_ms() + 2 * day + 60_000,
    )
    .await
    .unwrap();
    assert_eq!(
        app.count_where("tenants", "status = 'purged' AND purged_at IS NOT NULL")
            .await,
        1
    );
    for table in ["shopify_signals", "users", "api_keys", "secrets"] {
        assert_eq!(
            app.count_where(table, "1 = 1").await,
            0,
            "{table} still holds rows"
        );
    }
    assert_eq!(
        app.count_where("webhook_deliveries", "payload IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count_where("shopify_compliance_requests", "report IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count_where("shopify_compliance_requests", "status = 'done'")
            .await,
        3
    );
    let audit = app.audit_text(tenant).await;
    for pii in [
        "191167",
        EMAIL,
        PHONE,
        "owner@example.com",
        "555-0100",
        "other@example.com",
    ] {
        assert!(!audit.contains(pii), "audit chain holds {pii}");
    }
    let actions = app.audit_actions(tenant).await;
    assert!(actions.contains(&"shopify.app_uninstalled".to_owned()));
    assert!(actions.contains(&"shopify.shop_redacted".to_owned()));
    let report =
        app_server::audit_chain::verify_chain(&app.state.db, tenant, &app.state.checkpointer)
            .await
            .unwrap();
    assert!(report.result.is_ok(), "{:?}", report.result);
}

async fn shop_redact_for_a_shop_that_installed_again_keeps_its_data(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let tenant = install_via_oauth(&app).await;
    assert_eq!(
        app.deliver("customers/update", SHOP, &json!({"id": 1, "email": EMAIL}))
            .await
            .status(),
        200
    );
    let (headers, body) = oracle_webhook(
        "shop/redact",
        SHOP,
        &json!({"shop_id": 954889, "shop_domain": SHOP}),
    );
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    app.process_webhooks().await;
    assert_eq!(app.count_where("tenants", "status = 'active'").await, 1);
    assert_eq!(app.count_where("shopify_signals", "1 = 1").await, 1);
    assert!(
        app.audit_actions(tenant)
            .await
            .contains(&"shopify.shop_redact_skipped".to_owned())
    );
}

crate::on_both_backends!(
    the_compliance_webhooks_run_end_to_end,
    shop_redact_for_a_shop_that_installed_again_keeps_its_data,
);
