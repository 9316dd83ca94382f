//! [`Transaction`]: a signed, SCALE-encoded call, and its validity rules.
//!
//! The signed payload is `b"hyphae/tx/v1" ‖ genesis_hash ‖ SCALE(signer, nonce, tip, call)`.
//! The prefix separates transaction signatures from every other use of the key, the genesis
//! hash stops a transaction from replaying on another chain, and the nonce (which must equal the
//! account's next nonce exactly) stops it from replaying on this one.

use crate::{
    call::Call,
    codec::{AccountCodec, RaoCodec, SignatureCodec},
    state::State,
};
use hyphae_keys::{Keypair, Signature};
use hyphae_primitives::{AccountId, Hash, Rao, TxError};
use parity_scale_codec::{Decode, Encode};

/// Domain-separation prefix of the signed payload.
pub const SIGNING_DOMAIN: &[u8] = b"hyphae/tx/v1";

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Transaction {
    /// Who signs and pays.
    #[codec(encoded_as = "AccountCodec")]
    pub signer: AccountId,
    /// Must equal the signer's next nonce.
    pub nonce: u64,
    /// What to do.
    pub call: Call,
    /// Paid to the block author on top of the burned fee.
    #[codec(encoded_as = "RaoCodec")]
    pub tip: Rao,
    /// sr25519 over [`Transaction::signing_payload`].
    #[codec(encoded_as = "SignatureCodec")]
    pub signature: Signature,
}

impl Transaction {
    /// The bytes a signer signs.
    pub fn signing_payload(
        genesis_hash: &Hash,
        signer: &AccountId,
        nonce: u64,
        tip: Rao,
        call: &Call,
    ) -> Vec<u8> {
        let mut payload = Vec::with_capacity(SIGNING_DOMAIN.len().saturating_add(96));
        payload.extend_from_slice(SIGNING_DOMAIN);
        payload.extend_from_slice(&genesis_hash.0);
        (signer.0, nonce, tip.0, call).encode_to(&mut payload);
        payload
    }

    /// Builds and signs a transaction.
    pub fn sign(keypair: &Keypair, genesis_hash: &Hash, nonce: u64, tip: Rao, call: Call) -> Self {
        let signer = keypair.account_id();
        let signature = keypair.sign(&Self::signing_payload(
            genesis_hash,
            &signer,
            nonce,
            tip,
            &call,
        ));
        Self {
            signer,
            nonce,
            call,
            tip,
            signature,
        }
    }

    /// Decodes a transaction from its SCALE bytes (all of them).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TxError> {
        use parity_scale_codec::DecodeAll;
        <Self as DecodeAll>::decode_all(&mut &*bytes).map_err(|_| TxError::BadEncoding)
    }

    /// Checks signature, nonce and ability to pay against `state`, without changing it.
    pub fn check(&self, state: &State) -> Result<Rao, TxError> {
        let payload = Self::signing_payload(
            &state.head.genesis_hash,
            &self.signer,
            self.nonce,
            self.tip,
            &self.call,
        );
        if !hyphae_keys::verify(&self.signer, &payload, &self.signature) {
            return Err(TxError::BadSignature);
        }
        let expected = state.nonce(&self.signer);
        if self.nonce < expected {
            return Err(TxError::NonceStale);
        }
        if self.nonce > expected {
            return Err(TxError::NonceFuture);
        }
        let fee = self.call.fee(state);
        let due = fee.checked_add(self.tip).ok_or(TxError::CannotPayFee)?;
        if state.balance(&self.signer) < due {
            return Err(TxError::CannotPayFee);
        }
        Ok(fee)
    }
}
