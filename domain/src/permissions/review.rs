//! A tenant admin's decisions on findings and the state they give: an accepted risk re-opens
//! when it expires or when the finding's grants change.

use super::findings::Finding;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// A hash of a grant set, to tell whether an accepted risk still covers the same grants.
pub fn grants_hash(grants: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    for g in grants {
        h.update(g.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

/// A tenant admin's decision on a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Seen; stays listed as acknowledged.
    Acknowledge,
    /// Accepted until `until_ms`, for the grants seen at acceptance.
    AcceptRisk {
        /// Why (required).
        justification: String,
        /// Expiry, Unix ms.
        until_ms: i64,
        /// [`grants_hash`] of the finding's grants when accepted.
        grants_hash: String,
    },
    /// To be revoked (becomes a ticket).
    MarkForRevocation,
}

/// The state a finding shows in the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingState {
    /// Needs review.
    Open,
    /// Acknowledged.
    Acknowledged,
    /// Risk accepted and still valid.
    RiskAccepted,
    /// Marked for revocation.
    RevocationRequested,
}

/// The state of a finding given its last decision: an accepted risk re-opens when it expires or
/// when the finding's grants are no longer the ones accepted (the grant grew or changed).
pub fn state(decision: Option<&Decision>, finding: &Finding, now_ms: i64) -> FindingState {
    match decision {
        None => FindingState::Open,
        Some(Decision::Acknowledge) => FindingState::Acknowledged,
        Some(Decision::MarkForRevocation) => FindingState::RevocationRequested,
        Some(Decision::AcceptRisk {
            until_ms,
            grants_hash: accepted,
            ..
        }) => {
            if now_ms >= *until_ms || *accepted != grants_hash(&finding.grants) {
                FindingState::Open
            } else {
                FindingState::RiskAccepted
            }
        }
    }
}
