//! [`Signature`] and [`verify`]: sr25519 signatures in the Substrate signing context.

use crate::KeyError;
use hyphae_primitives::AccountId;
use std::fmt;

/// The schnorrkel signing context Substrate and Bittensor use for every signature.
pub const SIGNING_CONTEXT: &[u8] = b"substrate";

/// The byte length of an sr25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A 64-byte sr25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

impl Signature {
    /// `0x` followed by 128 lower-case hex digits, as Bittensor headers carry it.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// Parses 128 hex digits, with or without a `0x` prefix.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        let mut bytes = [0u8; SIGNATURE_LEN];
        hex::decode_to_slice(digits, &mut bytes).map_err(|err| KeyError::InvalidSignature {
            reason: format!(
                "expected {} hex digits: {err}",
                SIGNATURE_LEN.saturating_mul(2)
            ),
        })?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Checks an sr25519 `signature` of `message` by `signer` in the `"substrate"` context.
///
/// Returns `false` for a malformed public key or signature as well as for a forgery.
pub fn verify(signer: &AccountId, message: &[u8], signature: &Signature) -> bool {
    let Ok(public) = schnorrkel::PublicKey::from_bytes(signer.as_bytes()) else {
        return false;
    };
    let Ok(signature) = schnorrkel::Signature::from_bytes(&signature.0) else {
        return false;
    };
    public
        .verify_simple(SIGNING_CONTEXT, message, &signature)
        .is_ok()
}
