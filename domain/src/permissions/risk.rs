//! The maintained risk tables: how risky each Shopify access scope and Magento ACL resource is,
//! and whether it reaches personal data, payment data or the creation of principals.

use super::snapshot::{Platform, Principal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How risky a grant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// No personal data.
    None,
    /// Indirect exposure.
    Low,
    /// Personal data of some kind, or indirect paths to it.
    Medium,
    /// Customer identity, contact details, orders.
    High,
    /// Payment data, bulk changes to personal data, or creation of privileged principals.
    Critical,
}

impl Level {
    /// The stored form (lowercase, as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::None,
            Self::Low,
            Self::Medium,
            Self::High,
            Self::Critical,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

/// The risk of one grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRisk {
    /// Level.
    pub level: Level,
    /// Reaches customers' personal data.
    pub personal_data: bool,
    /// Reaches payment data.
    pub payment_data: bool,
    /// Can create or empower other principals.
    pub creates_principals: bool,
    /// Why, in a sentence for the console.
    pub reason: &'static str,
}

const fn risk(
    level: Level,
    personal_data: bool,
    payment_data: bool,
    creates_principals: bool,
    reason: &'static str,
) -> GrantRisk {
    GrantRisk {
        level,
        personal_data,
        payment_data,
        creates_principals,
        reason,
    }
}

/// The maintained table of Shopify access scopes (specs/shopify.md §4 risk tiers).
pub fn shopify_scope_risk(scope: &str) -> GrantRisk {
    use Level::*;
    match scope {
        "read_customer_payment_methods" => risk(
            Critical,
            true,
            true,
            false,
            "reads customers' stored payment instruments",
        ),
        "read_all_orders" => risk(
            Critical,
            true,
            true,
            false,
            "lifts the 60-day window: the full order history with addresses",
        ),
        "write_customers" => risk(
            Critical,
            true,
            false,
            false,
            "can read and change every customer record in bulk",
        ),
        "write_orders" => risk(
            Critical,
            true,
            true,
            false,
            "can read and change orders, addresses and transactions",
        ),
        "read_customer_merge" | "write_customer_merge" => risk(
            Critical,
            true,
            false,
            false,
            "reads or merges customer identities",
        ),
        "read_customers" => risk(
            High,
            true,
            false,
            false,
            "reads customer identity, addresses and contact details",
        ),
        "read_orders" => risk(
            High,
            true,
            false,
            false,
            "reads orders with names, addresses and contact details (60 days)",
        ),
        "read_draft_orders" | "write_draft_orders" => risk(
            High,
            true,
            false,
            false,
            "reads draft orders with customer details",
        ),
        "read_checkouts" | "write_checkouts" | "unauthenticated_read_checkouts" => risk(
            High,
            true,
            false,
            false,
            "reads checkouts, including abandoned ones with contact details",
        ),
        "read_customer_events" | "write_pixels" => risk(
            High,
            true,
            false,
            false,
            "reads customer browsing events (web pixels)",
        ),
        "read_users" => risk(
            High,
            true,
            false,
            false,
            "reads staff members' personal data",
        ),
        "read_audit_events" => risk(High, true, false, false, "reads the store's admin activity"),
        "read_companies" | "write_companies" => {
            risk(Medium, true, false, false, "reads B2B company contacts")
        }
        "read_order_edits" | "write_order_edits" => {
            risk(Medium, true, false, false, "reads order edits")
        }
        "read_payment_terms" | "read_payment_mandate" | "write_payment_mandate" => risk(
            Medium,
            false,
            true,
            false,
            "reads payment terms or mandates",
        ),
        "read_privacy_settings" | "write_privacy_settings" => risk(
            Medium,
            false,
            false,
            false,
            "reads or changes privacy settings",
        ),
        "write_script_tags" | "write_themes" => risk(
            Medium,
            true,
            true,
            false,
            "can inject scripts that skim checkout data",
        ),
        "unauthenticated_read_customers"
        | "unauthenticated_write_customers"
        | "unauthenticated_read_customer_tags"
        | "customer_read_customers"
        | "customer_read_orders"
        | "customer_read_draft_orders"
        | "customer_read_store_credit_accounts" => risk(
            Medium,
            true,
            false,
            false,
            "reads one customer's data through the storefront or customer account",
        ),
        "read_apps" => risk(
            Low,
            false,
            false,
            false,
            "lists installed apps and their scopes",
        ),
        "write_users" | "write_staff" => {
            risk(Critical, true, false, true, "can change staff accounts")
        }
        _ => risk(
            None,
            false,
            false,
            false,
            "not known to reach personal or payment data",
        ),
    }
}

/// The maintained table of Magento ACL resources (specs/magento.md §4.3).
pub fn magento_resource_risk(resource: &str) -> GrantRisk {
    use Level::*;
    match resource {
        "Magento_Backend::all" => risk(
            Critical,
            true,
            true,
            true,
            "all resources: every customer, order and payment, and every admin and integration",
        ),
        "Magento_Integration::integrations"
        | "Magento_User::acl_users"
        | "Magento_User::acl_roles"
        | "Magento_User::acl" => risk(
            Critical,
            false,
            false,
            true,
            "can create or empower admins and integrations",
        ),
        "Magento_Sales::transactions"
        | "Magento_Sales::transactions_fetch"
        | "Magento_Sales::review_payment"
        | "Magento_Sales::capture" => risk(
            Critical,
            true,
            true,
            false,
            "reads or acts on payment transactions",
        ),
        "Magento_ImportExport::export" | "Magento_ImportExport::import_export" => risk(
            Critical,
            true,
            false,
            false,
            "exports whole tables of customers and orders",
        ),
        "Magento_Customer::customer"
        | "Magento_Customer::manage"
        | "Magento_Customer::actions"
        | "Magento_Customer::delete"
        | "Magento_Customer::reset_password"
        | "Magento_Customer::invalidate_tokens" => risk(
            High,
            true,
            false,
            false,
            "reads or changes customer records",
        ),
        "Magento_Sales::sales"
        | "Magento_Sales::sales_operation"
        | "Magento_Sales::sales_order"
        | "Magento_Sales::actions"
        | "Magento_Sales::actions_view"
        | "Magento_Sales::create"
        | "Magento_Sales::actions_edit" => risk(
            High,
            true,
            false,
            false,
            "reads or edits orders with addresses",
        ),
        "Magento_Sales::sales_invoice"
        | "Magento_Sales::shipment"
        | "Magento_Sales::sales_creditmemo" => {
            risk(Medium, true, false, false, "reads documents with addresses")
        }
        "Magento_Customer::online"
        | "Magento_Newsletter::subscriber"
        | "Magento_Cart::cart"
        | "Magento_Cart::manage" => risk(Medium, true, false, false, "reads customer contact data"),
        r if r.starts_with("Magento_Reports::customers")
            || r == "Magento_Reports::report"
            || r == "Magento_Reports::shopcart" =>
        {
            risk(Medium, true, false, false, "reports with customer data")
        }
        "Magento_Customer::group" => risk(Low, false, false, false, "customer groups only"),
        _ => risk(
            None,
            false,
            false,
            false,
            "not known to reach personal or payment data",
        ),
    }
}

/// Expands Shopify's implication `write_X` ⇒ `read_X`; Magento grants are taken as given.
pub fn expand(platform: Platform, grants: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = grants.clone();
    if platform == Platform::Shopify {
        for g in grants {
            if let Some(rest) = g.strip_prefix("write_") {
                out.insert(format!("read_{rest}"));
            }
        }
    }
    out
}

/// Risk of one grant on a platform.
pub fn grant_risk(platform: Platform, grant: &str) -> GrantRisk {
    match platform {
        Platform::Shopify => shopify_scope_risk(grant.trim()),
        Platform::Magento => magento_resource_risk(grant.trim()),
    }
}

/// The highest risk among grants.
pub fn principal_level(platform: Platform, principal: &Principal) -> Level {
    if principal.attr_bool("all_resources") {
        return Level::Critical;
    }
    expand(platform, &principal.grants)
        .iter()
        .map(|g| grant_risk(platform, g).level)
        .max()
        .unwrap_or(Level::None)
}

pub(super) fn reaches_pii(platform: Platform, grants: &BTreeSet<String>) -> bool {
    expand(platform, grants)
        .iter()
        .any(|g| grant_risk(platform, g).personal_data)
}
