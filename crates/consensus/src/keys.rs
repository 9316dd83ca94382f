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

    /// Writes the key file, readable by its owner only.
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = KeyFile {
            scheme: "ed25519".into(),
            public_key: self.public_hex(),
            private_key: hex::encode(self.private.encode()),
        };
        let text = serde_json::to_string_pretty(&file).map_err(|error| KeyError::Format {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        use std::io::Write;
        let mut handle = options.open(path).map_err(io)?;
        handle.write_all(text.as_bytes()).map_err(io)?;
        handle.write_all(b"\n").map_err(io)
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
