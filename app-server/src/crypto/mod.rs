//! Key material: the master keys that encrypt secrets at rest (AES-256-GCM) and the Ed25519 key
//! that signs audit checkpoints.
//!
//! Keys come from the environment or from key files in the data directory; on a first start with
//! neither, key files are generated with mode 0600. Key bytes never appear in `Debug`, logs or
//! errors.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Settings;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Errors of key loading and of encryption.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A key is malformed; the message names where it came from, never its value.
    #[error("bad key in {0}: must be base64 of exactly 32 bytes")]
    BadKey(String),
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The ciphertext was made with a key this server does not have.
    #[error("secret was encrypted with unknown key id {0}")]
    UnknownKey(String),
    /// Authentication of the ciphertext failed (tampered, or bound to another row).
    #[error("secret failed to decrypt (tampered or moved)")]
    Decrypt,
}

/// One AES-256 key with its id.
#[derive(Clone)]
struct MasterKey {
    id: String,
    key: [u8; 32],
}

impl MasterKey {
    fn new(key: [u8; 32]) -> Self {
        let id = format!("mk_{}", hex::encode(&Sha256::digest(key)[..6]));
        Self { id, key }
    }
}

/// The master keys: the current one encrypts; every one decrypts.
#[derive(Clone)]
pub struct Keyring {
    current: MasterKey,
    older: Vec<MasterKey>,
    file: Option<PathBuf>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field("older", &self.older.len())
            .finish_non_exhaustive()
    }
}

/// A sealed secret as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Id of the key that sealed it.
    pub key_id: String,
    /// 12-byte nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

fn decode_key(text: &str, origin: &str) -> Result<[u8; 32], CryptoError> {
    B64.decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| CryptoError::BadKey(origin.to_owned()))
}

fn random_key() -> [u8; 32] {
    rand::random()
}

/// Creates a directory and any missing parents with mode 0700 (owner only), whatever the
/// umask. An existing directory is left as it is; see [`restrict_to_owner`].
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    restrict_to_owner(dir)
}

/// Sets a path's mode to owner-only: 0700 for a directory, 0600 for a file (no-op off Unix).
pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Makes an existing key file owner-only (0600) if it was readable by others; a failure (a key
/// file owned by someone else) is logged, not fatal.
fn tighten_key_file(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let loose = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0);
        if loose && let Err(e) = restrict_to_owner(path) {
            tracing::warn!(path = %path.display(), error = %e, "A key file is readable by others and could not be made owner-only.");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Writes a file with mode 0600 atomically (temp file, fsync, rename), whatever the umask; a
/// missing directory is created 0700.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), CryptoError> {
    let io = |source| CryptoError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        // The mode above is filtered by the umask and ignored for a left-over temp file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
        file.write_all(contents).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

impl Keyring {
    /// Loads the keyring from the settings; generates a key file on a first start.
    pub fn load(settings: &Settings) -> Result<Self, CryptoError> {
        let file = settings
            .master_key_file
            .clone()
            .unwrap_or_else(|| settings.data_dir.join("master.key"));
        let mut older = Vec::new();
        if let Some(prev) = &settings.previous_master_keys {
            for (i, part) in prev.expose_secret().split(',').enumerate() {
                if !part.trim().is_empty() {
                    older.push(MasterKey::new(decode_key(
                        part,
                        &format!("LEAKGUARD_PREVIOUS_MASTER_KEYS[{i}]"),
                    )?));
                }
            }
        }
        if let Some(env_key) = &settings.master_key {
            let current =
                MasterKey::new(decode_key(env_key.expose_secret(), "LEAKGUARD_MASTER_KEY")?);
            return Ok(Self {
                current,
                older,
                file: None,
            });
        }
        let io = |source| CryptoError::KeyFile {
            path: file.clone(),
            source,
        };
        if !file.exists() {
            let key = random_key();
            write_private_file(&file, format!("{}\n", B64.encode(key)).as_bytes())?;
            tracing::warn!(
                path = %file.display(),
                "No master key was configured; generated a key file. Back it up: secrets cannot be decrypted without it."
            );
        }
        tighten_key_file(&file);
        let text = std::fs::read_to_string(&file).map_err(io)?;
        let mut keys = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                decode_key(line, &format!("{} line {}", file.display(), i + 1)).map(MasterKey::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(CryptoError::BadKey(file.display().to_string()));
        }
        let current = keys.remove(0);
        older.extend(keys);
        Ok(Self {
            current,
            older,
            file: Some(file),
        })
    }

    /// A keyring of one given key (tests, tools).
    pub fn from_key(key: [u8; 32]) -> Self {
        Self {
            current: MasterKey::new(key),
            older: Vec::new(),
            file: None,
        }
    }

    /// Id of the key that encrypts new secrets.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts `plaintext`, bound to `aad` (the row it belongs to).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, CryptoError> {
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(self.current.key));
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(Sealed {
            key_id: self.current.id.clone(),
            nonce: nonce_bytes.to_vec(),
            ciphertext,
        })
    }

    /// Decrypts a sealed secret with whichever key sealed it.
    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = std::iter::once(&self.current)
            .chain(self.older.iter())
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        let nonce_bytes: [u8; 12] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Decrypt)?;
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key.key));
        cipher
            .decrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }

    /// Starts a rotation: a new current key; the old ones stay for decryption. With a key file
    /// the new key is written first in the file (the old ones after it) before anything is
    /// re-encrypted, so a crash mid-rotation loses nothing. With an environment key, the operator
    /// sets the new `LEAKGUARD_MASTER_KEY` and lists the old one in
    /// `LEAKGUARD_PREVIOUS_MASTER_KEYS`; this returns the keyring unchanged.
    pub fn rotate(&self) -> Result<Self, CryptoError> {
        let Some(file) = &self.file else {
            return Ok(self.clone());
        };
        let mut next = Self {
            current: MasterKey::new(random_key()),
            older: Vec::new(),
            file: Some(file.clone()),
        };
        next.older.push(self.current.clone());
        next.older.extend(self.older.iter().cloned());
        next.write_file()?;
        Ok(next)
    }

    /// Drops every key but the current one from the key file (after all secrets were
    /// re-encrypted).
    pub fn prune(&self) -> Result<Self, CryptoError> {
        let next = Self {
            current: self.current.clone(),
            older: Vec::new(),
            file: self.file.clone(),
        };
        if next.file.is_some() {
            next.write_file()?;
        }
        Ok(next)
    }

    fn write_file(&self) -> Result<(), CryptoError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut text = String::new();
        for key in std::iter::once(&self.current).chain(self.older.iter()) {
            text.push_str(&B64.encode(key.key));
            text.push('\n');
        }
        write_private_file(file, text.as_bytes())
    }
}

/// The Ed25519 key that signs audit checkpoints.
#[derive(Clone)]
pub struct AuditSigner {
    key: SigningKey,
    key_id: String,
}

impl fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl AuditSigner {
    /// Loads the signing key file, generating it (mode 0600) on a first start.
    pub fn load(settings: &Settings) -> Result<Self, CryptoError> {
        let file = settings
            .signing_key_file
            .clone()
            .unwrap_or_else(|| settings.data_dir.join("audit-signing.key"));
        if !file.exists() {
            let seed = random_key();
            write_private_file(&file, format!("{}\n", B64.encode(seed)).as_bytes())?;
            tracing::warn!(
                path = %file.display(),
                "No audit signing key was configured; generated one. Publish its public key to those who verify exports."
            );
        }
        tighten_key_file(&file);
        let text = std::fs::read_to_string(&file).map_err(|source| CryptoError::KeyFile {
            path: file.clone(),
            source,
        })?;
        let seed = decode_key(&text, &file.display().to_string())?;
        Ok(Self::from_seed(seed))
    }

    /// A signer from a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let key_id = leakguard_domain::audit::key_id(&key.verifying_key().to_bytes());
        Self { key, key_id }
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key as published in bundles.
    pub fn public_key(&self) -> leakguard_domain::audit::PublicKey {
        leakguard_domain::audit::PublicKey {
            key_id: self.key_id.clone(),
            public_key: B64.encode(self.key.verifying_key().to_bytes()),
        }
    }

    /// Signs a message; base64 signature.
    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message).to_bytes())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_row_binding() {
        let ring = Keyring::from_key([1u8; 32]);
        let sealed = ring
            .seal(b"shpat_secret", b"tenant-a/shopify.token")
            .unwrap();
        assert_eq!(
            ring.open(&sealed, b"tenant-a/shopify.token").unwrap(),
            b"shpat_secret"
        );
        assert!(matches!(
            ring.open(&sealed, b"tenant-b/shopify.token"),
            Err(CryptoError::Decrypt)
        ));
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(ring.open(&tampered, b"tenant-a/shopify.token").is_err());
    }

    #[test]
    fn a_first_start_generates_private_key_files_and_rotation_keeps_old_secrets_readable() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let ring = Keyring::load(&settings).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = ring.seal(b"v", b"aad").unwrap();
        let rotated = ring.rotate().unwrap();
        assert_ne!(rotated.current_key_id(), ring.current_key_id());
        let reloaded = Keyring::load(&settings).unwrap();
        assert_eq!(reloaded.current_key_id(), rotated.current_key_id());
        assert_eq!(reloaded.open(&sealed, b"aad").unwrap(), b"v");
        let pruned = reloaded.prune().unwrap();
        assert!(pruned.open(&sealed, b"aad").is_err());
        assert!(!format!("{pruned:?}").contains(&B64.encode([1u8; 32])));
    }

    #[test]
    fn a_malformed_env_key_is_named_without_its_value() {
        let settings = Settings {
            master_key: Some("dG9vLXNob3J0".into()),
            ..Settings::default()
        };
        let err = Keyring::load(&settings).unwrap_err().to_string();
        assert!(err.contains("LEAKGUARD_MASTER_KEY"));
        assert!(!err.contains("dG9vLXNob3J0"));
    }
}
