//! Detection of mass extraction and insider exfiltration, as a pure engine.
//!
//! Signals (`signal`) are normalized from agent records, Magento module events and Shopify
//! webhooks (`normalize`), mapped onto data categories (`categories`), and fed in time order
//! to the [`engine::Engine`], which keeps per principal × category baselines with
//! hour-of-week seasonality (`baseline`), recurring-job schedules (`recurring`), evaluates
//! the rules (`rules`) and groups findings into alert episodes (`alert`). The state
//! (`state`) is serde-serializable so a server can persist it; analysts' false-positive
//! marks become scoped, expiring suppressions (`feedback`). No I/O; never panics on odd input.

pub mod alert;
pub mod baseline;
pub mod categories;
pub mod engine;
pub mod feedback;
pub mod normalize;
pub mod recurring;
pub mod rules;
pub mod signal;
pub mod state;

#[cfg(test)]
mod tests;

pub use alert::{Alert, RuleId, Severity};
pub use engine::Engine;
pub use rules::RuleConfig;
pub use signal::{Category, CategorySet, Identity, PrincipalKey, Signal, SignalKind};
pub use state::EngineState;
