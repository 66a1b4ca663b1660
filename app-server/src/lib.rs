//! The LeakGuard server: a multi-tenant actix-web application for Shopify Plus shops and
//! Magento installations. See ARCHITECTURE.md for the map and the invariants.

pub mod alerts;
pub mod api_time;
pub mod audit_chain;
pub mod classify_cli;
pub mod cli;
pub mod config;
pub mod console;
pub mod crypto;
pub mod db;
pub mod detect_cli;
pub mod enrollment;
pub mod http;
pub mod incidents;
pub mod ingest;
pub mod invalid_input;
pub mod jobs;
pub mod magento;
pub mod metrics;
pub mod outbox;
pub mod permission_audits;
pub mod permissions_cli;
pub mod retention;
pub mod rules_cli;
pub mod secrets;
pub mod shopify;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tenancy;
pub mod tenants;

/// Installs the process-wide TLS crypto provider (aws-lc-rs). Call once at start-up.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
