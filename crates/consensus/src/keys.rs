//! Validator consensus keys (ed25519): generation, key files and hex forms for the chain spec.

use commonware_codec::{DecodeExt, Encode};
use commonware_cryptography::{
    ed25519::{PrivateKey, PublicKey},
    Signer as _,
};
use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a key cannot be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a validator key.
    #[error("{path}: not a validator key file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A hex public key does not decode.
    #[error("not an ed25519 public key in hex: {0}")]
    PublicKey(String),
    /// Refusing to replace an existing key file; nothing was written.
    #[error("{path} already exists")]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
}

/// A validator's consensus key pair.
#[derive(Clone, Debug)]
pub struct ValidatorKey {
    private: PrivateKey,
}

/// The key file's JSON form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    /// Always "ed25519".
    scheme: String,
    /// Public key, hex.
    public_key: String,
    /// Private key (seed), hex.
    private_key: String,
}

impl ValidatorKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut seed);
        // Every 32 bytes are a valid ed25519 seed; the fallback is unreachable but keeps this
        // total without a panic path.
        let private = PrivateKey::decode(seed.to_vec()).unwrap_or_else(|_| {
            let mut low = [0u8; 8];
            rand_core::OsRng.fill_bytes(&mut low);
            PrivateKey::from_seed(u64::from_le_bytes(low))
        });
        Self { private }
    }

    /// A key derived from `seed` (dev chains and tests; anyone can derive it).
    pub fn from_seed(seed: u64) -> Self {
        Self {
            private: PrivateKey::from_seed(seed),
        }
    }

    /// The private key.
    pub fn private(&self) -> &PrivateKey {
        &self.private
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        self.private.public_key()
    }

    /// The public key in hex, as the chain spec carries it.
    pub fn public_hex(&self) -> String {
        public_hex(&self.public())
    }

    /// Writes a new key file, readable by its owner only. An existing file at `path` is
    /// [`KeyError::AlreadyExists`] and is left untouched: it may be the only copy of a
    /// deployed validator's key.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        self.write_file(path, false)
    }

    /// Writes the key file, replacing any file at `path`; the new file is mode 0600 whatever
    /// the old one's mode was.
    pub fn write_replacing(&self, path: &Path) -> Result<(), KeyError> {
        self.write_file(path, true)
    }

    fn write_file(&self, path: &Path, replace: bool) -> Result<(), KeyError> {
        let file = KeyFile {
            scheme: "ed25519".into(),
            public_key: self.public_hex(),
            private_key: hex::encode(self.private.encode()),
        };
        let mut text = serde_json::to_string_pretty(&file).map_err(|error| KeyError::Format {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        text.push('\n');
        atomic_write(path, text.as_bytes(), replace)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let format = |reason: String| KeyError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: KeyFile =
            serde_json::from_str(&text).map_err(|error| format(error.to_string()))?;
        if file.scheme != "ed25519" {
            return Err(format(format!("unknown scheme {}", file.scheme)));
        }
        let bytes = hex::decode(file.private_key.trim_start_matches("0x"))
            .map_err(|error| format(error.to_string()))?;
        let private = PrivateKey::decode(bytes).map_err(|error| format(error.to_string()))?;
        let key = Self { private };
        if key.public_hex() != file.public_key.trim_start_matches("0x") {
            return Err(format(
                "the public key does not match the private key".into(),
            ));
        }
        Ok(key)
    }
}

/// A public key in hex.
pub fn public_hex(key: &PublicKey) -> String {
    hex::encode(key.encode())
}

/// Parses a hex public key (as the chain spec carries it).
pub fn parse_public(text: &str) -> Result<PublicKey, KeyError> {
    let bytes = hex::decode(text.trim_start_matches("0x"))
        .map_err(|error| KeyError::PublicKey(error.to_string()))?;
    PublicKey::decode(bytes).map_err(|error| KeyError::PublicKey(error.to_string()))
}

/// Writes `bytes` the way wallet keyfiles are written (`hyphae_keys::keyfile::write`): a synced
/// temporary file (mode 0600) beside `path`, moved into place, so a crash leaves the old file
/// or the new one, never half a key; without `replace` an existing file is left untouched.
fn atomic_write(path: &Path, bytes: &[u8], replace: bool) -> Result<(), KeyError> {
    hyphae_keys::keyfile::write(path, bytes, replace).map_err(|error| match error {
        hyphae_keys::KeyError::AlreadyExists { path } => KeyError::AlreadyExists { path },
        hyphae_keys::KeyError::Io { path, error } => KeyError::Io {
            path,
            source: error,
        },
        other => KeyError::Format {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn write_never_replaces_and_write_replacing_does_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator-0.json");
        ValidatorKey::generate().write(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let second = ValidatorKey::generate();
        let refused = second.write(&path);
        assert!(
            matches!(refused, Err(KeyError::AlreadyExists { .. })),
            "{refused:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        second.write_replacing(&path).unwrap();
        assert_eq!(
            ValidatorKey::read(&path).unwrap().public_hex(),
            second.public_hex()
        );
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        let names = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(names, 1, "temporary files left behind");
    }
}
