//! The LeakGuard host agent.
//!
//! Tails the Magento admin-action log and the database logs on the host, removes personal
//! data there, and ships aggregates to the server. It must not open a database connection.
