//! Shopify test support: a fake Shopify over real HTTP (token endpoint and Admin GraphQL), the
//! official library as an oracle (`shopify-extension/conformance/sign.mjs`), and signed
//! request helpers.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

use crate::helpers::{Backend, TestApp, spawn_app_with};

pub const API_KEY: &str = "client-id-123";
pub const SECRET: &str = "hush";
pub const PREVIOUS_SECRET: &str = "old-hush";
pub const SHOP: &str = "some-shop.myshopify.com";

/// What the fake Shopify saw and how it behaves.
#[derive(Default, Debug)]
pub struct FakeState {
    /// Every token request as a JSON object (form bodies are converted).
    pub token_requests: Vec<Value>,
    /// Access tokens presented to the GraphQL endpoint.
    pub graphql_tokens: Vec<String>,
    pub access_token: String,
    pub refresh_token: String,
    pub issued: u32,
    /// Answer refreshes without `expires_in`.
    pub omit_expires_in: bool,
    /// THROTTLED answers still to give.
    pub throttle_next: u32,
    /// The token is revoked: every GraphQL call gets 401.
    pub revoked: bool,
    /// GraphQL answers ACCESS_DENIED.
    pub access_denied: bool,
    /// Granted scopes reported by `currentAppInstallation`.
    pub scopes: Vec<String>,
}

pub struct FakeShopify {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
}

impl FakeShopify {
    pub fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}

fn subject_sub(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("sub")?.as_str().map(str::to_owned)
}

fn issue(state: &mut FakeState) -> Value {
    state.issued += 1;
    state.access_token = format!("shpat_fake_{}", state.issued);
    state.refresh_token = format!("shprt_fake_{}", state.issued);
    let mut body = json!({
        "access_token": state.access_token,
        "scope": "read_customers,read_orders",
        "refresh_token": state.refresh_token,
        "refresh_token_expires_in": 7_776_000,
    });
    if !state.omit_expires_in {
        body["expires_in"] = json!(3600);
    }
    body
}

async fn token_endpoint(
    data: web::Data<Arc<Mutex<FakeState>>>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let is_json = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let fields: Value = if is_json {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    } else {
        Value::Object(
            url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        )
    };
    let mut state = data.lock().unwrap();
    state.token_requests.push(fields.clone());
    let field = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default();
    if field("client_id") != API_KEY || field("client_secret") != SECRET {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let invalid = |code: &str| HttpResponse::BadRequest().json(json!({"error": code}));
    match field("grant_type") {
        "" | "authorization_code" => {
            if field("code") != "good-code" {
                return invalid("invalid_grant");
            }
            HttpResponse::Ok().json(issue(&mut state))
        }
        "refresh_token" => {
            if field("refresh_token") != state.refresh_token {
                return invalid("invalid_grant");
            }
            HttpResponse::Ok().json(issue(&mut state))
        }
        "urn:ietf:params:oauth:grant-type:token-exchange" => {
            let Some(sub) = subject_sub(field("subject_token")) else {
                return invalid("invalid_subject_token");
            };
            if field("requested_token_type").ends_with("online-access-token") {
                HttpResponse::Ok().json(json!({
                    "access_token": "shpua_online",
                    "scope": "read_customers,read_orders",
                    "expires_in": 86_400,
                    "associated_user_scope": "read_customers",
                    "associated_user": {"id": sub.parse::<i64>().unwrap_or(0), "account_owner": sub == "42", "email": "staff@example.com"},
                }))
            } else {
                HttpResponse::Ok().json(issue(&mut state))
            }
        }
        _ => invalid("unsupported_grant_type"),
    }
}

async fn graphql(data: web::Data<Arc<Mutex<FakeState>>>, req: HttpRequest) -> HttpResponse {
    let token = req
        .headers()
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut state = data.lock().unwrap();
    state.graphql_tokens.push(token.clone());
    if state.revoked || token != state.access_token {
        return HttpResponse::Unauthorized().json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}));
    }
    if state.throttle_next > 0 {
        state.throttle_next -= 1;
        return HttpResponse::Ok().json(json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": {"requestedQueryCost": 2, "actualQueryCost": null, "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 1, "restoreRate": 1000.0}}}
        }));
    }
    if state.access_denied {
        return HttpResponse::Ok().json(json!({
            "data": null,
            "errors": [{"message": "Access denied for currentAppInstallation field.", "extensions": {"code": "ACCESS_DENIED"}, "path": ["currentAppInstallation"]}]
        }));
    }
    let scopes: Vec<Value> = state.scopes.iter().map(|s| json!({"handle": s})).collect();
    HttpResponse::Ok().json(json!({
        "data": {"currentAppInstallation": {"id": "gid://shopify/AppInstallation/1", "accessScopes": scopes}},
        "extensions": {"cost": {"requestedQueryCost": 2, "actualQueryCost": 2, "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 998, "restoreRate": 1000.0}}}
    }))
}

pub async fn spawn_fake_shopify() -> FakeShopify {
    let state = Arc::new(Mutex::new(FakeState {
        scopes: vec!["read_customers".into(), "read_orders".into()],
        ..FakeState::default()
    }));
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/admin/oauth/access_token", web::post().to(token_endpoint))
            .route("/admin/api/{version}/graphql.json", web::post().to(graphql))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    FakeShopify {
        url: format!("http://127.0.0.1:{port}"),
        state,
    }
}

/// A server with the Shopify app configured (secret `hush`, previous secret `old-hush`) and,
/// when given, every Shopify call pointed at the fake.
pub async fn shopify_app(backend: Backend, fake: Option<&FakeShopify>) -> TestApp {
    let base = fake.map(|f| f.url.clone());
    spawn_app_with(backend, move |s| {
        s.shopify.api_key = Some(API_KEY.into());
        s.shopify.api_secret = Some(SECRET.to_owned().into());
        s.shopify.previous_api_secret = Some(PREVIOUS_SECRET.to_owned().into());
        s.shopify.admin_base_url = base;
    })
    .await
}

/// Runs the conformance CLI (the official `@shopify/shopify-api` 15.0.0).
pub fn oracle(command: &str, args: Value) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shopify-extension/conformance/sign.mjs"
    );
    let out = std::process::Command::new("node")
        .arg(script)
        .arg(command)
        .arg(args.to_string())
        .output()
        .expect("node must be installed to run the conformance tests");
    assert!(
        out.status.success(),
        "sign.mjs {command} failed ({}): {} {}\n(run `npm ci` in shopify-extension/)",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A delivery signed by the official library: (headers, body).
pub fn oracle_webhook(topic: &str, shop: &str, body: &Value) -> (Vec<(String, String)>, String) {
    let out = oracle(
        "webhook",
        json!({"secret": SECRET, "body": body.to_string(), "topic": topic, "shop": shop}),
    );
    assert_eq!(out["library"]["valid"], true);
    let headers = out["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    (headers, out["body"].as_str().unwrap().to_owned())
}

/// A delivery signed here (same scheme; used where many deliveries are needed).
pub fn signed_webhook(
    secret: &str,
    topic: &str,
    shop: &str,
    webhook_id: &str,
    body: &str,
) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-Shopify-Topic".into(), topic.into()),
        (
            "X-Shopify-Hmac-Sha256".into(),
            app_server::shopify::hmac::sign_webhook(secret.as_bytes(), body.as_bytes()),
        ),
        ("X-Shopify-Shop-Domain".into(), shop.into()),
        ("X-Shopify-API-Version".into(), "2026-07".into()),
        ("X-Shopify-Webhook-Id".into(), webhook_id.into()),
        ("X-Shopify-Triggered-At".into(), triggered_now()),
    ]
}

/// The current time as Shopify writes `X-Shopify-Triggered-At`.
pub fn triggered_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

impl TestApp {
    pub async fn post_webhook(
        &self,
        headers: &[(String, String)],
        body: impl Into<String>,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url("/shopify/webhooks"));
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req.body(body.into()).send().await.unwrap()
    }

    /// Posts a delivery signed with the app secret and a fresh webhook id.
    pub async fn deliver(&self, topic: &str, shop: &str, body: &Value) -> reqwest::Response {
        let body = body.to_string();
        let id = uuid::Uuid::new_v4().to_string();
        self.post_webhook(&signed_webhook(SECRET, topic, shop, &id, &body), body)
            .await
    }

    /// Waits (boundedly) for the processing spawned by intake to settle, then runs the retry
    /// job for anything left.
    pub async fn process_webhooks(&self) {
        use app_server::db::entities::webhook_deliveries as wd;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        for _ in 0..500 {
            let busy = wd::Entity::find()
                .filter(wd::Column::Status.is_in(["pending", "processing"]))
                .count(&self.state.db)
                .await
                .unwrap();
            if busy == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        app_server::shopify::webhooks::retry_deliveries_job(
            &self.state.shopify,
            app_server::db::now_ms(),
        )
        .await
        .unwrap();
        self.settle_detection().await;
    }

    pub async fn count_where(&self, table: &str, filter: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}");
        let row = self
            .state
            .db
            .query_one_raw(Statement::from_string(
                self.state.db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// Every audit entry's sealed text of a chain, concatenated (to search for leaked PII).
    pub async fn audit_text(&self, chain: uuid::Uuid) -> String {
        use app_server::db::entities::audit_entries as ae;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        ae::Entity::find()
            .filter(ae::Column::ChainId.eq(chain))
            .all(&self.state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.canonical)
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub async fn audit_actions(&self, chain: uuid::Uuid) -> Vec<String> {
        use app_server::db::entities::audit_entries as ae;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        ae::Entity::find()
            .filter(ae::Column::ChainId.eq(chain))
            .order_by_asc(ae::Column::Seq)
            .all(&self.state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}
