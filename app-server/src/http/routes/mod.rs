//! Route modules, one per resource. `configure` is the only place routes are registered.

pub mod audit;
pub mod health;
pub mod tenant;
pub mod users;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .service(
            web::scope("/api/v1")
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
                .route("/audit/verify", web::get().to(audit::verify)),
        );
}
