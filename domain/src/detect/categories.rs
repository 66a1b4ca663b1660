//! Tables and resources → data categories.
//!
//! Owns the mapping of Magento table names (after stripping `db.` and a table prefix, EAV
//! suffixes folded) and of Shopify resource words onto [`Category`]. Pure and total: an
//! unknown name maps to no category.

use super::signal::{Category, CategorySet};

const EAV_SUFFIXES: [&str; 5] = ["_varchar", "_int", "_datetime", "_text", "_decimal"];

const TABLES: &[(&str, Category)] = &[
    ("customer_entity", Category::Customer),
    ("customer_grid_flat", Category::Customer),
    ("newsletter_subscriber", Category::Customer),
    ("customer_address_entity", Category::Address),
    ("sales_order_address", Category::Address),
    ("quote_address", Category::Address),
    ("sales_order", Category::Order),
    ("sales_order_grid", Category::Order),
    ("sales_order_item", Category::Order),
    ("sales_invoice_grid", Category::Order),
    ("sales_shipment_grid", Category::Order),
    ("sales_creditmemo_grid", Category::Order),
    ("sales_invoice", Category::Order),
    ("sales_shipment", Category::Order),
    ("sales_creditmemo", Category::Order),
    ("quote", Category::Order),
    ("sales_order_payment", Category::Payment),
    ("sales_payment_transaction", Category::Payment),
    ("quote_payment", Category::Payment),
    ("vault_payment_token", Category::Payment),
    ("admin_user", Category::Credentials),
    ("admin_passwords", Category::Credentials),
    ("admin_user_session", Category::Credentials),
    ("oauth_token", Category::Credentials),
    ("oauth_consumer", Category::Credentials),
    ("integration", Category::Credentials),
    ("core_config_data", Category::Credentials),
];

/// The category of one table name (`shop.mg_customer_entity_varchar` → customer).
pub fn table_category(table: &str) -> Option<Category> {
    let bare = table.rsplit('.').next().unwrap_or(table);
    let bare = bare.trim_matches('`');
    let folded = EAV_SUFFIXES
        .iter()
        .find_map(|suffix| bare.strip_suffix(suffix))
        .filter(|stem| stem.ends_with("_entity"))
        .unwrap_or(bare);
    let mut best: Option<(usize, Category)> = None;
    for (name, category) in TABLES {
        let matches = folded == *name
            || (folded.len() > name.len()
                && folded.ends_with(name)
                && folded.as_bytes().get(folded.len() - name.len() - 1) == Some(&b'_'));
        if matches && best.is_none_or(|(len, _)| name.len() > len) {
            best = Some((name.len(), *category));
        }
    }
    best.map(|(_, category)| category)
}

/// The categories of a list of tables.
pub fn tables_categories<S: AsRef<str>>(tables: &[S]) -> CategorySet {
    let mut set = CategorySet::EMPTY;
    for table in tables {
        if let Some(category) = table_category(table.as_ref()) {
            set.insert(category);
        }
    }
    set
}

/// Categories named by a Magento entity type, a REST route, a Shopify resource or a GraphQL
/// query (`customer`, `/V1/customers/search`, `orders`, `{ customers { edges … } }`).
pub fn resource_categories(text: &str) -> CategorySet {
    let lower = text.to_ascii_lowercase();
    let mut set = CategorySet::EMPTY;
    if lower.contains("customer") {
        set.insert(Category::Customer);
    }
    if lower.contains("address") {
        set.insert(Category::Address);
    }
    if lower.contains("order") || lower.contains("invoice") || lower.contains("shipment") {
        set.insert(Category::Order);
    }
    if lower.contains("payment") || lower.contains("transaction") {
        set.insert(Category::Payment);
    }
    set
}

/// Categories a granted scope or ACL resource opens (`read_customers`,
/// `Magento_Customer::customer`, `Magento_Sales::actions_view`).
pub fn scope_categories(scope: &str) -> CategorySet {
    let lower = scope.to_ascii_lowercase();
    let mut set = CategorySet::EMPTY;
    let reads_people = lower.starts_with("read_")
        || lower.starts_with("write_")
        || lower.starts_with("magento_")
        || lower.contains("::");
    if !reads_people {
        return set;
    }
    if lower.contains("customer") || lower.contains("users") {
        set.insert(Category::Customer);
    }
    if lower.contains("order") || lower.contains("magento_sales") {
        set.insert(Category::Order);
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eav_tables_prefixes_and_schemas_fold_onto_their_entity() {
        assert_eq!(
            table_category("shop.mg_customer_entity_varchar"),
            Some(Category::Customer)
        );
        assert_eq!(
            table_category("customer_address_entity_int"),
            Some(Category::Address)
        );
        assert_eq!(
            table_category("sales_order_payment"),
            Some(Category::Payment)
        );
        assert_eq!(table_category("sales_order"), Some(Category::Order));
        assert_eq!(table_category("catalog_product_entity"), None);
        assert_eq!(
            table_category("core_config_data"),
            Some(Category::Credentials)
        );
    }

    #[test]
    fn routes_and_scopes_name_their_categories() {
        assert!(resource_categories("/V1/customers/search").contains(Category::Customer));
        assert!(resource_categories("orders").contains(Category::Order));
        assert!(scope_categories("read_customers").contains(Category::Customer));
        assert!(scope_categories("Magento_Sales::actions_view").contains(Category::Order));
        assert!(scope_categories("read_products").is_empty());
    }
}
