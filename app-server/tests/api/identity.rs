//! Who may issue keys for whom, key expiry and revocation, role changes and deactivation, and
//! the tenant door's status rule for API keys and console sessions.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestTenant, spawn_app};
use app_server::db::entities::{api_keys, audit_entries, tenants};

async fn add_user(app: &TestApp, t: &TestTenant, external_id: &str, role: &str) -> String {
    let res = app
        .post_json(
            "/api/v1/users",
            &t.key,
            json!({"external_id": external_id, "display_name": external_id, "role": role}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn mint(app: &TestApp, caller: &str, user: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/api/v1/users/{user}/api-keys"), caller, body)
        .await
}

async fn patch(app: &TestApp, caller: &str, user: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/users/{user}")))
        .bearer_auth(caller)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

async fn last_entry(app: &TestApp, tenant: uuid::Uuid) -> audit_entries::Model {
    audit_entries::Entity::find()
        .filter(audit_entries::Column::ChainId.eq(tenant))
        .order_by_desc(audit_entries::Column::Seq)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

async fn an_admin_cannot_mint_a_key_for_the_owner_or_an_admin(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("mint-rules.myshopify.com").await;
    let admin_key = app.user_key(&t, "adam", "admin").await;
    let other_admin = add_user(&app, &t, "alma", "admin").await;
    let analyst = add_user(&app, &t, "ana", "analyst").await;
    let before = app.audit_count(t.id).await;

    let owner = t.owner.to_string();
    for target in [&owner, &other_admin] {
        let (status, c) = code(mint(&app, &admin_key, target, json!({})).await).await;
        assert_eq!((status, c.as_str()), (403, "owner_required"));
    }
    assert_eq!(app.audit_count(t.id).await, before, "a refused mint wrote");

    // An admin may mint for an analyst; the entry names the admin, not the analyst.
    let res = mint(&app, &admin_key, &analyst, json!({"label": "ci"})).await;
    assert_eq!(res.status(), 201);
    let issued: Value = res.json().await.unwrap();
    assert_eq!(issued["user_id"], analyst.as_str());
    assert_eq!(issued["status"], "active");
    let entry = last_entry(&app, t.id).await;
    assert_eq!(entry.action, "api_key.created");
    assert!(
        !entry.actor_id.starts_with(&analyst),
        "the key's user was recorded as actor: {}",
        entry.actor_id
    );
    assert!(entry.actor_id.contains(":api_key:"), "{}", entry.actor_id);

    // The owner may mint for an admin.
    assert_eq!(
        mint(&app, &t.key, &other_admin, json!({})).await.status(),
        201
    );
}

async fn an_admin_cannot_act_as_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("no-escalation.myshopify.com").await;
    let admin_key = app.user_key(&t, "adam", "admin").await;
    let admin_id = app
        .get("/api/v1/users", &t.key)
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()[1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.audit_count(t.id).await;
    let owner = t.owner.to_string();
    for (user, body) in [
        (&admin_id, json!({"role": "owner"})),
        (&owner, json!({"role": "viewer"})),
        (&owner, json!({"active": false})),
    ] {
        let (status, c) = code(patch(&app, &admin_key, user, body).await).await;
        assert_eq!((status, c.as_str()), (403, "owner_required"));
    }
    let res = app
        .post_json(
            "/api/v1/users",
            &admin_key,
            json!({"external_id": "o2", "display_name": "O", "role": "owner"}),
        )
        .await;
    assert_eq!(code(res).await, (403, "owner_required".into()));
    // Nor revoke the owner's key.
    let keys: Vec<Value> = app
        .get(&format!("/api/v1/users/{owner}/api-keys"), &t.key)
        .await
        .json()
        .await
        .unwrap();
    let owner_key_id = keys[0]["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/api-keys/{owner_key_id}/revoke"),
            &admin_key,
            json!({}),
        )
        .await;
    assert_eq!(code(res).await, (403, "owner_required".into()));
    assert_eq!(app.audit_count(t.id).await, before);
    assert_eq!(app.get("/api/v1/tenant", &t.key).await.status(), 200);
}

async fn expired_and_revoked_keys_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("key-life.myshopify.com").await;
    let analyst = add_user(&app, &t, "ana", "analyst").await;
    for days in [0, 366] {
        let res = mint(&app, &t.key, &analyst, json!({"expires_in_days": days})).await;
        assert_eq!(code(res).await, (400, "invalid_request".into()));
    }
    let issued: Value = mint(&app, &t.key, &analyst, json!({"expires_in_days": 7}))
        .await
        .json()
        .await
        .unwrap();
    let key = issued["api_key"].as_str().unwrap().to_owned();
    let id = issued["id"].as_str().unwrap().to_owned();
    let at = |field: &str| app_server::api_time::parse(issued[field].as_str().unwrap()).unwrap();
    let week = at("expires_at") - at("created_at");
    assert_eq!(week, 7 * 24 * 60 * 60 * 1000);
    assert_eq!(app.get("/api/v1/users", &key).await.status(), 200);

    // Listed with its last use, never with the key.
    let listed: Vec<Value> = app
        .get("/api/v1/api-keys", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let row = listed.iter().find(|k| k["id"] == id.as_str()).unwrap();
    let last_used = row["last_used_at"].as_str().unwrap();
    assert!(app_server::api_time::parse(last_used).unwrap() > 0);
    assert!(row.get("api_key").is_none() && row.get("key_hash").is_none());
    assert_eq!(
        app.get("/api/v1/api-keys", &key).await.status(),
        403,
        "an analyst listed every key"
    );

    // Expired.
    let uuid = uuid::Uuid::parse_str(&id).unwrap();
    api_keys::Entity::update_many()
        .col_expr(api_keys::Column::ExpiresAt, Expr::value(1_i64))
        .filter(api_keys::Column::Id.eq(uuid))
        .exec(&app.state.db)
        .await
        .unwrap();
    let res = app.get("/api/v1/users", &key).await;
    assert_eq!(code(res).await, (401, "api_key_expired".into()));

    // Revoked, by its own user.
    let second: Value = mint(&app, &t.key, &analyst, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let second_key = second["api_key"].as_str().unwrap();
    let second_id = second["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/api-keys/{second_id}/revoke"),
            second_key,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let entry = last_entry(&app, t.id).await;
    assert_eq!(entry.action, "api_key.revoked");
    assert!(entry.actor_id.starts_with(&analyst));
    let res = app.get("/api/v1/users", second_key).await;
    assert_eq!(code(res).await, (401, "api_key_revoked".into()));
    let statuses: Vec<String> = app
        .get(&format!("/api/v1/users/{analyst}/api-keys"), &t.key)
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .iter()
        .map(|k| k["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["revoked", "expired"]);
}

async fn the_last_owner_cannot_be_demoted_or_deactivated(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("last-owner.myshopify.com").await;
    let owner = t.owner.to_string();
    for body in [json!({"role": "admin"}), json!({"active": false})] {
        let res = patch(&app, &t.key, &owner, body).await;
        assert_eq!(code(res).await, (409, "last_owner".into()));
    }
    let second = add_user(&app, &t, "olga", "owner").await;
    let res = patch(&app, &t.key, &owner, json!({"role": "admin"})).await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["role"], "admin");
    let entry = last_entry(&app, t.id).await;
    assert_eq!(entry.action, "user.role_changed");
    assert!(entry.actor_id.starts_with(&owner));
    // The first owner is now an admin and may not touch the remaining owner.
    let res = patch(&app, &t.key, &second, json!({"active": false})).await;
    assert_eq!(code(res).await, (403, "owner_required".into()));
}

async fn a_deactivated_users_keys_and_sessions_stop_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("deactivate.myshopify.com").await;
    let key = app.user_key(&t, "ana", "analyst").await;
    let users: Vec<Value> = app.get("/api/v1/users", &t.key).await.json().await.unwrap();
    let analyst = users[1]["id"].as_str().unwrap().to_owned();
    let cookie = crate::permissions::console_login(&app, &key).await;
    let with_cookie = || {
        app.client
            .get(app.url("/api/v1/users"))
            .header("cookie", cookie.clone())
            .send()
    };
    assert_eq!(with_cookie().await.unwrap().status(), 200);

    let res = patch(&app, &t.key, &analyst, json!({"active": false})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false);
    assert_eq!(last_entry(&app, t.id).await.action, "user.deactivated");
    let res = app.get("/api/v1/users", &key).await;
    assert_eq!(code(res).await, (401, "user_deactivated".into()));
    assert_eq!(with_cookie().await.unwrap().status(), 401);
    let res = mint(&app, &t.key, &analyst, json!({})).await;
    assert_eq!(code(res).await, (401, "user_deactivated".into()));

    // Reactivation restores the key, not the ended session.
    let res = patch(&app, &t.key, &analyst, json!({"active": true})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get("/api/v1/users", &key).await.status(), 200);
    assert_eq!(with_cookie().await.unwrap().status(), 401);
}

async fn an_uninstalled_tenant_is_read_only_to_api_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("read-only.myshopify.com").await;
    tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value("uninstalled"))
        .filter(tenants::Column::Id.eq(t.id))
        .exec(&app.state.db)
        .await
        .unwrap();
    let before = app.audit_count(t.id).await;
    assert_eq!(app.get("/api/v1/users", &t.key).await.status(), 200);
    let res = app
        .post_json(
            "/api/v1/users",
            &t.key,
            json!({"external_id": "x", "display_name": "X", "role": "viewer"}),
        )
        .await;
    assert_eq!(code(res).await, (403, "tenant_read_only".into()));
    assert_eq!(app.audit_count(t.id).await, before);

    tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value("purged"))
        .filter(tenants::Column::Id.eq(t.id))
        .exec(&app.state.db)
        .await
        .unwrap();
    let res = app.get("/api/v1/users", &t.key).await;
    assert_eq!(code(res).await, (401, "invalid_credentials".into()));
}

async fn the_operator_recovers_the_owner_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("recover.myshopify.com").await;
    let tenant = app_server::tenants::resolve(&app.state.db, &t.id.to_string())
        .await
        .unwrap();
    let operator = leakguard_domain::audit::Actor::new("operator", "test");
    let recovered = app_server::tenants::recover_owner_key(
        &app.state.db,
        &tenant,
        &operator,
        None,
        Some(30),
        true,
    )
    .await
    .unwrap();
    assert_eq!(recovered.owner, t.owner);
    assert_eq!(recovered.revoked, 1);
    let res = app.get("/api/v1/users", &t.key).await;
    assert_eq!(code(res).await, (401, "api_key_revoked".into()));
    use secrecy::ExposeSecret;
    let new_key = recovered.key.api_key.expose_secret();
    assert_eq!(app.get("/api/v1/users", new_key).await.status(), 200);
    let entry = last_entry(&app, t.id).await;
    assert_eq!(entry.action, "api_key.created");
    assert_eq!(
        (entry.actor_type.as_str(), entry.actor_id.as_str()),
        ("operator", "test")
    );
}

crate::on_both_backends!(
    an_admin_cannot_mint_a_key_for_the_owner_or_an_admin,
    an_admin_cannot_act_as_owner,
    expired_and_revoked_keys_are_refused,
    the_last_owner_cannot_be_demoted_or_deactivated,
    a_deactivated_users_keys_and_sessions_stop_at_once,
    an_uninstalled_tenant_is_read_only_to_api_keys,
    the_operator_recovers_the_owner_key,
);
