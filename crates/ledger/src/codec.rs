//! SCALE adapters for the primitive newtypes.
//!
//! `hyphae-primitives` does not depend on `parity-scale-codec`, so the ledger's types name an
//! adapter per field with `#[codec(encoded_as = "…")]`. Each adapter encodes exactly like the
//! inner integer or byte array, so the wire form is the plain SCALE of the raw value.

use hyphae_keys::Signature;
use hyphae_primitives::{AccountId, BlockNumber, Hash, NetUid, Rao, Uid};
use parity_scale_codec::{Decode, Encode, EncodeAsRef};

macro_rules! codec_adapter {
    ($(#[$doc:meta])* $adapter:ident, $outer:ty, $inner:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Encode, Decode)]
        pub struct $adapter(pub $inner);

        impl<'a> EncodeAsRef<'a, $outer> for $adapter {
            type RefType = $adapter;
        }

        impl From<&$outer> for $adapter {
            fn from(value: &$outer) -> Self {
                Self(value.0)
            }
        }

        impl From<$adapter> for $outer {
            fn from(value: $adapter) -> Self {
                Self(value.0)
            }
        }
    };
}

codec_adapter!(
    /// SCALE form of an [`AccountId`]: its 32 bytes.
    AccountCodec, AccountId, [u8; 32]
);
codec_adapter!(
    /// SCALE form of [`Rao`]: a little-endian u64.
    RaoCodec, Rao, u64
);
codec_adapter!(
    /// SCALE form of [`NetUid`]: a little-endian u16.
    NetUidCodec, NetUid, u16
);
codec_adapter!(
    /// SCALE form of [`Uid`]: a little-endian u16.
    UidCodec, Uid, u16
);
codec_adapter!(
    /// SCALE form of [`BlockNumber`]: a little-endian u64.
    BlockCodec, BlockNumber, u64
);
codec_adapter!(
    /// SCALE form of a [`struct@Hash`]: its 32 bytes.
    HashCodec, Hash, [u8; 32]
);
codec_adapter!(
    /// SCALE form of a [`Signature`]: its 64 bytes.
    SignatureCodec, Signature, [u8; 64]
);

/// blake2-256 of `bytes`.
pub fn blake2_256(bytes: &[u8]) -> Hash {
    use blake2::digest::{consts::U32, Digest};
    let mut hasher = blake2::Blake2b::<U32>::new();
    hasher.update(bytes);
    Hash(hasher.finalize().into())
}

/// An incremental blake2-256 hasher that SCALE values can be encoded into without a buffer.
#[derive(Debug, Default)]
pub struct Blake2Writer(blake2::Blake2b<blake2::digest::consts::U32>);

impl Blake2Writer {
    /// The digest of everything written.
    pub fn finish(self) -> Hash {
        use blake2::digest::Digest;
        Hash(self.0.finalize().into())
    }
}

impl parity_scale_codec::Output for Blake2Writer {
    fn write(&mut self, bytes: &[u8]) {
        use blake2::digest::Digest;
        self.0.update(bytes);
    }
}
