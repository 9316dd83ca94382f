//! Epochs: scheduling (`LastEpochBlock + tempo`, at most `max_epochs_per_block` per block),
//! the Yuma input built from state, the results written back, and the payout.
//!
//! Payout of an epoch with emission E (the subnet's pending alpha emission), all in alpha:
//! * `server_emission` (incentive) is staked to the miner hotkey under its owner coldkey; the
//!   owner hotkey's incentive is recycled, as the reference burns or recycles it;
//! * `validator_emission` (dividends) pays the hotkey's take (default 18 %) to its owner coldkey
//!   and the rest to every coldkey staked on it, pro rata, with the rounding remainder to the
//!   owner coldkey;
//! * the pending owner cut is staked to the owner hotkey under the owner coldkey;
//! * whatever the epoch did not hand out (rounding dust, or all of E if the epoch rejects its
//!   input) is recycled: it leaves the subnet's alpha issuance and is counted in the pool's
//!   `alpha_recycled`.

use crate::{
    codec::{AccountCodec, BlockCodec, RaoCodec},
    event::Event,
    root::pay_root_dividends,
    state::State,
    subnets::Subnet,
    weights::earliest_commit_block,
};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, Rao, Uid};
use hyphae_yuma::{EpochInput, EpochOutput, NeuronInput, Params};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// What one uid got in the last epoch of its subnet, kept for `explain`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct UidEpoch {
    /// The hotkey at the time.
    #[codec(encoded_as = "AccountCodec")]
    pub hotkey: AccountId,
    /// `BlockAtRegistration`.
    #[codec(encoded_as = "BlockCodec")]
    pub registered_at: BlockNumber,
    /// `LastUpdate`.
    #[codec(encoded_as = "BlockCodec")]
    pub last_update: BlockNumber,
    /// Total stake on the hotkey.
    #[codec(encoded_as = "RaoCodec")]
    pub stake: Rao,
    /// Permit used by this epoch (the previous epoch's).
    pub permit_before: bool,
    /// Sum of this uid's own stored weight row (for clipped-weight arithmetic).
    pub weight_row_sum: u64,
    /// Stored weights other validators put on this uid: (validator uid, raw u16).
    pub weights_received: Vec<(u16, u16)>,
    /// The Yuma results for this uid.
    pub output: OutputRecord,
    /// Incentive staked to the miner.
    #[codec(encoded_as = "RaoCodec")]
    pub paid_incentive: Rao,
    /// Take paid to the validator's owner.
    #[codec(encoded_as = "RaoCodec")]
    pub paid_take: Rao,
    /// Dividends paid to stakers (owner included) after the take.
    #[codec(encoded_as = "RaoCodec")]
    pub paid_nominators: Rao,
    /// Part of this uid's emission that was recycled (owner incentive).
    #[codec(encoded_as = "RaoCodec")]
    pub recycled: Rao,
}

/// The Yuma output fields, in storage form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Active.
    pub active: bool,
    /// New permit.
    pub validator_permit: bool,
    /// Stake weight.
    pub stake_weight: u16,
    /// Consensus.
    pub consensus: u16,
    /// Incentive.
    pub incentive: u16,
    /// Dividends.
    pub dividends: u16,
    /// Validator trust.
    pub validator_trust: u16,
    /// Miner emission, rao.
    pub server_emission: u64,
    /// Validator emission, rao.
    pub validator_emission: u64,
    /// Combined emission, rao.
    pub emission: u64,
    /// Σ of the new bond row.
    pub bond_sum: u64,
}

/// How many epochs each subnet keeps for [`crate::explain`]; the oldest is dropped first.
pub const EPOCH_HISTORY: usize = 8;

/// One epoch of a subnet (the last [`EPOCH_HISTORY`] are kept).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Block it ran at.
    #[codec(encoded_as = "BlockCodec")]
    pub block: BlockNumber,
    /// Epoch index after it ran.
    pub epoch_index: u64,
    /// E handed to Yuma.
    #[codec(encoded_as = "RaoCodec")]
    pub emission: Rao,
    /// Owner cut staked.
    #[codec(encoded_as = "RaoCodec")]
    pub owner_cut: Rao,
    /// Total recycled.
    #[codec(encoded_as = "RaoCodec")]
    pub recycled: Rao,
    /// Activity cutoff used.
    pub activity_cutoff_blocks: u64,
    /// Stake threshold used.
    pub stake_threshold: u64,
    /// Per uid, index = uid.
    pub uids: Vec<UidEpoch>,
    /// Set when Yuma rejected the input, to its [`hyphae_yuma::YumaError::code`] (a number, so
    /// that rewording an error message never changes a state root); then all of E was
    /// recycled.
    pub error: Option<u16>,
    /// Root alpha paid to root stakers (the rest of the pending root alpha was recycled).
    #[codec(encoded_as = "RaoCodec")]
    pub root_dividends: Rao,
}

impl State {
    /// Destroys `alpha` of `netuid`'s outstanding alpha (epoch dust, owner incentive).
    pub(crate) fn recycle_alpha(&mut self, netuid: NetUid, alpha: Rao) {
        if let Some(pool) = self.pools.get_mut(&netuid) {
            pool.recycle(alpha);
        }
    }

    /// The last epoch of `netuid`, if one ran.
    pub fn epochs_of(&self, netuid: NetUid) -> Option<&EpochRecord> {
        self.epoch_history(netuid).next_back()
    }

    /// The kept epochs of `netuid` (at most [`EPOCH_HISTORY`]), oldest first.
    pub fn epoch_history(
        &self,
        netuid: NetUid,
    ) -> impl DoubleEndedIterator<Item = &EpochRecord> + '_ {
        self.epochs
            .range((netuid, BlockNumber(0))..=(netuid, BlockNumber(u64::MAX)))
            .map(|(_, record)| record)
    }

    /// Keeps `record` as `netuid`'s latest epoch and drops the oldest beyond
    /// [`EPOCH_HISTORY`].
    fn keep_epoch(&mut self, netuid: NetUid, record: EpochRecord) {
        self.epochs.insert((netuid, record.block), record);
        let stale: Vec<BlockNumber> = self
            .epoch_history(netuid)
            .rev()
            .skip(EPOCH_HISTORY)
            .map(|record| record.block)
            .collect();
        for block in stale {
            self.epochs.remove(&(netuid, block));
        }
    }
}

/// Runs every due epoch, at most `max_epochs_per_block`, in netuid order. The rest stay due and
/// run in a later block.
pub(crate) fn run_due_epochs(state: &mut State, block: BlockNumber) -> Vec<Event> {
    let max = usize::from(state.globals.max_epochs_per_block);
    let due: Vec<NetUid> = state
        .subnets
        .iter()
        .filter(|(_, subnet)| is_due(subnet, block))
        .map(|(netuid, _)| *netuid)
        .take(max)
        .collect();
    due.into_iter()
        .filter_map(|netuid| run_epoch(state, netuid, block))
        .collect()
}

fn is_due(subnet: &Subnet, block: BlockNumber) -> bool {
    subnet.params.tempo > 0
        && block.0.saturating_sub(subnet.last_epoch_block.0) >= u64::from(subnet.params.tempo)
}

/// The Yuma input for `netuid` at `block`, as the epoch would see it.
pub fn epoch_input(state: &State, netuid: NetUid, block: BlockNumber) -> Option<EpochInput> {
    let subnet = state.subnet(netuid)?;
    let p = &subnet.params;
    let neurons = state
        .neurons_of(netuid)
        .map(|(_, neuron)| NeuronInput {
            stake: state.total_hotkey_stake(netuid, &neuron.hotkey).0,
            tao_stake: state.root_stake(&neuron.hotkey).0,
            commit_block: if p.commit_reveal {
                earliest_commit_block(
                    state,
                    netuid,
                    &neuron.hotkey,
                    subnet.epoch_index,
                    p.reveal_period_epochs,
                )
            } else {
                None
            },
            last_update: neuron.last_update.0,
            registered_at: neuron.registered_at.0,
            validator_permit: neuron.validator_permit,
            weights: neuron.weights.clone(),
            bonds: neuron.bonds.clone(),
        })
        .collect();
    Some(EpochInput {
        block: block.0,
        last_epoch_block: subnet.last_epoch_block.0,
        owner_uid: state.uid_of(netuid, &subnet.owner_hotkey).map(|uid| uid.0),
        emission_rao: subnet.pending_emission.0,
        params: Params {
            tempo: p.tempo,
            activity_cutoff_blocks: p.activity_cutoff_blocks(),
            kappa: p.kappa,
            bonds_penalty: p.bonds_penalty,
            bonds_moving_average: p.bonds_moving_average,
            yuma3: p.yuma3,
            liquid_alpha: p.liquid_alpha,
            alpha_low: p.alpha_low,
            alpha_high: p.alpha_high,
            alpha_sigmoid_steepness: p.alpha_sigmoid_steepness,
            max_allowed_validators: p.max_allowed_validators,
            stake_threshold: state.globals.stake_threshold,
            tao_weight: state.globals.tao_weight,
            commit_reveal: p.commit_reveal,
        },
        neurons,
    })
}

fn run_epoch(state: &mut State, netuid: NetUid, block: BlockNumber) -> Option<Event> {
    let input = epoch_input(state, netuid, block)?;
    let subnet = state.subnets.get_mut(&netuid)?;
    let emission = std::mem::take(&mut subnet.pending_emission);
    let owner_cut = std::mem::take(&mut subnet.pending_owner_cut);
    let pending_root = state
        .pools
        .get_mut(&netuid)
        .map(|pool| std::mem::take(&mut pool.pending_root_alpha))
        .unwrap_or_default();
    let subnet = state.subnets.get_mut(&netuid)?;
    subnet.last_epoch_block = block;
    subnet.epoch_index = subnet.epoch_index.saturating_add(1);
    let (owner_hotkey, owner_coldkey, epoch_index) = (
        subnet.owner_hotkey,
        subnet.owner_coldkey,
        subnet.epoch_index,
    );
    let mut record = EpochRecord {
        block,
        epoch_index,
        emission,
        owner_cut,
        recycled: Rao::ZERO,
        activity_cutoff_blocks: input.params.activity_cutoff_blocks,
        stake_threshold: input.params.stake_threshold,
        uids: Vec::new(),
        error: None,
        root_dividends: Rao::ZERO,
    };
    let paid = match hyphae_yuma::epoch(&input) {
        Ok(output) => {
            record.uids = uid_records(state, netuid, &input, &output);
            write_back(state, netuid, &output);
            let paid = pay_out(state, netuid, &owner_hotkey, &mut record.uids);
            let dividends: Vec<(AccountId, u64)> = record
                .uids
                .iter()
                .map(|uid| (uid.hotkey, uid.output.validator_emission))
                .collect();
            record.root_dividends =
                pay_root_dividends(state, netuid, &input, &dividends, pending_root);
            paid
        }
        Err(error) => {
            record.error = Some(error.code());
            0
        }
    };
    let recycled = Rao(emission.0.saturating_sub(paid));
    state.recycle_alpha(netuid, recycled);
    // The owner cut was minted into pending; re-stake it (cannot fail short of overflow).
    if state
        .credit_stake(netuid, &owner_hotkey, &owner_coldkey, owner_cut)
        .is_err()
    {
        state.recycle_alpha(netuid, owner_cut);
    }
    record.recycled = recycled;
    state.recycle_alpha(
        netuid,
        Rao(pending_root.0.saturating_sub(record.root_dividends.0)),
    );
    state.keep_epoch(netuid, record);
    Some(Event::EpochRun {
        netuid,
        emission,
        recycled,
    })
}

fn uid_records(
    state: &State,
    netuid: NetUid,
    input: &EpochInput,
    output: &EpochOutput,
) -> Vec<UidEpoch> {
    let mut received: Vec<Vec<(u16, u16)>> = vec![Vec::new(); input.neurons.len()];
    for (validator, neuron) in input.neurons.iter().enumerate() {
        let validator = u16::try_from(validator).unwrap_or(u16::MAX);
        for &(target, weight) in &neuron.weights {
            if let Some(list) = received.get_mut(usize::from(target)) {
                list.push((validator, weight));
            }
        }
    }
    input
        .neurons
        .iter()
        .zip(&output.neurons)
        .zip(received)
        .enumerate()
        .map(|(uid, ((neuron_in, out), weights_received))| UidEpoch {
            hotkey: state
                .neuron(netuid, Uid(u16::try_from(uid).unwrap_or(u16::MAX)))
                .map(|neuron| neuron.hotkey)
                .unwrap_or_default(),
            registered_at: BlockNumber(neuron_in.registered_at),
            last_update: BlockNumber(neuron_in.last_update),
            stake: Rao(neuron_in.stake),
            permit_before: neuron_in.validator_permit,
            weight_row_sum: neuron_in.weights.iter().map(|(_, w)| u64::from(*w)).sum(),
            weights_received,
            output: OutputRecord {
                active: out.active,
                validator_permit: out.validator_permit,
                stake_weight: out.stake_weight,
                consensus: out.consensus,
                incentive: out.incentive,
                dividends: out.dividends,
                validator_trust: out.validator_trust,
                server_emission: out.server_emission,
                validator_emission: out.validator_emission,
                emission: out.emission,
                bond_sum: out.bonds.iter().map(|(_, b)| u64::from(*b)).sum(),
            },
            paid_incentive: Rao::ZERO,
            paid_take: Rao::ZERO,
            paid_nominators: Rao::ZERO,
            recycled: Rao::ZERO,
        })
        .collect()
}

fn write_back(state: &mut State, netuid: NetUid, output: &EpochOutput) {
    for ((_, neuron), out) in state
        .neurons
        .range_mut((netuid, Uid(0))..=(netuid, Uid(u16::MAX)))
        .zip(&output.neurons)
    {
        neuron.active = out.active;
        neuron.validator_permit = out.validator_permit;
        neuron.stake_weight = out.stake_weight;
        neuron.consensus = out.consensus;
        neuron.incentive = out.incentive;
        neuron.dividends = out.dividends;
        neuron.validator_trust = out.validator_trust;
        neuron.emission = Rao(out.emission);
        neuron.bonds.clone_from(&out.bonds);
    }
}

/// Pays every uid; returns the total paid out of E (including recycled owner incentive is not
/// counted as paid).
fn pay_out(
    state: &mut State,
    netuid: NetUid,
    owner_hotkey: &AccountId,
    uids: &mut [UidEpoch],
) -> u64 {
    let mut paid = 0u64;
    for record in uids.iter_mut() {
        let hotkey = record.hotkey;
        let Some(coldkey) = state.hotkey_owner(&hotkey) else {
            continue;
        };
        let server = Rao(record.output.server_emission);
        if hotkey == *owner_hotkey {
            record.recycled = server;
        } else if state
            .credit_stake(netuid, &hotkey, &coldkey, server)
            .is_ok()
        {
            record.paid_incentive = server;
            paid = paid.saturating_add(server.0);
        }
        let (take, nominators) = pay_dividends(
            state,
            netuid,
            &hotkey,
            &coldkey,
            Rao(record.output.validator_emission),
        );
        record.paid_take = take;
        record.paid_nominators = nominators;
        paid = paid.saturating_add(take.0).saturating_add(nominators.0);
    }
    paid
}

/// Splits a validator's dividends: take to the owner, the rest pro rata to its stakers.
fn pay_dividends(
    state: &mut State,
    netuid: NetUid,
    hotkey: &AccountId,
    owner: &AccountId,
    dividends: Rao,
) -> (Rao, Rao) {
    let stakers = state.stakers(netuid, hotkey);
    split_dividends(state, netuid, hotkey, owner, dividends, &stakers, false)
}

/// Pays `dividends` as alpha stake on `netuid` under `hotkey`: the take to `owner`, the rest
/// pro rata to `stakers` (coldkey, weight), the rounding remainder to `owner`; with
/// `claimable`, every part accrues as claimable root dividends instead of stake.
/// Returns (take, rest).
pub(crate) fn split_dividends(
    state: &mut State,
    netuid: NetUid,
    hotkey: &AccountId,
    owner: &AccountId,
    dividends: Rao,
    stakers: &[(AccountId, Rao)],
    claimable: bool,
) -> (Rao, Rao) {
    if dividends.is_zero() {
        return (Rao::ZERO, Rao::ZERO);
    }
    let take = Rao(u64::try_from(
        u128::from(dividends.0).saturating_mul(u128::from(state.take(hotkey))) / 65_535,
    )
    .unwrap_or(0));
    let rest = Rao(dividends.0.saturating_sub(take.0));
    let total: u128 = stakers.iter().map(|(_, stake)| u128::from(stake.0)).sum();
    let mut shared = 0u64;
    for (coldkey, stake) in stakers {
        let share = u128::from(rest.0)
            .saturating_mul(u128::from(stake.0))
            .checked_div(total);
        {
            let share = share.and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
            if state
                .credit_dividend(netuid, hotkey, coldkey, Rao(share), claimable)
                .is_ok()
            {
                shared = shared.saturating_add(share);
            }
        }
    }
    // Rounding remainder (or everything, without stakers) goes to the owner with the take.
    let remainder = Rao(rest.0.saturating_sub(shared));
    let to_owner = Rao(take.0.saturating_add(remainder.0));
    if state
        .credit_dividend(netuid, hotkey, owner, to_owner, claimable)
        .is_err()
    {
        return (Rao::ZERO, Rao(shared));
    }
    (take, Rao(rest.0))
}
