//! Why a request's input was refused. Services return an [`InvalidInput`] naming the specific
//! [`Reason`]; `http/error.rs` maps each reason to a stable public error code, so clients can
//! branch on the cause without parsing messages. Services never know HTTP.

use std::fmt;

/// The specific cause of a refusal. Each has its own public code (see `http/error.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No more specific reason applies (the generic `invalid_request`).
    Other,
    /// The body is not well-formed JSON.
    InvalidJson,
    /// The JSON body has a field the route does not know.
    UnknownField,
    /// The JSON body lacks a required field.
    MissingField,
    /// A JSON field has the wrong type or an unknown value.
    InvalidField,
    /// The query string could not be read.
    InvalidQuery,
    /// A form body could not be read.
    InvalidForm,
    /// A required parameter is missing.
    MissingParameter,
    /// A page size is out of range.
    InvalidLimit,
    /// A list filter is unknown.
    InvalidFilter,
    /// An export format is unknown.
    InvalidFormat,
    /// A role name is unknown.
    InvalidRole,
    /// A Shopify shop domain is not a valid `*.myshopify.com` domain.
    InvalidShopDomain,
    /// A Magento store URL is not valid.
    InvalidBaseUrl,
    /// A cron expression does not parse.
    InvalidCron,
    /// A retention policy breaks a rule (duplicate class, anchor, action, retention days).
    InvalidRetentionPolicy,
    /// A permission allow-list key is empty or too long.
    InvalidAllowList,
    /// `stale_admin_days` is out of range.
    InvalidStaleAdminDays,
    /// A stored document (policy, snapshot) is larger than allowed.
    DocumentTooLarge,
    /// A review decision is unknown.
    InvalidDecision,
    /// A decision needs a justification that is missing or too long.
    InvalidJustification,
    /// An expiry is missing, in the past, too far ahead or not allowed for the decision.
    InvalidExpiry,
    /// The finding cannot take this decision (resolved, nothing to revoke).
    FindingNotReviewable,
    /// A run mode is unknown.
    InvalidMode,
    /// The tenant cannot take this action in its current state or platform.
    TenantNotEligible,
    /// A Shopify customer id is not a customer GID.
    InvalidCustomerId,
    /// A webhook is empty or its payload lacks what its topic requires.
    InvalidWebhook,
    /// A Magento module document (snapshot, events, retention report) breaks its schema.
    InvalidModuleDocument,
    /// A severity is unknown.
    InvalidSeverity,
    /// An incident status is unknown.
    InvalidIncidentStatus,
    /// An incident cannot move to that status (backwards, or a reopening without a reason).
    InvalidTransition,
    /// Incident facts are refused (unknown state or country code, negative count, unknown data category, dates in an impossible order).
    InvalidIncidentFacts,
    /// A timeline event kind is unknown or cannot be added, or lacks what its kind needs.
    InvalidEventKind,
    /// An incident owner is not an active user of the tenant.
    InvalidOwner,
    /// An alert feedback action is unknown.
    InvalidFeedbackAction,
    /// A false-positive scope is unknown, or too wide for the alert's rule.
    InvalidSuppressionScope,
    /// A destination's kind, name, configuration or secret is not acceptable.
    InvalidDestination,
    /// A destination resolves to an address this server does not connect to (loopback,
    /// private, link-local, metadata) and the operator has not allowed private networks.
    DestinationAddressRefused,
}

impl Reason {
    /// Every reason, for the catalogue of codes (the match in [`Reason::ALL`]'s test keeps it whole).
    pub const ALL: [Reason; 38] = [
        Reason::Other,
        Reason::InvalidJson,
        Reason::UnknownField,
        Reason::MissingField,
        Reason::InvalidField,
        Reason::InvalidQuery,
        Reason::InvalidForm,
        Reason::MissingParameter,
        Reason::InvalidLimit,
        Reason::InvalidFilter,
        Reason::InvalidFormat,
        Reason::InvalidRole,
        Reason::InvalidShopDomain,
        Reason::InvalidBaseUrl,
        Reason::InvalidCron,
        Reason::InvalidRetentionPolicy,
        Reason::InvalidAllowList,
        Reason::InvalidStaleAdminDays,
        Reason::DocumentTooLarge,
        Reason::InvalidDecision,
        Reason::InvalidJustification,
        Reason::InvalidExpiry,
        Reason::FindingNotReviewable,
        Reason::InvalidMode,
        Reason::TenantNotEligible,
        Reason::InvalidCustomerId,
        Reason::InvalidWebhook,
        Reason::InvalidModuleDocument,
        Reason::InvalidSeverity,
        Reason::InvalidIncidentStatus,
        Reason::InvalidTransition,
        Reason::InvalidIncidentFacts,
        Reason::InvalidEventKind,
        Reason::InvalidOwner,
        Reason::InvalidFeedbackAction,
        Reason::InvalidSuppressionScope,
        Reason::InvalidDestination,
        Reason::DestinationAddressRefused,
    ];
}

/// A refusal: the reason plus a message safe to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidInput {
    /// The specific cause.
    pub reason: Reason,
    /// Plain words, safe to show to the caller.
    pub message: String,
}

impl InvalidInput {
    /// A refusal for `reason`.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A message without a specific reason (the generic `invalid_request`).
impl From<&str> for InvalidInput {
    fn from(message: &str) -> Self {
        Self::new(Reason::Other, message)
    }
}

/// A message without a specific reason (the generic `invalid_request`).
impl From<String> for InvalidInput {
    fn from(message: String) -> Self {
        Self::new(Reason::Other, message)
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;

    /// A new variant fails to compile here until it is also added to [`Reason::ALL`].
    #[test]
    fn all_lists_every_reason_once() {
        for reason in Reason::ALL {
            match reason {
                Reason::Other
                | Reason::InvalidJson
                | Reason::UnknownField
                | Reason::MissingField
                | Reason::InvalidField
                | Reason::InvalidQuery
                | Reason::InvalidForm
                | Reason::MissingParameter
                | Reason::InvalidLimit
                | Reason::InvalidFilter
                | Reason::InvalidFormat
                | Reason::InvalidRole
                | Reason::InvalidShopDomain
                | Reason::InvalidBaseUrl
                | Reason::InvalidCron
                | Reason::InvalidRetentionPolicy
                | Reason::InvalidAllowList
                | Reason::InvalidStaleAdminDays
                | Reason::DocumentTooLarge
                | Reason::InvalidDecision
                | Reason::InvalidJustification
                | Reason::InvalidExpiry
                | Reason::FindingNotReviewable
                | Reason::InvalidMode
                | Reason::TenantNotEligible
                | Reason::InvalidCustomerId
                | Reason::InvalidWebhook
                | Reason::InvalidModuleDocument
                | Reason::InvalidSeverity
                | Reason::InvalidIncidentStatus
                | Reason::InvalidTransition
                | Reason::InvalidIncidentFacts
                | Reason::InvalidEventKind
                | Reason::InvalidOwner
                | Reason::InvalidFeedbackAction
                | Reason::InvalidSuppressionScope => {}
                Reason::InvalidDestination | Reason::DestinationAddressRefused => {}
            }
        }
        let mut seen = std::collections::HashSet::new();
        assert!(Reason::ALL.iter().all(|r| seen.insert(*r)));
    }
}
