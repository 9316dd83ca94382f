//! Update compression: top-k per chunk with error feedback, then 8-bit quantisation.
//!
//! # Protocol
//!
//! The flat pseudo-gradient Δ (length `n_params`) is cut into chunks of `chunk_len`
//! values (the last one may be shorter). The sender keeps a residual `r`, initially zero.
//! Each round it:
//!
//! 1. forms the accumulator `a = Δ + r`;
//! 2. in each chunk keeps the `min(k, chunk)` entries of largest `|a|` (ties go to the
//!    lower index, so the choice is deterministic), listed in ascending index order,
//!    and leaves out any that are exactly zero;
//!    with a byte budget ([`Compressor::with_byte_budget`]), it then drops the smallest
//!    kept entries over all chunks (ties: the higher position goes first) until the
//!    encoded update fits — the largest prefix of that order that fits is kept;
//! 3. quantises them to `i8` in −127..=127 with one scale per chunk,
//!    `scale = max|kept| / 127`, `q = round(a / scale)`, so each kept value is off by at
//!    most `scale / 2`;
//! 4. sets `r = a − decoded`, i.e. everything that was not sent, dropped or rounded away
//!    waits for the next round (error feedback) instead of being lost.
//!
//! The wire form and its hash live in [`crate::codec`].

use crate::params::{check_finite, ParamsError};

/// Largest chunk: in-chunk indices travel as `u16`.
pub const CHUNK_LEN_MAX: usize = 1 << 16;

/// Largest quantised magnitude; −128 is never produced so the code is symmetric.
pub const QUANT_MAX: i8 = 127;

/// Why an update could not be compressed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompressError {
    /// `chunk_len` must be in 1..=65536 and `k_per_chunk` in 1..=`chunk_len`.
    #[error("invalid compression config: chunk_len = {chunk_len}, k_per_chunk = {k_per_chunk}")]
    Config {
        chunk_len: usize,
        k_per_chunk: usize,
    },
    /// The model is too large for the `u32` length on the wire.
    #[error("{n_params} parameters exceed the wire format's u32 length")]
    TooManyParams { n_params: usize },
    /// The delta does not have the compressor's length.
    #[error("delta has {actual} values, the compressor was built for {expected}")]
    Length { expected: usize, actual: usize },
    /// The delta, or delta + residual, holds NaN or infinity.
    #[error(transparent)]
    NotFinite(#[from] ParamsError),
    /// The byte budget cannot hold even an update with no entries.
    #[error("a byte budget of {bytes_max} is below the {bytes_min} bytes of an empty update")]
    Budget { bytes_max: usize, bytes_min: usize },
}

/// Chunk length and entries kept per chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionConfig {
    /// Values per chunk (1..=65536).
    pub chunk_len: usize,
    /// Entries kept per chunk (1..=`chunk_len`).
    pub k_per_chunk: usize,
}

impl CompressionConfig {
    /// Checks the bounds documented on the fields.
    pub fn validate(&self) -> Result<(), CompressError> {
        let ok = (1..=CHUNK_LEN_MAX).contains(&self.chunk_len)
            && (1..=self.chunk_len).contains(&self.k_per_chunk);
        if ok {
            Ok(())
        } else {
            Err(CompressError::Config {
                chunk_len: self.chunk_len,
                k_per_chunk: self.k_per_chunk,
            })
        }
    }

    /// Number of chunks covering `n_params` values.
    #[must_use]
    pub fn n_chunks(&self, n_params: usize) -> usize {
        n_params.div_ceil(self.chunk_len)
    }

    /// Entries kept in the chunk starting at `start`.
    #[must_use]
    pub fn n_kept(&self, n_params: usize, start: usize) -> usize {
        self.k_per_chunk
            .min(n_params.saturating_sub(start).min(self.chunk_len))
    }

    /// Entries kept over all chunks, in constant time (a decoder computes this from an
    /// untrusted header before looking at the rest, so it must not loop per chunk).
    #[must_use]
    pub fn n_kept_total(&self, n_params: usize) -> usize {
        let full_chunks = n_params / self.chunk_len;
        let tail = n_params % self.chunk_len;
        full_chunks * self.k_per_chunk + self.k_per_chunk.min(tail)
    }
}

/// A compressed update: per chunk one scale and the number of entries it keeps (at most
/// `k_per_chunk`), then the kept entries of all chunks as (in-chunk index, quantised
/// value) pairs in chunk order.
#[derive(Debug, Clone, PartialEq)]
pub struct CompressedUpdate {
    pub(crate) n_params: usize,
    pub(crate) config: CompressionConfig,
    pub(crate) scales: Vec<f32>,
    pub(crate) counts: Vec<usize>,
    pub(crate) indices: Vec<u16>,
    pub(crate) quantized: Vec<i8>,
}

impl CompressedUpdate {
    /// Length of the dense vector this update decodes to.
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// The chunking used.
    #[must_use]
    pub fn config(&self) -> CompressionConfig {
        self.config
    }

    /// One scale per chunk.
    #[must_use]
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Fraction of this update's kept positions that `other` also keeps (Templar-style
    /// copy detection: independent miners rarely pick the same top-k). 0 when the two
    /// cover different lengths or chunkings.
    #[must_use]
    pub fn index_overlap(&self, other: &Self) -> f64 {
        if self.n_params != other.n_params || self.config != other.config || self.indices.is_empty()
        {
            return 0.0;
        }
        let positions =
            |u: &Self| -> std::collections::BTreeSet<usize> { u.kept_positions().collect() };
        let theirs = positions(other);
        let shared = self.kept_positions().filter(|p| theirs.contains(p)).count();
        shared as f64 / self.indices.len() as f64
    }

    /// Entries kept in each chunk.
    #[must_use]
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }

    /// Entries kept over all chunks.
    #[must_use]
    pub fn n_entries(&self) -> usize {
        self.indices.len()
    }

    /// Absolute positions of the kept entries, in order.
    fn kept_positions(&self) -> impl Iterator<Item = usize> + '_ {
        let mut entry = 0;
        (0..self.scales.len()).flat_map(move |chunk_idx| {
            let start = chunk_idx * self.config.chunk_len;
            let n_kept = self.counts[chunk_idx];
            let positions: Vec<usize> = self.indices[entry..entry + n_kept]
                .iter()
                .map(|i| start + usize::from(*i))
                .collect();
            entry += n_kept;
            positions
        })
    }

    /// The dense update: `q · scale` at kept positions, zero elsewhere.
    #[must_use]
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0f32; self.n_params];
        let mut entry = 0;
        for (chunk_idx, (scale, count)) in self.scales.iter().zip(&self.counts).enumerate() {
            let start = chunk_idx * self.config.chunk_len;
            for _ in 0..*count {
                dense[start + usize::from(self.indices[entry])] =
                    dequantize(self.quantized[entry], *scale);
                entry += 1;
            }
        }
        dense
    }
}

/// The sender's side: compresses successive deltas, carrying the residual between them.
#[derive(Debug, Clone)]
pub struct Compressor {
    config: CompressionConfig,
    residual: Vec<f32>,
    bytes_max: Option<usize>,
}

impl Compressor {
    /// A compressor for `n_params`-long deltas, with a zero residual.
    pub fn new(config: CompressionConfig, n_params: usize) -> Result<Self, CompressError> {
        config.validate()?;
        if u32::try_from(n_params).is_err() {
            return Err(CompressError::TooManyParams { n_params });
        }
        Ok(Self {
            config,
            residual: vec![0.0; n_params],
            bytes_max: None,
        })
    }

    /// As [`Compressor::new`], but every encoded update is at most `bytes_max` bytes: the
    /// smallest kept entries are dropped (and stay in the residual) until it fits.
    pub fn with_byte_budget(
        config: CompressionConfig,
        n_params: usize,
        bytes_max: usize,
    ) -> Result<Self, CompressError> {
        let mut compressor = Self::new(config, n_params)?;
        let bytes_min = crate::codec::encoded_len_empty(n_params, config);
        if bytes_max < bytes_min {
            return Err(CompressError::Budget {
                bytes_max,
                bytes_min,
            });
        }
        compressor.bytes_max = Some(bytes_max);
        Ok(compressor)
    }

    /// What has not been sent yet.
    #[must_use]
    pub fn residual(&self) -> &[f32] {
        &self.residual
    }

    /// Compresses `delta + residual` and keeps the new residual. On error the residual is
    /// left untouched.
    pub fn compress(&mut self, delta: &[f32]) -> Result<CompressedUpdate, CompressError> {
        if delta.len() != self.residual.len() {
            return Err(CompressError::Length {
                expected: self.residual.len(),
                actual: delta.len(),
            });
        }
        check_finite("compress: delta", delta)?;
        let accumulated: Vec<f32> = delta
            .iter()
            .zip(&self.residual)
            .map(|(d, r)| d + r)
            .collect();
        check_finite("compress: delta + residual", &accumulated)?;
        let update = compress_once(self.config, &accumulated, self.bytes_max);
        let sent = update.to_dense();
        self.residual = accumulated.iter().zip(&sent).map(|(a, s)| a - s).collect();
        Ok(update)
    }
}

/// Top-k plus quantisation of one (finite) vector, without error feedback, trimmed to
/// `bytes_max` encoded bytes when given.
fn compress_once(
    config: CompressionConfig,
    values: &[f32],
    bytes_max: Option<usize>,
) -> CompressedUpdate {
    let mut kept: Vec<Vec<usize>> = values
        .chunks(config.chunk_len)
        .map(|chunk| {
            let mut kept = top_k_indices(chunk, config.k_per_chunk);
            // A zero carries nothing, and keeping it would cost bytes.
            kept.retain(|&i| chunk[i] != 0.0);
            kept
        })
        .collect();
    if let Some(bytes_max) = bytes_max {
        kept = fit_budget(config, values, kept, bytes_max);
    }
    let n_chunks = kept.len();
    let n_entries = kept.iter().map(Vec::len).sum();
    let mut update = CompressedUpdate {
        n_params: values.len(),
        config,
        scales: Vec::with_capacity(n_chunks),
        counts: Vec::with_capacity(n_chunks),
        indices: Vec::with_capacity(n_entries),
        quantized: Vec::with_capacity(n_entries),
    };
    for (chunk, kept) in values.chunks(config.chunk_len).zip(kept) {
        let kept_values: Vec<f32> = kept.iter().map(|&i| chunk[i]).collect();
        let (scale, quantized) = quantize(&kept_values);
        update.scales.push(scale);
        update.counts.push(kept.len());
        // `kept` indices are below chunk_len <= 65536, so they fit in u16.
        update.indices.extend(kept.iter().map(|&i| i as u16));
        update.quantized.extend(quantized);
    }
    update
}

/// The largest prefix of the kept entries, ordered by decreasing `|value|` (ties: the lower
/// position first), whose encoding fits in `bytes_max`; per chunk in ascending order.
/// The encoded size only grows with each added entry, so a binary search finds it.
fn fit_budget(
    config: CompressionConfig,
    values: &[f32],
    kept: Vec<Vec<usize>>,
    bytes_max: usize,
) -> Vec<Vec<usize>> {
    let n_params = values.len();
    if crate::codec::encoded_len_of(n_params, config, &kept) <= bytes_max {
        return kept;
    }
    let mut ranked: Vec<usize> = kept
        .iter()
        .enumerate()
        .flat_map(|(chunk_idx, idx)| idx.iter().map(move |i| chunk_idx * config.chunk_len + i))
        .collect();
    ranked.sort_by(|a, b| values[*b].abs().total_cmp(&values[*a].abs()).then(a.cmp(b)));
    let prefix = |n: usize| -> Vec<Vec<usize>> {
        let mut chosen = vec![Vec::new(); kept.len()];
        for &position in &ranked[..n] {
            chosen[position / config.chunk_len].push(position % config.chunk_len);
        }
        chosen.iter_mut().for_each(|c| c.sort_unstable());
        chosen
    };
    // Invariant: prefix(low) fits (the empty one does: the budget was checked against it),
    // prefix(high) does not.
    let (mut low, mut high) = (0, ranked.len());
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if crate::codec::encoded_len_of(n_params, config, &prefix(middle)) <= bytes_max {
            low = middle;
        } else {
            high = middle;
        }
    }
    prefix(low)
}

/// Indices of the `k` largest `|value|`s (ties to the lower index), in ascending order.
#[must_use]
pub fn top_k_indices(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    let by_magnitude =
        |a: &usize, b: &usize| values[*b].abs().total_cmp(&values[*a].abs()).then(a.cmp(b));
    let k = k.min(values.len());
    if k < order.len() {
        order.select_nth_unstable_by(k, by_magnitude);
    }
    order.truncate(k);
    order.sort_unstable();
    order
}

/// Symmetric 8-bit quantisation with one scale: `scale = max|v| / 127`, `q = round(v / scale)`.
/// A zero (or empty) input gives scale 0 and all-zero codes.
#[must_use]
pub fn quantize(values: &[f32]) -> (f32, Vec<i8>) {
    let max_abs = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = max_abs / f32::from(QUANT_MAX);
    if scale == 0.0 || !scale.is_normal() {
        // Zero, or so small that dividing by it could overflow: send zeros and let the
        // residual carry the value forward.
        return (0.0, vec![0; values.len()]);
    }
    let codes = values
        .iter()
        .map(|v| {
            (v / scale)
                .round()
                .clamp(-f32::from(QUANT_MAX), f32::from(QUANT_MAX)) as i8
        })
        .collect();
    (scale, codes)
}

/// The value a code stands for.
#[must_use]
pub fn dequantize(code: i8, scale: f32) -> f32 {
    f32::from(code) * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_breaks_ties_by_index() {
        assert_eq!(top_k_indices(&[1.0, -3.0, 3.0, 0.5], 2), vec![1, 2]);
        assert_eq!(top_k_indices(&[2.0, 2.0, 2.0], 2), vec![0, 1]);
        assert_eq!(top_k_indices(&[1.0], 4), vec![0]);
    }

    #[test]
    fn quantize_zero_and_extremes() {
        assert_eq!(quantize(&[0.0, 0.0]), (0.0, vec![0, 0]));
        let (scale, codes) = quantize(&[-2.54, 1.27, 0.0]);
        assert_eq!(codes, vec![-127, 64, 0]);
        assert!((scale - 0.02).abs() < 1e-7);
    }

    #[test]
    fn compress_keeps_k_per_chunk_and_feeds_back() {
        let config = CompressionConfig {
            chunk_len: 4,
            k_per_chunk: 1,
        };
        let mut compressor = Compressor::new(config, 6).unwrap();
        let delta = [0.1, 0.9, -0.2, 0.0, 0.5, -0.6];
        let update = compressor.compress(&delta).unwrap();
        assert_eq!(update.scales().len(), 2);
        assert_eq!(config.n_kept_total(6), 2);
        assert_eq!(
            CompressionConfig {
                chunk_len: 4,
                k_per_chunk: 3
            }
            .n_kept_total(6),
            5
        );
        let dense = update.to_dense();
        assert!((dense[1] - 0.9).abs() < 1e-6 && (dense[5] + 0.6).abs() < 1e-6);
        assert_eq!(dense.iter().filter(|v| **v != 0.0).count(), 2);
        assert!((compressor.residual()[4] - 0.5).abs() < 1e-7);
        // The residual makes the held-back 0.5 win its chunk next round.
        let next = compressor.compress(&[0.0; 6]).unwrap().to_dense();
        assert!((next[4] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn index_overlap_spots_copies() {
        let config = CompressionConfig {
            chunk_len: 4,
            k_per_chunk: 2,
        };
        let compress = |d: &[f32]| {
            Compressor::new(config, d.len())
                .unwrap()
                .compress(d)
                .unwrap()
        };
        let a = compress(&[1.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 4.0]);
        let b = compress(&[0.0, 1.0, 0.0, 2.0, 3.0, 0.0, 0.0, 4.0]);
        assert_eq!(a.index_overlap(&a), 1.0);
        assert_eq!(a.index_overlap(&b), 0.25);
    }

    #[test]
    fn rejects_bad_input_without_touching_residual() {
        assert!(Compressor::new(
            CompressionConfig {
                chunk_len: 0,
                k_per_chunk: 1
            },
            4
        )
        .is_err());
        assert!(Compressor::new(
            CompressionConfig {
                chunk_len: 4,
                k_per_chunk: 5
            },
            4
        )
        .is_err());
        let mut compressor = Compressor::new(
            CompressionConfig {
                chunk_len: 2,
                k_per_chunk: 1,
            },
            2,
        )
        .unwrap();
        compressor.compress(&[1.0, 2.0]).unwrap();
        let before = compressor.residual().to_vec();
        assert!(matches!(
            compressor.compress(&[f32::NAN, 0.0]),
            Err(CompressError::NotFinite(_))
        ));
        assert!(matches!(
            compressor.compress(&[1.0]),
            Err(CompressError::Length { .. })
        ));
        assert_eq!(compressor.residual(), before.as_slice());
    }
}
