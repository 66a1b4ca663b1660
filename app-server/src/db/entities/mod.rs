//! Entity definitions, one module per table (see the migrations crate for the schema).

pub mod api_keys;
pub mod audit_checkpoints;
pub mod audit_entries;
pub mod audit_heads;
pub mod job_leases;
pub mod job_runs;
pub mod outbox;
pub mod perm_audit_runs;
pub mod perm_audit_schedules;
pub mod perm_audit_snapshots;
pub mod perm_findings;
pub mod perm_policies;
pub mod perm_reviews;
pub mod retention_policies;
pub mod retention_runs;
pub mod secrets;
pub mod tenants;
pub mod users;
pub mod webhook_deliveries;
