//! [`Keypair`]: an sr25519 keypair, made from a mnemonic, a secret URI, a seed or secret-key bytes.

use crate::{
    mnemonic::mini_secret_from_phrase, uri, KeyError, Mnemonic, Signature, SIGNING_CONTEXT,
};
use hyphae_primitives::AccountId;
use schnorrkel::{ExpansionMode, MiniSecretKey, SecretKey};
use std::fmt;
use zeroize::Zeroizing;

/// Byte length of a schnorrkel secret key: 32-byte scalar ‖ 32-byte nonce.
pub const SECRET_KEY_LEN: usize = 64;

/// An sr25519 keypair. The secret (and the mini-secret, when known) is zeroized on drop;
/// `Debug` shows only the ss58 address.
#[derive(Clone)]
pub struct Keypair {
    inner: schnorrkel::Keypair,
    /// The 32-byte seed the secret was expanded from, when known (`secretSeed` in keyfiles).
    mini_secret: Option<MiniSecretKey>,
}

impl Keypair {
    /// A new keypair from a fresh random mnemonic of `n_words` (12, 15, 18, 21 or 24) words.
    pub fn generate(n_words: usize) -> Result<(Self, Mnemonic), KeyError> {
        let mnemonic = Mnemonic::generate(n_words)?;
        let keypair = Self::from_mnemonic(&mnemonic, None)?;
        Ok((keypair, mnemonic))
    }

    /// The keypair of a checked [`Mnemonic`], with an optional BIP39 password.
    pub fn from_mnemonic(mnemonic: &Mnemonic, password: Option<&str>) -> Result<Self, KeyError> {
        Ok(Self::from_mini_secret_key(mnemonic.mini_secret(password)?))
    }

    /// The keypair of a BIP39 phrase, exactly as Substrate and bittensor-wallet derive it.
    pub fn from_phrase(phrase: &str, password: Option<&str>) -> Result<Self, KeyError> {
        Ok(Self::from_mini_secret_key(mini_secret_from_phrase(
            phrase, password,
        )?))
    }

    /// The keypair of a Substrate secret URI: `//Alice`, `//Bob//stash`, `<phrase>//hard/soft`,
    /// `<phrase>///password`, or `0x<32-byte seed hex>//path`.
    /// Without a phrase the well-known development phrase is used.
    pub fn from_uri(uri: &str) -> Result<Self, KeyError> {
        uri::keypair_from_uri(uri)
    }

    /// The keypair of a 32-byte mini-secret (`secretSeed`), expanded in Ed25519 mode.
    pub fn from_mini_secret(seed: [u8; 32]) -> Self {
        let seed = Zeroizing::new(seed);
        // Any 32 bytes are a valid mini-secret; from_bytes only checks the length.
        match MiniSecretKey::from_bytes(seed.as_slice()) {
            Ok(mini_secret) => Self::from_mini_secret_key(mini_secret),
            Err(_) => unreachable!("a [u8; 32] always has the mini-secret length"),
        }
    }

    /// The keypair of 64 secret-key bytes (`privateKey`): the 32-byte scalar ‖ 32-byte nonce
    /// of schnorrkel's `SecretKey::to_bytes`. The mini-secret is then unknown.
    pub fn from_secret_key_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != SECRET_KEY_LEN {
            return Err(KeyError::InvalidSecretKey {
                reason: "a secret key is 64 bytes",
            });
        }
        let secret = SecretKey::from_bytes(bytes).map_err(|_| KeyError::InvalidSecretKey {
            reason: "the scalar is not canonical",
        })?;
        Ok(Self {
            inner: secret.to_keypair(),
            mini_secret: None,
        })
    }

    pub(crate) fn from_mini_secret_key(mini_secret: MiniSecretKey) -> Self {
        let inner = mini_secret.expand_to_keypair(ExpansionMode::Ed25519);
        Self {
            inner,
            mini_secret: Some(mini_secret),
        }
    }

    pub(crate) fn from_parts(secret: SecretKey, mini_secret: Option<MiniSecretKey>) -> Self {
        Self {
            inner: secret.to_keypair(),
            mini_secret,
        }
    }

    /// The public key as an account id.
    pub fn account_id(&self) -> AccountId {
        AccountId(self.inner.public.to_bytes())
    }

    /// Signs `message` in the `"substrate"` signing context. sr25519 signatures are randomised.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.inner.sign_simple(SIGNING_CONTEXT, message).to_bytes())
    }

    /// The 32-byte mini-secret (`secretSeed`) when this keypair was made from one.
    pub fn mini_secret(&self) -> Option<&[u8; 32]> {
        self.mini_secret.as_ref().map(MiniSecretKey::as_bytes)
    }

    /// The 64 secret-key bytes (`privateKey`): scalar ‖ nonce.
    pub fn secret_key_bytes(&self) -> Zeroizing<[u8; SECRET_KEY_LEN]> {
        Zeroizing::new(self.inner.secret.to_bytes())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({})", self.account_id())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::arithmetic_side_effects)]
    use super::*;
    use crate::verify;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sign_verify_round_trip(seed in any::<[u8; 32]>(), message in proptest::collection::vec(any::<u8>(), 0..256)) {
            let keypair = Keypair::from_mini_secret(seed);
            let signature = keypair.sign(&message);
            prop_assert!(verify(&keypair.account_id(), &message, &signature));
            // The hex form round-trips.
            prop_assert_eq!(Signature::from_hex(&signature.to_hex()).unwrap(), signature);
            // Secret-key bytes give back the same key.
            let again = Keypair::from_secret_key_bytes(keypair.secret_key_bytes().as_slice()).unwrap();
            prop_assert_eq!(again.account_id(), keypair.account_id());
        }

        #[test]
        fn modified_message_or_other_signer_fails(
            seed in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 1..256),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let keypair = Keypair::from_mini_secret(seed);
            let signature = keypair.sign(&message);
            let mut modified = message.clone();
            modified[flip.index(message.len())] ^= 1 << bit;
            prop_assert!(!verify(&keypair.account_id(), &modified, &signature));
            let mut other_seed = seed;
            other_seed[0] ^= 1;
            let other = Keypair::from_mini_secret(other_seed);
            prop_assert!(!verify(&other.account_id(), &message, &signature));
            let mut longer = message;
            longer.push(0);
            prop_assert!(!verify(&keypair.account_id(), &longer, &signature));
        }
    }

    #[test]
    fn secret_key_bytes_are_checked() {
        assert!(matches!(
            Keypair::from_secret_key_bytes(&[0u8; 63]),
            Err(KeyError::InvalidSecretKey { .. })
        ));
        // A scalar that is not reduced mod ℓ is refused, not silently reduced.
        assert!(matches!(
            Keypair::from_secret_key_bytes(&[0xffu8; 64]),
            Err(KeyError::InvalidSecretKey { .. })
        ));
    }
}
