//! Hyperparameter setters: the reference's `sudo_set_<param>` calls as two enums.
//!
//! The root key (from genesis) may set any [`SubnetHyperparameter`] and any
//! [`GlobalParameter`] without a rate limit. A subnet owner may set the owner-settable subnet
//! hyperparameters, each at most once per `owner_hyperparameter_rate_limit_tempos` tempos.

use crate::{event::Event, state::State, subnets::SubnetParams, Ctx};
use hyphae_primitives::{AccountId, NetUid, Rao, TxError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// A per-subnet hyperparameter and its new value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubnetHyperparameter {
    /// Blocks per epoch, 360..=50 400 for owners (root: any).
    Tempo(u16),
    /// Activity cutoff per-mille of tempo, 1000..=50 000.
    ActivityCutoffFactorMilli(u32),
    /// Consensus majority.
    Kappa(u16),
    /// Rho.
    Rho(u16),
    /// Subnet size (root only), ≥ 1.
    MaxAllowedUids(u16),
    /// Validator permits.
    MaxAllowedValidators(u16),
    /// Minimum weights per set.
    MinAllowedWeights(u16),
    /// Max weight limit.
    MaxWeightsLimit(u16),
    /// Immunity period.
    ImmunityPeriod(u16),
    /// Immune owner uids, 1..=10.
    ImmuneOwnerUidsLimit(u16),
    /// Bonds EMA ×10⁶, ≤ 10⁶.
    BondsMovingAverage(u64),
    /// Bonds penalty.
    BondsPenalty(u16),
    /// Yuma3 on or off.
    Yuma3Enabled(bool),
    /// Liquid alpha on or off.
    LiquidAlphaEnabled(bool),
    /// (alpha_low, alpha_high): each ≥ 1638, low ≤ high.
    AlphaValues(u16, u16),
    /// Liquid-alpha steepness.
    AlphaSigmoidSteepness(i16),
    /// Weights version key.
    WeightsVersionKey(u64),
    /// Weights rate limit (root only).
    WeightsSetRateLimit(u64),
    /// Commit-reveal on or off.
    CommitRevealWeightsEnabled(bool),
    /// Reveal period, 1..=100 epochs.
    RevealPeriodEpochs(u64),
    /// Serving rate limit.
    ServingRateLimit(u64),
    /// Registration open or closed.
    NetworkRegistrationAllowed(bool),
    /// Burn floor, ≤ 1 TAO.
    MinBurn(u64),
    /// Burn ceiling, ≥ 0.1 TAO.
    MaxBurn(u64),
    /// Burn half-life, 1..=36 100.
    BurnHalfLife(u16),
    /// Burn multiplier ppm, ≥ 10⁶.
    BurnIncreaseMult(u64),
    /// Registrations per block (root only).
    MaxRegistrationsPerBlock(u16),
    /// Owner cut on or off (root only).
    OwnerCutEnabled(bool),
}

/// A chain-wide parameter and its new value (root only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GlobalParameter {
    /// Blocks between subnet creations.
    NetworkRateLimit(u64),
    /// Lock floor, rao.
    NetworkMinLock(u64),
    /// Subnet limit.
    SubnetLimit(u16),
    /// Epochs per block, ≥ 1.
    MaxEpochsPerBlock(u8),
    /// Stake threshold.
    StakeThreshold(u64),
    /// Owner cut, parts of 65535.
    SubnetOwnerCut(u16),
    /// Max take, parts of 65535.
    MaxTake(u16),
    /// Take rate limit.
    TxDelegateTakeRateLimit(u64),
    /// Min stake, rao.
    MinStake(u64),
    /// Base fee, rao.
    BaseFee(u64),
    /// Per-byte fee, rao.
    ByteFee(u64),
    /// A new root key.
    RootKey([u8; 32]),
    /// `TaoWeight`, parts of u64::MAX.
    TaoWeight(u64),
    /// Blocks between two `commit`s of one hotkey on one subnet.
    CommitmentRateLimit(u64),
}

impl SubnetHyperparameter {
    /// A stable small id per parameter (its SCALE variant index), for the owner rate limit.
    fn id(&self) -> u8 {
        self.encode().first().copied().unwrap_or(0)
    }

    fn name(&self) -> String {
        let debug = format!("{self:?}");
        debug.split('(').next().unwrap_or_default().to_owned()
    }

    fn owner_settable(&self) -> bool {
        !matches!(
            self,
            Self::MaxAllowedUids(_)
                | Self::WeightsSetRateLimit(_)
                | Self::MaxRegistrationsPerBlock(_)
                | Self::OwnerCutEnabled(_)
        )
    }

    fn check_bounds(&self, by_root: bool) -> Result<(), TxError> {
        let ok = match *self {
            Self::Tempo(tempo) => by_root || (360..=50_400).contains(&tempo),
            Self::ActivityCutoffFactorMilli(factor) => (1000..=50_000).contains(&factor),
            Self::MaxAllowedUids(n) => n >= 1,
            Self::ImmuneOwnerUidsLimit(limit) => (1..=10).contains(&limit),
            Self::BondsMovingAverage(ema) => ema <= 1_000_000,
            Self::AlphaValues(low, high) => low >= 1638 && high >= 1638 && low <= high,
            Self::RevealPeriodEpochs(period) => (1..=100).contains(&period),
            Self::MinBurn(burn) => burn <= 1_000_000_000,
            Self::MaxBurn(burn) => burn >= 100_000_000,
            Self::BurnHalfLife(life) => (1..=36_100).contains(&life),
            Self::BurnIncreaseMult(mult) => mult >= 1_000_000,
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(TxError::ValueOutOfBounds)
        }
    }

    fn apply(&self, params: &mut SubnetParams) {
        match *self {
            Self::Tempo(v) => params.tempo = v,
            Self::ActivityCutoffFactorMilli(v) => params.activity_cutoff_factor_milli = v,
            Self::Kappa(v) => params.kappa = v,
            Self::Rho(v) => params.rho = v,
            Self::MaxAllowedUids(v) => params.max_allowed_uids = v,
            Self::MaxAllowedValidators(v) => params.max_allowed_validators = v,
            Self::MinAllowedWeights(v) => params.min_allowed_weights = v,
            Self::MaxWeightsLimit(v) => params.max_weights_limit = v,
            Self::ImmunityPeriod(v) => params.immunity_period = v,
            Self::ImmuneOwnerUidsLimit(v) => params.immune_owner_uids_limit = v,
            Self::BondsMovingAverage(v) => params.bonds_moving_average = v,
            Self::BondsPenalty(v) => params.bonds_penalty = v,
            Self::Yuma3Enabled(v) => params.yuma3 = v,
            Self::LiquidAlphaEnabled(v) => params.liquid_alpha = v,
            Self::AlphaValues(low, high) => (params.alpha_low, params.alpha_high) = (low, high),
            Self::AlphaSigmoidSteepness(v) => params.alpha_sigmoid_steepness = v,
            Self::WeightsVersionKey(v) => params.weights_version_key = v,
            Self::WeightsSetRateLimit(v) => params.weights_set_rate_limit = v,
            Self::CommitRevealWeightsEnabled(v) => params.commit_reveal = v,
            Self::RevealPeriodEpochs(v) => params.reveal_period_epochs = v,
            Self::ServingRateLimit(v) => params.serving_rate_limit = v,
            Self::NetworkRegistrationAllowed(v) => params.registration_allowed = v,
            Self::MinBurn(v) => params.min_burn = Rao(v),
            Self::MaxBurn(v) => params.max_burn = Rao(v),
            Self::BurnHalfLife(v) => params.burn_half_life = v,
            Self::BurnIncreaseMult(v) => params.burn_increase_mult_ppm = v,
            Self::MaxRegistrationsPerBlock(v) => params.max_registrations_per_block = v,
            Self::OwnerCutEnabled(v) => params.owner_cut_enabled = v,
        }
    }
}

/// `sudo_set_<param>(netuid, value)`, signed by the root key or the subnet owner.
pub(crate) fn set_subnet_hyperparameter(
    state: &mut State,
    ctx: &Ctx,
    who: &AccountId,
    netuid: NetUid,
    param: &SubnetHyperparameter,
) -> Result<Vec<Event>, TxError> {
    let by_root = *who == state.globals.root_key;
    let rate_limit_tempos = u64::from(state.globals.owner_hyperparameter_rate_limit_tempos);
    let subnet = state.subnet_mut(netuid)?;
    if !by_root {
        if subnet.owner_coldkey != *who {
            return Err(TxError::NotSubnetOwner);
        }
        if !param.owner_settable() {
            return Err(TxError::NotOwnerSettable);
        }
    }
    param.check_bounds(by_root)?;
    let id = param.id();
    if !by_root {
        let window = rate_limit_tempos.saturating_mul(u64::from(subnet.params.tempo));
        let last = subnet
            .owner_param_last_set
            .iter()
            .find(|(param_id, _)| *param_id == id)
            .map(|(_, block)| *block);
        if last.is_some_and(|last| ctx.block.0.saturating_sub(last) < window) {
            return Err(TxError::HyperparameterRateLimited);
        }
        subnet
            .owner_param_last_set
            .retain(|(param_id, _)| *param_id != id);
        subnet.owner_param_last_set.push((id, ctx.block.0));
        subnet.owner_param_last_set.sort_unstable();
    }
    param.apply(&mut subnet.params);
    Ok(vec![Event::HyperparameterSet {
        netuid: Some(netuid.0),
        name: param.name(),
    }])
}

/// The largest `BaseFee`: 1 TAO.
pub const BASE_FEE_MAX_RAO: u64 = 1_000_000_000;
/// The largest `ByteFee`: a kilobyte-long call then costs at most about 1 TAO more.
pub const BYTE_FEE_MAX_RAO: u64 = 1_000_000;

/// `sudo_set_<global>(value)`, signed by the root key.
pub(crate) fn set_global_parameter(
    state: &mut State,
    who: &AccountId,
    param: &GlobalParameter,
) -> Result<Vec<Event>, TxError> {
    if *who != state.globals.root_key {
        return Err(TxError::NotRoot);
    }
    let g = &mut state.globals;
    match *param {
        GlobalParameter::NetworkRateLimit(v) => g.network_rate_limit = v,
        GlobalParameter::NetworkMinLock(v) => g.network_min_lock = Rao(v),
        GlobalParameter::SubnetLimit(v) => g.subnet_limit = v,
        GlobalParameter::MaxEpochsPerBlock(0) => return Err(TxError::ValueOutOfBounds),
        GlobalParameter::MaxEpochsPerBlock(v) => g.max_epochs_per_block = v,
        GlobalParameter::StakeThreshold(v) => g.stake_threshold = v,
        GlobalParameter::SubnetOwnerCut(v) => g.owner_cut = v,
        GlobalParameter::MaxTake(v) => g.max_take = v,
        GlobalParameter::TxDelegateTakeRateLimit(v) => g.take_rate_limit = v,
        GlobalParameter::MinStake(v) => g.min_stake = Rao(v),
        // Bounded so that fees stay payable: unbounded, one sudo call could price every
        // transaction out, the sudo call that would undo it included.
        GlobalParameter::BaseFee(v) if v > BASE_FEE_MAX_RAO => {
            return Err(TxError::ValueOutOfBounds)
        }
        GlobalParameter::BaseFee(v) => g.base_fee = Rao(v),
        GlobalParameter::ByteFee(v) if v > BYTE_FEE_MAX_RAO => {
            return Err(TxError::ValueOutOfBounds)
        }
        GlobalParameter::ByteFee(v) => g.byte_fee = Rao(v),
        GlobalParameter::RootKey(key) => g.root_key = AccountId(key),
        GlobalParameter::TaoWeight(v) => g.tao_weight = v,
        GlobalParameter::CommitmentRateLimit(v) => g.commitment_rate_limit = v,
    }
    let name = format!("{param:?}")
        .split('(')
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok(vec![Event::HyperparameterSet { netuid: None, name }])
}
