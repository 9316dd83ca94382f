//! [`ChainBlock`]: a ledger block as the engine sees it.
//!
//! The engine orders 32-byte digests. A block's digest is its ledger header hash, so the
//! engine's parent link and the ledger's `parent_hash` are one and the same, and a digest a
//! quorum certified names exactly one header (which commits to the transactions through the
//! extrinsics root and to the resulting state through the state root). Decoding checks the
//! extrinsics root, so a decoded block's body is the one its digest names.

use bytes::BufMut;
use commonware_codec::{varint::UInt, Buf, EncodeSize, Error as CodecError, Read, ReadExt, Write};
use commonware_consensus::{types::Height, BoundedBlock, Heightable};
use commonware_cryptography::{sha256, Digestible};
use hyphae_ledger::{extrinsics_root, Block, BLOCK_BYTES_MAX};
use hyphae_primitives::Hash;
use parity_scale_codec::{Decode, Encode};

/// The engine's digest type (32 bytes; we fill it with the ledger header hash).
pub type Digest = sha256::Digest;

/// Bytes a header and the length prefixes may add to the transactions' bound.
const HEADER_BYTES_MAX: usize = 4096;

/// The largest encoded block, bytes: the ledger's transaction bytes plus the header.
pub const CHAIN_BLOCK_BYTES_MAX: usize = BLOCK_BYTES_MAX.saturating_add(HEADER_BYTES_MAX);

/// A ledger block carried by the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBlock {
    /// The block.
    pub block: Block,
}

impl ChainBlock {
    /// Wraps `block`.
    pub fn new(block: Block) -> Self {
        Self { block }
    }

    /// The ledger header hash.
    pub fn hash(&self) -> Hash {
        self.block.header.hash()
    }
}

/// The engine digest of a ledger hash.
pub fn digest_of(hash: Hash) -> Digest {
    sha256::Digest(hash.0)
}

/// The ledger hash of an engine digest.
pub fn hash_of(digest: &Digest) -> Hash {
    Hash(digest.0)
}

impl Write for ChainBlock {
    fn write(&self, writer: &mut impl BufMut) {
        let bytes = self.block.encode();
        UInt(u32::try_from(bytes.len()).unwrap_or(u32::MAX)).write(writer);
        writer.put_slice(&bytes);
    }
}

impl EncodeSize for ChainBlock {
    fn encode_size(&self) -> usize {
        let len = self.block.encoded_size();
        UInt(u32::try_from(len).unwrap_or(u32::MAX))
            .encode_size()
            .saturating_add(len)
    }
}

impl Read for ChainBlock {
    type Cfg = ();

    fn read_cfg(reader: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let len: u32 = UInt::read(reader)?.into();
        let len = usize::try_from(len).map_err(|_| CodecError::Invalid("block", "length"))?;
        if len > CHAIN_BLOCK_BYTES_MAX {
            return Err(CodecError::InvalidLength(len));
        }
        if reader.remaining() < len {
            return Err(CodecError::EndOfBuffer);
        }
        let mut bytes = vec![0u8; len];
        reader.copy_to_slice(&mut bytes);
        let mut slice = bytes.as_slice();
        let block = Block::decode(&mut slice)
            .map_err(|_| CodecError::Invalid("block", "SCALE decoding failed"))?;
        if !slice.is_empty() {
            return Err(CodecError::Invalid("block", "trailing bytes"));
        }
        // The engine requires one encoding per block: reject any alternative SCALE form.
        if block.encode() != bytes {
            return Err(CodecError::Invalid("block", "non-canonical encoding"));
        }
        // The digest is the header hash, and the engine trusts a block that matches a certified
        // digest: only a body the header commits to may decode, or a peer could pair a
        // certified header with other transactions.
        if extrinsics_root(&block.transactions) != block.header.extrinsics_root {
            return Err(CodecError::Invalid("block", "extrinsics root mismatch"));
        }
        Ok(Self { block })
    }
}

impl Digestible for ChainBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        digest_of(self.hash())
    }
}

impl Heightable for ChainBlock {
    fn height(&self) -> Height {
        Height::new(self.block.header.number.0)
    }
}

impl commonware_consensus::Block for ChainBlock {
    fn parent(&self) -> Digest {
        digest_of(self.block.header.parent_hash)
    }
}

impl BoundedBlock for ChainBlock {
    fn max_encode_size(_: &()) -> usize {
        // The length prefix is a u32 varint: at most 5 bytes.
        CHAIN_BLOCK_BYTES_MAX.saturating_add(5)
    }
}
