//! The diff between two snapshots: principals added, removed, escalated or reduced.

use super::risk::expand;
use super::snapshot::Snapshot;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One change between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A principal appeared.
    Added {
        /// Its key.
        principal: String,
        /// Its grants.
        grants: BTreeSet<String>,
    },
    /// A principal disappeared.
    Removed {
        /// Its key.
        principal: String,
    },
    /// A principal gained grants.
    Escalated {
        /// Its key.
        principal: String,
        /// The new grants.
        added: BTreeSet<String>,
    },
    /// A principal lost grants.
    Reduced {
        /// Its key.
        principal: String,
        /// The grants gone.
        removed: BTreeSet<String>,
    },
}

/// What changed from `prev` to `next` (principal keys in order; escalation before reduction).
pub fn diff(prev: &Snapshot, next: &Snapshot) -> Vec<Change> {
    let (a, b) = (prev.index(), next.index());
    let mut changes = Vec::new();
    for (key, p) in &b {
        match a.get(key) {
            None => changes.push(Change::Added {
                principal: (*key).to_owned(),
                grants: p.grants.clone(),
            }),
            Some(old) => {
                let (old_g, new_g) = (
                    expand(next.platform, &old.grants),
                    expand(next.platform, &p.grants),
                );
                let added: BTreeSet<String> = new_g.difference(&old_g).cloned().collect();
                let removed: BTreeSet<String> = old_g.difference(&new_g).cloned().collect();
                let became_all = p.attr_bool("all_resources") && !old.attr_bool("all_resources");
                if !added.is_empty() || became_all {
                    let mut added = added;
                    if became_all {
                        added.insert("Magento_Backend::all".into());
                    }
                    changes.push(Change::Escalated {
                        principal: (*key).to_owned(),
                        added,
                    });
                }
                if !removed.is_empty() {
                    changes.push(Change::Reduced {
                        principal: (*key).to_owned(),
                        removed,
                    });
                }
            }
        }
    }
    for key in a.keys() {
        if !b.contains_key(key) {
            changes.push(Change::Removed {
                principal: (*key).to_owned(),
            });
        }
    }
    changes
}
