//! [`KeyfileData`]: the flat JSON object inside every Bittensor keyfile.

use crate::{KeyError, Keypair, Mnemonic};
use hyphae_primitives::AccountId;
use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// `cryptoType` of an sr25519 key (0 would be ed25519).
pub const CRYPTO_TYPE_SR25519: i64 = 1;

/// The JSON object of a Bittensor keyfile.
///
/// Reading accepts `null` for any key, ignores unknown keys, and takes `cryptoType` as an int.
/// Writing omits absent keys, as bittensor-wallet 4 does. All strings are zeroized on drop,
/// and `Debug` shows only the public parts.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct KeyfileData {
    /// `0x` + 32-byte public key hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The same as `account_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// `0x` + 64 bytes: schnorrkel secret scalar ‖ nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// The BIP39 mnemonic, when the key was made from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_phrase: Option<String>,
    /// `0x` + 32-byte mini-secret, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_seed: Option<String>,
    /// The ss58 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ss58_address: Option<String>,
    /// 1 = sr25519, 0 = ed25519; absent in files older than bittensor-wallet 4.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<i64>,
}

impl KeyfileData {
    /// The full keyfile of `keypair`, with its mnemonic when given.
    ///
    /// Fails with [`KeyError::MnemonicMismatch`] when the mnemonic does not derive `keypair`.
    pub fn from_keypair(keypair: &Keypair, mnemonic: Option<&Mnemonic>) -> Result<Self, KeyError> {
        let account = keypair.account_id();
        if let Some(mnemonic) = mnemonic {
            if Keypair::from_mnemonic(mnemonic, None)?.account_id() != account {
                return Err(KeyError::MnemonicMismatch {
                    account: account.to_ss58(),
                });
            }
        }
        let mut data = Self::public(&account);
        data.private_key = Some(hex_0x(keypair.secret_key_bytes().as_slice()));
        data.secret_phrase = mnemonic.map(|mnemonic| mnemonic.phrase().to_owned());
        data.secret_seed = keypair.mini_secret().map(|seed| hex_0x(seed));
        Ok(data)
    }

    /// A public-only keyfile (`coldkeypub.txt`, `<hotkey>pub.txt`).
    pub fn public(account: &AccountId) -> Self {
        Self {
            account_id: Some(account.to_hex()),
            public_key: Some(account.to_hex()),
            private_key: None,
            secret_phrase: None,
            secret_seed: None,
            ss58_address: Some(account.to_ss58()),
            crypto_type: Some(CRYPTO_TYPE_SR25519),
        }
    }

    /// Parses the JSON object. Errors never quote the file's values.
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeyError> {
        serde_json::from_slice(bytes).map_err(|err| {
            KeyError::corrupt(format!(
                "not a keyfile JSON object ({:?} error at line {}, column {})",
                err.classify(),
                err.line(),
                err.column()
            ))
        })
    }

    /// The JSON bytes, in memory that is zeroized on drop.
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        // Reserve enough that the buffer never reallocates and leaves a copy behind.
        let mut json = Zeroizing::new(Vec::with_capacity(2048));
        serde_json::to_writer(&mut *json, self).map_err(|_| KeyError::Encryption {
            reason: "cannot serialise the keyfile JSON".to_owned(),
        })?;
        Ok(json)
    }

    /// Whether the file holds any secret (phrase, seed or private key).
    pub const fn has_secret(&self) -> bool {
        self.secret_phrase.is_some() || self.secret_seed.is_some() || self.private_key.is_some()
    }

    /// The keypair, taken from `secretPhrase`, else `secretSeed`, else `privateKey`
    /// (bittensor-wallet's precedence). Any public key in the file must match it.
    pub fn keypair(&self) -> Result<Keypair, KeyError> {
        self.check_crypto_type()?;
        let keypair = if let Some(phrase) = &self.secret_phrase {
            Keypair::from_phrase(phrase, None).map_err(|err| match err {
                KeyError::InvalidMnemonic { reason } => {
                    KeyError::corrupt(format!("secretPhrase is not a valid mnemonic: {reason}"))
                }
                other => other,
            })?
        } else if let Some(seed) = &self.secret_seed {
            Keypair::from_mini_secret(*decode_hex::<32>(seed, "secretSeed")?)
        } else if let Some(private_key) = &self.private_key {
            let bytes = decode_hex::<64>(private_key, "privateKey")?;
            Keypair::from_secret_key_bytes(bytes.as_slice())
                .map_err(|err| KeyError::corrupt(format!("privateKey: {err}")))?
        } else {
            return Err(KeyError::PublicOnly {
                path: std::path::PathBuf::new(),
            });
        };
        if let Some(recorded) = self.public_account_id()? {
            if recorded != keypair.account_id() {
                return Err(KeyError::corrupt(
                    "the public key does not match the secret key",
                ));
            }
        }
        Ok(keypair)
    }

    /// The account id: from `ss58Address`, else `publicKey`, else `accountId`, else derived
    /// from the secret.
    pub fn account_id(&self) -> Result<AccountId, KeyError> {
        self.check_crypto_type()?;
        match self.public_account_id()? {
            Some(account) => Ok(account),
            None if self.has_secret() => Ok(self.keypair()?.account_id()),
            None => Err(KeyError::corrupt(
                "no ss58Address, publicKey, accountId or secret",
            )),
        }
    }

    fn public_account_id(&self) -> Result<Option<AccountId>, KeyError> {
        let from_ss58 = self
            .ss58_address
            .as_deref()
            .map(|address| {
                AccountId::from_ss58(address)
                    .map_err(|err| KeyError::corrupt(format!("ss58Address: {err}")))
            })
            .transpose()?;
        let from_hex = |field: &Option<String>, name: &str| {
            field
                .as_deref()
                .map(|text| decode_hex::<32>(text, name).map(|bytes| AccountId(*bytes)))
                .transpose()
        };
        let from_public_key = from_hex(&self.public_key, "publicKey")?;
        let from_account_id = from_hex(&self.account_id, "accountId")?;
        let mut found = [from_ss58, from_public_key, from_account_id]
            .into_iter()
            .flatten();
        let first = found.next();
        if let Some(first) = first {
            if found.any(|other| other != first) {
                return Err(KeyError::corrupt(
                    "ss58Address, publicKey and accountId disagree",
                ));
            }
        }
        Ok(first)
    }

    fn check_crypto_type(&self) -> Result<(), KeyError> {
        match self.crypto_type {
            None | Some(CRYPTO_TYPE_SR25519) => Ok(()),
            Some(crypto_type) => Err(KeyError::UnsupportedCryptoType {
                crypto_type,
                path: std::path::PathBuf::new(),
            }),
        }
    }
}

impl fmt::Debug for KeyfileData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |field: &Option<String>| {
            if field.is_some() {
                "<present>"
            } else {
                "<absent>"
            }
        };
        f.debug_struct("KeyfileData")
            .field("account_id", &self.account_id)
            .field("public_key", &self.public_key)
            .field("private_key", &present(&self.private_key))
            .field("secret_phrase", &present(&self.secret_phrase))
            .field("secret_seed", &present(&self.secret_seed))
            .field("ss58_address", &self.ss58_address)
            .field("crypto_type", &self.crypto_type)
            .finish()
    }
}

fn hex_0x(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().saturating_mul(2).saturating_add(2));
    text.push_str("0x");
    for byte in bytes {
        text.push(hex_digit(byte >> 4));
        text.push(hex_digit(byte & 0x0f));
    }
    text
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

/// `N` bytes from `0x`-prefixed (or bare) hex; the error names the field, never the value.
fn decode_hex<const N: usize>(text: &str, field: &str) -> Result<Zeroizing<[u8; N]>, KeyError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mut bytes = Zeroizing::new([0u8; N]);
    hex::decode_to_slice(digits, bytes.as_mut_slice())
        .map_err(|_| KeyError::corrupt(format!("{field} is not {N} bytes of hex")))?;
    Ok(bytes)
}
