//! The Magento module's server side: enrollment, signed requests (replay, bad signature,
//! window), events, permission snapshots, the retention policy and retention reports.

use serde_json::json;

use crate::helpers::{Backend, spawn_app};

const BASE: &str = "https://shop-a.example";

async fn enrollment_trades_a_one_time_token_for_a_sealed_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let token = app.module_token(&t).await;
    assert!(token.starts_with("lgme_"));
    let enroll = |base: &'static str, token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/magento/enroll"))
                .json(&json!({"enrollment_token": token, "base_url": base, "module_version": "1.2.0"}))
                .send()
                .await
                .unwrap()
        }
    };
    // A wrong store URL is refused and does not burn the token.
    let before = app.audit_count(t.id).await;
    let res = enroll("https://other.example", token.clone()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(app.audit_count(t.id).await, before);
    // The store URL is compared normalised.
    let res = enroll("HTTPS://Shop-A.example/", token.clone()).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["tenant_id"], t.id.to_string());
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(body["key_id"].as_str().unwrap().starts_with("lgmk_"));
    // Single use.
    let res = enroll(BASE, token.clone()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "invalid_credentials"
    );
    // Stored sealed, never in clear.
    let row = app_server::secrets::get(
        &app.state.db,
        &app.state.keyring,
        &app_server::tenancy::TenantCtx::system(leakguard_domain::ids::TenantId(t.id), "test"),
        app_server::magento::MODULE_SECRET,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&row), secret);
    let stored: Vec<app_server::db::entities::secrets::Model> = {
        use sea_orm::EntityTrait;
        app_server::db::entities::secrets::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
    };
    assert!(stored.iter().all(|s| {
        !s.ciphertext
            .windows(secret.len())
            .any(|w| w == secret.as_bytes())
    }));
    // A Shopify tenant gets no module token; a viewer cannot issue one.
    let shop = app.create_tenant("no-module.myshopify.com").await;
    let res = app
        .post_json("/api/v1/magento/enrollment-tokens", &shop.key, json!({}))
        .await;
    assert_eq!(res.status(), 400);
    let res = app
        .client
        .post(app.url("/api/v1/magento/enrollment-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn enrollment_tokens_expire_by_the_clock_passed_in(backend: Backend) {
    use app_server::enrollment::{TokenKind, issue};
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let ctx = app_server::tenancy::TenantCtx::system(leakguard_domain::ids::TenantId(t.id), "test");
    let day = 24 * 3600 * 1000;
    let t0 = 1_800_000_000_000i64;
    let late = issue(&app.state.db, &ctx, TokenKind::MagentoModule, day, t0)
        .await
        .unwrap();
    let on_time = issue(&app.state.db, &ctx, TokenKind::MagentoModule, day, t0)
        .await
        .unwrap();
    let request =
        |token: &app_server::enrollment::IssuedToken| app_server::magento::auth::EnrollRequest {
            enrollment_token: secrecy::ExposeSecret::expose_secret(&token.token).to_owned(),
            base_url: BASE.into(),
            module_version: "1.0.0".into(),
        };
    let expired = app_server::magento::auth::enroll(
        &app.state.db,
        &app.state.keyring,
        &request(&late),
        t0 + day,
    )
    .await;
    assert!(matches!(
        expired,
        Err(app_server::magento::MagentoError::Unauthorized(_))
    ));
    let ok = app_server::magento::auth::enroll(
        &app.state.db,
        &app.state.keyring,
        &request(&on_time),
        t0 + day - 1,
    )
    .await;
    assert!(ok.is_ok());
    let again = app_server::magento::auth::enroll(
        &app.state.db,
        &app.state.keyring,
        &request(&on_time),
        t0 + day - 1,
    )
    .await;
    assert!(matches!(
        again,
        Err(app_server::magento::MagentoError::Unauthorized(_))
    ));
    // The prune job removes tokens a week past expiry, not before.
    let n = app_server::jobs::prune::prune_job(&app.state.db, t0 + day + 1)
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(app.count_rows("enrollment_tokens", t.id).await, 2);
    app_server::jobs::prune::prune_job(&app.state.db, t0 + 9 * day)
        .await
        .unwrap();
    assert_eq!(app.count_rows("enrollment_tokens", t.id).await, 0);
}

async fn replays_and_bad_signatures_are_refused_without_a_trace(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let key = app.enroll_module(&t, BASE).await;
    let body = r#"{"events":[{"source":"admin_action","source_id":1,"event":"admin_login_success","admin_user_id":12,"ts":"2026-11-28T08:00:00Z"}]}"#;
    let ts = (app_server::db::now_ms() / 1000).to_string();
    let nonce = "0123456789abcdef0123456789abcdef";
    let res = app
        .signed_with(&key, "POST", "/api/v1/magento/events", body, &ts, nonce)
        .await;
    assert_eq!(res.status(), 200);
    let signals = app.count_rows("signals", t.id).await;
    let nonces = app.count_rows("replay_guards", t.id).await;
    app.settle_detection().await;
    let audit = app.audit_count(t.id).await;
    assert_eq!(signals, 1);

    let check_refused = |res: reqwest::Response, code: &'static str| async move {
        assert_eq!(res.status(), 401);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], code);
        let text = body.to_string();
        assert!(!text.contains("lgms_"), "no secret in an error");
    };
    // The very same request again: a replay.
    let replay = app
        .signed_with(&key, "POST", "/api/v1/magento/events", body, &ts, nonce)
        .await;
    check_refused(replay, "invalid_credentials").await;
    // A body changed after signing.
    let sig = app_server::magento::signature::sign(
        key.secret.as_bytes(),
        &ts,
        "11111111111111111111111111111111",
        "POST",
        "/api/v1/magento/events",
        body.as_bytes(),
    );
    let tampered = body.replace("\"source_id\":1", "\"source_id\":2");
    let res = app
        .raw_signed(
            &key,
            "POST",
            "/api/v1/magento/events",
            &tampered,
            &ts,
            "11111111111111111111111111111111",
            &sig,
        )
        .await;
    check_refused(res, "invalid_credentials").await;
    // Signed with another secret.
    let other = crate::helpers::ModuleKey {
        key_id: key.key_id.clone(),
        secret: "lgms_wrong".into(),
    };
    let res = app
        .signed(&other, "POST", "/api/v1/magento/events", body)
        .await;
    check_refused(res, "invalid_credentials").await;
    // Signed for another path.
    let sig = app_server::magento::signature::sign(
        key.secret.as_bytes(),
        &ts,
        "22222222222222222222222222222222",
        "POST",
        "/api/v1/magento/permission-snapshots",
        body.as_bytes(),
    );
    let res = app
        .raw_signed(
            &key,
            "POST",
            "/api/v1/magento/events",
            body,
            &ts,
            "22222222222222222222222222222222",
            &sig,
        )
        .await;
    check_refused(res, "invalid_credentials").await;
    // Outside the five-minute window, both ways.
    for skew in [-301i64, 301] {
        let old = (app_server::db::now_ms() / 1000 + skew).to_string();
        let res = app
            .signed_with(
                &key,
                "POST",
                "/api/v1/magento/events",
                body,
                &old,
                "33333333333333333333333333333333",
            )
            .await;
        check_refused(res, "invalid_credentials").await;
    }
    // Nonce shape, unknown key, missing headers.
    let res = app
        .signed_with(&key, "POST", "/api/v1/magento/events", body, &ts, "NOT-HEX")
        .await;
    check_refused(res, "invalid_credentials").await;
    let unknown = crate::helpers::ModuleKey {
        key_id: "lgmk_0000000000000000".into(),
        secret: key.secret.clone(),
    };
    let res = app
        .signed(&unknown, "POST", "/api/v1/magento/events", body)
        .await;
    check_refused(res, "invalid_credentials").await;
    let res = app
        .client
        .post(app.url("/api/v1/magento/events"))
        .body(body)
        .send()
        .await
        .unwrap();
    check_refused(res, "missing_credentials").await;

    assert_eq!(app.count_rows("signals", t.id).await, signals);
    assert_eq!(app.count_rows("replay_guards", t.id).await, nonces);
    assert_eq!(app.audit_count(t.id).await, audit);

    // Re-enrollment replaces the key: the old one stops working.
    let new_key = app.enroll_module(&t, BASE).await;
    let res = app
        .signed(&key, "GET", "/api/v1/magento/retention-policy", "")
        .await;
    assert_eq!(res.status(), 401);
    let res = app
        .signed(&new_key, "GET", "/api/v1/magento/retention-policy", "")
        .await;
    assert_eq!(res.status(), 200);

    // Expired nonces are pruned by the job; a fresh one is kept.
    let far = app_server::db::now_ms() + 3_600_000;
    assert!(
        app_server::jobs::prune::prune_job(&app.state.db, far)
            .await
            .unwrap()
            >= 1
    );
    assert_eq!(app.count_rows("replay_guards", t.id).await, 0);
}

async fn module_events_are_stored_once_as_signals(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let key = app.enroll_module(&t, BASE).await;
    let body = json!({"events": [
        {"source": "admin_action", "source_id": 7, "event": "admin_grid_export", "admin_user_id": 12,
         "ts": "2026-11-28T08:00:00Z", "entity_type": "customer", "count": 5000, "details": {}},
        {"source": "webapi_call", "source_id": 3, "event": "webapi_call", "caller_type": "integration",
         "caller_id": 5, "route": "/V1/customers/search", "page_size": 1000, "status": 200},
        {"event": "custom", "note": "no source id"},
    ]})
    .to_string();
    let res = app
        .signed(&key, "POST", "/api/v1/magento/events", &body)
        .await;
    assert_eq!(res.status(), 200);
    let ack: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        ack,
        json!({"received": 3, "stored": 3, "duplicates": 0, "oversize": 0})
    );
    // The module's retry queue sends the same rows again (new nonce).
    let res = app
        .signed(&key, "POST", "/api/v1/magento/events", &body)
        .await;
    let ack: serde_json::Value = res.json().await.unwrap();
    assert_eq!(ack["stored"], 0);
    assert_eq!(ack["duplicates"], 3);
    assert_eq!(app.count_rows("signals", t.id).await, 3);

    // Caps and bad input change nothing.
    app.settle_detection().await;
    let audit = app.audit_count(t.id).await;
    let too_many = json!({"events": vec![json!({"event": "x"}); 5001]}).to_string();
    let res = app
        .signed(&key, "POST", "/api/v1/magento/events", &too_many)
        .await;
    assert_eq!(res.status(), 413);
    for bad in ["{not json", "{\"events\": 3}", "{\"events\": [1]}"] {
        let res = app
            .signed(&key, "POST", "/api/v1/magento/events", bad)
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let huge = format!(
        "{{\"events\":[{{\"x\":\"{}\"}}]}}",
        "a".repeat(5 * 1024 * 1024)
    );
    let res = app
        .signed(&key, "POST", "/api/v1/magento/events", &huge)
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(app.count_rows("signals", t.id).await, 3);
    assert_eq!(app.audit_count(t.id).await, audit);
}

async fn permission_snapshots_are_stored_and_redeliveries_recognised(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let key = app.enroll_module(&t, BASE).await;
    let snapshot = json!({
        "schema": "leakguard.magento.permission_snapshot.v1",
        "generated_at": "2026-11-28T08:00:00Z",
        "module_version": "1.0.0",
        "base_url": BASE,
        "integration_bearer_enabled": false,
        "integrations": [{"integration_id": 5, "name": "ERP", "all_resources": true, "resources": ["Magento_Backend::all"]}],
        "admin_users": [{"user_id": 1, "username": "admin"}, {"user_id": 2, "username": "ops"}],
        "findings": {"integrations_with_all_resources": [5], "admins_with_all_resources": [1], "roles_with_pii_resources": []},
    })
    .to_string();
    let audit = app.audit_count(t.id).await;
    let res = app
        .signed(
            &key,
            "POST",
            "/api/v1/magento/permission-snapshots",
            &snapshot,
        )
        .await;
    assert_eq!(res.status(), 200);
    let first: serde_json::Value = res.json().await.unwrap();
    assert_eq!(first["duplicate"], false);
    assert_eq!(app.audit_count(t.id).await, audit + 1);
    let res = app
        .signed(
            &key,
            "POST",
            "/api/v1/magento/permission-snapshots",
            &snapshot,
        )
        .await;
    let second: serde_json::Value = res.json().await.unwrap();
    assert_eq!(second["duplicate"], true);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(app.count_rows("permission_snapshots", t.id).await, 1);
    let next = snapshot.replace("08:00:00Z", "09:00:00Z");
    let res = app
        .signed(&key, "POST", "/api/v1/magento/permission-snapshots", &next)
        .await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["duplicate"],
        false
    );
    assert_eq!(app.count_rows("permission_snapshots", t.id).await, 2);
    for bad in [
        json!({"schema": "other"}),
        json!({"schema": "leakguard.magento.permission_snapshot.v1", "integrations": []}),
    ] {
        let res = app
            .signed(
                &key,
                "POST",
                "/api/v1/magento/permission-snapshots",
                &bad.to_string(),
            )
            .await;
        assert_eq!(res.status(), 400);
    }
    assert_eq!(app.count_rows("permission_snapshots", t.id).await, 2);
}

async fn the_policy_is_served_and_reports_open_findings(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let key = app.enroll_module(&t, BASE).await;
    let res = app
        .signed(&key, "GET", "/api/v1/magento/retention-policy", "")
        .await;
    assert_eq!(res.status(), 200);
    let policy: serde_json::Value = res.json().await.unwrap();
    assert_eq!(policy["version"], 1);
    let classes: Vec<&str> = policy["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap())
        .collect();
    assert!(classes.contains(&"card_holder_data"));
    // A query string is part of what is signed.
    let res = app
        .signed(&key, "GET", "/api/v1/magento/retention-policy?since=3", "")
        .await;
    assert_eq!(res.status(), 200);

    let report = json!({
        "run_id": "6f1c5a1e-1d2b-4c3d-8e9f-00112233aabb",
        "policy_version": 1,
        "policy_sha256": "a".repeat(64),
        "dry_run": false,
        "started_at": "2026-11-28T08:00:00Z",
        "finished_at": "2026-11-28T08:01:00Z",
        "module_version": "1.0.0",
        "classes": [
            {"class": "card_holder_data", "status": "complete", "rows_affected": 42,
             "first_affected_id": 1, "last_affected_id": 90, "affected_ids_sha256": "b".repeat(64),
             "alerts": [{"code": "cc_number_enc_present", "rows": 3}]},
            {"class": "vault_tokens", "status": "complete", "rows_affected": 5, "alerts": []},
            {"class": "mystery", "status": "unsupported", "reason": "unknown class"},
        ],
    })
    .to_string();
    let audit = app.audit_count(t.id).await;
    let res = app
        .signed(&key, "POST", "/api/v1/magento/retention-reports", &report)
        .await;
    assert_eq!(res.status(), 200);
    let ack: serde_json::Value = res.json().await.unwrap();
    assert_eq!(ack["duplicate"], false);
    assert_eq!(ack["findings"], 1);
    assert_eq!(app.audit_count(t.id).await, audit + 2);
    assert_eq!(app.count_rows("findings", t.id).await, 1);
    let stored = {
        use sea_orm::EntityTrait;
        app_server::db::entities::retention_reports::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
    };
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].rows_affected, 47);
    assert_eq!(stored[0].policy_version, 1);
    let res = app
        .signed(&key, "POST", "/api/v1/magento/retention-reports", &report)
        .await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["duplicate"],
        true
    );
    assert_eq!(app.count_rows("findings", t.id).await, 1);
    assert_eq!(app.count_rows("retention_reports", t.id).await, 1);
    for bad in [
        json!({"run_id": "", "policy_version": 1, "classes": []}),
        json!({"run_id": "r", "policy_version": -1, "classes": []}),
        json!({"policy_version": 1}),
    ] {
        let res = app
            .signed(
                &key,
                "POST",
                "/api/v1/magento/retention-reports",
                &bad.to_string(),
            )
            .await;
        assert_eq!(res.status(), 400);
    }
    assert_eq!(app.count_rows("retention_reports", t.id).await, 1);
}

crate::on_both_backends!(
    enrollment_trades_a_one_time_token_for_a_sealed_secret,
    enrollment_tokens_expire_by_the_clock_passed_in,
    replays_and_bad_signatures_are_refused_without_a_trace,
    module_events_are_stored_once_as_signals,
    permission_snapshots_are_stored_and_redeliveries_recognised,
    the_policy_is_served_and_reports_open_findings,
);
