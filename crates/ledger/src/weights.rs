//! Weights: `set_weights` with every rule of §6.1 in order, and hash commit-reveal (§6.2).
//!
//! A commit stores `blake2_256(SCALE(hotkey, netuid, uids, values, salt, version_key))` with the
//! subnet's current epoch index. Its reveal is valid only in epoch `commit_epoch +
//! reveal_period_epochs`; later it has expired. A commit counts as a weight update for the rate
//! limit and for the epoch's activity and outdated-weight masks, so `LastUpdate` is set at commit
//! time and a reveal leaves it alone.

use crate::{
    codec::{blake2_256, AccountCodec},
    event::Event,
    state::State,
    Ctx,
};
use hyphae_primitives::{AccountId, Hash, NetUid, TxError, Uid};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Most unrevealed commits per hotkey and subnet.
pub const COMMITS_PER_HOTKEY_MAX: usize = 10;

/// One stored weight commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct WeightCommit {
    /// The commit hash.
    pub hash: [u8; 32],
    /// Subnet epoch index when committed.
    pub commit_epoch: u64,
    /// Block when committed.
    pub commit_block: u64,
    /// The hotkey that committed, whose key is in the hash: after `swap_hotkey` moves a
    /// commit, the new hotkey reveals it against the old one's hash.
    #[codec(encoded_as = "AccountCodec")]
    pub committer: AccountId,
}

/// The arguments of `set_weights` and of a reveal.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct WeightsArgs {
    /// Target uids, caller order.
    pub uids: Vec<u16>,
    /// Raw weights, same length.
    pub values: Vec<u16>,
    /// Client version.
    pub version_key: u64,
}

/// The commit hash a client computes before `commit_weights`.
pub fn commit_hash(hotkey: &AccountId, netuid: NetUid, args: &WeightsArgs, salt: &[u16]) -> Hash {
    let preimage = (
        hotkey.0,
        netuid.0,
        &args.uids,
        &args.values,
        salt,
        args.version_key,
    )
        .encode();
    blake2_256(&preimage)
}

/// `set_weights(netuid, uids, values, version_key)`, signed by the hotkey.
pub(crate) fn set_weights(
    state: &mut State,
    ctx: &Ctx,
    hotkey: &AccountId,
    netuid: NetUid,
    args: &WeightsArgs,
) -> Result<Vec<Event>, TxError> {
    if state.subnet_checked(netuid)?.params.commit_reveal {
        return Err(TxError::CommitRevealEnabled);
    }
    store_weights(state, ctx, hotkey, netuid, args, true)
}

/// The internal path of §6.1 shared by `set_weights` and reveals.
fn store_weights(
    state: &mut State,
    ctx: &Ctx,
    hotkey: &AccountId,
    netuid: NetUid,
    args: &WeightsArgs,
    direct: bool,
) -> Result<Vec<Event>, TxError> {
    let subnet = state.subnet_checked(netuid)?;
    let params = subnet.params.clone();
    let is_owner = subnet.owner_hotkey == *hotkey;
    let n = subnet.n;
    if args.uids.len() != args.values.len() {
        return Err(TxError::WeightsLengthMismatch);
    }
    if args.uids.len() > usize::from(n) {
        return Err(TxError::TooManyWeights);
    }
    let uid = state.uid_of(netuid, hotkey).ok_or(TxError::NotRegistered)?;
    if !is_owner && state.total_hotkey_stake(netuid, hotkey).0 < state.globals.stake_threshold {
        return Err(TxError::NotEnoughStakeToSetWeights);
    }
    if params.weights_version_key != 0 && args.version_key < params.weights_version_key {
        return Err(TxError::IncorrectWeightVersionKey);
    }
    let neuron = state.neuron(netuid, uid).ok_or(TxError::NotRegistered)?;
    if direct {
        check_rate_limit(
            neuron.last_update.0,
            ctx.block.0,
            params.weights_set_rate_limit,
        )?;
    }
    let self_weight = args.uids.len() == 1 && args.uids.first() == Some(&uid.0);
    if !self_weight && !is_owner && !neuron.validator_permit {
        return Err(TxError::NoValidatorPermit);
    }
    check_uids(&args.uids, n)?;
    if !self_weight && args.values.len() < usize::from(params.min_allowed_weights.min(n)) {
        return Err(TxError::WeightVecTooShort);
    }
    let upscaled = max_upscale_to_u16(&args.values);
    if !self_weight && !within_max_weight(&upscaled, params.max_weights_limit) {
        return Err(TxError::MaxWeightExceeded);
    }
    let neuron = state
        .neurons
        .get_mut(&(netuid, uid))
        .ok_or(TxError::NotRegistered)?;
    neuron.weights = args.uids.iter().copied().zip(upscaled).collect();
    if direct {
        neuron.last_update = ctx.block;
    }
    Ok(vec![Event::WeightsSet { netuid, uid }])
}

fn check_rate_limit(last_update: u64, block: u64, limit: u64) -> Result<(), TxError> {
    if last_update != 0 && block.saturating_sub(last_update) < limit {
        return Err(TxError::WeightsRateLimited);
    }
    Ok(())
}

fn check_uids(uids: &[u16], n: u16) -> Result<(), TxError> {
    let mut seen = std::collections::BTreeSet::new();
    for &target in uids {
        if !seen.insert(target) {
            return Err(TxError::DuplicateUids);
        }
        if target >= n {
            return Err(TxError::UidNotFound);
        }
    }
    Ok(())
}

/// The reference's `vec_max_upscale_to_u16` for integer inputs, in I32F32-exact integer form:
/// the largest value becomes 65535 and the others scale with it, rounding half away from zero.
pub fn max_upscale_to_u16(values: &[u16]) -> Vec<u16> {
    let max = u128::from(values.iter().copied().max().unwrap_or(0));
    if max == 0 {
        return values.to_vec();
    }
    const HALF: u128 = 1 << 31;
    let scaled = |value: u16| -> u16 {
        let value = u128::from(value);
        let raw = if max > 32_768 {
            // Multiply by the truncated I32F32 quotient 65535/max.
            let quotient = (65_535u128 << 32).checked_div(max).unwrap_or(0);
            value.saturating_mul(quotient)
        } else {
            (value.saturating_mul(65_535) << 32)
                .checked_div(max)
                .unwrap_or(0)
        };
        u16::try_from(raw.saturating_add(HALF) >> 32).unwrap_or(u16::MAX)
    };
    values.iter().map(|&value| scaled(value)).collect()
}

/// max(w) / Σw ≤ limit / 65535 (the check is off at 65535).
fn within_max_weight(values: &[u16], limit: u16) -> bool {
    if limit == u16::MAX {
        return true;
    }
    let sum: u64 = values.iter().map(|&v| u64::from(v)).sum();
    let max = u64::from(values.iter().copied().max().unwrap_or(0));
    max.saturating_mul(65_535) <= u64::from(limit).saturating_mul(sum)
}

/// `commit_weights(netuid, hash)`, signed by the hotkey.
pub(crate) fn commit_weights(
    state: &mut State,
    ctx: &Ctx,
    hotkey: &AccountId,
    netuid: NetUid,
    hash: Hash,
) -> Result<Vec<Event>, TxError> {
    let subnet = state.subnet_checked(netuid)?;
    if !subnet.params.commit_reveal {
        return Err(TxError::CommitRevealDisabled);
    }
    let (epoch, period, limit) = (
        subnet.epoch_index,
        subnet.params.reveal_period_epochs,
        subnet.params.weights_set_rate_limit,
    );
    let uid = state.uid_of(netuid, hotkey).ok_or(TxError::NotRegistered)?;
    let last_update = state
        .neuron(netuid, uid)
        .map_or(0, |neuron| neuron.last_update.0);
    check_rate_limit(last_update, ctx.block.0, limit)?;
    let mut queue = state
        .commits
        .get(&(netuid, *hotkey))
        .cloned()
        .unwrap_or_default();
    queue.retain(|commit| !expired(commit, epoch, period));
    if queue.len() >= COMMITS_PER_HOTKEY_MAX {
        return Err(TxError::TooManyUnrevealedCommits);
    }
    queue.push(WeightCommit {
        hash: hash.0,
        commit_epoch: epoch,
        commit_block: ctx.block.0,
        committer: *hotkey,
    });
    state.commits.insert((netuid, *hotkey), queue);
    if let Some(neuron) = state.neurons.get_mut(&(netuid, uid)) {
        neuron.last_update = ctx.block;
    }
    Ok(vec![Event::WeightsCommitted {
        netuid,
        hotkey: *hotkey,
        hash: hash.0,
    }])
}

fn expired(commit: &WeightCommit, epoch: u64, period: u64) -> bool {
    epoch > commit.commit_epoch.saturating_add(period)
}

/// `reveal_weights(netuid, uids, values, salt, version_key)`, signed by the hotkey.
pub(crate) fn reveal_weights(
    state: &mut State,
    ctx: &Ctx,
    hotkey: &AccountId,
    netuid: NetUid,
    args: &WeightsArgs,
    salt: &[u16],
) -> Result<Vec<Event>, TxError> {
    let subnet = state.subnet_checked(netuid)?;
    if !subnet.params.commit_reveal {
        return Err(TxError::CommitRevealDisabled);
    }
    let (epoch, period) = (subnet.epoch_index, subnet.params.reveal_period_epochs);
    let queue = state
        .commits
        .get(&(netuid, *hotkey))
        .ok_or(TxError::NoWeightsCommitFound)?;
    // Each commit is checked against its own committer's hash: a commit moved by
    // `swap_hotkey` still carries the old hotkey's.
    let commit = queue
        .iter()
        .find(|commit| commit.hash == commit_hash(&commit.committer, netuid, args, salt).0)
        .copied()
        .ok_or(TxError::NoWeightsCommitFound)?;
    let hash = Hash(commit.hash);
    if epoch < commit.commit_epoch.saturating_add(period) {
        return Err(TxError::RevealTooEarly);
    }
    if expired(&commit, epoch, period) {
        return Err(TxError::ExpiredWeightCommit);
    }
    let events = store_weights(state, ctx, hotkey, netuid, args, false)?;
    if let Some(queue) = state.commits.get_mut(&(netuid, *hotkey)) {
        queue.retain(|c| c.hash != hash.0 && !expired(c, epoch, period));
        if queue.is_empty() {
            state.commits.remove(&(netuid, *hotkey));
        }
    }
    Ok(events)
}

/// The earliest unexpired commit block of `hotkey` (for the epoch's commit mask).
pub(crate) fn earliest_commit_block(
    state: &State,
    netuid: NetUid,
    hotkey: &AccountId,
    epoch: u64,
    period: u64,
) -> Option<u64> {
    state
        .commits
        .get(&(netuid, *hotkey))?
        .iter()
        .filter(|commit| !expired(commit, epoch, period))
        .map(|commit| commit.commit_block)
        .min()
}

/// The uids of `netuid` in order (for views and tests).
pub fn uids(state: &State, netuid: NetUid) -> Vec<Uid> {
    state.neurons_of(netuid).map(|(uid, _)| uid).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upscale_matches_reference_shape() {
        assert_eq!(max_upscale_to_u16(&[1, 2]), vec![32768, 65535]);
        assert_eq!(max_upscale_to_u16(&[0, 0]), vec![0, 0]);
        assert_eq!(
            max_upscale_to_u16(&[65535, 0, 40000]),
            vec![65535, 0, 40000]
        );
        assert_eq!(max_upscale_to_u16(&[1]), vec![65535]);
    }
}
