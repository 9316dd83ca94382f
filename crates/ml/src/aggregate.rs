//! Chain-decided robust aggregation of miner deltas.
//!
//! # Protocol
//!
//! θ_{t+1} = θ_t − η_outer · Σ_j I_j · clip(Δ_j), where
//!
//! - the sum runs over miners with incentive I_j > 0, **in ascending uid order**, so every
//!   node computes the same bits;
//! - clip(Δ) = Δ · min(1, m / ‖Δ‖₂), and m is the median norm of the deltas that enter
//!   the sum (for an even count, the lower of the two middle norms, so m is always one
//!   of the actual norms and never an average);
//! - norms and the sum are accumulated in `f64` and rounded to `f32` once at the end.
//!
//! The input order does not matter: contributions are sorted by uid first, and a uid
//! may appear only once.

use crate::params::{check_finite, l2_norm, ParamsError};

/// Why an aggregate could not be formed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AggregateError {
    /// The same uid contributed twice.
    #[error("uid {uid} contributes more than once")]
    DuplicateUid { uid: u16 },
    /// A delta's length differs from the model's.
    #[error("uid {uid}'s delta has {actual} values, expected {expected}")]
    Length {
        uid: u16,
        expected: usize,
        actual: usize,
    },
    /// Incentive is negative, NaN or infinite.
    #[error("uid {uid} has invalid incentive {incentive}")]
    Incentive { uid: u16, incentive: f64 },
    /// A delta holds NaN or infinity.
    #[error("uid {uid}: {source}")]
    NotFinite { uid: u16, source: ParamsError },
}

/// One miner's input to the aggregate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contribution<'a> {
    /// The miner's uid on the subnet.
    pub uid: u16,
    /// Its incentive I_j from the epoch (zero excludes it).
    pub incentive: f64,
    /// Its decoded pseudo-gradient Δ_j.
    pub delta: &'a [f32],
}

/// Σ I_j · clip(Δ_j) over contributions with I_j > 0, in uid order, clipped to the
/// median norm (see the module docs). Returns zeros when nobody has incentive.
pub fn aggregate(
    n_params: usize,
    contributions: &[Contribution<'_>],
) -> Result<Vec<f32>, AggregateError> {
    let entering = validated_in_uid_order(n_params, contributions)?;
    let norms: Vec<f64> = entering.iter().map(|c| l2_norm(c.delta)).collect();
    let Some(median) = lower_median(&norms) else {
        return Ok(vec![0.0; n_params]);
    };
    let mut sum = vec![0.0f64; n_params];
    for (contribution, norm) in entering.iter().zip(&norms) {
        let weight = contribution.incentive * clip_factor(*norm, median);
        for (acc, value) in sum.iter_mut().zip(contribution.delta) {
            *acc += weight * f64::from(*value);
        }
    }
    Ok(sum.into_iter().map(|v| v as f32).collect())
}

/// min(1, median / norm); a zero norm needs no clipping.
#[must_use]
pub fn clip_factor(norm: f64, median: f64) -> f64 {
    if norm > median {
        median / norm
    } else {
        1.0
    }
}

/// The lower median (the ⌈n/2⌉-th smallest), or `None` for no values.
#[must_use]
pub fn lower_median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len().checked_sub(1)? / 2;
    sorted.get(middle).copied()
}

/// Returns the contributions with positive incentive, sorted by uid, after checking them.
fn validated_in_uid_order<'a>(
    n_params: usize,
    contributions: &[Contribution<'a>],
) -> Result<Vec<Contribution<'a>>, AggregateError> {
    let mut sorted = contributions.to_vec();
    sorted.sort_by_key(|c| c.uid);
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0].uid == pair[1].uid) {
        return Err(AggregateError::DuplicateUid { uid: pair[0].uid });
    }
    if let Some(c) = sorted
        .iter()
        .find(|c| !(c.incentive.is_finite() && c.incentive >= 0.0))
    {
        return Err(AggregateError::Incentive {
            uid: c.uid,
            incentive: c.incentive,
        });
    }
    // Deltas without incentive are ignored unread, so a rejected miner cannot block the
    // aggregate by sending garbage.
    sorted.retain(|c| c.incentive > 0.0);
    for c in &sorted {
        if c.delta.len() != n_params {
            return Err(AggregateError::Length {
                uid: c.uid,
                expected: n_params,
                actual: c.delta.len(),
            });
        }
        check_finite("delta", c.delta)
            .map_err(|source| AggregateError::NotFinite { uid: c.uid, source })?;
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_outlier_to_median_norm() {
        let small = [3.0, 4.0]; // norm 5
        let medium = [0.0, 6.0]; // norm 6
        let huge = [600.0, 800.0]; // norm 1000
        let contributions = [
            Contribution {
                uid: 2,
                incentive: 1.0,
                delta: &huge,
            },
            Contribution {
                uid: 0,
                incentive: 1.0,
                delta: &small,
            },
            Contribution {
                uid: 1,
                incentive: 1.0,
                delta: &medium,
            },
        ];
        let sum = aggregate(2, &contributions).unwrap();
        // huge is clipped to norm 6: (3.6, 4.8).
        assert!((sum[0] - (3.0 + 0.0 + 3.6)).abs() < 1e-5, "{sum:?}");
        assert!((sum[1] - (4.0 + 6.0 + 4.8)).abs() < 1e-5, "{sum:?}");
    }

    #[test]
    fn zero_incentive_is_excluded_and_errors_are_typed() {
        let a = [1.0, 1.0];
        let b = [100.0, 100.0];
        let only_a = aggregate(
            2,
            &[
                Contribution {
                    uid: 0,
                    incentive: 0.5,
                    delta: &a,
                },
                Contribution {
                    uid: 1,
                    incentive: 0.0,
                    delta: &b,
                },
            ],
        )
        .unwrap();
        assert_eq!(only_a, vec![0.5, 0.5]);
        assert_eq!(aggregate(2, &[]).unwrap(), vec![0.0, 0.0]);
        let dup = [
            Contribution {
                uid: 3,
                incentive: 1.0,
                delta: &a,
            },
            Contribution {
                uid: 3,
                incentive: 1.0,
                delta: &b,
            },
        ];
        assert_eq!(
            aggregate(2, &dup),
            Err(AggregateError::DuplicateUid { uid: 3 })
        );
        assert!(matches!(
            aggregate(3, &dup[..1]),
            Err(AggregateError::Length { .. })
        ));
        let nan = [f32::NAN, 0.0];
        assert!(matches!(
            aggregate(
                2,
                &[Contribution {
                    uid: 0,
                    incentive: 1.0,
                    delta: &nan
                }]
            ),
            Err(AggregateError::NotFinite { .. })
        ));
        assert!(matches!(
            aggregate(
                2,
                &[Contribution {
                    uid: 0,
                    incentive: -1.0,
                    delta: &a
                }]
            ),
            Err(AggregateError::Incentive { .. })
        ));
    }

    #[test]
    fn lower_median_picks_an_actual_value() {
        assert_eq!(lower_median(&[]), None);
        assert_eq!(lower_median(&[4.0, 1.0]), Some(1.0));
        assert_eq!(lower_median(&[3.0, 1.0, 2.0]), Some(2.0));
    }
}
