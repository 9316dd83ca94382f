//! One epoch, step by step in the reference's order (reference-chain.md §2).

use substrate_fixed::types::I64F64;

use crate::bonds::{self, BondContext, BondResult, Penalty};
use crate::consensus::consensus;
use crate::contract::{EpochInput, EpochOutput, NeuronInput, NeuronOutput, RowEntry};
use crate::error::{Matrix, YumaError, MAX_BONDS_MOVING_AVERAGE, MAX_NEURONS};
use crate::fixed::{
    add, all_in_unit_range, ema_alpha, fixed_proportion_to_u16, normalize, normalize_using_sum,
    share_of, sum, tao_weight, total_stake, u16_param, AlphaSigmoid, Fx, ONE, ZERO,
};
use crate::weights::Weights;
use rayon::prelude::*;

/// Run one Yuma Consensus epoch.
///
/// Pure and deterministic: the same input always gives the same output, bit for bit equal to
/// the reference chain's production (sparse) epoch. Fails only on input the reference could
/// never hold in storage (see [`YumaError`]).
pub fn epoch(input: &EpochInput) -> Result<EpochOutput, YumaError> {
    epoch_using(input, true).map(|(output, _)| output)
}

/// Incentive, dividends and validator trust before they are rounded to u16 for the output:
/// the tests that compare the one-pass and general paths compare these too, since rounding
/// hides a difference in the last bits.
#[derive(Debug, PartialEq)]
struct Unrounded {
    incentive: Vec<Fx>,
    dividends: Vec<Fx>,
    validator_trust: Vec<Fx>,
}

/// [`epoch`], with `one_pass_rows` false sending every bond row through the general path.
fn epoch_using(
    input: &EpochInput,
    one_pass_rows: bool,
) -> Result<(EpochOutput, Unrounded), YumaError> {
    // The weight rows' raw sums, when every row strictly ascends (the validation pass sums
    // them as it checks them, so Weights::build does not walk the rows again).
    let row_sums = validate(input)?;
    let neurons = &input.neurons;
    let n = neurons.len();
    let params = &input.params;
    let owner = input.owner_uid.map(usize::from);

    let active: Vec<bool> = neurons
        .iter()
        .map(|neuron| {
            // Inactive means `last_update + cutoff < block`, strictly.
            neuron
                .last_update
                .saturating_add(params.activity_cutoff_blocks)
                >= input.block
        })
        .collect();
    let stake = stake_weights(input, owner)?;

    // The epoch masks with the permits the previous epoch stored; it hands out new ones.
    let old_permit: Vec<bool> = neurons
        .iter()
        .enumerate()
        .map(|(uid, neuron)| neuron.validator_permit || owner == Some(uid))
        .collect();
    let new_permit = top_k_permits(&stake, usize::from(params.max_allowed_validators), owner);

    let mut active_stake: Vec<Fx> = stake
        .iter()
        .zip(active.iter().zip(&old_permit))
        .map(|(&s, (&is_active, &permit))| if is_active && permit { s } else { ZERO })
        .collect();
    normalize(&mut active_stake);

    let registered_at: Vec<u64> = neurons.iter().map(|neuron| neuron.registered_at).collect();
    let weights = Weights::build(
        input,
        &registered_at,
        &old_permit,
        owner,
        row_sums.as_deref(),
    );
    let consensus = consensus(&active_stake, &weights, u16_param(params.kappa), n);

    let bonds_penalty = u16_param(params.bonds_penalty);
    let penalty = if bonds_penalty == ZERO {
        Penalty::Zero
    } else if bonds_penalty == ONE {
        Penalty::One
    } else {
        Penalty::Between(bonds_penalty)
    };
    let since = last_tempo(input);
    let ctx = BondContext {
        n,
        active_stake: &active_stake,
        consensus: &consensus,
        weights: &weights,
        penalty,
        neurons,
        registered_at: &registered_at,
        since,
        new_permit: &new_permit,
        bonds_unmasked: registered_at.iter().all(|&registered| since > registered),
        consensus_positive: consensus.iter().all(|&c| c > ZERO),
        one_pass_rows,
        // The general path (in the tests that compare) keeps the library's operations.
        unit_range: one_pass_rows
            && all_in_unit_range(&active_stake)
            && all_in_unit_range(&consensus),
    };
    let alpha = ema_alpha(params.bonds_moving_average);
    // Validator trust and incentive come out of the bond passes' first walk over W.
    let BondResult {
        bonds,
        dividends,
        validator_trust,
        incentive,
    } = if params.yuma3 {
        let liquid = params.liquid_alpha.then(|| {
            AlphaSigmoid::new(
                params.alpha_low,
                params.alpha_high,
                params.alpha_sigmoid_steepness,
            )
        });
        bonds::yuma3(&ctx, alpha, liquid)
    } else {
        bonds::classic(&ctx, alpha)
    };

    let split = EmissionSplit::new(&incentive, &dividends, &active_stake, &stake);
    let outputs = bonds
        .into_iter()
        .enumerate()
        .map(|(uid, bonds)| {
            let at = |v: &[Fx]| v.get(uid).copied().unwrap_or(ZERO);
            let has_permit = new_permit.get(uid).copied().unwrap_or(false);
            NeuronOutput {
                active: active.get(uid).copied().unwrap_or(false),
                validator_permit: has_permit,
                stake_weight: fixed_proportion_to_u16(at(&stake)),
                consensus: fixed_proportion_to_u16(at(&consensus)),
                incentive: fixed_proportion_to_u16(at(&incentive)),
                dividends: fixed_proportion_to_u16(at(&dividends)),
                validator_trust: fixed_proportion_to_u16(at(&validator_trust)),
                server_emission: share_of(at(&split.server), input.emission_rao),
                validator_emission: share_of(at(&split.validator), input.emission_rao),
                emission: share_of(at(&split.combined), input.emission_rao),
                // Every row is written back: the new one under a new permit, else an empty one.
                bonds,
            }
        })
        .collect();
    let unrounded = Unrounded {
        incentive,
        dividends,
        validator_trust,
    };
    Ok((EpochOutput { neurons: outputs }, unrounded))
}

/// Reject what the reference could never hold in storage. When every weight and bond row
/// strictly ascends below n (the common case), returns each weight row's raw sum, taken in
/// the same pass.
#[inline(never)]
fn validate(input: &EpochInput) -> Result<Option<Vec<u64>>, YumaError> {
    let n = input.neurons.len();
    if n > MAX_NEURONS {
        return Err(YumaError::TooManyNeurons {
            n,
            max: MAX_NEURONS,
        });
    }
    if let Some(uid) = input.owner_uid.filter(|&uid| usize::from(uid) >= n) {
        return Err(YumaError::OwnerUidOutOfRange { uid, n });
    }
    let bma = input.params.bonds_moving_average;
    if bma > MAX_BONDS_MOVING_AVERAGE {
        return Err(YumaError::ParamOutOfRange {
            name: "bonds_moving_average",
            value: bma,
            max: MAX_BONDS_MOVING_AVERAGE,
        });
    }
    // The common case, checked for all rows in parallel: every row strictly ascends below n,
    // so none repeats a uid or names one out of range.
    let row_sums: Option<Vec<u64>> = input
        .neurons
        .par_iter()
        .map(|neuron| {
            let (sum, well_formed) = sum_ascending_below(&neuron.weights, n);
            (well_formed && ascending_below(&neuron.bonds, n)).then_some(sum)
        })
        .collect();
    if row_sums.is_some() {
        return Ok(row_sums);
    }
    // Otherwise find the first offending row in order, so the error does not depend on timing.
    // `last_seen[j]` holds 1 + the last row that named uid j, to find repeats in O(entries).
    let mut last_seen = vec![0_usize; n];
    for (matrix, row_of) in [
        (
            Matrix::Weights,
            (|neuron: &NeuronInput| &neuron.weights) as fn(&NeuronInput) -> &Vec<RowEntry>,
        ),
        (Matrix::Bonds, |neuron: &NeuronInput| &neuron.bonds),
    ] {
        last_seen.iter_mut().for_each(|seen| *seen = 0);
        for (row, neuron) in input.neurons.iter().enumerate() {
            let entries = row_of(neuron);
            if ascending_below(entries, n) {
                // Strictly ascending uids below n: none repeats and none is out of range.
                continue;
            }
            let stamp = row.saturating_add(1);
            for &(uid, _) in entries {
                let Some(seen) = last_seen.get_mut(usize::from(uid)) else {
                    return Err(YumaError::UidOutOfRange {
                        matrix,
                        row,
                        uid,
                        n,
                    });
                };
                if *seen == stamp {
                    return Err(YumaError::DuplicateUid { matrix, row, uid });
                }
                *seen = stamp;
            }
        }
    }
    Ok(None)
}

/// Whether the uids of `row` strictly ascend and all lie below `n`, without branching per entry.
#[inline]
fn ascending_below(row: &[RowEntry], n: usize) -> bool {
    // Two slices zipped (not an iterator and its `skip`), so the loop vectorizes. For u16
    // uids a < b exactly when b − a − 1, taken in u32, stays below 2¹⁶ (otherwise it wraps to
    // at least 2³² − 2¹⁶): OR-ing those differences is a plain lane-wise reduction.
    let steps = row
        .iter()
        .zip(row.get(1..).unwrap_or(&[]))
        .fold(0_u32, |steps, (&(a, _), &(b, _))| {
            steps | u32::from(b).wrapping_sub(u32::from(a)).wrapping_sub(1)
        });
    steps >> 16_u32 == 0 && row.last().is_none_or(|&(uid, _)| usize::from(uid) < n)
}

/// [`ascending_below`] and the sum of the row's raw weights. Two plain loops over the row
/// (each vectorizes) rather than one that does both.
#[inline]
fn sum_ascending_below(row: &[RowEntry], n: usize) -> (u64, bool) {
    let sum = row
        .iter()
        .fold(0_u64, |acc, &(_, w)| acc.wrapping_add(u64::from(w)));
    (sum, ascending_below(row, n))
}

/// S: stake weights with the threshold applied (the owner exempt), normalized in I64F64 and
/// narrowed to I32F32.
fn stake_weights(input: &EpochInput, owner: Option<usize>) -> Result<Vec<Fx>, YumaError> {
    let weight = tao_weight(input.params.tao_weight);
    let filtered: Vec<I64F64> = input
        .neurons
        .iter()
        .enumerate()
        .map(|(uid, neuron)| {
            let total = total_stake(neuron.stake, neuron.tao_stake, weight);
            let below = total.saturating_to_num::<u64>() < input.params.stake_threshold;
            if below && owner != Some(uid) {
                I64F64::from_bits(0)
            } else {
                total
            }
        })
        .collect();
    let total = filtered
        .iter()
        .try_fold(I64F64::from_bits(0), |acc, &s| acc.checked_add(s))
        .ok_or(YumaError::StakeOverflow)?;
    Ok(filtered
        .iter()
        .map(|&s| {
            let share = if total == I64F64::from_bits(0) {
                s
            } else {
                s.checked_div(total).unwrap_or(I64F64::from_bits(0))
            };
            Fx::saturating_from_num(share)
        })
        .collect())
}

/// P′: permits for the top `k` non-zero stakes. Ties at the boundary go to the higher uid,
/// because the reference stable-sorts ascending and cuts from the front. The owner always
/// has one.
fn top_k_permits(stake: &[Fx], k: usize, owner: Option<usize>) -> Vec<bool> {
    let n = stake.len();
    let mut permit: Vec<bool> = stake.iter().map(|&s| s != ZERO).collect();
    if n >= k {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&uid| stake.get(uid).copied().unwrap_or(ZERO));
        for &uid in order.iter().take(n.saturating_sub(k)) {
            if let Some(p) = permit.get_mut(uid) {
                *p = false;
            }
        }
    }
    if let Some(p) = owner.and_then(|uid| permit.get_mut(uid)) {
        *p = true;
    }
    permit
}

/// W̃ᵢⱼ = min(wᵢⱼ, Cⱼ); the sparse path drops the entry when it would clip to Cⱼ ≤ 0.
#[inline]
pub(crate) fn clip(weight: Fx, consensus: Fx) -> Option<Fx> {
    if consensus < weight {
        (consensus > ZERO).then_some(consensus)
    } else {
        Some(weight)
    }
}

/// `last_tempo`: the block the previous epoch's window started from.
fn last_tempo(input: &EpochInput) -> u64 {
    if input.last_epoch_block == 0 {
        input.block.saturating_sub(u64::from(input.params.tempo))
    } else {
        input.last_epoch_block.saturating_add(1)
    }
}

/// The normalized shares of E: miners by incentive, validators by dividends, both over
/// Σ(I + D); with nothing to share, validators by active stake (or by stake).
struct EmissionSplit {
    server: Vec<Fx>,
    validator: Vec<Fx>,
    combined: Vec<Fx>,
}

impl EmissionSplit {
    fn new(incentive: &[Fx], dividends: &[Fx], active_stake: &[Fx], stake: &[Fx]) -> Self {
        let mut combined: Vec<Fx> = incentive
            .iter()
            .zip(dividends)
            .map(|(&i, &d)| add(i, d))
            .collect();
        let total = sum(combined.iter().copied());
        let mut server = incentive.to_vec();
        let mut validator = dividends.to_vec();
        normalize_using_sum(&mut server, total);
        normalize_using_sum(&mut validator, total);
        normalize(&mut combined);
        if total == ZERO {
            // No permitted weights, all outdated, or self-weights only.
            let fallback = if sum(active_stake.iter().copied()) == ZERO {
                stake
            } else {
                active_stake
            };
            validator = fallback.to_vec();
            combined = fallback.to_vec();
        }
        Self {
            server,
            validator,
            combined,
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn clipping_never_raises_a_weight(w in any::<i64>(), c in any::<i64>()) {
            let (w, c) = (Fx::from_bits(w), Fx::from_bits(c));
            match clip(w, c) {
                Some(clipped) => prop_assert!(clipped <= w && (clipped == w || clipped == c)),
                None => prop_assert!(c <= ZERO && c < w),
            }
        }
    }

    /// Weight rows over `n` uids: full, sparse or empty, a few out of order; some include the
    /// validator's own uid. In about half the subnets some uids re-registered (their weights
    /// are outdated).
    fn subnet(max_n: usize) -> impl Strategy<Value = EpochInput> {
        (
            2..max_n,
            any::<u64>(),
            any::<bool>(),
            any::<bool>(),
            0_u8..3,
            any::<bool>(),
            any::<bool>(),
            0_u8..3,
        )
            .prop_map(
                |(n, seed, yuma3, liquid_alpha, penalty, owner, reregistered, moving_average)| {
                    let mut rng = crate::test_rng::XorShift::new(seed);
                    let mut next = move |below: u64| rng.below(below);
                    let validators = 1 + next(n as u64) as usize;
                    let neurons = (0..n)
                        .map(|uid| {
                            let is_validator = uid < validators;
                            let density = next(3);
                            let mut weights: Vec<(u16, u16)> = Vec::new();
                            for j in 0..n as u16 {
                                if is_validator && (density == 0 || next(4) < density) {
                                    weights.push((j, next(65_536) as u16));
                                }
                            }
                            if next(10) == 0 {
                                weights.reverse();
                            }
                            NeuronInput {
                                stake: if is_validator { 1 + next(1_000_000) } else { 0 },
                                tao_stake: 0,
                                commit_block: None,
                                last_update: 1_000,
                                // Without re-registrations, full rows stay runs of adjacent uids.
                                registered_at: if reregistered && next(12) == 0 {
                                    1_200
                                } else {
                                    1
                                },
                                validator_permit: is_validator,
                                weights,
                                bonds: Vec::new(),
                            }
                        })
                        .collect();
                    EpochInput {
                        block: 1_100,
                        last_epoch_block: 0,
                        owner_uid: owner.then_some(0),
                        emission_rao: 1_000_000_000,
                        params: crate::Params {
                            tempo: 100,
                            activity_cutoff_blocks: 5_000,
                            kappa: 32_767,
                            bonds_penalty: [0, 65_535, 30_000][usize::from(penalty)],
                            // α = 0.1, 1 and 0.5: under α = 1 a last-bit difference in
                            // Wb reaches the EMA and the dividends instead of being floored
                            // away by the multiplication.
                            bonds_moving_average: [900_000, 0, 500_000]
                                [usize::from(moving_average)],
                            yuma3,
                            liquid_alpha,
                            alpha_low: 45_875,
                            alpha_high: 58_982,
                            alpha_sigmoid_steepness: 1000,
                            max_allowed_validators: 64,
                            stake_threshold: 0,
                            tao_weight: 0,
                            commit_reveal: false,
                        },
                        neurons,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The one-pass loops (rows whose weights and stored bonds name the same uids) give
        /// the general path's bits, epoch after epoch as the bonds they wrote carry forward.
        #[test]
        fn one_pass_rows_match_the_general_path(mut input in subnet(160), seeded in any::<bool>()) {
            if seeded {
                // Stored bonds naming the weight rows' uids from the first epoch on, many of
                // them 0, and some weights 0: rows whose EMA has zeros to leave out.
                for neuron in &mut input.neurons {
                    neuron.bonds = neuron
                        .weights
                        .iter()
                        .map(|&(j, w)| (j, if w % 3 == 0 { 0 } else { w }))
                        .collect();
                    for (_, w) in &mut neuron.weights {
                        if *w % 5 == 0 {
                            *w = 0;
                        }
                    }
                }
            }
            for _ in 0..3 {
                let (fast, fast_unrounded) = epoch_using(&input, true).unwrap();
                let (general, general_unrounded) = epoch_using(&input, false).unwrap();
                prop_assert_eq!(&fast, &general);
                prop_assert_eq!(fast_unrounded, general_unrounded);
                for (neuron, out) in input.neurons.iter_mut().zip(&fast.neurons) {
                    neuron.bonds = out.bonds.clone();
                    neuron.validator_permit = out.validator_permit;
                }
                input.last_epoch_block = input.block;
                input.block += 100;
                for neuron in &mut input.neurons {
                    neuron.last_update = input.block - 1;
                }
            }
        }
    }

    proptest! {
        /// The vectorized order check against one written entry by entry: rows of uids near
        /// each other (so repeats and steps down are common), near 0 and near 65535, sorted
        /// or not, against n on either side of the last uid.
        #[test]
        fn ascending_below_matches_an_entry_check(
            mut uids in proptest::collection::vec(0_u16..12, 0..40),
            base in prop_oneof![Just(0_u16), Just(65_523_u16), any::<u16>()],
            sort in any::<bool>(),
            dedup in any::<bool>(),
            slack in 0_usize..3,
        ) {
            if sort {
                uids.sort_unstable();
            }
            if dedup {
                uids.dedup();
            }
            let row: Vec<RowEntry> = uids.iter().map(|&j| (base.saturating_add(j), 7)).collect();
            let n = row.last().map_or(0, |&(j, _)| usize::from(j)) + slack;
            let expected = row.windows(2).all(|pair| pair[0].0 < pair[1].0)
                && row.last().is_none_or(|&(j, _)| usize::from(j) < n);
            prop_assert_eq!(ascending_below(&row, n), expected);
            prop_assert_eq!(sum_ascending_below(&row, n).1, expected);
        }
    }

    proptest! {
        /// The row sums validation takes on the way build the same W as the rows walked
        /// again by `Weights::build`.
        #[test]
        fn validated_sums_build_the_same_weights(input in subnet(120)) {
            let row_sums = validate(&input).unwrap();
            let registered_at: Vec<u64> = input.neurons.iter().map(|x| x.registered_at).collect();
            let permit: Vec<bool> = input.neurons.iter().map(|x| x.validator_permit).collect();
            let owner = input.owner_uid.map(usize::from);
            let given = Weights::build(&input, &registered_at, &permit, owner, row_sums.as_deref());
            let walked = Weights::build(&input, &registered_at, &permit, owner, None);
            for i in 0..input.neurons.len() {
                let (a, b) = (given.row(i), walked.row(i));
                prop_assert_eq!((a.norm, a.ascending), (b.norm, b.ascending));
                prop_assert_eq!(a.entries().collect::<Vec<_>>(), b.entries().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn top_k_ties_go_to_the_higher_uid() {
        let equal = vec![Fx::from_num(1); 4];
        assert_eq!(
            top_k_permits(&equal, 2, None),
            vec![false, false, true, true]
        );
        assert_eq!(
            top_k_permits(&equal, 2, Some(0)),
            vec![true, false, true, true]
        );
        // Fewer neurons than permits: every non-zero stake gets one.
        assert_eq!(top_k_permits(&[ONE, ZERO], 3, None), vec![true, false]);
    }
}
