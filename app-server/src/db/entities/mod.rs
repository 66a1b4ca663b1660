//! Entity definitions, one module per table (see the migrations crate for the schema).

pub mod agent_aggregates;
pub mod agent_batches;
pub mod agents;
pub mod api_keys;
pub mod audit_checkpoints;
pub mod audit_entries;
pub mod audit_heads;
pub mod console_sessions;
pub mod enrollment_tokens;
pub mod findings;
pub mod job_leases;
pub mod job_runs;
pub mod magento_module_keys;
pub mod outbox;
pub mod permission_snapshots;
pub mod replay_guards;
pub mod retention_policies;
pub mod retention_reports;
pub mod retention_runs;
pub mod secrets;
pub mod signals;
pub mod tenants;
pub mod users;
pub mod webhook_deliveries;
