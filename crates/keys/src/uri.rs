//! Substrate secret URIs: `[phrase | 0x<seed>][/soft | //hard]*[///password]`.
//!
//! This follows sp-core's sr25519 `Pair::from_string` exactly:
//!
//! * no phrase means the well-known development phrase, so `//Alice` is Alice;
//! * a junction that parses as a `u64` is its 8 little-endian bytes, any other junction is the
//!   SCALE encoding of the string (compact length prefix, then the bytes);
//! * that encoding, zero-padded to 32 bytes (or its BLAKE2b-256 when longer), is the chain code;
//! * a hard junction `//j` is schnorrkel's `hard_derive_mini_secret_key(Some(cc), b"")` on the
//!   current secret, then an Ed25519-mode expansion; the new mini-secret is kept as the seed;
//! * a soft junction `/j` is schnorrkel's `derived_key_simple(cc, b"")` on the current secret;
//!   after it the mini-secret is no longer known.

use crate::{mnemonic::mini_secret_from_phrase, KeyError, Keypair};
use blake2::{digest::consts::U32, Blake2b, Digest};
use schnorrkel::{
    derive::{ChainCode, Derivation},
    ExpansionMode, MiniSecretKey,
};
use zeroize::Zeroizing;

/// The phrase behind `//Alice`, `//Bob` and the other development accounts.
pub const DEV_PHRASE: &str =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

/// Longest URI accepted: far beyond a 24-word phrase plus a path and a password.
const URI_LEN_MAX: usize = 4096;
const CHAIN_CODE_LEN: usize = 32;
/// SCALE compact encoding switches from one byte to two at 2^6, and to four at 2^14.
const COMPACT_ONE_BYTE_MAX: usize = 0x3f;
const COMPACT_TWO_BYTES_MAX: usize = 0x3fff;

/// One step of a derivation path.
enum Junction {
    Soft([u8; CHAIN_CODE_LEN]),
    Hard([u8; CHAIN_CODE_LEN]),
}

pub(crate) fn keypair_from_uri(uri: &str) -> Result<Keypair, KeyError> {
    if uri.len() > URI_LEN_MAX {
        return Err(KeyError::InvalidUri {
            reason: format!("longer than {URI_LEN_MAX} bytes"),
        });
    }
    let (head, password) = match uri.split_once("///") {
        Some((head, password)) => (head, Some(password)),
        None => (uri, None),
    };
    let (phrase, path) = match head.find('/') {
        Some(slash_idx) => head.split_at(slash_idx),
        None => (head, ""),
    };
    let junctions = parse_path(path)?;

    let phrase = phrase.trim();
    let mini_secret = if let Some(seed_hex) = phrase.strip_prefix("0x") {
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(seed_hex, seed.as_mut_slice()).map_err(|_| KeyError::InvalidUri {
            reason: "a 0x seed must be 64 hex digits (32 bytes)".to_owned(),
        })?;
        MiniSecretKey::from_bytes(seed.as_slice()).map_err(|_| KeyError::InvalidUri {
            reason: "bad seed length".to_owned(),
        })?
    } else if phrase.is_empty() {
        mini_secret_from_phrase(DEV_PHRASE, password)?
    } else {
        mini_secret_from_phrase(phrase, password)?
    };
    Ok(derive(mini_secret, &junctions))
}

fn parse_path(mut path: &str) -> Result<Vec<Junction>, KeyError> {
    let mut junctions = Vec::new();
    while !path.is_empty() {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(KeyError::InvalidUri {
                reason: "a junction must start with '/'".to_owned(),
            });
        };
        let (hard, rest) = match rest.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let (code, rest) = match rest.find('/') {
            Some(slash_idx) => rest.split_at(slash_idx),
            None => (rest, ""),
        };
        if code.is_empty() {
            return Err(KeyError::InvalidUri {
                reason: "empty junction in the derivation path".to_owned(),
            });
        }
        let chain_code = chain_code(code)?;
        junctions.push(if hard {
            Junction::Hard(chain_code)
        } else {
            Junction::Soft(chain_code)
        });
        path = rest;
    }
    Ok(junctions)
}

/// The chain code of one junction, as sp-core's `DeriveJunction::soft(T: Encode)` makes it.
fn chain_code(code: &str) -> Result<[u8; CHAIN_CODE_LEN], KeyError> {
    let encoded = match code.parse::<u64>() {
        Ok(index) => index.to_le_bytes().to_vec(),
        Err(_) => {
            let mut encoded = scale_compact_len(code.len())?;
            encoded.extend_from_slice(code.as_bytes());
            encoded
        }
    };
    let mut chain_code = [0u8; CHAIN_CODE_LEN];
    if let Some(prefix) = chain_code.get_mut(..encoded.len()) {
        prefix.copy_from_slice(&encoded);
    } else {
        chain_code.copy_from_slice(&Blake2b::<U32>::digest(&encoded));
    }
    Ok(chain_code)
}

/// SCALE compact encoding of a length; junctions are bounded by `URI_LEN_MAX`, so four bytes suffice.
fn scale_compact_len(len: usize) -> Result<Vec<u8>, KeyError> {
    let too_long = || KeyError::InvalidUri {
        reason: "junction too long".to_owned(),
    };
    let shifted = len.checked_mul(4).ok_or_else(too_long)?;
    if len <= COMPACT_ONE_BYTE_MAX {
        Ok(vec![u8::try_from(shifted).map_err(|_| too_long())?])
    } else if len <= COMPACT_TWO_BYTES_MAX {
        Ok(u16::try_from(shifted | 0b01)
            .map_err(|_| too_long())?
            .to_le_bytes()
            .to_vec())
    } else {
        Ok(u32::try_from(shifted | 0b10)
            .map_err(|_| too_long())?
            .to_le_bytes()
            .to_vec())
    }
}

fn derive(root: MiniSecretKey, junctions: &[Junction]) -> Keypair {
    let mut secret = root.expand(ExpansionMode::Ed25519);
    let mut mini_secret = Some(root);
    for junction in junctions {
        match junction {
            Junction::Hard(chain_code) => {
                let (derived, _) =
                    secret.hard_derive_mini_secret_key(Some(ChainCode(*chain_code)), b"");
                secret = derived.expand(ExpansionMode::Ed25519);
                // Like sp-core: once a soft step has lost the seed, a hard step does not bring it back.
                mini_secret = mini_secret.map(|_| derived);
            }
            Junction::Soft(chain_code) => {
                secret = secret.derived_key_simple(ChainCode(*chain_code), b"").0;
                mini_secret = None;
            }
        }
    }
    Keypair::from_parts(secret, mini_secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_lengths() {
        assert_eq!(scale_compact_len(5).unwrap(), vec![0x14]);
        assert_eq!(scale_compact_len(63).unwrap(), vec![0xfc]);
        assert_eq!(scale_compact_len(64).unwrap(), vec![0x01, 0x01]);
        assert_eq!(scale_compact_len(16383).unwrap(), vec![0xfd, 0xff]);
        assert_eq!(
            scale_compact_len(16384).unwrap(),
            vec![0x02, 0x00, 0x01, 0x00]
        );
    }

    #[test]
    fn chain_codes() {
        let alice = chain_code("Alice").unwrap();
        assert_eq!(&alice[..6], &[0x14, b'A', b'l', b'i', b'c', b'e']);
        assert!(alice[6..].iter().all(|byte| *byte == 0));
        let zero = chain_code("0").unwrap();
        assert_eq!(zero, [0u8; 32]);
        let one = chain_code("1").unwrap();
        assert_eq!(one[0], 1);
        // 32 bytes of text encode to 33 bytes: hashed.
        let long = "a".repeat(32);
        let mut encoded = vec![128u8];
        encoded.extend_from_slice(long.as_bytes());
        assert_eq!(
            chain_code(&long).unwrap().as_slice(),
            Blake2b::<U32>::digest(&encoded).as_slice()
        );
    }

    /// A soft junction is public derivation: the same public key follows from the parent's
    /// public key alone.
    #[test]
    fn soft_junction_matches_public_derivation() {
        let parent = keypair_from_uri("//Alice").unwrap();
        let child = keypair_from_uri("//Alice/soft").unwrap();
        let parent_public =
            schnorrkel::PublicKey::from_bytes(parent.account_id().as_bytes()).unwrap();
        let (child_public, _) =
            parent_public.derived_key_simple(ChainCode(chain_code("soft").unwrap()), b"");
        assert_eq!(child.account_id().as_bytes(), &child_public.to_bytes());
    }

    #[test]
    fn path_syntax() {
        assert!(matches!(
            parse_path("//a/b//c").unwrap().as_slice(),
            [Junction::Hard(_), Junction::Soft(_), Junction::Hard(_)]
        ));
        assert!(parse_path("//").is_err());
        assert!(parse_path("//a/").is_err());
        assert!(parse_path("").unwrap().is_empty());
    }
}
