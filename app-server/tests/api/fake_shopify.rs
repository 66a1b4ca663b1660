//! A local fake of the Shopify Admin GraphQL API over real HTTP: `appInstallations` in pages
//! (Relay cursors), `currentAppInstallation`, one `THROTTLED` answer with cost extensions, and
//! `ACCESS_DENIED` when the app has no `read_apps`.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct FakeApp {
    pub id: String,
    pub title: String,
    pub scopes: Vec<String>,
}

pub fn app(n: u32, title: &str, scopes: &[&str]) -> FakeApp {
    FakeApp {
        id: format!("gid://shopify/App/{n}"),
        title: title.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[derive(Debug)]
pub struct FakeState {
    pub token: String,
    pub own: FakeApp,
    pub apps: Vec<FakeApp>,
    pub deny_read_apps: bool,
    /// Deny `currentAppInstallation` too (a token without any readable scope).
    pub deny_current: bool,
    pub page_size: usize,
    /// Answer the next request for a later page with THROTTLED (once).
    pub throttle_next_page: bool,
    pub throttled: usize,
    pub requests: usize,
    pub pages_served: usize,
}

pub struct FakeShopify {
    pub base_url: String,
    pub state: Arc<Mutex<FakeState>>,
}

fn cost(requested: u32, available: u32) -> Value {
    json!({"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
        "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": available, "restoreRate": 1000}}})
}

fn node(app: &FakeApp, n: usize) -> Value {
    json!({
        "id": format!("gid://shopify/AppInstallation/{n}"),
        "app": {"id": app.id, "title": app.title, "handle": null, "developerName": "Dev"},
        "accessScopes": app.scopes.iter().map(|s| json!({"handle": s, "description": s})).collect::<Vec<_>>(),
    })
}

async fn graphql(
    state: web::Data<Arc<Mutex<FakeState>>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut s = state.lock().unwrap();
    s.requests += 1;
    let token = req
        .headers()
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token != s.token {
        return HttpResponse::Unauthorized().json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}));
    }
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("currentAppInstallation") && s.deny_current {
        return HttpResponse::Ok().json(json!({
            "errors": [{"message": "Access denied for currentAppInstallation field.",
                "extensions": {"code": "ACCESS_DENIED"}, "path": ["currentAppInstallation"]}],
            "data": null,
        }));
    }
    if query.contains("currentAppInstallation") {
        let own = s.own.clone();
        return HttpResponse::Ok().json(json!({
            "data": {"currentAppInstallation": node(&own, 0)},
            "extensions": cost(2, 998),
        }));
    }
    if query.contains("appInstallations") {
        if s.deny_read_apps {
            return HttpResponse::Ok().json(json!({
                "errors": [{
                    "message": "Access denied for appInstallations field. Required access: `read_apps` access scope.",
                    "locations": [{"line": 1, "column": 60}],
                    "extensions": {"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes", "requiredAccess": "`read_apps` access scope."},
                    "path": ["appInstallations"],
                }],
                "data": null,
                "extensions": cost(12, 988),
            }));
        }
        let start: usize = body["variables"]["after"]
            .as_str()
            .and_then(|c| c.strip_prefix('c'))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if start > 0 && s.throttle_next_page {
            s.throttle_next_page = false;
            s.throttled += 1;
            return HttpResponse::Ok().json(json!({
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": 12, "actualQueryCost": null,
                    "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": 2, "restoreRate": 1000}}},
            }));
        }
        let mut all = vec![s.own.clone()];
        all.extend(s.apps.iter().cloned());
        let end = (start + s.page_size).min(all.len());
        let edges: Vec<Value> = (start..end)
            .map(|i| json!({"cursor": format!("c{}", i + 1), "node": node(&all[i], i + 1)}))
            .collect();
        s.pages_served += 1;
        return HttpResponse::Ok().json(json!({
            "data": {"appInstallations": {
                "edges": edges,
                "pageInfo": {"hasNextPage": end < all.len(), "endCursor": if end > start { Some(format!("c{end}")) } else { None }},
            }},
            "extensions": cost(12, 900),
        }));
    }
    HttpResponse::Ok()
        .json(json!({"errors": [{"message": "unknown query", "extensions": {"code": "UNKNOWN"}}]}))
}

/// The OAuth token endpoint: any `good-code` grant gets the fake's token.
async fn token_endpoint(state: web::Data<Arc<Mutex<FakeState>>>) -> HttpResponse {
    let s = state.lock().unwrap();
    HttpResponse::Ok().json(json!({
        "access_token": s.token, "scope": "read_customers,read_orders",
        "expires_in": 3600, "refresh_token": "shprt_fake", "refresh_token_expires_in": 7_776_000,
    }))
}

impl FakeShopify {
    pub async fn start(token: &str, own: FakeApp, apps: Vec<FakeApp>) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            token: token.into(),
            own,
            apps,
            deny_read_apps: false,
            deny_current: false,
            page_size: 2,
            throttle_next_page: true,
            throttled: 0,
            requests: 0,
            pages_served: 0,
        }));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/admin/api/{version}/graphql.json", web::post().to(graphql))
                .route("/admin/oauth/access_token", web::post().to(token_endpoint))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    pub fn set_scopes(&self, title: &str, scopes: &[&str]) {
        let mut s = self.state.lock().unwrap();
        let app = s.apps.iter_mut().find(|a| a.title == title).unwrap();
        app.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    }
}
