//! The tenant admin console: server-rendered pages (minijinja, autoescaped) for permission
//! audits, with small vanilla scripts and no build step.
//!
//! This module renders; it takes its data from the services (`audits`) and never queries a
//! table itself.

pub mod pages;
pub mod session;
