//! One epoch, step by step in the reference's order (reference-chain.md §2).

use substrate_fixed::types::I64F64;

use crate::bonds::{self, BondContext, BondReading, BondResult};
use crate::consensus::consensus;
use crate::contract::{EpochInput, EpochOutput, NeuronInput, NeuronOutput, RowEntry};
use crate::error::{Matrix, YumaError, MAX_BONDS_MOVING_AVERAGE, MAX_NEURONS};
use crate::fixed::{
    ema_alpha, fixed_proportion_to_u16, mul, normalize, normalize_using_sum, share_of, sum,
    tao_weight, total_stake, u16_param, u16_to_fixed, AlphaSigmoid, Fx, ONE, ZERO,
};
use crate::sparse::SparseMatrix;

/// Run one Yuma Consensus epoch.
///
/// Pure and deterministic: the same input always gives the same output, bit for bit equal to
/// the reference chain's production (sparse) epoch. Fails only on input the reference could
/// never hold in storage (see [`YumaError`]).
pub fn epoch(input: &EpochInput) -> Result<EpochOutput, YumaError> {
    validate(input)?;
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

    let weights = masked_weights(input, &old_permit, owner);
    let consensus = consensus(&active_stake, &weights, u16_param(params.kappa), n);
    let clipped = weights.filter_map(|_, j, w| clip(w, consensus_at(&consensus, j)));
    let validator_trust = clipped.row_sums();
    let mut incentive = ranks(&clipped, &active_stake, n);
    normalize(&mut incentive);

    let interpolated;
    let bonds_penalty = u16_param(params.bonds_penalty);
    let weights_for_bonds = if bonds_penalty == ZERO {
        &weights
    } else if bonds_penalty == ONE {
        &clipped
    } else {
        interpolated = interpolate(&weights, &consensus, bonds_penalty);
        &interpolated
    };

    let ctx = BondContext {
        n,
        active_stake: &active_stake,
        consensus: &consensus,
        incentive: &incentive,
    };
    let alpha = ema_alpha(params.bonds_moving_average);
    let BondResult { bonds, dividends } = if params.yuma3 {
        let stored = stored_bonds(input, BondReading::Proportion);
        let liquid = params.liquid_alpha.then(|| {
            AlphaSigmoid::new(
                params.alpha_low,
                params.alpha_high,
                params.alpha_sigmoid_steepness,
            )
        });
        bonds::yuma3(&ctx, weights_for_bonds, &stored, alpha, liquid)
    } else {
        bonds::classic(
            &ctx,
            weights_for_bonds,
            stored_bonds(input, BondReading::Raw),
            alpha,
        )
    };

    let split = EmissionSplit::new(&incentive, &dividends, &active_stake, &stake);
    let outputs = (0..n)
        .map(|uid| {
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
                bonds: if has_permit {
                    storage_row(bonds.row(uid))
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    Ok(EpochOutput { neurons: outputs })
}

/// Reject what the reference could never hold in storage.
fn validate(input: &EpochInput) -> Result<(), YumaError> {
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
            let stamp = row.saturating_add(1);
            for &(uid, _) in row_of(neuron) {
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
    Ok(())
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

/// W: stored weights with rows of non-permitted validators, the diagonal (except the owner's),
/// weights older than their target's registration, and (under commit-reveal) weights committed
/// before their target's registration removed; then each row normalized.
fn masked_weights(input: &EpochInput, old_permit: &[bool], owner: Option<usize>) -> SparseMatrix {
    let neurons = &input.neurons;
    let registered_at = |j: u16| neurons.get(usize::from(j)).map_or(0, |t| t.registered_at);
    let nnz = neurons.iter().map(|neuron| neuron.weights.len()).sum();
    let mut weights = SparseMatrix::with_capacity(neurons.len(), nnz);
    for (i, neuron) in neurons.iter().enumerate() {
        if old_permit.get(i).copied().unwrap_or(false) {
            let commit_block = neuron
                .commit_block
                .filter(|_| input.params.commit_reveal)
                .unwrap_or(u64::MAX);
            for &(j, w) in &neuron.weights {
                let self_weight = usize::from(j) == i && owner != Some(i);
                let outdated = neuron.last_update <= registered_at(j);
                let committed_before = commit_block < registered_at(j);
                if !self_weight && !outdated && !committed_before {
                    weights.push(j, u16_to_fixed(w));
                }
            }
        }
        weights.end_row();
    }
    weights.normalize_rows();
    weights
}

fn consensus_at(consensus: &[Fx], j: u16) -> Fx {
    consensus.get(usize::from(j)).copied().unwrap_or(ZERO)
}

/// W̃ᵢⱼ = min(wᵢⱼ, Cⱼ); the sparse path drops the entry when it would clip to Cⱼ ≤ 0.
fn clip(weight: Fx, consensus: Fx) -> Option<Fx> {
    if consensus < weight {
        (consensus > ZERO).then_some(consensus)
    } else {
        Some(weight)
    }
}

/// Rⱼ = Σᵢ Aᵢ·W̃ᵢⱼ.
fn ranks(clipped: &SparseMatrix, active_stake: &[Fx], n: usize) -> Vec<Fx> {
    let mut ranks = vec![ZERO; n];
    for (row, &stake) in clipped.rows().zip(active_stake) {
        if stake == ZERO {
            continue; // Every product would be 0.
        }
        for &(j, w) in row {
            if let Some(rank) = ranks.get_mut(usize::from(j)) {
                *rank = rank.saturating_add(mul(stake, w));
            }
        }
    }
    ranks
}

/// Wb = W + β(W̃ − W) for 0 < β < 1: entries > 0 only, each row in ascending uid order.
fn interpolate(weights: &SparseMatrix, consensus: &[Fx], beta: Fx) -> SparseMatrix {
    let mut out = SparseMatrix::with_capacity(weights.n_rows(), weights.nnz());
    let mut row_buffer: Vec<(u16, Fx)> = Vec::new();
    for row in weights.rows() {
        row_buffer.clear();
        for &(j, w) in row {
            let clipped = clip(w, consensus_at(consensus, j)).unwrap_or(ZERO);
            let value = w.saturating_add(mul(beta, clipped.saturating_sub(w)));
            if value > ZERO {
                row_buffer.push((j, value));
            }
        }
        row_buffer.sort_unstable_by_key(|&(j, _)| j);
        for &(j, value) in &row_buffer {
            out.push(j, value);
        }
        out.end_row();
    }
    out
}

/// `last_tempo`: the block the previous epoch's window started from.
fn last_tempo(input: &EpochInput) -> u64 {
    if input.last_epoch_block == 0 {
        input.block.saturating_sub(u64::from(input.params.tempo))
    } else {
        input.last_epoch_block.saturating_add(1)
    }
}

/// Stored bonds in fixed form, without the bonds to uids (re)registered since `last_tempo`.
fn stored_bonds(input: &EpochInput, reading: BondReading) -> SparseMatrix {
    let neurons = &input.neurons;
    let since = last_tempo(input);
    let nnz = neurons.iter().map(|neuron| neuron.bonds.len()).sum();
    let mut bonds = SparseMatrix::with_capacity(neurons.len(), nnz);
    for neuron in neurons {
        for &(j, b) in &neuron.bonds {
            let registered_at = neurons.get(usize::from(j)).map_or(0, |t| t.registered_at);
            if since > registered_at {
                bonds.push(j, reading.read(b));
            }
        }
        bonds.end_row();
    }
    bonds
}

fn storage_row(row: &[(u16, Fx)]) -> Vec<RowEntry> {
    row.iter()
        .map(|&(j, b)| (j, fixed_proportion_to_u16(b)))
        .collect()
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
            .map(|(&i, &d)| i.saturating_add(d))
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
