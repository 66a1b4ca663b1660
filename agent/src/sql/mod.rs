//! SQL on the host: pt-query-digest fingerprints, query ids, the fail-closed masking check,
//! sqlcommenter attributes, table names and security classification.
//!
//! Works on bytes and never allocates per byte; callers reuse a [`Fingerprinter`]. It must not
//! let a literal through: whatever the fingerprint rules miss, [`passes_mask`] refuses.
//!
//! - `fingerprint`: special cases, the pt rules after the scan, query ids;
//! - `normalize`: the one-pass scan over the statement's bytes;
//! - `mask`: the fail-closed check;
//! - `comment`: sqlcommenter attributes;
//! - `tables`: table names from a fingerprint;
//! - `classify`: security classes, credential tables, account redaction.

mod bytes;
mod classify;
mod comment;
mod fingerprint;
mod mask;
mod normalize;
mod tables;

pub use classify::{
    SENSITIVE_TABLES, StatementClass, classify, is_sensitive_table, redact_account_fingerprint,
};
pub use comment::{CommentAttributes, comment_attributes};
pub use fingerprint::{Fingerprinter, fingerprint, query_id};
pub use mask::passes_mask;
pub use tables::{MAX_STATEMENT_TABLES, tables};

#[cfg(test)]
mod tests;
