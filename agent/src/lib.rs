//! The LeakGuard host agent.
//!
//! Tails the MariaDB/MySQL logs, the Magento admin-action and application logs, web server
//! access logs and `var/export/` on the host, removes personal data there, and ships
//! aggregates and security events to the server durably. It must not open a database
//! connection and must not depend on a web framework.
//!
//! Data flow: [`tail`] frames lines → [`parse`] turns them into entries → [`records`]
//! fingerprints ([`sql`]), masks ([`masking`]) and aggregates → [`agent`] encodes a batch per file range
//! into the [`spool`] and moves the [`checkpoint`] → [`ship`] sends and acknowledges.

pub mod agent;
pub mod checkpoint;
pub mod clock;
pub mod config;
pub mod events;
pub mod inspect;
pub mod masking;
pub mod parse;
pub mod records;
pub mod server_url;
pub mod ship;
pub mod spool;
pub mod sql;
pub mod tail;
pub mod timefmt;
