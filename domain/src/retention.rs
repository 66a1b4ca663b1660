//! Payment-data retention policies: the data classes, how old each may get and from which event,
//! what happens to it then, the defaults with their reasons, the Magento module's wire form, age
//! buckets for the inventory, and the evidence hash over affected row ids.
//!
//! Pure: enforcement (the server's own store, the module's executor) lives elsewhere.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A kind of data with a retention limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// Card holder data in Magento `sales_order_payment` (`cc_*`, `echeck_*` columns).
    CardHolderData,
    /// Raw gateway responses (`raw_details_info` in `sales_payment_transaction`).
    GatewayRawResponse,
    /// Stored card tokens (`vault_payment_token`).
    VaultTokens,
    /// Payment data on converted and abandoned quotes (`quote_payment`).
    AbandonedCheckoutPayment,
    /// Keys of `sales_order_payment.additional_information` beyond an allow-list.
    AdditionalInformation,
    /// Stored Shopify webhook payloads (LeakGuard's own store).
    WebhookPayloads,
}

/// The event a maximum age counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The order reached complete, closed or canceled.
    OrderCompletion,
    /// The order was created.
    OrderCreated,
    /// The payment transaction was created.
    TransactionCreated,
    /// The stored token expired (or was deactivated).
    TokenExpiry,
    /// The cart was last updated.
    LastCartUpdate,
    /// LeakGuard received the request.
    RequestReceipt,
}

/// What happens to data past its age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Set the columns to NULL; the row (order history) stays.
    Null,
    /// Remove the raw gateway details key; the row stays.
    StripRawDetails,
    /// Delete the row.
    Delete,
    /// Remove keys not on the allow-list.
    RedactKeys,
}

/// One class's rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Data class.
    pub class: DataClass,
    /// Days after the anchor event; 0 means at the first run after the event.
    pub max_age_days: u32,
    /// The event the age counts from.
    pub anchor: Anchor,
    /// What happens.
    pub action: Action,
    /// Keys kept by `redact_keys`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_keys: Vec<String>,
}

/// A tenant's policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Increases with every change; evidence names it.
    pub version: u32,
    /// One rule per class at most.
    pub classes: Vec<Rule>,
}

/// Why a policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A class appears twice.
    #[error("class {0:?} appears more than once")]
    Duplicate(DataClass),
    /// The anchor does not apply to the class.
    #[error("anchor {anchor:?} does not apply to class {class:?}")]
    Anchor {
        /// Class.
        class: DataClass,
        /// Anchor.
        anchor: Anchor,
    },
    /// The action does not apply to the class.
    #[error("action {action:?} does not apply to class {class:?}")]
    Action {
        /// Class.
        class: DataClass,
        /// Action.
        action: Action,
    },
    /// Allow-list misuse.
    #[error("allow_keys is only for redact_keys, and redact_keys needs it")]
    AllowKeys,
    /// A limit beyond what a serious policy would keep payment data.
    #[error("max_age_days for {0:?} may be at most {1}")]
    TooLong(DataClass, u32),
}

impl DataClass {
    /// Anchors that apply.
    pub fn anchors(self) -> &'static [Anchor] {
        use Anchor::*;
        match self {
            Self::CardHolderData | Self::AdditionalInformation => &[OrderCompletion, OrderCreated],
            Self::GatewayRawResponse => &[OrderCompletion, OrderCreated, TransactionCreated],
            Self::VaultTokens => &[TokenExpiry],
            Self::AbandonedCheckoutPayment => &[LastCartUpdate],
            Self::WebhookPayloads => &[RequestReceipt],
        }
    }

    /// Actions that apply.
    pub fn actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            Self::CardHolderData | Self::AbandonedCheckoutPayment => &[Null],
            Self::GatewayRawResponse => &[StripRawDetails, Null],
            Self::VaultTokens => &[Delete],
            Self::AdditionalInformation => &[RedactKeys],
            Self::WebhookPayloads => &[RedactKeys, Delete],
        }
    }

    /// Whether the Magento module enforces this class (the rest is LeakGuard's own store).
    pub fn on_magento(self) -> bool {
        !matches!(self, Self::WebhookPayloads)
    }

    /// The longest limit accepted.
    pub fn max_limit_days(self) -> u32 {
        match self {
            Self::CardHolderData | Self::AbandonedCheckoutPayment => 90,
            _ => 3650,
        }
    }
}

impl Policy {
    /// Checks every rule; returns the policy unchanged when it is valid.
    pub fn validate(self) -> Result<Self, PolicyError> {
        let mut seen = std::collections::BTreeSet::new();
        for rule in &self.classes {
            if !seen.insert(rule.class) {
                return Err(PolicyError::Duplicate(rule.class));
            }
            if !rule.class.anchors().contains(&rule.anchor) {
                return Err(PolicyError::Anchor {
                    class: rule.class,
                    anchor: rule.anchor,
                });
            }
            if !rule.class.actions().contains(&rule.action) {
                return Err(PolicyError::Action {
                    class: rule.class,
                    action: rule.action,
                });
            }
            if (rule.action == Action::RedactKeys) == rule.allow_keys.is_empty() {
                return Err(PolicyError::AllowKeys);
            }
            if rule.max_age_days > rule.class.max_limit_days() {
                return Err(PolicyError::TooLong(
                    rule.class,
                    rule.class.max_limit_days(),
                ));
            }
        }
        Ok(self)
    }

    /// The rule of a class.
    pub fn rule(&self, class: DataClass) -> Option<&Rule> {
        self.classes.iter().find(|r| r.class == class)
    }

    /// The Magento module's form (`GET /api/v1/magento/retention-policy`): only the classes it
    /// enforces.
    pub fn to_module_json(&self) -> serde_json::Value {
        let classes: Vec<&Rule> = self
            .classes
            .iter()
            .filter(|r| r.class.on_magento())
            .collect();
        serde_json::json!({"version": self.version, "classes": classes})
    }
}

/// The default policy, with the reasoning for each limit.
///
/// - Card holder data: PCI DSS requirement 3 — keep cardholder data only as long as the business
///   needs it, and sensitive authentication data not at all after authorisation. Magento's
///   offline card method is the only writer of these columns; once an order is complete nothing
///   needs them. Cleared at the first run after completion; `method`, `cc_type`, `cc_last_4`
///   and amounts stay, so order history and refunds keep working.
/// - Gateway raw responses: kept 30 days after completion for disputes and reconciliation, then
///   the raw details go; the transaction row and its ids stay.
/// - Vault tokens: deleted once expired or deactivated; a dead token is only a liability.
/// - Abandoned-checkout payment data: 30 days after the cart was last touched, long enough for
///   recovery e-mails, then cleared (converted quotes' copies are cleared as well).
/// - `additional_information`: 90 days after completion, keys beyond the display allow-list go.
/// - Stored webhook payloads: 30 days after receipt. Payment keys are never stored; the rest is
///   evidence for detection, which looks back 30 days.
pub fn default_policy() -> Policy {
    use Action::*;
    use Anchor::*;
    use DataClass::*;
    let rule = |class, max_age_days, anchor, action, allow: &[&str]| Rule {
        class,
        max_age_days,
        anchor,
        action,
        allow_keys: allow.iter().map(|s| (*s).to_owned()).collect(),
    };
    Policy {
        version: 1,
        classes: vec![
            rule(CardHolderData, 0, OrderCompletion, Null, &[]),
            rule(
                GatewayRawResponse,
                30,
                OrderCompletion,
                StripRawDetails,
                &[],
            ),
            rule(VaultTokens, 0, TokenExpiry, Delete, &[]),
            rule(AbandonedCheckoutPayment, 30, LastCartUpdate, Null, &[]),
            rule(
                AdditionalInformation,
                90,
                OrderCompletion,
                RedactKeys,
                &[
                    "method_title",
                    "cc_type",
                    "cc_last_4",
                    "last4",
                    "card_type",
                    "is_active_payment_token_enabler",
                ],
            ),
            rule(WebhookPayloads, 30, RequestReceipt, Delete, &[]),
        ],
    }
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The cut-off of a rule at `now_ms`: data anchored before it is past its age.
pub fn cutoff_ms(rule: &Rule, now_ms: i64) -> i64 {
    now_ms - i64::from(rule.max_age_days) * DAY_MS
}

/// Age buckets of the inventory and dry-run reports.
pub const AGE_BUCKETS: [(&str, i64); 5] = [
    ("0-7d", 7),
    ("7-30d", 30),
    ("30-90d", 90),
    ("90-365d", 365),
    (">365d", i64::MAX),
];

/// The bucket of an age.
pub fn age_bucket(age_ms: i64) -> &'static str {
    let days = age_ms.max(0) / DAY_MS;
    AGE_BUCKETS
        .iter()
        .find(|(_, upper)| days < *upper)
        .map(|(name, _)| *name)
        .unwrap_or(">365d")
}

/// Evidence hash over affected primary keys in ascending order, the same chain the Magento
/// module reports: `h0 = sha256("")`, `h_k = sha256(hex(h_{k-1}) + ":" + decimal(id_k))`.
#[derive(Clone, Debug)]
pub struct IdChain {
    hex: String,
    count: u64,
}

impl Default for IdChain {
    fn default() -> Self {
        Self {
            hex: hex::encode(Sha256::digest(b"")),
            count: 0,
        }
    }
}

impl IdChain {
    /// Resumes a chain from a stored value.
    pub fn resume(hex: String, count: u64) -> Self {
        Self { hex, count }
    }

    /// Adds the next id (ids must come in ascending order).
    pub fn push(&mut self, id: &str) {
        let mut h = Sha256::new();
        h.update(self.hex.as_bytes());
        h.update(b":");
        h.update(id.as_bytes());
        self.hex = hex::encode(h.finalize());
        self.count += 1;
    }

    /// Current value.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Ids pushed.
    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid_and_matches_the_module_fixture() {
        let policy = default_policy().validate().unwrap();
        let module = policy.to_module_json();
        let classes = module["classes"].as_array().unwrap();
        assert_eq!(classes.len(), 5, "webhook payloads are not the module's");
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../../magento-module/Test/fixtures/retention-policy.json"
        ))
        .unwrap();
        let fixture_classes: Vec<&str> = fixture["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["class"].as_str().unwrap())
            .collect();
        let ours: Vec<&str> = classes
            .iter()
            .map(|c| c["class"].as_str().unwrap())
            .collect();
        assert_eq!(ours, fixture_classes);
        // The module parses our form: same keys, no extras.
        for c in classes {
            for key in c.as_object().unwrap().keys() {
                assert!(
                    ["class", "max_age_days", "anchor", "action", "allow_keys"]
                        .contains(&key.as_str())
                );
            }
        }
    }

    #[test]
    fn nonsense_rules_are_refused() {
        let mut p = default_policy();
        p.classes[0].anchor = Anchor::TokenExpiry;
        assert!(matches!(p.validate(), Err(PolicyError::Anchor { .. })));
        let mut p = default_policy();
        p.classes[2].action = Action::Null;
        assert!(matches!(p.validate(), Err(PolicyError::Action { .. })));
        let mut p = default_policy();
        p.classes.push(p.classes[0].clone());
        assert!(matches!(p.validate(), Err(PolicyError::Duplicate(_))));
        let mut p = default_policy();
        p.classes[0].max_age_days = 400;
        assert!(matches!(p.validate(), Err(PolicyError::TooLong(..))));
        let mut p = default_policy();
        p.classes[4].allow_keys.clear();
        assert_eq!(p.validate(), Err(PolicyError::AllowKeys));
        assert!(serde_json::from_str::<Policy>(r#"{"version":1,"classes":[{"class":"nope","max_age_days":1,"anchor":"order_created","action":"null"}]}"#).is_err());
    }

    #[test]
    fn cutoffs_and_buckets() {
        let rule = default_policy().classes[1].clone();
        assert_eq!(cutoff_ms(&rule, 100 * DAY_MS), 70 * DAY_MS);
        assert_eq!(age_bucket(0), "0-7d");
        assert_eq!(age_bucket(7 * DAY_MS), "7-30d");
        assert_eq!(age_bucket(400 * DAY_MS), ">365d");
    }

    #[test]
    fn the_id_chain_matches_the_modules_definition() {
        let mut chain = IdChain::default();
        chain.push("1");
        chain.push("25");
        let h0 = hex::encode(Sha256::digest(b""));
        let h1 = hex::encode(Sha256::digest(format!("{h0}:1").as_bytes()));
        let h2 = hex::encode(Sha256::digest(format!("{h1}:25").as_bytes()));
        assert_eq!(chain.hex(), h2);
        assert_eq!(chain.count(), 2);
        let mut resumed = IdChain::resume(h1, 1);
        resumed.push("25");
        assert_eq!(resumed.hex(), chain.hex());
    }
}
