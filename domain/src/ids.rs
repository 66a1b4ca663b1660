//! Typed ids. Every id is a UUIDv7 (time-ordered) behind a newtype, so a tenant id can never be
//! passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

define_id!(
    /// One shop (Shopify) or one Magento installation.
    TenantId
);
define_id!(
    /// A person inside a tenant (owner, admin, legal, analyst, viewer).
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = TenantId::new();
        let parsed: TenantId = id.to_string().parse().unwrap_or_default();
        assert_eq!(parsed, id);
    }

    #[test]
    fn new_ids_are_time_ordered_uuid_v7() {
        // Generate until the ids span several milliseconds, so both the timestamp part and the
        // order within one millisecond are exercised.
        let start = std::time::Instant::now();
        let mut generated = Vec::new();
        while start.elapsed() < std::time::Duration::from_millis(5) || generated.len() < 1000 {
            generated.push(UserId::new());
        }
        let millis: std::collections::BTreeSet<u64> = generated
            .iter()
            .filter_map(|id| id.as_uuid().get_timestamp())
            .map(|ts| {
                let (secs, nanos) = ts.to_unix();
                secs * 1000 + u64::from(nanos) / 1_000_000
            })
            .collect();
        assert!(millis.len() >= 3, "ids span {} milliseconds", millis.len());
        assert!(
            generated
                .iter()
                .all(|id| id.as_uuid().get_version_num() == 7),
            "every id is a UUIDv7"
        );
        let mut sorted = generated.clone();
        sorted.sort();
        assert_eq!(sorted, generated, "ids sort in the order they were made");
        let distinct: std::collections::HashSet<_> = generated.iter().collect();
        assert_eq!(distinct.len(), generated.len(), "no id repeats");
    }
}
