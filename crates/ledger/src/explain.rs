//! `explain`: an emission receipt for one uid in one of its subnet's recent epochs (the last
//! [`crate::epoch::EPOCH_HISTORY`] are kept), with the reasons behind a zero.

use crate::{epoch::UidEpoch, state::State};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, Rao, Uid};
use serde::{Deserialize, Serialize};

/// Why a uid received nothing (or less than it may expect).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroReason {
    /// No validator weighted this uid.
    NoWeightsReceived,
    /// Every weight on it predates its registration (the outdated mask).
    NotRegisteredInTime,
    /// Every validator weighting it was inactive (weights older than the activity cutoff).
    WeightsOutdated,
    /// It had no validator permit, so it earns no dividends.
    NoPermit,
    /// Consensus on it was zero: the weights it got were clipped away.
    ClippedToZero,
    /// It did not update within the activity cutoff.
    Inactive,
    /// Its stake was below the stake threshold.
    BelowStakeThreshold,
    /// It is the owner hotkey: its incentive is recycled.
    OwnerIncentiveRecycled,
    /// The epoch rejected its input; all emission was recycled.
    EpochRejected,
}

/// One weight this uid received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightReceived {
    /// The validator's uid.
    pub validator: Uid,
    /// The stored u16 weight.
    pub raw: u16,
    /// The weight as a share of the validator's row, u16 proportion.
    pub normalized: u16,
    /// min(normalized, consensus).
    pub clipped: u16,
}

/// The emission receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionReceipt {
    /// Subnet.
    pub netuid: NetUid,
    /// Uid.
    pub uid: Uid,
    /// Epoch block.
    pub epoch_block: BlockNumber,
    /// Hotkey.
    pub hotkey: AccountId,
    /// Total stake.
    pub stake: Rao,
    /// Stake weight (u16).
    pub stake_weight: u16,
    /// Weights received.
    pub weights_received: Vec<WeightReceived>,
    /// Consensus (u16).
    pub consensus: u16,
    /// Incentive (u16).
    pub incentive: u16,
    /// Σ of the uid's new bond row (u16 units).
    pub bond_sum: u64,
    /// Dividends (u16).
    pub dividends: u16,
    /// Miner emission, rao.
    pub server_emission: Rao,
    /// Validator emission, rao.
    pub validator_emission: Rao,
    /// Combined emission, rao.
    pub emission: Rao,
    /// Incentive staked to the miner.
    pub paid_incentive: Rao,
    /// Take paid.
    pub paid_take: Rao,
    /// Paid to stakers after the take.
    pub paid_nominators: Rao,
    /// Recycled.
    pub recycled: Rao,
    /// Why an amount is zero.
    pub zero_reasons: Vec<ZeroReason>,
}

/// Which kept epoch to explain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochSelector {
    /// The subnet's last epoch.
    #[default]
    Latest,
    /// The epoch that ran at this block.
    Block(BlockNumber),
    /// `n` epochs before the last (0 = the last).
    Back(u32),
}

/// The receipt for `uid` in `netuid`'s last epoch, if one ran and the uid existed then.
pub fn explain(state: &State, netuid: NetUid, uid: Uid) -> Option<EmissionReceipt> {
    explain_at(state, netuid, uid, EpochSelector::Latest)
}

/// The receipt for `uid` in the kept epoch of `netuid` that `epoch` selects, if it is kept and
/// the uid existed then.
pub fn explain_at(
    state: &State,
    netuid: NetUid,
    uid: Uid,
    epoch: EpochSelector,
) -> Option<EmissionReceipt> {
    let record = match epoch {
        EpochSelector::Latest => state.epoch_history(netuid).next_back(),
        EpochSelector::Block(block) => state.epoch_history(netuid).find(|r| r.block == block),
        EpochSelector::Back(n) => state
            .epoch_history(netuid)
            .rev()
            .nth(usize::try_from(n).ok()?),
    }?;
    let this = record.uids.get(usize::from(uid.0))?;
    let consensus = this.output.consensus;
    let weights_received = this
        .weights_received
        .iter()
        .map(|&(validator, raw)| {
            let row_sum = record
                .uids
                .get(usize::from(validator))
                .map_or(0, |v| v.weight_row_sum);
            let normalized = (u64::from(raw).saturating_mul(65_535))
                .checked_div(row_sum)
                .unwrap_or(0);
            let normalized = u16::try_from(normalized).unwrap_or(u16::MAX);
            WeightReceived {
                validator: Uid(validator),
                raw,
                normalized,
                clipped: normalized.min(consensus),
            }
        })
        .collect();
    let zero_reasons = if record.error.is_some() {
        vec![ZeroReason::EpochRejected]
    } else {
        zero_reasons(
            record.block,
            record.activity_cutoff_blocks,
            record.stake_threshold,
            &record.uids,
            this,
        )
    };
    Some(EmissionReceipt {
        netuid,
        uid,
        epoch_block: record.block,
        hotkey: this.hotkey,
        stake: this.stake,
        stake_weight: this.output.stake_weight,
        weights_received,
        consensus,
        incentive: this.output.incentive,
        bond_sum: this.output.bond_sum,
        dividends: this.output.dividends,
        server_emission: Rao(this.output.server_emission),
        validator_emission: Rao(this.output.validator_emission),
        emission: Rao(this.output.emission),
        paid_incentive: this.paid_incentive,
        paid_take: this.paid_take,
        paid_nominators: this.paid_nominators,
        recycled: this.recycled,
        zero_reasons,
    })
}

fn zero_reasons(
    block: BlockNumber,
    cutoff: u64,
    threshold: u64,
    all: &[UidEpoch],
    this: &UidEpoch,
) -> Vec<ZeroReason> {
    let mut reasons = Vec::new();
    if !this.output.active {
        reasons.push(ZeroReason::Inactive);
    }
    if this.stake.0 < threshold {
        reasons.push(ZeroReason::BelowStakeThreshold);
    }
    if this.output.validator_emission == 0 && !this.permit_before {
        reasons.push(ZeroReason::NoPermit);
    }
    if this.recycled.0 > 0 {
        reasons.push(ZeroReason::OwnerIncentiveRecycled);
    }
    if this.output.server_emission == 0 {
        let validators: Vec<&UidEpoch> = this
            .weights_received
            .iter()
            .filter_map(|(v, w)| (*w > 0).then(|| all.get(usize::from(*v))).flatten())
            .collect();
        if validators.is_empty() {
            reasons.push(ZeroReason::NoWeightsReceived);
        } else if validators
            .iter()
            .all(|v| v.last_update <= this.registered_at)
        {
            reasons.push(ZeroReason::NotRegisteredInTime);
        } else if validators
            .iter()
            .all(|v| v.last_update.0.saturating_add(cutoff) < block.0)
        {
            reasons.push(ZeroReason::WeightsOutdated);
        } else if this.output.consensus == 0 {
            reasons.push(ZeroReason::ClippedToZero);
        }
    }
    reasons
}
