//! The benchmark subnet, shared by `benches/epoch.rs` and `examples/epoch_profile.rs` so
//! both time the same work: n neurons, the first 256 validators with full weight rows
//! (miner quality plus per-validator noise), and the state one epoch later.

use hyphae_yuma::{epoch, EpochInput, NeuronInput, Params};

/// Validators in the benchmark subnet (uids `0..VALIDATORS`).
pub const VALIDATORS: usize = 256;

/// Which bond model the subnet uses.
#[derive(Clone, Copy)]
pub enum Mode {
    Classic,
    Yuma3,
    Yuma3LiquidAlpha,
}

/// A deterministic hash standing in for each validator's view of each miner.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = (a << 32 ^ b).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn first_epoch_input(n: usize, mode: Mode) -> EpochInput {
    let params = Params {
        tempo: 360,
        activity_cutoff_blocks: 5000,
        kappa: 32_767,
        bonds_penalty: 65_535,
        bonds_moving_average: 900_000,
        yuma3: !matches!(mode, Mode::Classic),
        liquid_alpha: matches!(mode, Mode::Yuma3LiquidAlpha),
        alpha_low: 45_875,
        alpha_high: 58_982,
        alpha_sigmoid_steepness: 1000,
        max_allowed_validators: VALIDATORS as u16,
        stake_threshold: 0,
        tao_weight: 0,
        commit_reveal: false,
    };
    let neurons = (0..n)
        .map(|uid| {
            let is_validator = uid < VALIDATORS;
            NeuronInput {
                stake: if is_validator {
                    1_000_000_000 + mix(uid as u64, 0) % 1_000_000_000
                } else {
                    0
                },
                tao_stake: 0,
                commit_block: None,
                last_update: 10_000,
                registered_at: 1,
                validator_permit: is_validator,
                weights: if is_validator {
                    // Miner quality plus this validator's own noise: a realistic, full row.
                    (0..n as u16)
                        .map(|j| {
                            let quality = mix(j as u64, 1) % 40_000;
                            let noise = mix(uid as u64, j as u64 + 2) % 25_535;
                            (j, (quality + noise) as u16)
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                bonds: Vec::new(),
            }
        })
        .collect();
    EpochInput {
        block: 10_100,
        last_epoch_block: 9_740,
        owner_uid: None,
        emission_rao: 1_000_000_000,
        params,
        neurons,
    }
}

/// The state after one epoch: its bonds and permits stored, one tempo later.
pub fn second_epoch_input(n: usize, mode: Mode) -> EpochInput {
    let mut input = first_epoch_input(n, mode);
    let output = epoch(&input).unwrap();
    for (neuron, out) in input.neurons.iter_mut().zip(&output.neurons) {
        neuron.bonds = out.bonds.clone();
        neuron.validator_permit = out.validator_permit;
    }
    input.last_epoch_block = input.block;
    input.block += 360;
    input
}
