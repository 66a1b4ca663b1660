//! Route modules, one per resource. `configure` is the only place routes are registered.

pub mod agent;
pub mod alerts;
pub mod api_keys;
pub mod audit_chain;
pub mod console;
pub mod console_alerts;
pub mod console_incidents;
pub mod console_pages;
pub mod console_retention;
pub mod destinations;
pub mod health;
pub mod incidents;
pub mod magento;
pub mod permissions;
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
        .route("/console", web::get().to(console::page))
        .route("/console/sso", web::get().to(console::sso))
        .route("/console/logout", web::post().to(console::logout))
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(shopify_api::cors))
                .route("/openapi.json", web::get().to(super::openapi::serve))
                .route("/tenant", web::get().to(tenant::get))
                .route("/users", web::get().to(users::list))
                .route("/users", web::post().to(users::create))
                .route("/users/{id}", web::get().to(users::get))
                .route(
                    "/users/{id}/api-keys",
                    web::post().to(users::create_api_key),
                )
                .route("/users/{id}", web::patch().to(users::update))
                .route("/users/{id}/api-keys", web::get().to(users::list_api_keys))
                .route("/api-keys", web::get().to(api_keys::list))
                .route("/api-keys/{id}/revoke", web::post().to(api_keys::revoke))
                .route("/audit/entries", web::get().to(audit_chain::list))
                .route("/audit/entries/{seq}", web::get().to(audit_chain::get))
                .route("/audit/verify", web::get().to(audit_chain::verify))
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
                .route("/magento/enroll", web::post().to(magento::enroll))
                .route(
                    "/magento/enrollment-tokens",
                    web::post().to(magento::create_enrollment_token),
                )
                .route("/magento/events", web::post().to(magento::events))
                .route(
                    "/magento/permission-snapshots",
                    web::post().to(magento::permission_snapshots),
                )
                .route(
                    "/magento/retention-policy",
                    web::get().to(magento::retention_policy),
                )
                .route(
                    "/magento/retention-reports",
                    web::post().to(magento::retention_reports),
                )
                .route("/agent/enroll", web::post().to(agent::enroll))
                .route(
                    "/agent/enrollment-tokens",
                    web::post().to(agent::create_enrollment_token),
                )
                .route("/agent/batches", web::post().to(agent::batches))
                .route("/agents", web::get().to(agent::list))
                .route("/agents/{id}", web::get().to(agent::get))
                .route("/agents/{id}/revoke", web::post().to(agent::revoke))
                .route("/retention/policy", web::get().to(retention::get_policy))
                .route("/retention/policy", web::put().to(retention::put_policy))
                .route("/retention/runs", web::get().to(retention::list_runs))
                .route("/retention/runs", web::post().to(retention::run_now))
                .route("/retention/runs/{id}", web::get().to(retention::get_run))
                .route("/retention/inventory", web::get().to(retention::inventory))
                .route(
                    "/permissions/overview",
                    web::get().to(permissions::overview),
                )
                .route(
                    "/permissions/principals",
                    web::get().to(permissions::principals),
                )
                .route("/permissions/changes", web::get().to(permissions::changes))
                .route(
                    "/permissions/findings",
                    web::get().to(permissions::findings),
                )
                .route(
                    "/permissions/findings/{id}",
                    web::get().to(permissions::finding),
                )
                .route(
                    "/permissions/findings/{id}/reviews",
                    web::post().to(permissions::review),
                )
                .route("/permissions/reviews", web::get().to(permissions::reviews))
                .route("/permissions/runs", web::get().to(permissions::runs))
                .route("/permissions/runs", web::post().to(permissions::run_now))
                .route("/permissions/runs/{id}", web::get().to(permissions::run))
                .route("/permissions/report", web::get().to(permissions::report))
                .route("/permissions/policy", web::get().to(permissions::policy))
                .route(
                    "/permissions/policy",
                    web::put().to(permissions::put_policy),
                )
                .route(
                    "/permissions/schedule",
                    web::get().to(permissions::schedule),
                )
                .route(
                    "/permissions/schedule",
                    web::put().to(permissions::put_schedule),
                )
                .route("/incidents", web::get().to(incidents::list))
                .route("/incidents", web::post().to(incidents::create))
                .route("/incidents/{id}", web::get().to(incidents::get))
                .route("/incidents/{id}", web::patch().to(incidents::update))
                .route(
                    "/incidents/{id}/events",
                    web::post().to(incidents::add_event),
                )
                .route(
                    "/incidents/{id}/obligations",
                    web::get().to(incidents::obligations),
                )
                .route("/alerts", web::get().to(alerts::list))
                .route("/alerts/{id}", web::get().to(alerts::get))
                .route("/alerts/{id}/feedback", web::post().to(alerts::feedback))
                .route("/destinations", web::post().to(destinations::create))
                .route("/destinations", web::get().to(destinations::list))
                .route("/destinations/{id}", web::get().to(destinations::get))
                .route("/destinations/{id}", web::patch().to(destinations::update))
                .route("/destinations/{id}", web::delete().to(destinations::delete))
                .route(
                    "/destinations/{id}/test",
                    web::post().to(destinations::test),
                )
                .route("/outbox", web::get().to(destinations::entries))
                .route("/outbox/{id}/replay", web::post().to(destinations::replay)),
        )
        .service(
            web::scope("/console")
                .route("/static/console.css", web::get().to(console_pages::css))
                .route("/static/console.js", web::get().to(console_pages::js))
                .route("/login", web::get().to(console_pages::login_form))
                .route("/login", web::post().to(console_pages::login))
                .route(
                    "/retention",
                    web::get().to(console_retention::retention_page),
                )
                .route(
                    "/retention/policy",
                    web::post().to(console_retention::save_policy),
                )
                .route("/retention/runs", web::post().to(console_retention::run))
                .route("/alerts", web::get().to(console_alerts::list))
                .route("/alerts/{alert_id}", web::get().to(console_alerts::alert))
                .route(
                    "/alerts/{alert_id}/feedback",
                    web::post().to(console_alerts::feedback),
                )
                .route("/incidents", web::get().to(console_incidents::list))
                .route("/incidents", web::post().to(console_incidents::open))
                .route(
                    "/incidents/{incident_id}",
                    web::get().to(console_incidents::incident),
                )
                .route(
                    "/incidents/{incident_id}/events",
                    web::post().to(console_incidents::add_event),
                )
                .route(
                    "/incidents/{incident_id}/status",
                    web::post().to(console_incidents::change_status),
                )
                .route(
                    "/incidents/{incident_id}/facts",
                    web::post().to(console_incidents::change_facts),
                )
                .route("/permissions", web::get().to(console_pages::overview))
                .route(
                    "/permissions/principals",
                    web::get().to(console_pages::principals),
                )
                .route(
                    "/permissions/changes",
                    web::get().to(console_pages::changes),
                )
                .route(
                    "/permissions/findings",
                    web::get().to(console_pages::findings),
                )
                .route(
                    "/permissions/findings/{finding_id}",
                    web::get().to(console_pages::finding),
                )
                .route(
                    "/permissions/findings/{finding_id}/review",
                    web::post().to(console_pages::review),
                )
                .route("/permissions/runs", web::get().to(console_pages::runs))
                .route("/permissions/runs", web::post().to(console_pages::run_now))
                .route(
                    "/permissions/runs/{run_id}",
                    web::get().to(console_pages::run),
                )
                .route(
                    "/permissions/report.csv",
                    web::get().to(console_pages::report_csv),
                )
                .route(
                    "/permissions/report.json",
                    web::get().to(console_pages::report_json),
                ),
        );
}
