//! The audit chain's wire form: canonical entry bytes, leaf hashes, checkpoint messages, and the
//! verification that both the server (`leakguard audit verify`) and an offline third party (an
//! exported bundle) run.
//!
//! Owns the format only. It must not read a database or a file: callers hand it entries.
//!
//! Format (version 1):
//! - An entry is a JSON object `{"v":1,"chain":…,"seq":…,"ts":…,"actor":{"type","id"},
//!   "action":…,"subject":{"type","id"},"details":{…},"prev":…}` encoded canonically: keys
//!   sorted by their UTF-16 code units, no insignificant white space, strings escaped as
//!   RFC 8785 (JCS) requires, integers only (no floating point numbers).
//! - `leaf = SHA-256(0x00 || canonical bytes)`, written as lowercase hex; `prev` is the leaf of
//!   the previous entry of the same chain, 64 zeros for the first (seq 1).
//! - A checkpoint signs, with Ed25519, the text
//!   `"leakguard-audit-checkpoint/v1\n{chain}\n{seq}\n{leaf hex}\n{unix ms}\n"`.
//! - A key id is the lowercase hex of the first 8 bytes of SHA-256 of the 32-byte public key.

use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use uuid::Uuid;

/// Version of the entry format.
pub const ENTRY_VERSION: i64 = 1;
/// `prev` of the first entry of a chain.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Format name of an exported bundle.
pub const BUNDLE_FORMAT: &str = "leakguard-audit-bundle/v1";

/// Who did it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `user`, `system`, `shopify`, `magento_module`, `agent`, `operator`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The actor's id within its kind (never a secret, never personal data).
    pub id: String,
}

impl Actor {
    /// An actor of the given kind and id.
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }

    /// The server itself (jobs, webhook processing).
    pub fn system(component: &str) -> Self {
        Self::new("system", component)
    }
}

/// What it was done to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Kind of object: `tenant`, `user`, `secret`, `webhook`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The object's id.
    pub id: String,
}

impl Subject {
    /// A subject of the given kind and id.
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

/// One entry of a chain, as its fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The chain: a tenant id, or the nil UUID for the platform chain.
    pub chain: Uuid,
    /// 1-based, gapless within the chain.
    pub seq: i64,
    /// Server time of the change, Unix milliseconds.
    pub ts_ms: i64,
    /// Who.
    pub actor: Actor,
    /// Dotted action name, e.g. `tenant.created`.
    pub action: String,
    /// The object.
    pub subject: Subject,
    /// Details (no raw personal data, no secrets). Integers, strings, booleans, null, arrays and
    /// objects only.
    pub details: Value,
    /// Leaf hash of the previous entry.
    pub prev: String,
}

/// Why an entry or a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A value cannot be encoded canonically.
    #[error("value cannot be encoded canonically: {0}")]
    NotCanonical(String),
    /// The chain is broken at this sequence number.
    #[error("audit chain broken at seq {seq}: {reason}")]
    Broken {
        /// First bad sequence number.
        seq: i64,
        /// What is wrong there.
        reason: String,
    },
    /// A checkpoint does not verify.
    #[error("checkpoint at seq {seq} does not verify: {reason}")]
    Checkpoint {
        /// The checkpoint's sequence number.
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
}

impl Entry {
    /// The entry as a JSON value (before canonical encoding).
    pub fn to_value(&self) -> Value {
        serde_json::json!({
            "v": ENTRY_VERSION,
            "chain": self.chain.to_string(),
            "seq": self.seq,
            "ts": format_ts(self.ts_ms),
            "actor": {"type": self.actor.kind, "id": self.actor.id},
            "action": self.action,
            "subject": {"type": self.subject.kind, "id": self.subject.id},
            "details": self.details,
            "prev": self.prev,
        })
    }

    /// Canonical bytes of the entry.
    pub fn canonical(&self) -> Result<String, ChainError> {
        canonical_json(&self.to_value())
    }
}

/// RFC 3339 UTC text with milliseconds, e.g. `2026-11-28T10:22:40.123Z`.
pub fn format_ts(ts_ms: i64) -> String {
    let nanos = i128::from(ts_ms) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => format!("invalid:{ts_ms}"),
    }
}

/// Encodes a JSON value canonically (RFC 8785 for the subset without floating point numbers).
pub fn canonical_json(value: &Value) -> Result<String, ChainError> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<(), ChainError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                return Err(ChainError::NotCanonical(format!(
                    "floating point number {n} (store it as a string)"
                )));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // RFC 8785 orders keys by their UTF-16 code units.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                if let Some(v) = map.get(key.as_str()) {
                    write_canonical(v, out)?;
                }
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `SHA-256(0x00 || canonical)` as lowercase hex.
pub fn leaf_hash(canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

/// The text a checkpoint signs.
pub fn checkpoint_message(chain: Uuid, seq: i64, leaf_hex: &str, ts_ms: i64) -> String {
    format!("leakguard-audit-checkpoint/v1\n{chain}\n{seq}\n{leaf_hex}\n{ts_ms}\n")
}

/// Key id of an Ed25519 public key.
pub fn key_id(public_key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// An entry as stored or exported: the canonical text and its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedEntry {
    /// Sequence number as recorded beside the entry.
    pub seq: i64,
    /// Leaf hash as recorded beside the entry.
    pub hash: String,
    /// Canonical entry text.
    pub canonical: String,
}

/// A signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Sequence number it covers (the chain's head at that time).
    pub seq: i64,
    /// Leaf hash of the entry at `seq`.
    pub hash: String,
    /// Unix milliseconds when it was signed.
    pub ts_ms: i64,
    /// Key id of the signing key.
    pub key_id: String,
    /// Base64 (standard, padded) Ed25519 signature over [`checkpoint_message`].
    pub signature: String,
}

/// A public key that signed checkpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    /// Key id ([`key_id`]).
    pub key_id: String,
    /// Base64 (standard, padded) of the 32-byte Ed25519 public key.
    pub public_key: String,
}

/// Self-contained export of one chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The chain (tenant id, or nil for the platform).
    pub chain: Uuid,
    /// When the bundle was written, Unix milliseconds.
    pub exported_at_ms: i64,
    /// Keys that signed the checkpoints.
    pub public_keys: Vec<PublicKey>,
    /// Every entry from seq 1, in order.
    pub entries: Vec<SealedEntry>,
    /// Every checkpoint, in order.
    pub checkpoints: Vec<Checkpoint>,
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Number of entries checked.
    pub entries: i64,
    /// Leaf hash of the last entry (the head).
    pub head: String,
    /// Number of checkpoints whose signature verified.
    pub checkpoints: usize,
}

/// Checks a chain's entries in order: gapless seq from 1, canonical text, the recorded hash,
/// the `prev` link and the chain id. Returns the first bad seq.
pub fn verify_entries<'a>(
    chain: Uuid,
    entries: impl IntoIterator<Item = &'a SealedEntry>,
) -> Result<Verified, ChainError> {
    let mut expected_seq = 1i64;
    let mut prev = GENESIS_PREV.to_owned();
    for entry in entries {
        let broken = |reason: String| ChainError::Broken {
            seq: expected_seq,
            reason,
        };
        if entry.seq != expected_seq {
            return Err(broken(format!(
                "expected seq {expected_seq}, found seq {}",
                entry.seq
            )));
        }
        let value: Value = serde_json::from_str(&entry.canonical)
            .map_err(|e| broken(format!("entry is not JSON: {e}")))?;
        let recanonical = canonical_json(&value).map_err(|e| broken(e.to_string()))?;
        if recanonical != entry.canonical {
            return Err(broken("entry text is not canonical".into()));
        }
        let leaf = leaf_hash(&entry.canonical);
        if leaf != entry.hash {
            return Err(broken("entry hash does not match its content".into()));
        }
        let field_seq = value.get("seq").and_then(Value::as_i64);
        if field_seq != Some(entry.seq) {
            return Err(broken(
                "seq inside the entry differs from its position".into(),
            ));
        }
        let field_chain = value.get("chain").and_then(Value::as_str);
        if field_chain != Some(chain.to_string().as_str()) {
            return Err(broken("entry belongs to another chain".into()));
        }
        if value.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            return Err(broken(
                "prev does not match the previous entry's hash".into(),
            ));
        }
        prev = leaf;
        expected_seq += 1;
    }
    Ok(Verified {
        entries: expected_seq - 1,
        head: prev,
        checkpoints: 0,
    })
}

/// Verifies one checkpoint's signature with the given keys.
pub fn verify_checkpoint_signature(
    chain: Uuid,
    checkpoint: &Checkpoint,
    keys: &[PublicKey],
) -> Result<(), ChainError> {
    let fail = |reason: &str| ChainError::Checkpoint {
        seq: checkpoint.seq,
        reason: reason.to_owned(),
    };
    let key = keys
        .iter()
        .find(|k| k.key_id == checkpoint.key_id)
        .ok_or_else(|| fail("signed by an unknown key"))?;
    let engine = base64::engine::general_purpose::STANDARD;
    let key_bytes: [u8; 32] = engine
        .decode(&key.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| fail("public key is not 32 bytes of base64"))?;
    if key_id(&key_bytes) != key.key_id {
        return Err(fail("public key does not match its key id"));
    }
    let verifying = VerifyingKey::from_bytes(&key_bytes).map_err(|_| fail("bad public key"))?;
    let sig_bytes: [u8; 64] = engine
        .decode(&checkpoint.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| fail("signature is not 64 bytes of base64"))?;
    let signature = Signature::from_bytes(&sig_bytes);
    let message = checkpoint_message(chain, checkpoint.seq, &checkpoint.hash, checkpoint.ts_ms);
    verifying
        .verify_strict(message.as_bytes(), &signature)
        .map_err(|_| fail("signature does not verify"))
}

/// Checks checkpoints against verified entries: each signature, each hash equal to the entry's
/// at that seq, and no checkpoint beyond the last entry (a truncated tail).
pub fn verify_checkpoints(
    chain: Uuid,
    entries: &[SealedEntry],
    checkpoints: &[Checkpoint],
    keys: &[PublicKey],
) -> Result<usize, ChainError> {
    for checkpoint in checkpoints {
        verify_checkpoint_signature(chain, checkpoint, keys)?;
        let index = usize::try_from(checkpoint.seq - 1).map_err(|_| ChainError::Checkpoint {
            seq: checkpoint.seq,
            reason: "seq out of range".into(),
        })?;
        match entries.get(index) {
            None => {
                return Err(ChainError::Broken {
                    seq: i64::try_from(entries.len()).unwrap_or(i64::MAX) + 1,
                    reason: format!(
                        "entries end before signed checkpoint seq {} (tail removed)",
                        checkpoint.seq
                    ),
                });
            }
            Some(entry) if entry.hash != checkpoint.hash => {
                return Err(ChainError::Broken {
                    seq: checkpoint.seq,
                    reason: "entry differs from the signed checkpoint".into(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(checkpoints.len())
}

/// Verifies a whole exported bundle without any other input.
pub fn verify_bundle(bundle: &Bundle) -> Result<Verified, ChainError> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(ChainError::NotCanonical(format!(
            "unknown bundle format {:?}",
            bundle.format
        )));
    }
    let mut verified = verify_entries(bundle.chain, &bundle.entries)?;
    verified.checkpoints = verify_checkpoints(
        bundle.chain,
        &bundle.entries,
        &bundle.checkpoints,
        &bundle.public_keys,
    )?;
    Ok(verified)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn chain_of(n: i64, chain: Uuid) -> Vec<SealedEntry> {
        let mut prev = GENESIS_PREV.to_owned();
        (1..=n)
            .map(|seq| {
                let entry = Entry {
                    chain,
                    seq,
                    ts_ms: 1_764_000_000_000 + seq,
                    actor: Actor::new("user", "u1"),
                    action: "tenant.created".into(),
                    subject: Subject::new("tenant", "t1"),
                    details: serde_json::json!({"b": 1, "a": ["x", true, null]}),
                    prev: prev.clone(),
                };
                let canonical = entry.canonical().unwrap();
                let hash = leaf_hash(&canonical);
                prev = hash.clone();
                SealedEntry {
                    seq,
                    hash,
                    canonical,
                }
            })
            .collect()
    }

    #[test]
    fn canonical_json_sorts_keys_and_escapes_like_rfc_8785() {
        let v = serde_json::json!({"b": "\u{1}\n\"é", "a": {"d": 1, "c": -2}, "€": true});
        assert_eq!(
            canonical_json(&v).unwrap(),
            r#"{"a":{"c":-2,"d":1},"b":"\u0001\n\"é","€":true}"#
        );
    }

    #[test]
    fn floating_point_numbers_are_refused() {
        assert!(canonical_json(&serde_json::json!({"x": 1.5})).is_err());
    }

    #[test]
    fn a_known_entry_has_a_fixed_leaf_hash() {
        // Golden vector: changing the format silently would break every exported bundle.
        let entry = Entry {
            chain: Uuid::nil(),
            seq: 1,
            ts_ms: 0,
            actor: Actor::new("operator", "cli"),
            action: "tenant.created".into(),
            subject: Subject::new("tenant", "t"),
            details: serde_json::json!({}),
            prev: GENESIS_PREV.into(),
        };
        let canonical = entry.canonical().unwrap();
        assert_eq!(
            canonical,
            r#"{"action":"tenant.created","actor":{"id":"cli","type":"operator"},"chain":"00000000-0000-0000-0000-000000000000","details":{},"prev":"0000000000000000000000000000000000000000000000000000000000000000","seq":1,"subject":{"id":"t","type":"tenant"},"ts":"1970-01-01T00:00:00.000Z","v":1}"#
        );
        let mut hasher = Sha256::new();
        hasher.update([0u8]);
        hasher.update(canonical.as_bytes());
        assert_eq!(leaf_hash(&canonical), hex::encode(hasher.finalize()));
    }

    #[test]
    fn an_intact_chain_verifies() {
        let chain = Uuid::now_v7();
        let entries = chain_of(5, chain);
        let verified = verify_entries(chain, &entries).unwrap();
        assert_eq!(verified.entries, 5);
        assert_eq!(verified.head, entries[4].hash);
    }

    #[test]
    fn each_kind_of_tampering_names_the_first_bad_seq() {
        let chain = Uuid::now_v7();
        let entries = chain_of(6, chain);
        let first_bad = |e: &[SealedEntry]| match verify_entries(chain, e) {
            Err(ChainError::Broken { seq, .. }) => seq,
            other => panic!("expected a broken chain, got {other:?}"),
        };

        let mut edited = entries.clone();
        edited[2].canonical = edited[2]
            .canonical
            .replace("tenant.created", "tenant.deleted");
        assert_eq!(first_bad(&edited), 3);

        let mut rehashed = edited.clone();
        rehashed[2].hash = leaf_hash(&rehashed[2].canonical);
        assert_eq!(
            first_bad(&rehashed),
            4,
            "a re-hashed edit breaks the next link"
        );

        let mut deleted = entries.clone();
        deleted.remove(3);
        assert_eq!(first_bad(&deleted), 4);

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert_eq!(first_bad(&reordered), 2);

        let other_chain = chain_of(6, Uuid::now_v7());
        assert_eq!(first_bad(&other_chain), 1);
    }

    #[test]
    fn a_bundle_with_signed_checkpoints_verifies_and_a_truncated_one_does_not() {
        let chain = Uuid::now_v7();
        let entries = chain_of(4, chain);
        let signing = SigningKey::from_bytes(&[7u8; 32]);
        let public = signing.verifying_key().to_bytes();
        let engine = base64::engine::general_purpose::STANDARD;
        let sign = |seq: i64| {
            let hash = entries[(seq - 1) as usize].hash.clone();
            let sig = signing.sign(checkpoint_message(chain, seq, &hash, 99).as_bytes());
            Checkpoint {
                seq,
                hash,
                ts_ms: 99,
                key_id: key_id(&public),
                signature: engine.encode(sig.to_bytes()),
            }
        };
        let bundle = Bundle {
            format: BUNDLE_FORMAT.into(),
            chain,
            exported_at_ms: 100,
            public_keys: vec![PublicKey {
                key_id: key_id(&public),
                public_key: engine.encode(public),
            }],
            entries: entries.clone(),
            checkpoints: vec![sign(2), sign(4)],
        };
        assert_eq!(verify_bundle(&bundle).unwrap().checkpoints, 2);

        let mut truncated = bundle.clone();
        truncated.entries.pop();
        assert!(matches!(
            verify_bundle(&truncated),
            Err(ChainError::Broken { seq: 4, .. })
        ));

        let mut forged = bundle.clone();
        forged.checkpoints[0].ts_ms = 100;
        assert!(matches!(
            verify_bundle(&forged),
            Err(ChainError::Checkpoint { seq: 2, .. })
        ));
    }
}
