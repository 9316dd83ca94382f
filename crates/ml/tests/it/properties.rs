//! Property tests for the protocol layer: compression, quantisation, error feedback,
//! the wire codec and aggregation.

use hyphae_ml::aggregate::{aggregate, lower_median, Contribution};
use hyphae_ml::compress::{
    quantize, top_k_indices, CompressedUpdate, CompressionConfig, Compressor,
};
use hyphae_ml::params::l2_norm;
use proptest::prelude::*;

/// Values, plus a valid (chunk_len, k_per_chunk) for them.
fn delta_and_config() -> impl Strategy<Value = (Vec<f32>, CompressionConfig)> {
    (prop::collection::vec(-100.0f32..100.0, 1..300), 1usize..64)
        .prop_flat_map(|(values, chunk_len)| (Just(values), Just(chunk_len), 1..=chunk_len))
        .prop_map(|(values, chunk_len, k_per_chunk)| {
            (
                values,
                CompressionConfig {
                    chunk_len,
                    k_per_chunk,
                },
            )
        })
}

/// Float slack for one rounding of a value of magnitude `scale_of`.
fn ulps(scale_of: f32) -> f32 {
    scale_of.abs() * 4.0 * f32::EPSILON + f32::MIN_POSITIVE
}

proptest! {
    #[test]
    fn quantization_error_is_at_most_half_a_step(values in prop::collection::vec(-1e6f32..1e6, 0..64)) {
        let (scale, codes) = quantize(&values);
        for (v, q) in values.iter().zip(&codes) {
            let err = (f32::from(*q) * scale - v).abs();
            prop_assert!(err <= scale / 2.0 + ulps(*v), "v {v} q {q} scale {scale} err {err}");
            prop_assert!(*q >= -127);
        }
    }

    #[test]
    fn compression_keeps_the_top_k_within_half_a_step((values, config) in delta_and_config()) {
        let update = Compressor::new(config, values.len()).unwrap().compress(&values).unwrap();
        let dense = update.to_dense();
        for (chunk_idx, (chunk, sent)) in values.chunks(config.chunk_len).zip(dense.chunks(config.chunk_len)).enumerate() {
            let scale = update.scales()[chunk_idx];
            let kept = top_k_indices(chunk, config.k_per_chunk);
            let kept_min = kept.iter().map(|&i| chunk[i].abs()).fold(f32::INFINITY, f32::min);
            for (idx, (v, s)) in chunk.iter().zip(sent).enumerate() {
                if kept.contains(&idx) {
                    prop_assert!((s - v).abs() <= scale / 2.0 + ulps(*v));
                } else {
                    prop_assert_eq!(*s, 0.0);
                    prop_assert!(v.abs() <= kept_min);
                }
            }
        }
    }

    #[test]
    fn error_feedback_conserves_what_is_not_sent(
        (first, config) in delta_and_config(),
        seed in any::<u64>(),
    ) {
        // A second delta of the same length, derived from the seed.
        let second: Vec<f32> = first.iter().enumerate().map(|(i, v)| v * 0.5 - ((seed >> (i % 60)) & 7) as f32).collect();
        let mut compressor = Compressor::new(config, first.len()).unwrap();
        compressor.compress(&first).unwrap();
        let previous_residual = compressor.residual().to_vec();
        let sent = compressor.compress(&second).unwrap().to_dense();
        for idx in 0..first.len() {
            let expected = second[idx] + previous_residual[idx];
            let got = sent[idx] + compressor.residual()[idx];
            prop_assert!((got - expected).abs() <= ulps(expected), "idx {idx}: {got} vs {expected}");
        }
    }

    #[test]
    fn codec_round_trips((values, config) in delta_and_config()) {
        let update = Compressor::new(config, values.len()).unwrap().compress(&values).unwrap();
        let bytes = update.encode();
        prop_assert_eq!(bytes.len(), update.encoded_len());
        let decoded = CompressedUpdate::decode(&bytes, values.len()).unwrap();
        prop_assert_eq!(decoded.hash(), update.hash());
        prop_assert_eq!(decoded, update);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(update) = CompressedUpdate::decode(&bytes, 1 << 20) {
            // Whatever decodes is canonical: it re-encodes to the same bytes.
            prop_assert_eq!(update.encode(), bytes);
        }
    }

    #[test]
    fn decode_never_panics_on_corrupted_updates(
        (values, config) in delta_and_config(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = Compressor::new(config, values.len()).unwrap().compress(&values).unwrap().encode();
        for (at, value) in flips {
            let idx = at.index(bytes.len());
            bytes[idx] = value;
        }
        for candidate in [&bytes[..], &bytes[..cut.index(bytes.len())]] {
            if let Ok(update) = CompressedUpdate::decode(candidate, values.len()) {
                prop_assert_eq!(update.encode(), candidate.to_vec());
                prop_assert!(update.to_dense().iter().all(|v| v.is_finite()));
            }
        }
    }

    #[test]
    fn aggregation_ignores_input_order_and_bounds_norms(
        deltas in prop::collection::vec(prop::collection::vec(-10.0f32..10.0, 8), 1..8),
        incentives in prop::collection::vec(0.0f64..1.0, 8),
        rotate_by in 0usize..8,
    ) {
        let contributions: Vec<Contribution<'_>> = deltas
            .iter()
            .zip(&incentives)
            .enumerate()
            .map(|(uid, (delta, incentive))| Contribution { uid: uid as u16 * 3, incentive: *incentive, delta })
            .collect();
        let mut permuted = contributions.clone();
        permuted.reverse();
        let len = permuted.len();
        permuted.rotate_left(rotate_by % len);
        let sum = aggregate(8, &contributions).unwrap();
        let sum_permuted = aggregate(8, &permuted).unwrap();
        prop_assert_eq!(sum.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), sum_permuted.iter().map(|v| v.to_bits()).collect::<Vec<_>>());

        let entering: Vec<&Contribution<'_>> = contributions.iter().filter(|c| c.incentive > 0.0).collect();
        let norms: Vec<f64> = entering.iter().map(|c| l2_norm(c.delta)).collect();
        let median = lower_median(&norms).unwrap_or(0.0);
        let total_incentive: f64 = entering.iter().map(|c| c.incentive).sum();
        // Each clipped delta has norm <= median, so the weighted sum is bounded by the triangle inequality.
        prop_assert!(l2_norm(&sum) <= total_incentive * median * (1.0 + 1e-5) + 1e-6);
    }

    #[test]
    fn a_lone_contribution_is_not_clipped(delta in prop::collection::vec(-10.0f32..10.0, 1..16)) {
        let sum = aggregate(delta.len(), &[Contribution { uid: 9, incentive: 1.0, delta: &delta }]).unwrap();
        prop_assert_eq!(sum, delta);
    }
}
