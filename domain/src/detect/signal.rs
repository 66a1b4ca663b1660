//! The normalized signal: one unit of observed activity by one principal.
//!
//! Owns the principal identity (`Identity` as the sources name it, `PrincipalKey` as the
//! engine keys it), the data categories and the signal kinds. It must not know any source
//! format; `normalize` maps sources onto these types.

use serde::{Deserialize, Serialize};

use crate::agent_wire::Principal;

/// A data category of personal data the engine tracks volumes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Customer identity (`customer_entity`, `customer_grid_flat`, Shopify customers).
    Customer,
    /// Postal addresses (`customer_address_entity`, `sales_order_address`).
    Address,
    /// Orders (`sales_order`, order grids, Shopify orders).
    Order,
    /// Payment data (`sales_order_payment`, vault tokens).
    Payment,
    /// Credentials and secrets (`admin_user`, `oauth_token`, `core_config_data`).
    Credentials,
}

impl Category {
    /// Every category, in bit order.
    pub const ALL: [Category; 5] = [
        Category::Customer,
        Category::Address,
        Category::Order,
        Category::Payment,
        Category::Credentials,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Customer => "customer",
            Category::Address => "address",
            Category::Order => "order",
            Category::Payment => "payment",
            Category::Credentials => "credentials",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of categories as a bit mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategorySet(pub u8);

impl CategorySet {
    /// The empty set.
    pub const EMPTY: CategorySet = CategorySet(0);

    /// The set holding one category.
    pub fn of(category: Category) -> Self {
        CategorySet(category.bit())
    }

    /// Adds a category.
    pub fn insert(&mut self, category: Category) {
        self.0 |= category.bit();
    }

    /// Whether the set holds `category`.
    pub fn contains(self, category: Category) -> bool {
        self.0 & category.bit() != 0
    }

    /// Union of two sets.
    pub fn union(self, other: CategorySet) -> CategorySet {
        CategorySet(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 & 0x1f == 0
    }

    /// Whether the set holds personal data of customers (anything but credentials).
    pub fn has_personal_data(self) -> bool {
        self.0 & 0x0f != 0
    }

    /// The categories in bit order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// The names in bit order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Category::as_str).collect()
    }
}

/// Who did something, with the fields the source gave (printed back in alerts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    /// Database account name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_user: Option<String>,
    /// Host the database account connected from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_host: Option<String>,
    /// Magento `admin_user.user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_user_id: Option<String>,
    /// Magento admin login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_username: Option<String>,
    /// Magento integration id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// Shopify app (API client) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopify_app_id: Option<String>,
    /// Shopify staff member id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopify_staff_id: Option<String>,
    /// Client IP, only when nothing else names the actor (failed logins, REST clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

impl From<&Principal> for Identity {
    fn from(principal: &Principal) -> Self {
        Identity {
            db_user: principal.db_user.clone(),
            db_host: principal.db_host.clone(),
            admin_user_id: principal.admin_user_id.clone(),
            admin_username: principal.admin_username.clone(),
            integration_id: principal.integration_id.clone(),
            ..Identity::default()
        }
    }
}

impl Identity {
    /// The key the engine keeps state under. Admin and integration tags win over the
    /// database account, because the account is shared by the whole application.
    pub fn key(&self) -> PrincipalKey {
        if let Some(id) = &self.admin_user_id {
            PrincipalKey::Admin(id.clone())
        } else if let Some(id) = &self.integration_id {
            PrincipalKey::Integration(id.clone())
        } else if let Some(id) = &self.shopify_app_id {
            PrincipalKey::ShopifyApp(id.clone())
        } else if let Some(id) = &self.shopify_staff_id {
            PrincipalKey::ShopifyStaff(id.clone())
        } else if let Some(user) = &self.db_user {
            PrincipalKey::DbAccount(user.clone(), self.db_host.clone().unwrap_or_default())
        } else if let Some(name) = &self.admin_username {
            PrincipalKey::AdminName(name.clone())
        } else if let Some(ip) = &self.ip {
            PrincipalKey::Client(ip.clone())
        } else {
            PrincipalKey::Unknown
        }
    }

    /// A short human name: `admin 7 (jdoe)`, `db user backup@10.0.0.9`, `integration 3`.
    pub fn describe(&self) -> String {
        match self.key() {
            PrincipalKey::Admin(id) => match &self.admin_username {
                Some(name) => format!("admin {id} ({name})"),
                None => format!("admin {id}"),
            },
            PrincipalKey::AdminName(name) => format!("admin {name}"),
            PrincipalKey::Integration(id) => format!("integration {id}"),
            PrincipalKey::ShopifyApp(id) => format!("Shopify app {id}"),
            PrincipalKey::ShopifyStaff(id) => format!("Shopify staff {id}"),
            PrincipalKey::DbAccount(user, host) if host.is_empty() => format!("db user {user}"),
            PrincipalKey::DbAccount(user, host) => format!("db user {user}@{host}"),
            PrincipalKey::Client(ip) => format!("client {ip}"),
            PrincipalKey::Unknown => "an unidentified principal".to_owned(),
        }
    }
}

/// The identity the engine keeps baselines for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum PrincipalKey {
    /// A Magento admin user by id.
    Admin(String),
    /// A Magento admin known only by login name.
    AdminName(String),
    /// A Magento integration.
    Integration(String),
    /// A Shopify app.
    ShopifyApp(String),
    /// A Shopify staff member.
    ShopifyStaff(String),
    /// A database account (user, host) whose statements carry no application tag.
    DbAccount(String, String),
    /// A network client known only by IP.
    Client(String),
    /// Nothing named the actor.
    Unknown,
}

/// What a signal reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// SQL statements touching tables; `count` statements, `rows` rows returned when known.
    SqlAccess,
    /// A whole-table dump statement (mysqldump).
    Dump,
    /// `SELECT … INTO OUTFILE|DUMPFILE`.
    IntoOutfile,
    /// Database logging switched off.
    LoggingDisabled,
    /// An admin export (grid, Data Transfer, report, download, export file); `count` records.
    Export,
    /// An admin opened records; `count` records.
    RecordView,
    /// REST or Admin API reads by an integration, app or client; `count` requests, `rows` records.
    ApiRead,
    /// A Shopify bulk operation finished; `rows` objects.
    BulkOperation,
    /// Scopes or ACL resources granted to an app or integration (in `scopes_added`).
    ScopeGrant,
    /// A failed admin login.
    LoginFailure,
    /// A successful admin login.
    LoginSuccess,
}

/// One normalized observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Position in the input (evidence reference).
    pub id: u64,
    /// Unix time in seconds, UTC.
    pub at: i64,
    /// Who.
    pub identity: Identity,
    /// What.
    pub kind: SignalKind,
    /// Data categories touched.
    pub categories: CategorySet,
    /// Tables or resources touched (bare names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// Number of statements, requests, events or records (see `kind`).
    pub count: u64,
    /// Rows or records returned, when the source knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Client IP, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Scopes newly granted (for `ScopeGrant`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_added: Vec<String>,
}

impl Signal {
    /// The volume the signal adds: rows when known, else the count.
    pub fn volume(&self) -> u64 {
        self.rows.unwrap_or(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_tag_wins_over_the_database_account() {
        let identity = Identity {
            db_user: Some("magento".into()),
            admin_user_id: Some("7".into()),
            ..Identity::default()
        };
        assert_eq!(identity.key(), PrincipalKey::Admin("7".into()));
        assert_eq!(identity.describe(), "admin 7");
    }

    #[test]
    fn a_category_set_lists_its_names_in_order() {
        let mut set = CategorySet::of(Category::Payment);
        set.insert(Category::Customer);
        assert_eq!(set.names(), vec!["customer", "payment"]);
        assert!(set.has_personal_data());
        assert!(!CategorySet::of(Category::Credentials).has_personal_data());
    }
}
