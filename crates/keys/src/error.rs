//! [`KeyError`]: every way a key, mnemonic, keyfile or wallet operation can fail.
//!
//! No variant ever carries secret material: mnemonic errors name a word by position,
//! and JSON errors keep only their category and location, never the offending value.

use std::{fmt, path::Path, path::PathBuf};

/// Why a key, keyfile or wallet operation failed.
///
/// Variants about a file carry its `path`. Functions that work on bytes in memory
/// (for example [`crate::keyfile::decrypt_nacl`]) leave `path` empty; the file-level
/// callers fill it in with [`KeyError::at_path`].
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A mnemonic was requested with an unsupported number of words.
    #[error("a mnemonic has 12, 15, 18, 21 or 24 words, not {n_words}")]
    BadWordCount {
        /// The number of words asked for.
        n_words: usize,
    },
    /// A phrase is not a valid English BIP39 mnemonic.
    #[error("invalid mnemonic: {reason}")]
    InvalidMnemonic {
        /// What is wrong; never contains the words themselves.
        reason: String,
    },
    /// 64 secret-key bytes (or a 32-byte seed) that schnorrkel refuses.
    #[error("invalid secret key: {reason}")]
    InvalidSecretKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A secret URI (`//Alice`, `<phrase>//hard/soft///password`) that does not parse.
    #[error("invalid secret URI: {reason}")]
    InvalidUri {
        /// What is wrong; never contains the phrase or password.
        reason: String,
    },
    /// A signature that is not 64 bytes of hex.
    #[error("invalid signature: {reason}")]
    InvalidSignature {
        /// What is wrong.
        reason: String,
    },
    /// The mnemonic given to a keyfile writer does not produce the keypair given with it.
    #[error("the mnemonic does not belong to key {account}")]
    MnemonicMismatch {
        /// The ss58 address of the keypair.
        account: String,
    },
    /// A wallet or hotkey name that could escape its directory or is empty.
    #[error("invalid wallet or hotkey name {name:?}: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Refusing to replace an existing file; nothing was written.
    #[error("{} already exists; pass overwrite to replace it", shown(.path))]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The keyfile is encrypted and no password was given.
    #[error("{} is encrypted: a password is required", shown(.path))]
    PasswordRequired {
        /// The encrypted keyfile.
        path: PathBuf,
    },
    /// Decryption failed its authentication check.
    #[error("cannot decrypt {}: wrong password (or the file is damaged)", shown(.path))]
    WrongPassword {
        /// The encrypted keyfile.
        path: PathBuf,
    },
    /// A recognised but unsupported legacy encryption format.
    #[error(
        "{} is encrypted with the legacy {format} format, which hyphae cannot read; \
         convert it with an older bittensor SDK (load it and save it again with $NACL encryption)",
        shown(.path)
    )]
    UnsupportedFormat {
        /// `"Ansible Vault"` or `"Fernet"`.
        format: &'static str,
        /// The keyfile.
        path: PathBuf,
    },
    /// A keyfile whose `cryptoType` is not sr25519 (1).
    #[error("{} holds a key of crypto type {crypto_type}; only sr25519 (1) is supported", shown(.path))]
    UnsupportedCryptoType {
        /// The `cryptoType` found.
        crypto_type: i64,
        /// The keyfile.
        path: PathBuf,
    },
    /// A keyfile that holds only a public key where a secret key is needed.
    #[error("{} holds only a public key, no secret", shown(.path))]
    PublicOnly {
        /// The keyfile.
        path: PathBuf,
    },
    /// A keyfile that is truncated, not JSON, missing keys, or holds bad hex.
    #[error("{} is corrupt: {reason}", shown(.path))]
    Corrupt {
        /// The keyfile.
        path: PathBuf,
        /// What is wrong; never contains secret values.
        reason: String,
    },
    /// The Argon2 key derivation or the secretbox encryption failed.
    #[error("keyfile encryption failed: {reason}")]
    Encryption {
        /// What failed.
        reason: String,
    },
    /// An operating-system I/O error on `path`.
    ///
    /// The OS error is part of the message and deliberately not also the error's `source()`:
    /// printing the chain (anyhow's `{:#}`) would otherwise say it twice.
    #[error("{}: {error}", shown(.path))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

/// Shows a path, or says the bytes came from memory when it is empty.
fn shown(path: &Path) -> impl fmt::Display + '_ {
    struct Shown<'a>(&'a Path);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.0.as_os_str().is_empty() {
                f.write_str("keyfile data")
            } else {
                write!(f, "{}", self.0.display())
            }
        }
    }
    Shown(path)
}

impl KeyError {
    /// Fills in `path` on variants that carry one and do not have it yet.
    #[must_use]
    pub fn at_path(mut self, file: &Path) -> Self {
        match &mut self {
            Self::AlreadyExists { path }
            | Self::PasswordRequired { path }
            | Self::WrongPassword { path }
            | Self::UnsupportedFormat { path, .. }
            | Self::UnsupportedCryptoType { path, .. }
            | Self::PublicOnly { path }
            | Self::Corrupt { path, .. }
            | Self::Io { path, .. } => {
                if path.as_os_str().is_empty() {
                    file.clone_into(path);
                }
            }
            Self::BadWordCount { .. }
            | Self::InvalidMnemonic { .. }
            | Self::InvalidSecretKey { .. }
            | Self::InvalidUri { .. }
            | Self::InvalidSignature { .. }
            | Self::MnemonicMismatch { .. }
            | Self::InvalidName { .. }
            | Self::Encryption { .. } => {}
        }
        self
    }

    /// Whether this is an I/O error saying the file or directory does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound)
    }

    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn corrupt(reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: PathBuf::new(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message and its `source()` chain, joined as anyhow's `{:#}` prints them.
    fn chain_text(err: &dyn std::error::Error) -> String {
        let mut text = err.to_string();
        let mut cause = err.source();
        while let Some(next) = cause {
            text.push_str(": ");
            text.push_str(&next.to_string());
            cause = next.source();
        }
        text
    }

    #[test]
    fn an_io_error_is_said_once_in_the_chain() {
        let os = std::io::Error::new(std::io::ErrorKind::NotFound, "no such thing");
        let err = KeyError::io(Path::new("/w/coldkeypub.txt"), os);
        assert_eq!(chain_text(&err), "/w/coldkeypub.txt: no such thing");
        assert!(err.is_not_found());
    }
}
