//! Wire form of a [`CompressedUpdate`] and its content hash.
//!
//! # Format, version 1 (all integers little-endian)
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version = 1 |
//! | 4 | `n_params` (u32, ≥ 1) |
//! | 4 | `chunk_len` (u32, 1..=65536) |
//! | 4 | `k_per_chunk` (u32, 1..=`chunk_len`) |
//! | 4 · n_chunks | per-chunk scale (f32, finite, not negative) |
//! | 2 · n_kept | in-chunk index (u16), strictly increasing within each chunk |
//! | 1 · n_kept | quantised value (i8, −127..=127) |
//!
//! `n_chunks` and `n_kept` follow from the header, so the exact length is known before
//! anything is allocated and any other length is rejected. Decoding is canonical: a
//! byte string that decodes re-encodes to itself, so the hash identifies the content.
//! The hash is BLAKE2b-256 of the encoded bytes; it is what a miner commits on chain.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

use crate::compress::{CompressedUpdate, CompressionConfig, CHUNK_LEN_MAX, QUANT_MAX};

/// The only wire version this crate writes and reads.
pub const CODEC_VERSION: u8 = 1;

const HEADER_LEN: usize = 13;

/// Why bytes are not a valid update.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// Shorter than the fixed header.
    #[error("update is {len} bytes, shorter than the {HEADER_LEN}-byte header")]
    Truncated { len: usize },
    /// A version this crate does not know.
    #[error("unsupported update version {found} (expected {CODEC_VERSION})")]
    Version { found: u8 },
    /// Zero parameters, or more than the caller allows.
    #[error("update declares {n_params} parameters; allowed 1..={n_params_max}")]
    NParams {
        n_params: usize,
        n_params_max: usize,
    },
    /// Chunk length or k outside their bounds.
    #[error("update declares chunk_len = {chunk_len}, k_per_chunk = {k_per_chunk}")]
    Chunking {
        chunk_len: usize,
        k_per_chunk: usize,
    },
    /// The byte length does not match what the header implies.
    #[error("update is {actual} bytes but its header implies {expected}")]
    Length { expected: usize, actual: usize },
    /// A scale that is negative, NaN, or so large that a decoded value would overflow.
    #[error("chunk {chunk} has an invalid scale")]
    Scale { chunk: usize },
    /// An index past the chunk's end or not strictly increasing.
    #[error("chunk {chunk} has an out-of-range or unordered index {index}")]
    Index { chunk: usize, index: u16 },
    /// The code −128, which the encoder never produces.
    #[error("entry {entry} has the non-canonical code -128")]
    Code { entry: usize },
}

/// A BLAKE2b-256 digest of an encoded update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpdateHash(pub [u8; 32]);

impl std::fmt::Display for UpdateHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// BLAKE2b-256 of `bytes`.
#[must_use]
pub fn hash_bytes(bytes: &[u8]) -> UpdateHash {
    UpdateHash(Blake2b::<U32>::digest(bytes).into())
}

impl CompressedUpdate {
    /// Size of [`CompressedUpdate::encode`]'s output.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + 4 * self.scales.len() + 3 * self.indices.len()
    }

    /// The wire bytes (see the module docs).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.push(CODEC_VERSION);
        // Compressor::new guarantees n_params fits in u32; chunk_len and k are <= 65536.
        for field in [
            self.n_params,
            self.config.chunk_len,
            self.config.k_per_chunk,
        ] {
            out.extend_from_slice(&(field as u32).to_le_bytes());
        }
        self.scales
            .iter()
            .for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
        self.indices
            .iter()
            .for_each(|i| out.extend_from_slice(&i.to_le_bytes()));
        out.extend(self.quantized.iter().map(|q| q.to_le_bytes()[0]));
        out
    }

    /// The content hash: BLAKE2b-256 of [`CompressedUpdate::encode`].
    #[must_use]
    pub fn hash(&self) -> UpdateHash {
        hash_bytes(&self.encode())
    }

    /// Parses and validates wire bytes; never allocates more than `bytes.len()` implies,
    /// and rejects models larger than `n_params_max`.
    pub fn decode(bytes: &[u8], n_params_max: usize) -> Result<Self, CodecError> {
        let (n_params, config) = decode_header(bytes, n_params_max)?;
        let n_chunks = config.n_chunks(n_params);
        let n_kept = config.n_kept_total(n_params);
        let expected = HEADER_LEN + 4 * n_chunks + 3 * n_kept;
        if bytes.len() != expected {
            return Err(CodecError::Length {
                expected,
                actual: bytes.len(),
            });
        }
        let (scale_bytes, rest) = bytes[HEADER_LEN..].split_at(4 * n_chunks);
        let (index_bytes, code_bytes) = rest.split_at(2 * n_kept);
        let update = Self {
            n_params,
            config,
            scales: decode_scales(scale_bytes)?,
            indices: index_bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect(),
            quantized: decode_codes(code_bytes)?,
        };
        check_indices(&update)?;
        Ok(update)
    }
}

fn read_u32(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
}

fn decode_header(
    bytes: &[u8],
    n_params_max: usize,
) -> Result<(usize, CompressionConfig), CodecError> {
    if bytes.len() < HEADER_LEN {
        return Err(CodecError::Truncated { len: bytes.len() });
    }
    if bytes[0] != CODEC_VERSION {
        return Err(CodecError::Version { found: bytes[0] });
    }
    let n_params = read_u32(bytes, 1);
    if n_params == 0 || n_params > n_params_max {
        return Err(CodecError::NParams {
            n_params,
            n_params_max,
        });
    }
    let config = CompressionConfig {
        chunk_len: read_u32(bytes, 5),
        k_per_chunk: read_u32(bytes, 9),
    };
    let in_bounds = (1..=CHUNK_LEN_MAX).contains(&config.chunk_len)
        && (1..=config.chunk_len).contains(&config.k_per_chunk);
    if !in_bounds {
        return Err(CodecError::Chunking {
            chunk_len: config.chunk_len,
            k_per_chunk: config.k_per_chunk,
        });
    }
    Ok((n_params, config))
}

fn decode_scales(bytes: &[u8]) -> Result<Vec<f32>, CodecError> {
    bytes
        .chunks_exact(4)
        .enumerate()
        .map(|(chunk, b)| {
            let scale = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            // The bound keeps every `code · scale` finite (the encoder's scales obey it).
            if scale.is_sign_positive() && scale <= f32::MAX / f32::from(QUANT_MAX) {
                Ok(scale)
            } else {
                Err(CodecError::Scale { chunk })
            }
        })
        .collect()
}

fn decode_codes(bytes: &[u8]) -> Result<Vec<i8>, CodecError> {
    bytes
        .iter()
        .enumerate()
        .map(|(entry, b)| {
            let code = i8::from_le_bytes([*b]);
            if code >= -QUANT_MAX {
                Ok(code)
            } else {
                Err(CodecError::Code { entry })
            }
        })
        .collect()
}

/// Every chunk's indices are strictly increasing and inside the chunk.
fn check_indices(update: &CompressedUpdate) -> Result<(), CodecError> {
    let config = update.config;
    let mut entry = 0;
    for chunk in 0..update.scales.len() {
        let start = chunk * config.chunk_len;
        let chunk_len = config.chunk_len.min(update.n_params - start);
        let mut previous: Option<u16> = None;
        for _ in 0..config.n_kept(update.n_params, start) {
            let index = update.indices[entry];
            if usize::from(index) >= chunk_len || previous.is_some_and(|p| p >= index) {
                return Err(CodecError::Index { chunk, index });
            }
            previous = Some(index);
            entry += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::Compressor;

    fn sample() -> CompressedUpdate {
        let config = CompressionConfig {
            chunk_len: 4,
            k_per_chunk: 2,
        };
        let delta: Vec<f32> = (0..10).map(|i| (i as f32 - 4.5) * 0.1).collect();
        Compressor::new(config, 10)
            .unwrap()
            .compress(&delta)
            .unwrap()
    }

    #[test]
    fn round_trip_and_hash() {
        let update = sample();
        let bytes = update.encode();
        assert_eq!(bytes.len(), update.encoded_len());
        // 3 chunks (4, 4, 2 values), 2 kept each: 13 + 12 + 18.
        assert_eq!(bytes.len(), 43);
        assert_eq!(CompressedUpdate::decode(&bytes, 10).unwrap(), update);
        assert_eq!(update.hash(), hash_bytes(&bytes));
        assert_eq!(update.hash().to_string().len(), 64);
    }

    #[test]
    fn rejects_malformed() {
        let bytes = sample().encode();
        let decode = |b: &[u8]| CompressedUpdate::decode(b, 10);
        assert_eq!(decode(&bytes[..5]), Err(CodecError::Truncated { len: 5 }));
        assert!(matches!(
            CompressedUpdate::decode(&bytes, 9),
            Err(CodecError::NParams { .. })
        ));
        let mut v = bytes.clone();
        v[0] = 2;
        assert_eq!(decode(&v), Err(CodecError::Version { found: 2 }));
        let mut v = bytes.clone();
        v.push(0);
        assert!(matches!(decode(&v), Err(CodecError::Length { .. })));
        let mut v = bytes.clone();
        v[13..17].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(decode(&v), Err(CodecError::Scale { chunk: 0 }));
        let mut v = bytes.clone();
        v[25..27].copy_from_slice(&7u16.to_le_bytes());
        assert!(matches!(
            decode(&v),
            Err(CodecError::Index { chunk: 0, .. })
        ));
        let mut v = bytes.clone();
        let last = v.len() - 1;
        v[last] = 0x80;
        assert!(matches!(decode(&v), Err(CodecError::Code { .. })));
        let mut v = bytes;
        v[9..13].copy_from_slice(&5u32.to_le_bytes());
        assert!(matches!(decode(&v), Err(CodecError::Chunking { .. })));
    }
}
