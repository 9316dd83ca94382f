//! Wire form of a [`CompressedUpdate`] and its content hash.
//!
//! # Format, version 2 (integers little-endian; `varint` is unsigned LEB128, at most 3
//! bytes, in its shortest form)
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version = 2 |
//! | 4 | `n_params` (u32, ≥ 1) |
//! | 4 | `chunk_len` (u32, 1..=65536) |
//! | 4 | `k_per_chunk` (u32, 1..=`chunk_len`) |
//!
//! then, for each of the `⌈n_params / chunk_len⌉` chunks in order:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | scale (f32, finite, not negative) |
//! | varint | `count`: entries kept in this chunk, at most `min(k_per_chunk, chunk size)` |
//! | varint × count | positions as gaps: the first in-chunk index, then each index minus the previous one minus 1 |
//! | 1 × count | quantised values (i8, −127..=127) |
//!
//! Gap coding is what makes the budget go further: version 1 spent 2 bytes on every
//! index; kept positions of a 9,610-value chunk are mostly under 128 apart, so a gap
//! costs 1 byte and the same 100× budget holds about half as many entries again.
//!
//! Every count and gap is bounded by the header, and the decoder reads only what the
//! bytes hold, so a hostile header cannot make it allocate more than the input implies.
//! Decoding is canonical: a byte string that decodes re-encodes to itself (shortest
//! varints, no trailing bytes), so the hash identifies the content. The hash is
//! BLAKE2b-256 of the encoded bytes; it is what a miner commits on chain.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

use crate::compress::{CompressedUpdate, CompressionConfig, CHUNK_LEN_MAX, QUANT_MAX};

/// The only wire version this crate writes and reads.
pub const CODEC_VERSION: u8 = 2;

const HEADER_LEN: usize = 13;
/// Bytes of a chunk's scale.
const SCALE_LEN: usize = 4;
/// Longest varint: 21 bits cover any in-chunk index or count (≤ 65536).
const VARINT_LEN_MAX: usize = 3;

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
    /// The bytes end before the update does, or go on after it.
    #[error("update is {actual} bytes but its content ends at byte {expected}")]
    Length { expected: usize, actual: usize },
    /// A scale that is negative, NaN, or so large that a decoded value would overflow.
    #[error("chunk {chunk} has an invalid scale")]
    Scale { chunk: usize },
    /// A count above what the header allows for the chunk.
    #[error("chunk {chunk} keeps {count} entries, more than its {n_kept_max}")]
    Count {
        chunk: usize,
        count: usize,
        n_kept_max: usize,
    },
    /// A varint longer than needed or than 3 bytes.
    #[error("non-canonical varint at byte {at}")]
    Varint { at: usize },
    /// An index past the chunk's end.
    #[error("chunk {chunk} has an out-of-range index {index}")]
    Index { chunk: usize, index: usize },
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

/// Bytes of the shortest LEB128 form of `value`.
fn varint_len(value: usize) -> usize {
    match value {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        _ => 3,
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value & 0x7F) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Bytes of the chunk's positions as gaps (`indices` ascending).
fn gaps_len(indices: impl Iterator<Item = usize>) -> usize {
    let mut previous: Option<usize> = None;
    indices
        .map(|index| {
            let gap = previous.map_or(index, |p| index - p - 1);
            previous = Some(index);
            varint_len(gap)
        })
        .sum()
}

/// Encoded size of an update keeping the given in-chunk indices (ascending per chunk).
pub(crate) fn encoded_len_of(
    n_params: usize,
    config: CompressionConfig,
    kept: &[Vec<usize>],
) -> usize {
    let empty_chunks = config.n_chunks(n_params).saturating_sub(kept.len());
    HEADER_LEN
        + (SCALE_LEN + 1) * empty_chunks
        + kept
            .iter()
            .map(|idx| {
                SCALE_LEN + varint_len(idx.len()) + gaps_len(idx.iter().copied()) + idx.len()
            })
            .sum::<usize>()
}

/// Encoded size of an update that keeps nothing: the floor of any byte budget.
pub(crate) fn encoded_len_empty(n_params: usize, config: CompressionConfig) -> usize {
    HEADER_LEN + (SCALE_LEN + 1) * config.n_chunks(n_params)
}

impl CompressedUpdate {
    /// Size of [`CompressedUpdate::encode`]'s output.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let mut entry = 0;
        HEADER_LEN
            + self
                .counts
                .iter()
                .map(|&count| {
                    let indices = &self.indices[entry..entry + count];
                    entry += count;
                    SCALE_LEN
                        + varint_len(count)
                        + gaps_len(indices.iter().map(|i| usize::from(*i)))
                        + count
                })
                .sum::<usize>()
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
        let mut entry = 0;
        for (scale, &count) in self.scales.iter().zip(&self.counts) {
            out.extend_from_slice(&scale.to_le_bytes());
            push_varint(&mut out, count);
            let mut previous: Option<usize> = None;
            for index in &self.indices[entry..entry + count] {
                let index = usize::from(*index);
                push_varint(&mut out, previous.map_or(index, |p| index - p - 1));
                previous = Some(index);
            }
            out.extend(
                self.quantized[entry..entry + count]
                    .iter()
                    .map(|q| q.to_le_bytes()[0]),
            );
            entry += count;
        }
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
        // Every chunk takes at least a scale and a count byte: checked before allocating.
        let floor = encoded_len_empty(n_params, config);
        if bytes.len() < floor {
            return Err(CodecError::Length {
                expected: floor,
                actual: bytes.len(),
            });
        }
        let entries_max = config.n_kept_total(n_params).min(bytes.len() / 2);
        let mut update = Self {
            n_params,
            config,
            scales: Vec::with_capacity(n_chunks),
            counts: Vec::with_capacity(n_chunks),
            indices: Vec::with_capacity(entries_max),
            quantized: Vec::with_capacity(entries_max),
        };
        let mut reader = Reader {
            bytes,
            at: HEADER_LEN,
        };
        for chunk in 0..n_chunks {
            let start = chunk * config.chunk_len;
            let chunk_len = config.chunk_len.min(n_params - start);
            update
                .scales
                .push(decode_scale(reader.take(SCALE_LEN)?, chunk)?);
            let count = reader.varint()?;
            let n_kept_max = config.n_kept(n_params, start);
            if count > n_kept_max {
                return Err(CodecError::Count {
                    chunk,
                    count,
                    n_kept_max,
                });
            }
            update.counts.push(count);
            let mut previous: Option<usize> = None;
            for _ in 0..count {
                let gap = reader.varint()?;
                let index = previous.map_or(gap, |p| p + 1 + gap);
                if index >= chunk_len {
                    return Err(CodecError::Index { chunk, index });
                }
                // index < chunk_len <= 65536: fits in u16.
                update.indices.push(index as u16);
                previous = Some(index);
            }
            for byte in reader.take(count)? {
                let code = i8::from_le_bytes([*byte]);
                if code < -QUANT_MAX {
                    return Err(CodecError::Code {
                        entry: update.quantized.len(),
                    });
                }
                update.quantized.push(code);
            }
        }
        if reader.at != bytes.len() {
            return Err(CodecError::Length {
                expected: reader.at,
                actual: bytes.len(),
            });
        }
        Ok(update)
    }
}

/// A cursor over the body of an update.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.saturating_add(n);
        let taken = self.bytes.get(self.at..end).ok_or(CodecError::Length {
            expected: end,
            actual: self.bytes.len(),
        })?;
        self.at = end;
        Ok(taken)
    }

    /// A shortest-form LEB128 value of at most [`VARINT_LEN_MAX`] bytes.
    fn varint(&mut self) -> Result<usize, CodecError> {
        let first = self.at;
        let mut value = 0usize;
        for shift in 0..VARINT_LEN_MAX {
            let byte = *self
                .take(1)?
                .first()
                .ok_or(CodecError::Varint { at: first })?;
            value |= usize::from(byte & 0x7F) << (7 * shift);
            if byte & 0x80 == 0 {
                // A zero final byte after a continuation is a longer form of a shorter value.
                if byte == 0 && shift > 0 {
                    return Err(CodecError::Varint { at: first });
                }
                return Ok(value);
            }
        }
        Err(CodecError::Varint { at: first })
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

fn decode_scale(b: &[u8], chunk: usize) -> Result<f32, CodecError> {
    let scale = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    // The bound keeps every `code · scale` finite (the encoder's scales obey it).
    if scale.is_sign_positive() && scale <= f32::MAX / f32::from(QUANT_MAX) {
        Ok(scale)
    } else {
        Err(CodecError::Scale { chunk })
    }
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
        // 3 chunks (4, 4, 2 values), 2 kept each: 13 + 3 · (4 scale + 1 count + 2 gaps + 2 codes).
        assert_eq!(bytes.len(), 40);
        assert_eq!(CompressedUpdate::decode(&bytes, 10).unwrap(), update);
        assert_eq!(update.hash(), hash_bytes(&bytes));
        assert_eq!(update.hash().to_string().len(), 64);
    }

    #[test]
    fn varints_are_shortest_form() {
        for value in [0, 1, 127, 128, 300, 16_383, 16_384, 65_535, 65_536] {
            let mut out = Vec::new();
            push_varint(&mut out, value);
            assert_eq!(out.len(), varint_len(value));
            let mut reader = Reader { bytes: &out, at: 0 };
            assert_eq!(reader.varint(), Ok(value));
        }
        // 0x80 0x00 is a 2-byte zero; 4-byte forms are never produced.
        let mut reader = Reader {
            bytes: &[0x80, 0x00],
            at: 0,
        };
        assert_eq!(reader.varint(), Err(CodecError::Varint { at: 0 }));
        let mut reader = Reader {
            bytes: &[0x80, 0x80, 0x80, 0x01],
            at: 0,
        };
        assert_eq!(reader.varint(), Err(CodecError::Varint { at: 0 }));
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
        v[0] = 1;
        assert_eq!(decode(&v), Err(CodecError::Version { found: 1 }));
        let mut v = bytes.clone();
        v.push(0);
        assert!(matches!(decode(&v), Err(CodecError::Length { .. })));
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1]),
            Err(CodecError::Length { .. })
        ));
        let mut v = bytes.clone();
        v[13..17].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(decode(&v), Err(CodecError::Scale { chunk: 0 }));
        // Chunk 0: scale at 13..17, count at 17, gaps at 18 and 19, codes at 20 and 21.
        let mut v = bytes.clone();
        v[17] = 3;
        assert!(matches!(
            decode(&v),
            Err(CodecError::Count { chunk: 0, .. })
        ));
        let mut v = bytes.clone();
        v[19] = 3;
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

    #[test]
    fn a_byte_budget_keeps_the_largest_entries_that_fit() {
        let config = CompressionConfig {
            chunk_len: 1000,
            k_per_chunk: 100,
        };
        let delta: Vec<f32> = (0..1000).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
        let unbounded = Compressor::new(config, 1000)
            .unwrap()
            .compress(&delta)
            .unwrap();
        assert_eq!(unbounded.n_entries(), 100);
        let budget = unbounded.encoded_len() - 40;
        let mut compressor = Compressor::with_byte_budget(config, 1000, budget).unwrap();
        let bounded = compressor.compress(&delta).unwrap();
        let bytes = bounded.encode();
        assert!(bytes.len() <= budget && bounded.n_entries() < 100);
        // One entry more would not have fit, and what was dropped waits in the residual.
        assert!(bytes.len() + 5 > budget);
        let kept_min = bounded
            .to_dense()
            .iter()
            .filter(|v| **v != 0.0)
            .fold(f32::INFINITY, |m, v| m.min(v.abs()));
        let dropped_max = compressor
            .residual()
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(dropped_max <= kept_min + 0.5, "{dropped_max} vs {kept_min}");
        assert_eq!(CompressedUpdate::decode(&bytes, 1000).unwrap(), bounded);
        assert!(matches!(
            Compressor::with_byte_budget(config, 1000, 10),
            Err(crate::compress::CompressError::Budget { .. })
        ));
    }
}
