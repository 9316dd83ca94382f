//! Neurons: one registered hotkey in one subnet's uid slot, and the metagraph-like view.

use crate::{
    codec::{AccountCodec, BlockCodec, RaoCodec},
    serving::AxonInfo,
    state::State,
};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, Rao, Uid};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// One uid's row: identity, weights, bonds and the last epoch's results.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Neuron {
    /// The registered hotkey.
    #[codec(encoded_as = "AccountCodec")]
    pub hotkey: AccountId,
    /// `BlockAtRegistration`.
    #[codec(encoded_as = "BlockCodec")]
    pub registered_at: BlockNumber,
    /// `LastUpdate`: the block of the last accepted weights (or registration).
    #[codec(encoded_as = "BlockCodec")]
    pub last_update: BlockNumber,
    /// Active in the last epoch.
    pub active: bool,
    /// Permit stored by the last epoch.
    pub validator_permit: bool,
    /// Stored weights, caller order, max-upscaled.
    pub weights: Vec<(u16, u16)>,
    /// Stored bonds, as the epoch wrote them.
    pub bonds: Vec<(u16, u16)>,
    /// Served axon.
    pub axon: Option<AxonInfo>,
    /// Last epoch: stake weight (u16 proportion).
    pub stake_weight: u16,
    /// Last epoch: consensus.
    pub consensus: u16,
    /// Last epoch: incentive.
    pub incentive: u16,
    /// Last epoch: dividends.
    pub dividends: u16,
    /// Last epoch: validator trust.
    pub validator_trust: u16,
    /// Last epoch: emission (rao).
    #[codec(encoded_as = "RaoCodec")]
    pub emission: Rao,
}

impl Neuron {
    pub(crate) fn fresh(hotkey: AccountId, block: BlockNumber) -> Self {
        Self {
            hotkey,
            registered_at: block,
            last_update: block,
            active: true,
            validator_permit: false,
            weights: Vec::new(),
            bonds: Vec::new(),
            axon: None,
            stake_weight: 0,
            consensus: 0,
            incentive: 0,
            dividends: 0,
            validator_trust: 0,
            emission: Rao::ZERO,
        }
    }
}

/// A neuron with its uid and total stake, for views.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronView {
    /// The uid.
    pub uid: Uid,
    /// The hotkey's owner.
    pub coldkey: AccountId,
    /// Total stake on the hotkey in this subnet, alpha rao.
    pub stake: Rao,
    /// That stake's TAO value at the subnet's spot price (floored).
    pub stake_tao_value: Rao,
    /// The stored row.
    pub neuron: Neuron,
}

impl State {
    /// The uid of `hotkey` on `netuid`.
    pub fn uid_of(&self, netuid: NetUid, hotkey: &AccountId) -> Option<Uid> {
        self.uid_index.get(&(netuid, *hotkey)).copied()
    }

    /// The neuron at `uid`.
    pub fn neuron(&self, netuid: NetUid, uid: Uid) -> Option<&Neuron> {
        self.neurons.get(&(netuid, uid))
    }

    /// The neurons of `netuid` in uid order.
    pub fn neurons_of(&self, netuid: NetUid) -> impl Iterator<Item = (Uid, &Neuron)> {
        self.neurons
            .range((netuid, Uid(0))..=(netuid, Uid(u16::MAX)))
            .map(|((_, uid), neuron)| (*uid, neuron))
    }

    /// A metagraph-like snapshot of `netuid`.
    pub fn metagraph(&self, netuid: NetUid) -> Vec<NeuronView> {
        self.neurons_of(netuid)
            .map(|(uid, neuron)| NeuronView {
                uid,
                coldkey: self
                    .hotkey_owners
                    .get(&neuron.hotkey)
                    .copied()
                    .unwrap_or_default(),
                stake: self.total_hotkey_stake(netuid, &neuron.hotkey),
                stake_tao_value: self.hotkey_stake_tao_value(netuid, &neuron.hotkey),
                neuron: neuron.clone(),
            })
            .collect()
    }
}
