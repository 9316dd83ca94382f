//! What the adversarial miners do differently from an honest one.
//!
//! Each adversary reuses the honest pipeline where it can (an attacker has the same code),
//! so the only difference the validators can see is the one the attack makes.

use hyphae_ml::data::Dataset;
use hyphae_ml::rng::SeededRng;

use crate::error::TrainingError;

/// Free-rider amplitude: small enough to cost nothing, large enough not to be all zeros.
const FREE_RIDE_AMPLITUDE: f64 = 1e-4;
/// The manipulator's scale attack.
const MANIPULATION_SCALE: f32 = 10.0;

/// The poisoner's shard: every label `l` replaced by `n_classes − 1 − l` (a fixed
/// permutation, so the poisoned model is confidently wrong rather than merely noisy).
pub fn flip_labels(shard: &Dataset) -> Result<Dataset, TrainingError> {
    let top = u32::try_from(shard.n_classes())
        .unwrap_or(u32::MAX)
        .saturating_sub(1);
    let labels = shard
        .labels()
        .iter()
        .map(|l| top.saturating_sub(*l))
        .collect();
    Ok(Dataset::new(
        shard.features().to_vec(),
        labels,
        shard.n_features(),
        shard.n_classes(),
    )?)
}

/// The manipulator's Δ: sign-flipped on odd rounds, scaled ×10 on even ones.
pub fn manipulate(delta: &mut [f32], round: u64) {
    let factor = if round % 2 == 1 {
        -1.0
    } else {
        MANIPULATION_SCALE
    };
    delta.iter_mut().for_each(|v| *v *= factor);
}

/// The free-rider's Δ: tiny uniform noise, drawn from `(seed, round)`; no training at all.
#[must_use]
pub fn free_ride(n_params: usize, seed: u64, round: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (0..n_params)
        .map(|_| rng.uniform_range(-FREE_RIDE_AMPLITUDE, FREE_RIDE_AMPLITUDE) as f32)
        .collect()
}

/// Which round a copier copies from: the same round on even rounds, the previous on odd.
#[must_use]
pub fn copy_source_round(round: u64) -> u64 {
    if round % 2 == 1 && round > 1 {
        round.saturating_sub(1)
    } else {
        round
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attacks_do_what_they_say() -> Result<(), TrainingError> {
        let shard = Dataset::new(vec![0.0; 6], vec![0, 1, 9], 2, 10)?;
        assert_eq!(flip_labels(&shard)?.labels(), &[9, 8, 0]);
        let mut delta = vec![1.0, -2.0];
        manipulate(&mut delta, 1);
        assert_eq!(delta, vec![-1.0, 2.0]);
        manipulate(&mut delta, 2);
        assert_eq!(delta, vec![-10.0, 20.0]);
        let noise = free_ride(100, 3, 1);
        assert_eq!(noise, free_ride(100, 3, 1));
        assert_ne!(noise, free_ride(100, 3, 2));
        assert!(noise.iter().all(|v| v.abs() <= 1e-4 && *v != 0.0));
        assert_eq!(
            (
                copy_source_round(1),
                copy_source_round(2),
                copy_source_round(3)
            ),
            (1, 2, 2)
        );
        Ok(())
    }
}
