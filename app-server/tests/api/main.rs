//! The server's integration tests: one test binary. Each case runs on SQLite and on
//! PostgreSQL (a fresh database per test, on 127.0.0.1:5432 by default).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod agent;
mod agent_limits;
mod alert_to_incident;
mod alerts;
mod alerts_browser;
mod audit_chain;
mod boundary;
mod browser;
mod classify;
mod console;
mod console_login;
mod console_retention;
mod cross_tenant;
mod error_codes;
mod fake_pagerduty;
mod fake_shopify;
mod health;
mod identity;
mod incident_reminders;
mod incidents;
mod incidents_browser;
mod jobs;
mod magento;
mod magento_retention_e2e;
mod module_php;
mod outbox;
mod outbox_http_targets;
mod outbox_receivers;
mod permission_policy_and_report;
mod permission_reviews;
mod permissions;
mod retention;
mod rules;
mod secrets;
mod serve;
mod shopify_compliance;
mod shopify_oauth;
mod shopify_session;
mod shopify_support;
mod shopify_webhooks;
mod typed_states;
mod users;
