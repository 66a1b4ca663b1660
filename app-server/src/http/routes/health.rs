//! `/healthz` (the process is alive), `/readyz` (database reachable, migrations current),
//! `/metrics` (Prometheus text).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// Alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready to serve.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match crate::db::readiness(&state.db).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not_ready", "reason": reason})),
    }
}

/// Prometheus exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
