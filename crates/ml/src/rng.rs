//! Seeded randomness for data splits, shards and weight initialisation.
//!
//! Every random choice in this crate flows from a caller-given `u64` seed through ChaCha8,
//! so two machines given the same seed draw the same stream; nothing reads OS entropy.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// A seeded random stream with the few distributions this crate needs.
#[derive(Debug, Clone)]
pub struct SeededRng {
    inner: ChaCha8Rng,
}

impl SeededRng {
    /// Creates a stream from `seed`; the same seed always yields the same draws.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            inner: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A raw 64-bit draw.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in the open interval (0, 1): never exactly 0, so `ln` is always finite.
    pub fn uniform_open(&mut self) -> f64 {
        // 53 random mantissa bits, shifted by half a step off zero.
        let bits = self.inner.next_u64() >> 11;
        (bits as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [low, high).
    pub fn uniform_range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform_open()
    }

    /// Uniform integer in `0..n` (`n > 0`), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "below(0) has no valid draw");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let draw = self.inner.next_u64();
            if draw < zone {
                return (draw % n) as usize;
            }
        }
    }

    /// Standard normal draw (Box–Muller; one of the pair is discarded for simplicity).
    pub fn normal(&mut self) -> f64 {
        let radius = (-2.0 * self.uniform_open().ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform_open();
        radius * angle.cos()
    }

    /// Gamma(shape, 1) draw by Marsaglia–Tsang; `shape < 1` uses the boost
    /// Gamma(shape) = Gamma(shape + 1) · U^(1/shape).
    pub fn gamma(&mut self, shape: f64) -> f64 {
        debug_assert!(
            shape > 0.0 && shape.is_finite(),
            "gamma shape must be positive"
        );
        if shape < 1.0 {
            let boost = self.uniform_open().powf(1.0 / shape);
            return self.gamma(shape + 1.0) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform_open();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// A draw from the symmetric Dirichlet(alpha, …, alpha) over `n` categories:
    /// normalised independent Gamma(alpha) draws.
    pub fn dirichlet(&mut self, alpha: f64, n: usize) -> Vec<f64> {
        let draws: Vec<f64> = (0..n).map(|_| self.gamma(alpha)).collect();
        let total: f64 = draws.iter().sum();
        if total > 0.0 {
            draws.iter().map(|g| g / total).collect()
        } else {
            // Every draw underflowed (tiny alpha): fall back to one category, which is
            // the limit the distribution approaches anyway.
            let mut one_hot = vec![0.0; n];
            if let Some(first) = one_hot.get_mut(self.below(n.max(1))) {
                *first = 1.0;
            }
            one_hot
        }
    }

    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for idx in (1..items.len()).rev() {
            let other = self.below(idx + 1);
            items.swap(idx, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SeededRng::new(7);
        let mut b = SeededRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.gamma(0.3).to_bits(), b.gamma(0.3).to_bits());
        }
    }

    #[test]
    fn gamma_mean_matches_shape() {
        let mut rng = SeededRng::new(1);
        for shape in [0.2, 1.0, 3.5] {
            let n = 20_000;
            let mean: f64 = (0..n).map(|_| rng.gamma(shape)).sum::<f64>() / n as f64;
            assert!(
                (mean - shape).abs() < 0.05 * shape.max(1.0),
                "shape {shape} mean {mean}"
            );
        }
    }

    #[test]
    fn dirichlet_sums_to_one() {
        let mut rng = SeededRng::new(3);
        let p = rng.dirichlet(0.5, 8);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p.iter().all(|x| *x >= 0.0));
    }
}
