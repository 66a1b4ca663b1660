//! Bundles: a self-contained export of one chain, and its offline verification.
//!
//! An export signs a checkpoint of exactly the last entry it contains (when none covers it), so
//! a bundle is covered to its end. Offline verification trusts only the keys the verifier
//! names (a public key, or a key id looked up among the bundle's keys and checked against the
//! key's bytes): a bundle that brings its own key proves nothing on its own.

use base64::Engine as _;
use leakguard_domain::audit::{self as format, Bundle, ChainError, PublicKey, Verified};
use sea_orm::{DatabaseConnection, DbErr};
use std::str::FromStr;
use uuid::Uuid;

use super::checkpoint::{Signing, checkpoint_chain, sign_at};
use super::{Checkpointer, load_checkpoints, load_sealed, trusted_keys};
use crate::db::now_ms;

/// A key the verifier of a bundle trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedKey {
    /// The base64 Ed25519 public key itself.
    PublicKey(PublicKey),
    /// A key id (16 hex digits, `leakguard audit public-key`); the bundle must carry the key.
    KeyId(String),
}

impl FromStr for TrustedKey {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Self::KeyId(text.to_ascii_lowercase()));
        }
        let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                "expected a key id (16 hex digits) or a base64 Ed25519 public key".to_owned()
            })?;
        Ok(Self::PublicKey(PublicKey {
            key_id: format::key_id(&bytes),
            public_key: text.to_owned(),
        }))
    }
}

/// Verifies a bundle with the verifier's keys only, and requires every entry to be covered by
/// a checkpoint signed with one of them.
pub fn verify_bundle_trusting(
    bundle: &Bundle,
    trusted: &[TrustedKey],
) -> Result<Verified, ChainError> {
    if bundle.format != format::BUNDLE_FORMAT {
        return Err(ChainError::NotCanonical(format!(
            "unknown bundle format {:?}",
            bundle.format
        )));
    }
    let keys: Vec<PublicKey> = trusted
        .iter()
        .filter_map(|t| match t {
            TrustedKey::PublicKey(key) => Some(key.clone()),
            TrustedKey::KeyId(id) => bundle.public_keys.iter().find(|k| &k.key_id == id).cloned(),
        })
        .collect();
    let mut verified = format::verify_entries(bundle.chain, &bundle.entries)?;
    verified.checkpoints =
        format::verify_checkpoints(bundle.chain, &bundle.entries, &bundle.checkpoints, &keys)?;
    let covered = bundle.checkpoints.iter().map(|c| c.seq).max().unwrap_or(0);
    if covered < verified.entries {
        return Err(ChainError::Broken {
            seq: covered + 1,
            reason:
                "entries from here on are not covered by a checkpoint signed with an expected key"
                    .into(),
        });
    }
    Ok(verified)
}

/// Writes a self-contained, offline-verifiable bundle of one chain: its entries, the
/// checkpoints up to its last entry and the keys verification trusts.
pub async fn export_bundle(
    db: &DatabaseConnection,
    chain: Uuid,
    checkpointer: &Checkpointer,
) -> Result<Result<Bundle, ChainError>, DbErr> {
    if let Signing::Refused { seq, reason } =
        checkpoint_chain(db, checkpointer, chain, now_ms()).await?
    {
        return Ok(Err(ChainError::Broken { seq, reason }));
    }
    let entries = match load_sealed(db, chain).await? {
        Ok(e) => e,
        Err(e) => return Ok(Err(e)),
    };
    let last = entries.last().map(|e| (e.seq, e.hash.clone()));
    let mut checkpoints = load_checkpoints(db, chain).await?;
    if let Some((seq, hash)) = &last
        && !checkpoints.iter().any(|c| c.seq >= *seq)
    {
        // Entries appended after the checkpoint above; they are seconds old.
        sign_at(db, &checkpointer.signer, chain, *seq, hash, now_ms()).await?;
        checkpoints = load_checkpoints(db, chain).await?;
    }
    let end = last.as_ref().map_or(0, |(seq, _)| *seq);
    checkpoints.retain(|c| c.seq <= end);
    Ok(Ok(Bundle {
        format: format::BUNDLE_FORMAT.into(),
        chain,
        exported_at_ms: now_ms(),
        public_keys: trusted_keys(db, &checkpointer.signer.public_key()).await?,
        entries,
        checkpoints,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_key_is_a_key_id_or_a_public_key() {
        let signer = crate::crypto::AuditSigner::from_seed([7; 32]);
        let key = signer.public_key();
        assert_eq!(
            key.public_key.parse::<TrustedKey>().unwrap(),
            TrustedKey::PublicKey(key.clone())
        );
        assert_eq!(
            key.key_id.parse::<TrustedKey>().unwrap(),
            TrustedKey::KeyId(key.key_id.clone())
        );
        assert!("not a key".parse::<TrustedKey>().is_err());
    }
}
