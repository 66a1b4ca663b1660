//! The install flow over real HTTP against a fake Shopify (authorize → callback → token
//! endpoint → scopes query), its rejections (each with no state change), refresh-token
//! rotation, and the Admin API's 401 and ACCESS_DENIED handling.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp};
use crate::shopify_support::*;
use app_server::shopify::admin_api::{self, AdminApiError};
use app_server::shopify::{ShopifyError, oauth};
use app_server::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(res: &reqwest::Response) -> url::Url {
    url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap()
}

fn param(url: &url::Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn signed_query(shop: &str, extra: serde_json::Value) -> String {
    let out = oracle(
        "oauth-query",
        json!({"secret": SECRET, "shop": shop, "extra": extra}),
    );
    assert_eq!(out["valid_now"], true);
    out["query"].as_str().unwrap().to_owned()
}

/// A query signed here (for shops the official library refuses to sign).
fn locally_signed(pairs: &[(&str, String)]) -> String {
    let params: app_server::shopify::hmac::QueryParams = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let message = app_server::shopify::hmac::query_message(&params, false);
    let hmac = app_server::shopify::hmac::sign_query_message(SECRET.as_bytes(), &message);
    format!("{message}&hmac={hmac}")
}

fn now_secs() -> i64 {
    app_server::db::now_ms() / 1000
}

async fn begin(app: &TestApp, shop: &str) -> String {
    let res = no_redirects()
        .get(app.url(&format!(
            "/shopify/install?{}",
            signed_query(shop, json!({}))
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    param(&location(&res), "state")
}

/// Installs `SHOP` through the authorization code grant; returns the tenant id.
pub async fn install_via_oauth(app: &TestApp) -> Uuid {
    let state = begin(app, SHOP).await;
    let query = signed_query(
        SHOP,
        json!({"code": "good-code", "state": state, "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w"}),
    );
    let res = no_redirects()
        .get(app.url(&format!("/shopify/callback?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "{:?}", res.text().await);
    app_server::tenants::resolve(&app.state.db, SHOP)
        .await
        .unwrap()
        .id
}

async fn the_full_install_flow_runs_against_a_fake_shopify(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    fake.with(|s| s.throttle_next = 1);
    let app = shopify_app(backend, Some(&fake)).await;

    let install = signed_query(SHOP, json!({}));
    let res = no_redirects()
        .get(app.url(&format!("/shopify/install?{install}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let authorize = location(&res);
    assert_eq!(authorize.host_str(), Some(SHOP));
    assert_eq!(authorize.path(), "/admin/oauth/authorize");
    assert_eq!(param(&authorize, "client_id"), API_KEY);
    assert_eq!(param(&authorize, "scope"), "read_customers,read_orders");
    assert!(param(&authorize, "redirect_uri").ends_with("/shopify/callback"));
    let state = param(&authorize, "state");
    assert_eq!(state.len(), 64);
    assert_eq!(
        app.count_where("shopify_oauth_states", "consumed_at IS NULL")
            .await,
        1
    );

    let callback = signed_query(
        SHOP,
        json!({"code": "good-code", "state": state, "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w"}),
    );
    let res = no_redirects()
        .get(app.url(&format!("/shopify/callback?{callback}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        location(&res).as_str(),
        format!("https://{SHOP}/admin/apps/{API_KEY}")
    );
    // The code went to the token endpoint with the secret in the body and an expiring token
    // asked for; the scopes query used the new token (once throttled, then answered).
    fake.with(|s| {
        assert_eq!(s.token_requests.len(), 1);
        let r = &s.token_requests[0];
        assert_eq!(r["code"], "good-code");
        assert_eq!(r["client_secret"], SECRET);
        assert_eq!(r["expiring"], "1");
        assert_eq!(s.graphql_tokens, vec!["shpat_fake_1", "shpat_fake_1"]);
    });
    let tenant = app_server::tenants::resolve(&app.state.db, SHOP)
        .await
        .unwrap();
    assert_eq!(tenant.status.as_str(), "active");
    let ctx = TenantCtx::system(TenantId(tenant.id), "test");
    let installation = app_server::tenancy::scoped::<
        app_server::db::entities::shopify_installations::Entity,
    >(&ctx)
    .one(&app.state.db)
    .await
    .unwrap()
    .unwrap();
    assert_eq!(installation.granted_scopes, "read_customers,read_orders");
    let expires = installation.access_expires_at.unwrap();
    assert!((expires - app_server::db::now_ms() - 3_600_000).abs() < 60_000);
    // Tokens are sealed at rest.
    use secrecy::ExposeSecret;
    let token =
        app_server::secrets::get(&app.state.db, &app.state.keyring, &ctx, oauth_token_name())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(token.expose_secret(), "shpat_fake_1");
    use sea_orm::EntityTrait;
    for row in app_server::db::entities::secrets::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
    {
        assert!(!String::from_utf8_lossy(&row.ciphertext).contains("shp"));
    }
    let actions = app.audit_actions(tenant.id).await;
    assert!(
        actions.contains(&"shopify.installed".to_owned()),
        "{actions:?}"
    );
    assert!(!app.audit_text(tenant.id).await.contains("shpat_"));

    // Replaying the callback: the state is spent, nothing is exchanged again.
    let res = no_redirects()
        .get(app.url(&format!("/shopify/callback?{callback}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    fake.with(|s| assert_eq!(s.token_requests.len(), 1));
}

fn oauth_token_name() -> &'static str {
    app_server::shopify::ACCESS_TOKEN_SECRET
}

async fn bad_install_requests_are_refused_with_no_state_change(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let get = |path: String| {
        let client = no_redirects();
        let url = app.url(&path);
        async move { client.get(url).send().await.unwrap() }
    };
    // Stale timestamp (signed correctly by the official library, 200 s ago).
    let stale = oracle(
        "oauth-query",
        json!({"secret": SECRET, "shop": SHOP, "timestamp": now_secs() - 200}),
    );
    let res = get(format!(
        "/shopify/install?{}",
        stale["query"].as_str().unwrap()
    ))
    .await;
    assert_eq!(res.status(), 401);
    // Bad HMAC.
    let good = signed_query(SHOP, json!({}));
    let forged = good.replace("some-shop", "other-shop");
    assert_eq!(
        get(format!("/shopify/install?{forged}")).await.status(),
        401
    );
    let unsigned = good.split("&hmac=").next().unwrap().to_owned();
    assert_eq!(
        get(format!("/shopify/install?{unsigned}")).await.status(),
        401
    );
    // Shops that unanchored checks let through, correctly signed.
    for shop in ["evil.com/x.myshopify.com", "x.myshopify.com.evil.test"] {
        let q = locally_signed(&[("shop", shop.into()), ("timestamp", now_secs().to_string())]);
        let res = get(format!("/shopify/install?{q}")).await;
        assert_eq!(res.status(), 400, "{shop}");
    }
    assert_eq!(app.count_where("shopify_oauth_states", "1 = 1").await, 0);

    // Callback: a state issued for another shop, an unknown state, a stale callback.
    let state_a = begin(&app, "shop-a.myshopify.com").await;
    let mismatch = signed_query(SHOP, json!({"code": "good-code", "state": state_a}));
    assert_eq!(
        get(format!("/shopify/callback?{mismatch}")).await.status(),
        401
    );
    let unknown = signed_query(SHOP, json!({"code": "good-code", "state": "0".repeat(64)}));
    assert_eq!(
        get(format!("/shopify/callback?{unknown}")).await.status(),
        401
    );
    let stale_cb = oracle(
        "oauth-query",
        json!({"secret": SECRET, "shop": "shop-a", "timestamp": now_secs() - 120, "extra": {"code": "good-code", "state": state_a}}),
    );
    let res = get(format!(
        "/shopify/callback?{}",
        stale_cb["query"].as_str().unwrap()
    ))
    .await;
    assert_eq!(res.status(), 401);
    for shop in ["evil.com/x.myshopify.com", "x.myshopify.com.evil.test"] {
        let q = locally_signed(&[
            ("code", "good-code".into()),
            ("shop", shop.into()),
            ("state", state_a.clone()),
            ("timestamp", now_secs().to_string()),
        ]);
        assert_eq!(get(format!("/shopify/callback?{q}")).await.status(), 400);
    }
    fake.with(|s| assert!(s.token_requests.is_empty()));
    assert_eq!(app.count_where("tenants", "1 = 1").await, 0);
    assert_eq!(
        app.count_where("shopify_oauth_states", "consumed_at IS NOT NULL")
            .await,
        0
    );
    // The untouched state still completes its own shop's install.
    let ok = signed_query("shop-a", json!({"code": "good-code", "state": state_a}));
    assert_eq!(get(format!("/shopify/callback?{ok}")).await.status(), 302);
    assert_eq!(app.count_where("tenants", "status = 'active'").await, 1);
}

async fn expiring_tokens_rotate_once_under_concurrency(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let tenant = install_via_oauth(&app).await;
    let ctx = TenantCtx::system(TenantId(tenant), "test");
    let expire = || async {
        use app_server::db::entities::shopify_installations as si;
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        si::Entity::update_many()
            .col_expr(
                si::Column::AccessExpiresAt,
                Expr::value(app_server::db::now_ms() + 60_000),
            )
            .filter(si::Column::TenantId.eq(tenant))
            .exec(&app.state.db)
            .await
            .unwrap();
    };
    expire().await;
    let now = app_server::db::now_ms();
    let calls = (0..5).map(|_| oauth::access_token(&app.state.shopify, &ctx, now));
    let tokens = futures::future::join_all(calls).await;
    use secrecy::ExposeSecret;
    for t in &tokens {
        assert_eq!(t.as_ref().unwrap().expose_secret(), "shpat_fake_2");
    }
    fake.with(|s| {
        let refreshes: Vec<_> = s
            .token_requests
            .iter()
            .filter(|r| r["grant_type"] == "refresh_token")
            .collect();
        assert_eq!(refreshes.len(), 1);
        assert_eq!(refreshes[0]["refresh_token"], "shprt_fake_1");
    });
    let refresh = app_server::secrets::get(
        &app.state.db,
        &app.state.keyring,
        &ctx,
        app_server::shopify::REFRESH_TOKEN_SECRET,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(refresh.expose_secret(), "shprt_fake_2");
    assert!(
        app.audit_actions(tenant)
            .await
            .contains(&"shopify.token_refreshed".to_owned())
    );

    // An answer without `expires_in` counts as expired: the next use refreshes again.
    fake.with(|s| s.omit_expires_in = true);
    expire().await;
    let now = app_server::db::now_ms();
    let t = oauth::access_token(&app.state.shopify, &ctx, now)
        .await
        .unwrap();
    assert_eq!(t.expose_secret(), "shpat_fake_3");
    let t = oauth::access_token(&app.state.shopify, &ctx, now)
        .await
        .unwrap();
    assert_eq!(t.expose_secret(), "shpat_fake_4");

    // A refused refresh drops the tokens and marks the shop for re-auth.
    fake.with(|s| {
        s.omit_expires_in = false;
        s.refresh_token = "rotated-elsewhere".into();
    });
    expire().await;
    let err = oauth::access_token(&app.state.shopify, &ctx, app_server::db::now_ms())
        .await
        .unwrap_err();
    assert!(matches!(err, ShopifyError::ReauthRequired), "{err:?}");
    assert_eq!(
        app.count_where("shopify_installations", "needs_reauth = TRUE")
            .await,
        1
    );
    assert!(
        app_server::secrets::get(
            &app.state.db,
            &app.state.keyring,
            &ctx,
            app_server::shopify::ACCESS_TOKEN_SECRET
        )
        .await
        .unwrap()
        .is_none()
    );
}

async fn admin_api_401_and_access_denied_are_handled(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let tenant = install_via_oauth(&app).await;
    let ctx = TenantCtx::system(TenantId(tenant), "test");
    fake.with(|s| s.access_denied = true);
    let err = admin_api::sync_granted_scopes(&app.state.shopify, &ctx, app_server::db::now_ms())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdminApiError::AccessDenied { ref path } if path.contains("currentAppInstallation")),
        "{err:?}"
    );
    fake.with(|s| {
        s.access_denied = false;
        s.revoked = true;
    });
    let err = admin_api::sync_granted_scopes(&app.state.shopify, &ctx, app_server::db::now_ms())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdminApiError::Shopify(ShopifyError::ReauthRequired)),
        "{err:?}"
    );
    assert_eq!(
        app.count_where("shopify_installations", "needs_reauth = TRUE")
            .await,
        1
    );
    assert!(
        app.audit_actions(tenant)
            .await
            .contains(&"shopify.reauth_required".to_owned())
    );
    let err = oauth::access_token(&app.state.shopify, &ctx, app_server::db::now_ms())
        .await
        .unwrap_err();
    assert!(matches!(err, ShopifyError::ReauthRequired));
}

async fn scopes_updates_are_recorded_and_bulk_operations_kept_as_signals(backend: Backend) {
    let fake = spawn_fake_shopify().await;
    let app = shopify_app(backend, Some(&fake)).await;
    let tenant = install_via_oauth(&app).await;
    let (headers, body) = oracle_webhook(
        "app/scopes_update",
        SHOP,
        &json!({"id": 1, "previous": ["read_customers", "read_orders"], "current": ["read_customers"], "updated_at": "2026-11-28T10:00:00Z", "shop_id": 954889}),
    );
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    let (headers, body) = oracle_webhook(
        "bulk_operations/finish",
        SHOP,
        &json!({"admin_graphql_api_id": "gid://shopify/BulkOperation/147595010", "completed_at": "2026-11-28T10:01:00Z", "created_at": "2026-11-28T10:00:00Z", "error_code": null, "status": "completed", "type": "query"}),
    );
    assert_eq!(app.post_webhook(&headers, body).await.status(), 200);
    app.process_webhooks().await;
    assert_eq!(
        app.count_where("shopify_installations", "granted_scopes = 'read_customers'")
            .await,
        1
    );
    let audit = app.audit_text(tenant).await;
    assert!(audit.contains("app/scopes_update"), "{audit}");
    assert_eq!(
        app.count_where(
            "shopify_signals",
            "topic = 'bulk_operations/finish' AND resource_id = 'gid://shopify/BulkOperation/147595010'"
        )
        .await,
        1
    );
}

crate::on_both_backends!(
    scopes_updates_are_recorded_and_bulk_operations_kept_as_signals,
    the_full_install_flow_runs_against_a_fake_shopify,
    bad_install_requests_are_refused_with_no_state_change,
    expiring_tokens_rotate_once_under_concurrency,
    admin_api_401_and_access_denied_are_handled,
);
