//! Many epochs of a synthetic subnet, for studying weight policies.
//!
//! A [`Scenario`] lists validators (with stake and a weight [`Policy`]) and miners (with a
//! hidden true quality). [`run`] plays `epochs` epochs: each epoch every validator sets
//! weights by its policy, [`crate::epoch`] runs, and the bonds and permits it writes carry
//! into the next epoch, as on chain. Uids are assigned validators first, then miners.
//!
//! Everything is deterministic: the only randomness is the honest policy's noise, drawn from
//! a splitmix64 stream keyed by the scenario's seed, the epoch, the validator and the miner.

use serde::{Deserialize, Serialize};

use crate::contract::{EpochInput, EpochOutput, NeuronInput, Params, RowEntry};
use crate::error::{YumaError, MAX_EPOCHS, MAX_NEURONS};

/// A synthetic subnet and how long to run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Epochs to run.
    pub epochs: u32,
    /// Emission handed to each epoch, in rao.
    #[serde(default = "default_emission_rao")]
    pub emission_rao: u64,
    /// Seed of the honest policy's noise.
    #[serde(default)]
    pub seed: u64,
    /// The subnet's hyperparameters (`tempo` also sets the blocks between epochs).
    pub params: Params,
    /// Validators, uids 0..V.
    pub validators: Vec<Validator>,
    /// Miners, uids V..V+M.
    pub miners: Vec<Miner>,
}

fn default_emission_rao() -> u64 {
    1_000_000_000
}

/// A validator of the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validator {
    /// Alpha stake, in raw units.
    pub stake: u64,
    /// How it sets weights each epoch.
    pub policy: Policy,
}

/// A miner of the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Miner {
    /// The hidden true quality honest validators observe (0 = useless).
    pub quality: u16,
}

/// A validator's weight-setting policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Policy {
    /// Weights ∝ each miner's quality, each scaled up by a uniform draw of up to
    /// `noise_permille` per mille (a useless miner stays at 0).
    Honest {
        /// Noise amplitude, per mille of the quality.
        #[serde(default)]
        noise_permille: u16,
    },
    /// All weight, equally, on the listed miners (indices into `miners`).
    Cabal {
        /// The cabal's own miners.
        miners: Vec<u16>,
    },
    /// Weights = the previous epoch's consensus (nothing in the first epoch).
    Copier,
    /// Weight only on itself.
    SelfOnly,
}

/// One epoch's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 0-based epoch index.
    pub epoch: u32,
    /// The block it ran at.
    pub block: u64,
    /// What the epoch returned.
    pub output: EpochOutput,
}

/// The block of the first epoch: far enough from registration (block 0) that weights count.
const FIRST_BLOCK: u64 = 1000;

/// Play the scenario and return every epoch's output.
pub fn run(scenario: &Scenario) -> Result<Vec<EpochRecord>, YumaError> {
    validate(scenario)?;
    let n_validators = scenario.validators.len();
    let step_blocks = u64::from(scenario.params.tempo).max(1);
    let mut input = EpochInput {
        block: FIRST_BLOCK,
        last_epoch_block: 0,
        owner_uid: None,
        emission_rao: scenario.emission_rao,
        params: scenario.params.clone(),
        neurons: initial_neurons(scenario),
    };
    let mut consensus: Vec<u16> = Vec::new();
    // Grown as epochs run, not reserved from the file's count.
    let mut records = Vec::new();
    for epoch_index in 0..scenario.epochs {
        for (uid, validator) in scenario.validators.iter().enumerate() {
            let row = weights_for(scenario, uid, &validator.policy, epoch_index, &consensus);
            if let Some(neuron) = input.neurons.get_mut(uid) {
                neuron.weights = row;
                neuron.last_update = input.block.saturating_sub(1);
            }
        }
        let output = crate::epoch(&input)?;
        consensus = output
            .neurons
            .iter()
            .skip(n_validators)
            .map(|n| n.consensus)
            .collect();
        for (neuron, out) in input.neurons.iter_mut().zip(&output.neurons) {
            neuron.bonds.clone_from(&out.bonds);
            neuron.validator_permit = out.validator_permit;
        }
        records.push(EpochRecord {
            epoch: epoch_index,
            block: input.block,
            output,
        });
        input.last_epoch_block = input.block;
        input.block = input.block.saturating_add(step_blocks);
    }
    Ok(records)
}

fn validate(scenario: &Scenario) -> Result<(), YumaError> {
    if scenario.epochs > MAX_EPOCHS {
        return Err(YumaError::TooManyEpochs {
            epochs: scenario.epochs,
            max: MAX_EPOCHS,
        });
    }
    let n = scenario
        .validators
        .len()
        .saturating_add(scenario.miners.len());
    if n > MAX_NEURONS {
        return Err(YumaError::TooManyNeurons {
            n,
            max: MAX_NEURONS,
        });
    }
    for validator in &scenario.validators {
        if let Policy::Cabal { miners } = &validator.policy {
            let n_miners = scenario.miners.len();
            if let Some(&uid) = miners.iter().find(|&&m| usize::from(m) >= n_miners) {
                return Err(YumaError::ScenarioUidOutOfRange {
                    field: "validators[].policy.miners",
                    uid,
                    n: n_miners,
                });
            }
        }
    }
    Ok(())
}

/// Everyone registered at block 0; validators start with the permit an earlier epoch gave them.
fn initial_neurons(scenario: &Scenario) -> Vec<NeuronInput> {
    let neuron = |stake: u64, validator_permit: bool| NeuronInput {
        stake,
        tao_stake: 0,
        commit_block: None,
        last_update: 0,
        registered_at: 0,
        validator_permit,
        weights: Vec::new(),
        bonds: Vec::new(),
    };
    let validators = scenario.validators.iter().map(|v| neuron(v.stake, true));
    let miners = scenario.miners.iter().map(|_| neuron(0, false));
    validators.chain(miners).collect()
}

/// A validator's weight row this epoch, max-upscaled as `set_weights` stores it.
fn weights_for(
    scenario: &Scenario,
    uid: usize,
    policy: &Policy,
    epoch: u32,
    last_consensus: &[u16],
) -> Vec<RowEntry> {
    let first_miner = scenario.validators.len();
    let miner_uid =
        |index: usize| u16::try_from(first_miner.saturating_add(index)).unwrap_or(u16::MAX);
    let raw: Vec<RowEntry> = match policy {
        Policy::Honest { noise_permille } => scenario
            .miners
            .iter()
            .enumerate()
            .map(|(index, miner)| {
                let draw = noise_draw(scenario.seed, epoch, uid, index, *noise_permille);
                let extra = u32::from(miner.quality).saturating_mul(u32::from(draw)) / 1000;
                let weight = u32::from(miner.quality).saturating_add(extra);
                (miner_uid(index), u16::try_from(weight).unwrap_or(u16::MAX))
            })
            .collect(),
        Policy::Cabal { miners } => miners
            .iter()
            .map(|&index| (miner_uid(usize::from(index)), u16::MAX))
            .collect(),
        Policy::Copier => last_consensus
            .iter()
            .enumerate()
            .map(|(index, &c)| (miner_uid(index), c))
            .collect(),
        Policy::SelfOnly => vec![(u16::try_from(uid).unwrap_or(u16::MAX), u16::MAX)],
    };
    max_upscale(raw)
}

/// Scale a row so its largest value is 65535 (rounding half up); an all-zero row is empty.
fn max_upscale(row: Vec<RowEntry>) -> Vec<RowEntry> {
    let max = u64::from(row.iter().map(|&(_, w)| w).max().unwrap_or(0));
    if max == 0 {
        return Vec::new();
    }
    row.into_iter()
        .map(|(j, w)| {
            let scaled = u64::from(w)
                .saturating_mul(u64::from(u16::MAX))
                .saturating_add(max / 2)
                .checked_div(max)
                .unwrap_or(0);
            (j, u16::try_from(scaled).unwrap_or(u16::MAX))
        })
        .collect()
}

/// A uniform draw in `[0, amplitude]` for one (epoch, validator, miner).
fn noise_draw(seed: u64, epoch: u32, validator: usize, miner: usize, amplitude: u16) -> u16 {
    if amplitude == 0 {
        return 0;
    }
    let key = splitmix64(
        splitmix64(splitmix64(seed ^ u64::from(epoch)) ^ u64::try_from(validator).unwrap_or(0))
            ^ u64::try_from(miner).unwrap_or(0),
    );
    let draw = key
        .checked_rem(u64::from(amplitude).saturating_add(1))
        .unwrap_or(0);
    u16::try_from(draw).unwrap_or(amplitude)
}

/// Steele, Lea and Flood's splitmix64 finalizer: a fast, well-mixed 64-bit hash.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Sum of the u16 incentive of the given uids in one output (a share out of ~65535).
pub fn incentive_of(output: &EpochOutput, uids: impl IntoIterator<Item = usize>) -> u32 {
    uids.into_iter()
        .filter_map(|uid| output.neurons.get(uid))
        .fold(0_u32, |acc, neuron| {
            acc.saturating_add(u32::from(neuron.incentive))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upscale_matches_the_largest_weight() {
        assert_eq!(
            max_upscale(vec![(1, 100), (2, 50), (3, 0)]),
            vec![(1, 65535), (2, 32768), (3, 0)]
        );
        assert_eq!(max_upscale(vec![(1, 0)]), vec![]);
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_huge_epoch_count_is_refused_before_any_work() {
        let mut scenario: Scenario =
            serde_json::from_str(include_str!("../scenarios/cabal.json")).unwrap();
        scenario.epochs = u32::MAX;
        assert_eq!(
            run(&scenario),
            Err(YumaError::TooManyEpochs {
                epochs: u32::MAX,
                max: MAX_EPOCHS,
            })
        );
        scenario.epochs = MAX_EPOCHS;
        assert_eq!(validate(&scenario), Ok(()));
    }

    #[test]
    fn noise_is_bounded_and_deterministic() {
        for miner in 0..100 {
            let draw = noise_draw(7, 3, 1, miner, 10);
            assert!(draw <= 10);
            assert_eq!(draw, noise_draw(7, 3, 1, miner, 10));
        }
    }
}
