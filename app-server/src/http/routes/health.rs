//! `/healthz` (the process is alive), `/readyz` (database reachable, migrations current),
//! `/metrics` (Prometheus text, with the outbox gauges read at scrape time).

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

/// Prometheus exposition. The outbox gauges are read from the table first, so every replica
/// shows the queue, not only the one that runs the delivery job.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if let Err(e) =
        crate::outbox::worker::refresh_gauges(&state.outbound, crate::db::now_ms()).await
    {
        tracing::warn!(error = %e, "Could not read the outbox gauges.");
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
