//! Shared types and pure functions of LeakGuard.
//!
//! Owns what both the agent and the server speak: ids, the agent wire format, the audit
//! chain's canonical encoding and hashing, the PII taxonomy. It must not do I/O or depend
//! on a framework.

pub mod agent_wire;
pub mod audit;
pub mod classify;
pub mod detect;
pub mod ids;
pub mod law;
pub mod masking;
pub mod permissions;
pub mod retention;
pub mod shop;
