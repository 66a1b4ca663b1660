//! Route modules, one per resource. `configure` is the only place routes are registered.

pub mod audit;
pub mod health;
pub mod retention;
pub mod shopify;
pub mod shopify_api;
pub mod tenant;
pub mod users;

use actix_web::{middleware::from_fn, web};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/shopify/install", web::get().to(shopify::install))
        .route("/shopify/callback", web::get().to(shopify::callback))
        .route("/shopify/webhooks", web::post().to(shopify::webhooks))
        .route("/app", web::get().to(shopify::app))
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(shopify_api::cors))
                .route("/tenant", web::get().to(tenant::get))
                .route("/users", web::get().to(users::list))
                .route("/users", web::post().to(users::create))
                .route("/users/{id}", web::get().to(users::get))
                .route(
                    "/users/{id}/api-keys",
                    web::post().to(users::create_api_key),
                )
                .route("/audit/entries", web::get().to(audit::list))
                .route("/audit/entries/{seq}", web::get().to(audit::get))
                .route("/audit/verify", web::get().to(audit::verify))
                .route(
                    "/customers/{customerGid}/findings",
                    web::get().to(shopify_api::customer_findings),
                )
                .route(
                    "/compliance/data-requests",
                    web::get().to(shopify_api::list_data_requests),
                )
                .route(
                    "/compliance/data-requests/{id}",
                    web::get().to(shopify_api::get_data_request),
                )
                .route(
                    "/compliance/data-requests/{id}/report",
                    web::get().to(shopify_api::data_request_report),
                )
                .route("/retention/policy", web::get().to(retention::get_policy))
                .route("/retention/policy", web::put().to(retention::put_policy))
                .route("/retention/runs", web::get().to(retention::list_runs))
                .route("/retention/runs", web::post().to(retention::run_now))
                .route("/retention/runs/{id}", web::get().to(retention::get_run))
                .route("/retention/inventory", web::get().to(retention::inventory)),
        );
}
