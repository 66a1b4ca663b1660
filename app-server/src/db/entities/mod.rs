//! Entity definitions, one module per table (see the migrations crate for the schema).

pub mod api_keys;
pub mod audit_checkpoints;
pub mod audit_entries;
pub mod audit_heads;
pub mod job_leases;
pub mod job_runs;
pub mod outbox;
pub mod retention_policies;
pub mod retention_runs;
pub mod secrets;
pub mod shopify_compliance_requests;
pub mod shopify_installations;
pub mod shopify_oauth_states;
pub mod shopify_signals;
pub mod tenants;
pub mod users;
pub mod webhook_deliveries;
