//! [`AccountId`]: a 32-byte sr25519 public key, shown as an SS58 address (format 42).
//!
//! SS58 = base58(`[42]` ‖ key ‖ checksum[0..2]) where
//! checksum = BLAKE2b-512(`"SS58PRE"` ‖ `[42]` ‖ key). The Bitcoin base58 alphabet is used.

use blake2::{Blake2b512, Digest};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{fmt, str::FromStr};

/// The SS58 address format hyphae (and Bittensor) uses: the generic Substrate prefix.
pub const SS58_FORMAT: u8 = 42;
const SS58_PREFIX: &[u8] = b"SS58PRE";
/// prefix byte + key + 2 checksum bytes.
const SS58_DECODED_LEN: usize = 1 + 32 + 2;
/// The longest base58 text of [`SS58_DECODED_LEN`] bytes: ⌈35 · log 256 / log 58⌉ = 48. Checked
/// before decoding because base58 decoding costs time quadratic in its input, and addresses
/// arrive from the network (axon headers, RPC parameters).
const SS58_ENCODED_LEN_MAX: usize = 48;

/// A 32-byte account id: the public key of a coldkey or a hotkey.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub [u8; 32]);

/// Why a string is not a valid SS58 address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ss58Error {
    /// Not base58 at all.
    #[error("address is not valid base58")]
    BadBase58,
    /// Longer than any SS58 account id can be; not decoded.
    #[error("address is {len} characters long; an ss58 account id has at most {max}", max = SS58_ENCODED_LEN_MAX)]
    TooLong {
        /// Bytes in the text given.
        len: usize,
    },
    /// Decoded to the wrong number of bytes.
    #[error("address decodes to {len} bytes; an ss58 account id has {expected}", expected = SS58_DECODED_LEN)]
    BadLength {
        /// Bytes decoded.
        len: usize,
    },
    /// A network prefix other than 42.
    #[error("address has network prefix {prefix}; hyphae uses {expected}", expected = SS58_FORMAT)]
    BadPrefix {
        /// The prefix found.
        prefix: u8,
    },
    /// The two checksum bytes do not match: a typo.
    #[error("address checksum mismatch (mistyped address?)")]
    BadChecksum,
}

fn checksum(prefix_and_key: &[u8]) -> [u8; 2] {
    let mut hasher = Blake2b512::new();
    hasher.update(SS58_PREFIX);
    hasher.update(prefix_and_key);
    let digest: [u8; 64] = hasher.finalize().into();
    let [first, second, ..] = digest;
    [first, second]
}

impl AccountId {
    /// The raw public key bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The SS58 (format 42) address.
    pub fn to_ss58(&self) -> String {
        let mut raw = Vec::with_capacity(SS58_DECODED_LEN);
        raw.push(SS58_FORMAT);
        raw.extend_from_slice(&self.0);
        let sum = checksum(&raw);
        raw.extend_from_slice(&sum);
        bs58::encode(raw).into_string()
    }

    /// Parses an SS58 (format 42) address, checking length, prefix and checksum.
    pub fn from_ss58(address: &str) -> Result<Self, Ss58Error> {
        if address.len() > SS58_ENCODED_LEN_MAX {
            return Err(Ss58Error::TooLong { len: address.len() });
        }
        let raw = bs58::decode(address)
            .into_vec()
            .map_err(|_| Ss58Error::BadBase58)?;
        let decoded: &[u8; SS58_DECODED_LEN] = raw
            .as_slice()
            .try_into()
            .map_err(|_| Ss58Error::BadLength { len: raw.len() })?;
        let (body, sum) = decoded.split_at(1 + 32);
        let (prefix, key) = body.split_at(1);
        if prefix != [SS58_FORMAT] {
            return Err(Ss58Error::BadPrefix {
                prefix: prefix.first().copied().unwrap_or_default(),
            });
        }
        if checksum(body) != sum {
            return Err(Ss58Error::BadChecksum);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(key);
        Ok(Self(out))
    }

    /// `0x`-prefixed hex of the public key, as Bittensor keyfiles store `publicKey`.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ss58())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.to_ss58())
    }
}

impl FromStr for AccountId {
    type Err = Ss58Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_ss58(s)
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_ss58())
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::from_ss58(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALICE_HEX: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    fn alice() -> AccountId {
        let mut key = [0u8; 32];
        hex::decode_to_slice(ALICE_HEX, &mut key).unwrap();
        AccountId(key)
    }

    #[test]
    fn alice_golden_address() {
        assert_eq!(alice().to_ss58(), ALICE_SS58);
        assert_eq!(AccountId::from_ss58(ALICE_SS58), Ok(alice()));
    }

    #[test]
    fn rejects_bad_checksum() {
        // Change one character: the checksum no longer matches.
        let typo = ALICE_SS58.replacen('G', "H", 1);
        assert!(matches!(
            AccountId::from_ss58(&typo),
            Err(Ss58Error::BadChecksum | Ss58Error::BadPrefix { .. })
        ));
        let mut raw = bs58::decode(ALICE_SS58).into_vec().unwrap();
        raw[34] ^= 1;
        let bad = bs58::encode(raw).into_string();
        assert_eq!(AccountId::from_ss58(&bad), Err(Ss58Error::BadChecksum));
    }

    #[test]
    fn rejects_bad_length_and_prefix() {
        assert_eq!(
            AccountId::from_ss58(&ALICE_SS58[..40]).unwrap_err(),
            Ss58Error::BadLength { len: 29 }
        );
        assert_eq!(AccountId::from_ss58("0OIl"), Err(Ss58Error::BadBase58));
        // The same key under the Polkadot prefix (0) is refused.
        let mut raw = vec![0u8];
        raw.extend_from_slice(&alice().0);
        let mut h = Blake2b512::new();
        h.update(SS58_PREFIX);
        h.update(&raw);
        let sum = h.finalize();
        raw.extend_from_slice(&sum[..2]);
        let polkadot = bs58::encode(raw).into_string();
        assert_eq!(
            AccountId::from_ss58(&polkadot),
            Err(Ss58Error::BadPrefix { prefix: 0 })
        );
    }

    #[test]
    fn refuses_overlong_text_before_decoding() {
        // Valid base58 all the way, so only the length check can refuse it cheaply: decoding
        // 100,000 characters would take seconds.
        let long = "2".repeat(100_000);
        assert_eq!(
            AccountId::from_ss58(&long),
            Err(Ss58Error::TooLong { len: 100_000 })
        );
        let one_over = format!("{ALICE_SS58}2");
        assert_eq!(
            AccountId::from_ss58(&one_over),
            Err(Ss58Error::TooLong { len: 49 })
        );
        assert!(serde_json::from_str::<AccountId>(&format!("\"{long}\"")).is_err());
    }

    #[test]
    fn serde_as_ss58() {
        let json = serde_json::to_string(&alice()).unwrap();
        assert_eq!(json, format!("\"{ALICE_SS58}\""));
        assert_eq!(serde_json::from_str::<AccountId>(&json).unwrap(), alice());
    }

    proptest! {
        #[test]
        fn ss58_round_trip(key in any::<[u8; 32]>()) {
            let id = AccountId(key);
            let address = id.to_ss58();
            prop_assert_eq!(address.len(), 48);
            prop_assert!(address.starts_with('5'));
            prop_assert_eq!(AccountId::from_ss58(&address), Ok(id));
        }
    }
}
