//! The epoch's input and output, exactly as `docs`' `yuma-io` contract spells them in JSON.
//!
//! These are plain data: the ledger fills an [`EpochInput`] from state, the CLI parses one
//! from JSON, and both get the same [`EpochOutput`] back.

use serde::{Deserialize, Serialize};

/// One `[uid, value]` pair of a weight or bond row.
pub type RowEntry = (u16, u16);

/// Everything one epoch of one subnet mechanism reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochInput {
    /// The current block B.
    pub block: u64,
    /// The reference's `LastMechansimStepBlock`; 0 means "use `block - tempo`" for `last_tempo`.
    pub last_epoch_block: u64,
    /// The uid of the subnet owner's hotkey, if it is registered.
    #[serde(default)]
    pub owner_uid: Option<u16>,
    /// The emission E handed to this epoch, in rao.
    pub emission_rao: u64,
    /// The subnet's hyperparameters.
    pub params: Params,
    /// The neurons; the array index is the uid.
    pub neurons: Vec<NeuronInput>,
}

/// Subnet hyperparameters, in their raw on-chain forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Blocks per epoch.
    pub tempo: u16,
    /// Blocks after its last update before a neuron counts as inactive.
    pub activity_cutoff_blocks: u64,
    /// Consensus majority, a proportion of 65535 (32767 ≈ 0.5).
    pub kappa: u16,
    /// β in `Wb = W + β(W̃ − W)`, a proportion of 65535.
    pub bonds_penalty: u16,
    /// The bonds EMA keep-ratio in parts per million (900 000 keeps 90 %).
    pub bonds_moving_average: u64,
    /// Yuma3 bonds and dividends instead of classic ones.
    pub yuma3: bool,
    /// Per-pair EMA coefficients (only under Yuma3).
    pub liquid_alpha: bool,
    /// Liquid alpha's lower bound, a proportion of 65535.
    pub alpha_low: u16,
    /// Liquid alpha's upper bound, a proportion of 65535.
    pub alpha_high: u16,
    /// Liquid alpha's sigmoid steepness (divided by -100 before use).
    pub alpha_sigmoid_steepness: i16,
    /// How many validator permits the epoch hands out.
    pub max_allowed_validators: u16,
    /// Stake below this (in raw units) counts as zero, except the owner's.
    pub stake_threshold: u64,
    /// The raw `TaoWeight`; the weight of root TAO stake is `tao_weight / u64::MAX`.
    #[serde(default)]
    pub tao_weight: u64,
    /// Whether commit-reveal is on: then weights are masked by each validator's commit block.
    #[serde(default)]
    pub commit_reveal: bool,
}

/// One neuron's stored state as the epoch reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronInput {
    /// Alpha stake on this subnet, in raw units.
    pub stake: u64,
    /// TAO stake on root, weighted by `params.tao_weight`.
    #[serde(default)]
    pub tao_stake: u64,
    /// Block of the earliest unexpired weight commit (used only with `params.commit_reveal`).
    #[serde(default)]
    pub commit_block: Option<u64>,
    /// `LastUpdate`: the block of the last weight setting (or of registration).
    pub last_update: u64,
    /// `BlockAtRegistration`.
    pub registered_at: u64,
    /// The permit stored by the previous epoch.
    pub validator_permit: bool,
    /// The stored weight row, in the order `set_weights` received it, already max-upscaled.
    pub weights: Vec<RowEntry>,
    /// The stored bond row, in stored order, zero entries included.
    pub bonds: Vec<RowEntry>,
}

/// What the epoch writes back, per neuron.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochOutput {
    /// The neurons; the array index is the uid.
    pub neurons: Vec<NeuronOutput>,
}

/// One neuron's epoch results in their storage forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronOutput {
    /// Updated within the activity cutoff.
    pub active: bool,
    /// The new permit P′.
    pub validator_permit: bool,
    /// Normalized stake S, as a u16 proportion.
    pub stake_weight: u16,
    /// Consensus C, as a u16 proportion.
    pub consensus: u16,
    /// Incentive I, as a u16 proportion.
    pub incentive: u16,
    /// Dividends D, as a u16 proportion.
    pub dividends: u16,
    /// Validator trust (sum of the clipped weight row), as a u16 proportion.
    pub validator_trust: u16,
    /// Miner share of the emission, in rao.
    pub server_emission: u64,
    /// Validator share of the emission, in rao.
    pub validator_emission: u64,
    /// The combined amount the reference stores as `Emission`, in rao.
    pub emission: u64,
    /// The bond row as stored after the epoch (empty without the new permit).
    pub bonds: Vec<RowEntry>,
}
