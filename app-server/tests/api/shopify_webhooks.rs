//! Webhook intake: deliveries signed by the official library are accepted; forged, unsigned
//! and malformed ones are refused with nothing stored; duplicates are processed once; failed
//! processing is retried by the job with back-off.

use serde_json::json;

use crate::helpers::Backend;
use crate::shopify_support::*;

async fn official_library_deliveries_are_accepted_in_both_header_families(backend: Backend) {
    let app = shopify_app(backend, None).await;
    let tenant = app.create_tenant(SHOP).await;
    let order = json!({
        "id": 820982911946154508u64,
        "line_items": [{"id": 1, "title": "Mug"}],
        "email": "jon@example.com",
        "customer": {"id": 115310627314723954u64, "email": "jon@example.com"},
        "payment_details": {"credit_card_number": "•••• •••• •••• 4242", "credit_card_company": "Visa"},
        "transactions": [{"id": 1, "gateway": "bogus"}],
        "note": "escaped \u{2f} and & stay byte-exact",
    });
    let (headers, body) = oracle_webhook("orders/create", SHOP, &order);
    let res = app.post_webhook(&headers, body.clone()).await;
    assert_eq!(res.status(), 200);
    // The Events family: same signature scheme, lowercase `shopify-*` names.
    let (headers, body) = oracle_webhook(
        "customers/update",
        SHOP,
        &json!({"id": 115310627314723954u64, "email": "jon@example.com"}),
    );
    let events: Vec<(String, String)> = headers
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase().replace("x-shopify-", "shopify-"), v))
        .collect();
    assert_eq!(app.post_webhook(&events, body).await.status(), 200);
    app.process_webhooks().await;
    assert_eq!(
        app.count_where(
            "webhook_deliveries",
            "status = 'processed' AND payload IS NULL"
        )
        .await,
        2
    );
    let t = format!("tenant_id = '{}'", tenant.id);
    let t = if backend == Backend::Sqlite {
        format!(
            "hex(tenant_id) = '{}'",
            tenant.id.simple().to_string().to_uppercase()
        )
    } else {
        t
    };
    assert_eq!(app.count_where("shopify_signals", &t).await, 2);
    use app_server::db::entities::shopify_signals as s;
    use sea_orm::EntityTrait;
    let signals = s::Entity::find().all(&app.state.db).await.unwrap();
    let order_signal = signals.iter().find(|s| s.topic == "orders/create").unwrap();
    assert_eq!(
        order_signal.customer_id.as_deref(),
        Some("115310627314723954")
    );
    assert_eq!(
        order_signal.resource_id.as_deref(),
        Some("820982911946154508")
    );
    assert!(!order_signal.payload.contains("credit_card"));
    assert!(!order_signal.payload.contains("transactions"));
    assert!(order_signal.payload.contains("jon@example.com"));
    let actions = app.audit_actions(tenant.id).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "shopify.signal_stored")
            .count(),
        2
    );
}

async fn the_spec_webhook_vector_is_accepted_and_one_changed_digit_is_refused(backend: Backend) {
    let app = shopify_app(backend, None).await;
    let body = r#"{"shop_id":954889,"shop_domain":"some-shop.myshopify.com"}"#;
    let mut headers = signed_webhook(SECRET, "shop/redact", SHOP, "vector-1", body);
    for (k, v) in headers.iter_mut() {
        if k == "X-Shopify-Hmac-Sha256" {
            assert_eq!(v, "Tr2c7Me17fTQwz4kN7AGPjEn0lRCShuYgLnmDSgxA4k=");
        }
    }
    let changed = body.replace("954889", "954888");
    let res = app.post_webhook(&headers, changed).await;
    assert_eq!(res.status(), 401);
    assert_eq!(app.count_where("webhook_deliveries", "1 = 1").await, 0);
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    assert_eq!(app.count_where("webhook_deliveries", "1 = 1").await, 1);
}

async fn forged_or_unsigned_deliveries_are_refused_with_nothing_stored(backend: Backend) {
    let app = shopify_app(backend, None).await;
    app.create_tenant(SHOP).await;
    let body = json!({"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"}, "orders_to_redact": [299938]}).to_string();
    // Signed with another secret (e.g. the store admin's test notifications).
    let forged = signed_webhook("not-the-secret", "customers/redact", SHOP, "f-1", &body);
    assert_eq!(app.post_webhook(&forged, body.clone()).await.status(), 401);
    // Body changed after signing.
    let signed = signed_webhook(SECRET, "customers/redact", SHOP, "f-2", &body);
    let tampered = body.replace("191167", "191168");
    assert_eq!(app.post_webhook(&signed, tampered).await.status(), 401);
    // No HMAC header at all.
    let unsigned: Vec<_> = signed
        .iter()
        .filter(|(k, _)| k != "X-Shopify-Hmac-Sha256")
        .cloned()
        .collect();
    let res = app.post_webhook(&unsigned, body.clone()).await;
    assert_eq!(res.status(), 401);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["code"], "invalid_credentials");
    // A garbage HMAC.
    let mut garbage = signed.clone();
    for (k, v) in garbage.iter_mut() {
        if k == "X-Shopify-Hmac-Sha256" {
            *v = "AAAA".into();
        }
    }
    assert_eq!(app.post_webhook(&garbage, body.clone()).await.status(), 401);
    // Signed, but headers missing or the shop malformed: 400.
    let no_id: Vec<_> = signed
        .iter()
        .filter(|(k, _)| k != "X-Shopify-Webhook-Id")
        .cloned()
        .collect();
    assert_eq!(app.post_webhook(&no_id, body.clone()).await.status(), 400);
    for bad_shop in ["evil.com/x.myshopify.com", "x.myshopify.com.evil.test"] {
        let h = signed_webhook(SECRET, "customers/redact", bad_shop, "f-3", &body);
        assert_eq!(app.post_webhook(&h, body.clone()).await.status(), 400);
    }
    // An empty body, correctly signed.
    let empty = signed_webhook(SECRET, "customers/redact", SHOP, "f-4", "");
    assert_eq!(app.post_webhook(&empty, "").await.status(), 400);
    app.process_webhooks().await;
    assert_eq!(app.count_where("webhook_deliveries", "1 = 1").await, 0);
    assert_eq!(
        app.count_where("shopify_compliance_requests", "1 = 1")
            .await,
        0
    );
}

async fn the_previous_secret_is_accepted_during_a_rotation(backend: Backend) {
    let app = shopify_app(backend, None).await;
    let body = json!({"id": 5}).to_string();
    let old = signed_webhook(PREVIOUS_SECRET, "customers/update", SHOP, "rot-1", &body);
    assert_eq!(app.post_webhook(&old, body).await.status(), 200);
}

async fn a_duplicate_delivered_ten_times_concurrently_is_processed_once(backend: Backend) {
    let app = shopify_app(backend, None).await;
    let tenant = app.create_tenant(SHOP).await;
    let body = json!({"id": 42, "line_items": [], "customer": {"id": 7}}).to_string();
    let headers = signed_webhook(SECRET, "orders/create", SHOP, "dup-1", &body);
    let sends = (0..10).map(|_| app.post_webhook(&headers, body.clone()));
    let statuses: Vec<u16> = futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(statuses, vec![200; 10]);
    app.process_webhooks().await;
    // Processing raced against the job too; still once.
    app_server::shopify::webhooks::retry_deliveries_job(
        &app.state.shopify,
        app_server::db::now_ms() + 3_600_000,
    )
    .await
    .unwrap();
    assert_eq!(
        app.count_where("webhook_deliveries", "delivery_id = 'dup-1'")
            .await,
        1
    );
    assert_eq!(app.count_where("shopify_signals", "1 = 1").await, 1);
    let actions = app.audit_actions(tenant.id).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "shopify.signal_stored")
            .count(),
        1
    );
    // A later repeat (Shopify retries after a timeout) is acknowledged and ignored.
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    app.process_webhooks().await;
    assert_eq!(app.count_where("shopify_signals", "1 = 1").await, 1);
}

async fn failed_processing_is_retried_by_the_job_with_back_off(backend: Backend) {
    let app = shopify_app(backend, None).await;
    app.create_tenant(SHOP).await;
    let config = app.state.shopify.shopify.config.clone().unwrap();
    // Stored but never picked up (the process died before spawning): the job runs it.
    let body = json!({"id": 9, "line_items": [], "customer": {"id": 3}}).to_string();
    let headers = app_server::shopify::webhooks::DeliveryHeaders {
        hmac: Some(app_server::shopify::hmac::sign_webhook(
            SECRET.as_bytes(),
            body.as_bytes(),
        )),
        topic: Some("orders/updated".into()),
        shop_domain: Some(SHOP.into()),
        webhook_id: Some("job-1".into()),
        api_version: Some("2026-07".into()),
        triggered_at: None,
    };
    let now = app_server::db::now_ms();
    app_server::shopify::webhooks::receive(&app.state.db, &config, &headers, body.as_bytes(), now)
        .await
        .unwrap();
    assert_eq!(
        app.count_where("webhook_deliveries", "status = 'pending'")
            .await,
        1
    );
    let done = app_server::shopify::webhooks::retry_deliveries_job(&app.state.shopify, now)
        .await
        .unwrap();
    assert_eq!(done, 1);
    assert_eq!(app.count_where("shopify_signals", "1 = 1").await, 1);

    // A data request without a customer fails; it is retried later, not at once.
    let bad = json!({"shop_id": 1, "shop_domain": SHOP, "data_request": {"id": 1}}).to_string();
    let headers = app_server::shopify::webhooks::DeliveryHeaders {
        hmac: Some(app_server::shopify::hmac::sign_webhook(
            SECRET.as_bytes(),
            bad.as_bytes(),
        )),
        topic: Some("customers/data_request".into()),
        webhook_id: Some("job-2".into()),
        ..headers
    };
    app_server::shopify::webhooks::receive(&app.state.db, &config, &headers, bad.as_bytes(), now)
        .await
        .unwrap();
    assert_eq!(
        app_server::shopify::webhooks::retry_deliveries_job(&app.state.shopify, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.count_where("webhook_deliveries", "status = 'failed' AND attempts = 1")
            .await,
        1
    );
    assert_eq!(
        app_server::shopify::webhooks::retry_deliveries_job(&app.state.shopify, now + 1_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.count_where(
            "webhook_deliveries",
            "attempts = 1 AND delivery_id = 'job-2'"
        )
        .await,
        1
    );
    app_server::shopify::webhooks::retry_deliveries_job(&app.state.shopify, now + 31_000)
        .await
        .unwrap();
    assert_eq!(
        app.count_where("webhook_deliveries", "status = 'failed' AND attempts = 2")
            .await,
        1
    );
    assert_eq!(
        app.count_where("shopify_compliance_requests", "1 = 1")
            .await,
        0
    );
}

fn tenant_filter(backend: Backend, id: uuid::Uuid) -> String {
    if backend == Backend::Sqlite {
        format!(
            "hex(tenant_id) = '{}'",
            id.simple().to_string().to_uppercase()
        )
    } else {
        format!("tenant_id = '{id}'")
    }
}

/// Rows a purge would delete from another tenant, table by table.
async fn holdings(app: &crate::helpers::TestApp, filter: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["users", "api_keys", "secrets", "console_sessions"] {
        counts.push(app.count_where(table, filter).await);
    }
    counts
}

const OTHER_SHOP: &str = "other-shop.myshopify.com";

async fn a_captured_order_relabelled_as_shop_redact_for_another_shop_is_refused(backend: Backend) {
    let app = shopify_app(backend, None).await;
    app.create_tenant(SHOP).await;
    let victim = app.create_tenant(OTHER_SHOP).await;
    let ctx =
        app_server::tenancy::TenantCtx::system(leakguard_domain::ids::TenantId(victim.id), "test");
    app_server::secrets::put(
        &app.state.db,
        &app.state.keyring,
        &ctx,
        "test.secret",
        b"kept",
    )
    .await
    .unwrap();
    let filter = tenant_filter(backend, victim.id);
    let before = holdings(&app, &filter).await;
    assert!(
        before[0] > 0 && before[1] > 0 && before[2] > 0,
        "{before:?}"
    );

    // A real orders/create delivery of the first shop, as captured on the wire.
    let order =
        json!({"id": 820982911946154508u64, "line_items": [{"id": 1}], "customer": {"id": 7}});
    let (captured, body) = oracle_webhook("orders/create", SHOP, &order);
    assert_eq!(
        app.post_webhook(&captured, body.clone()).await.status(),
        200
    );
    // Re-sent as shop/redact for the other shop, with a new delivery id: same body, same HMAC.
    let relabelled: Vec<(String, String)> = captured
        .iter()
        .map(|(k, v)| match k.as_str() {
            "X-Shopify-Topic" => (k.clone(), "shop/redact".to_owned()),
            "X-Shopify-Shop-Domain" => (k.clone(), OTHER_SHOP.to_owned()),
            "X-Shopify-Webhook-Id" => (k.clone(), uuid::Uuid::new_v4().to_string()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let res = app.post_webhook(&relabelled, body.clone()).await;
    assert_eq!(res.status(), 401);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["code"], "webhook_mismatch");
    // The other compliance and lifecycle topics refuse it too.
    for topic in [
        "customers/redact",
        "customers/data_request",
        "app/uninstalled",
    ] {
        let mut h = relabelled.clone();
        for (k, v) in h.iter_mut() {
            match k.as_str() {
                "X-Shopify-Topic" => *v = topic.to_owned(),
                "X-Shopify-Webhook-Id" => *v = uuid::Uuid::new_v4().to_string(),
                _ => {}
            }
        }
        assert_eq!(
            app.post_webhook(&h, body.clone()).await.status(),
            401,
            "{topic}"
        );
    }
    // Replayed as it was captured but hours later: stale.
    let mut stale = captured.clone();
    for (k, v) in stale.iter_mut() {
        match k.as_str() {
            "X-Shopify-Triggered-At" => *v = "2026-01-01T00:00:00.000000000Z".to_owned(),
            "X-Shopify-Webhook-Id" => *v = uuid::Uuid::new_v4().to_string(),
            _ => {}
        }
    }
    let res = app.post_webhook(&stale, body).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "webhook_stale"
    );
    // Even a well-formed shop/redact for the other shop does nothing while it is installed.
    let redact = json!({"shop_id": 1, "shop_domain": OTHER_SHOP});
    assert_eq!(
        app.deliver("shop/redact", OTHER_SHOP, &redact)
            .await
            .status(),
        200
    );
    app.process_webhooks().await;
    assert_eq!(app.count_where("webhook_deliveries", "1 = 1").await, 2);
    assert_eq!(holdings(&app, &filter).await, before);
    assert_eq!(app.count_where("tenants", "status = 'active'").await, 2);
    let actions = app.audit_actions(victim.id).await;
    assert!(actions.contains(&"shopify.shop_redact_skipped".to_owned()));
    assert!(!actions.contains(&"shopify.shop_redacted".to_owned()));
}

async fn a_replayed_app_uninstalled_does_no_damage(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let tenant = crate::shopify_oauth::install_via_oauth(&app).await;
    let filter = tenant_filter(backend, tenant);
    let before = holdings(&app, &filter).await;
    let shop = json!({"id": 954889, "name": "Some Shop", "domain": "shop.example.com", "myshopify_domain": SHOP});
    // Signed and bound to the shop, but LeakGuard is still installed: Shopify still accepts
    // the token, so the uninstall is not acted on.
    for _ in 0..2 {
        let (headers, body) = oracle_webhook("app/uninstalled", SHOP, &shop);
        assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
        app.process_webhooks().await;
    }
    assert_eq!(app.count_where("tenants", "status = 'active'").await, 1);
    assert_eq!(holdings(&app, &filter).await, before);
    assert_eq!(
        app.count_where("shopify_installations", "uninstalled_at IS NULL")
            .await,
        1
    );
    let actions = app.audit_actions(tenant).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "shopify.app_uninstall_unconfirmed")
            .count(),
        2
    );
    assert!(!actions.contains(&"shopify.app_uninstalled".to_owned()));
    assert!(!fake.with(|s| s.graphql_tokens.is_empty()));
}

crate::on_both_backends!(
    official_library_deliveries_are_accepted_in_both_header_families,
    the_spec_webhook_vector_is_accepted_and_one_changed_digit_is_refused,
    forged_or_unsigned_deliveries_are_refused_with_nothing_stored,
    the_previous_secret_is_accepted_during_a_rotation,
    a_duplicate_delivered_ten_times_concurrently_is_processed_once,
    failed_processing_is_retried_by_the_job_with_back_off,
    a_captured_order_relabelled_as_shop_redact_for_another_shop_is_refused,
    a_replayed_app_uninstalled_does_no_damage,
);

/// The signer this suite (and the benchmark) uses agrees with the official library, in both
/// directions: the library accepts what we sign, and we accept the spec's vectors.
#[test]
fn our_signatures_validate_in_the_official_library() {
    let body = r#"{"id":1,"note":"a \/ b \u0026 c"}"#;
    let headers: serde_json::Map<String, serde_json::Value> =
        signed_webhook(SECRET, "orders/create", SHOP, "conf-1", body)
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
    let verdict = oracle(
        "validate-webhook",
        json!({"secret": SECRET, "headers": headers, "body": body}),
    );
    assert_eq!(verdict["valid"], true, "{verdict}");
    let verdict = oracle(
        "validate-webhook",
        json!({"secret": "other", "headers": headers, "body": body}),
    );
    assert_eq!(verdict["valid"], false);

    let now = 1_700_000_000;
    let params: app_server::shopify::hmac::QueryParams = [
        ("shop", SHOP.to_owned()),
        ("timestamp", now.to_string()),
        ("note", "a b&c=d~".to_owned()),
        (
            "host",
            "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let message = app_server::shopify::hmac::query_message(&params, false);
    let hmac = app_server::shopify::hmac::sign_query_message(SECRET.as_bytes(), &message);
    let verdict = oracle(
        "validate-query",
        json!({"secret": SECRET, "query": format!("{message}&hmac={hmac}"), "now": now}),
    );
    assert_eq!(verdict["valid"], true, "{verdict}");
}
