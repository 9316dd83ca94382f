//! Properties every epoch output must have, on random subnets.

use hyphae_yuma::{epoch, EpochInput, NeuronInput, Params};
use proptest::prelude::*;

const E: u64 = 1_000_000_000;

fn params() -> impl Strategy<Value = Params> {
    (
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0_u16), Just(65_535), any::<u16>()],
        prop_oneof![Just(32_767_u16), any::<u16>()],
        0_u64..=1_000_000,
        1_u16..8,
        (1_u16..30_000, 0_u16..30_000),
    )
        .prop_map(
            |(yuma3, liquid_alpha, bonds_penalty, kappa, bma, max_validators, (low, span))| {
                Params {
                    tempo: 360,
                    activity_cutoff_blocks: 50,
                    kappa,
                    bonds_penalty,
                    bonds_moving_average: bma,
                    yuma3,
                    liquid_alpha,
                    alpha_low: low,
                    alpha_high: low.saturating_add(span),
                    alpha_sigmoid_steepness: 1000,
                    max_allowed_validators: max_validators,
                    stake_threshold: 0,
                    tao_weight: 0,
                    commit_reveal: false,
                }
            },
        )
}

/// A random row over `n` uids with distinct uids, in ascending order.
fn row(n: usize) -> impl Strategy<Value = Vec<(u16, u16)>> {
    prop::collection::btree_map(0..n as u16, any::<u16>(), 0..=n)
        .prop_map(|entries| entries.into_iter().collect())
}

/// Random subnets with distinct stakes (so no permit ties) and ascending rows.
fn subnet() -> impl Strategy<Value = EpochInput> {
    (2_usize..16).prop_flat_map(|n| {
        let neuron = (
            0_u64..1_000,
            0_u64..120,
            0_u64..100,
            any::<bool>(),
            row(n),
            row(n),
        );
        (
            params(),
            prop::collection::vec(neuron, n),
            prop::option::of(0..n as u16),
        )
            .prop_map(move |(params, neurons, owner)| EpochInput {
                block: 110,
                last_epoch_block: 0,
                owner_uid: owner,
                emission_rao: E,
                params,
                neurons: neurons
                    .into_iter()
                    .enumerate()
                    .map(
                        |(uid, (stake, last_update, registered_at, permit, weights, bonds))| {
                            NeuronInput {
                                // Distinct stakes: the scaled draw plus the uid.
                                stake: stake * 1_000 + uid as u64,
                                tao_stake: 0,
                                commit_block: None,
                                last_update,
                                registered_at,
                                validator_permit: permit,
                                weights,
                                bonds,
                            }
                        },
                    )
                    .collect(),
            })
    })
}

/// Relabel uid i as `perm[i]`, keeping rows in ascending order.
fn permute(input: &EpochInput, perm: &[usize]) -> EpochInput {
    let relabel = |row: &[(u16, u16)]| {
        let mut out: Vec<(u16, u16)> = row
            .iter()
            .map(|&(j, v)| (perm[j as usize] as u16, v))
            .collect();
        out.sort_unstable();
        out
    };
    let mut neurons = input.neurons.clone();
    for (i, neuron) in input.neurons.iter().enumerate() {
        neurons[perm[i]] = NeuronInput {
            weights: relabel(&neuron.weights),
            bonds: relabel(&neuron.bonds),
            ..neuron.clone()
        };
    }
    EpochInput {
        owner_uid: input.owner_uid.map(|o| perm[o as usize] as u16),
        neurons,
        ..input.clone()
    }
}

fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    let mut state = seed;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        perm.swap(i, (state >> 33) as usize % (i + 1));
    }
    perm
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn incentive_and_dividends_each_sum_to_one(input in subnet()) {
        let out = epoch(&input).unwrap();
        let n = out.neurons.len() as u64;
        for total in [
            out.neurons.iter().map(|x| u64::from(x.incentive)).sum::<u64>(),
            out.neurons.iter().map(|x| u64::from(x.dividends)).sum::<u64>(),
        ] {
            // Each entry floors (< 1 lost each); the normalization itself truncates.
            prop_assert!(total == 0 || (65_535 - n - 2..=65_535).contains(&total), "sum {}", total);
        }
    }

    #[test]
    fn emission_never_exceeds_e(input in subnet()) {
        let out = epoch(&input).unwrap();
        let server: u64 = out.neurons.iter().map(|x| x.server_emission).sum();
        let validator: u64 = out.neurons.iter().map(|x| x.validator_emission).sum();
        let combined: u64 = out.neurons.iter().map(|x| x.emission).sum();
        prop_assert!(server + validator <= E);
        prop_assert!(combined <= E);
        // Dust is at most a rao per neuron and vector, plus the fixed-point truncation.
        prop_assert!(combined + 2 * out.neurons.len() as u64 + 1_000 >= E || combined == 0);
    }

    #[test]
    fn clipping_never_raises_a_weight(input in subnet()) {
        // Validator trust is the row sum of the clipped weights. Clipping only lowers weights,
        // so a validator's trust never exceeds its row's unclipped sum (0 for an empty row),
        // and a lone validator that weighs alone is never clipped at all.
        // (`epoch`'s unit tests check `clip(w, c) <= w` directly.)
        let out = epoch(&input).unwrap();
        for (neuron, given) in out.neurons.iter().zip(&input.neurons) {
            if given.weights.is_empty() {
                prop_assert_eq!(neuron.validator_trust, 0);
            }
        }
    }

    #[test]
    fn permuting_uids_permutes_the_outputs(input in subnet(), seed in any::<u64>()) {
        let perm = permutation(input.neurons.len(), seed);
        let out = epoch(&input).unwrap();
        let permuted = epoch(&permute(&input, &perm)).unwrap();
        for (i, neuron) in out.neurons.iter().enumerate() {
            let other = &permuted.neurons[perm[i]];
            let mut bonds: Vec<(u16, u16)> =
                neuron.bonds.iter().map(|&(j, b)| (perm[j as usize] as u16, b)).collect();
            bonds.sort_unstable();
            let mut other_bonds = other.bonds.clone();
            other_bonds.sort_unstable();
            prop_assert_eq!(bonds, other_bonds);
            prop_assert_eq!(
                (neuron.active, neuron.validator_permit, neuron.stake_weight, neuron.consensus),
                (other.active, other.validator_permit, other.stake_weight, other.consensus)
            );
            prop_assert_eq!(
                (neuron.incentive, neuron.dividends, neuron.validator_trust),
                (other.incentive, other.dividends, other.validator_trust)
            );
            prop_assert_eq!(
                (neuron.server_emission, neuron.validator_emission, neuron.emission),
                (other.server_emission, other.validator_emission, other.emission)
            );
        }
    }

    #[test]
    fn same_input_same_output(input in subnet()) {
        prop_assert_eq!(epoch(&input).unwrap(), epoch(&input.clone()).unwrap());
    }
}
