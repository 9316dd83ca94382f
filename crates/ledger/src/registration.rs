//! Registration: `burned_register` / `register_limit`, the pruning rule, and the burn price
//! (bump per registration, per-block decay) of §5.
//!
//! The burn is destroyed (issuance falls), as before dynamic TAO: recycling it into the
//! subnet's pool is a possible later change (decision 4).

use crate::{event::Event, neurons::Neuron, state::State, subnets::SubnetParams, Ctx};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, Rao, TxError, Uid};

/// `burned_register(netuid, hotkey)` and `register_limit(netuid, hotkey, max_price)`, signed by
/// the coldkey that pays the burn and will own the hotkey.
pub(crate) fn burned_register(
    state: &mut State,
    ctx: &Ctx,
    coldkey: &AccountId,
    netuid: NetUid,
    hotkey: &AccountId,
    max_price: Option<Rao>,
) -> Result<Vec<Event>, TxError> {
    let subnet = state.subnet_checked(netuid)?;
    if !subnet.params.registration_allowed {
        return Err(TxError::RegistrationDisabled);
    }
    if subnet.registrations_this_block >= subnet.params.max_registrations_per_block {
        return Err(TxError::TooManyRegistrationsThisBlock);
    }
    if state.uid_of(netuid, hotkey).is_some() {
        return Err(TxError::HotkeyAlreadyRegistered);
    }
    let burn = subnet.burn;
    if max_price.is_some_and(|limit| burn > limit) {
        return Err(TxError::MaxPriceExceeded);
    }
    if state.balance(coldkey) < burn {
        return Err(TxError::InsufficientBalance);
    }
    state.check_hotkey_owner(coldkey, hotkey)?;
    let slot = choose_slot(state, netuid, ctx.block)?;
    state.burn_from(coldkey, burn)?;
    state.claim_hotkey(coldkey, hotkey);
    let (uid, pruned) = match slot {
        Slot::Append(uid) => (uid, None),
        Slot::Replace(uid) => (uid, Some(state.prune_neuron(netuid, uid)?)),
    };
    state.place_neuron(netuid, uid, Neuron::fresh(*hotkey, ctx.block))?;
    bump_burn(state, netuid)?;
    Ok(vec![Event::NeuronRegistered {
        netuid,
        uid,
        hotkey: *hotkey,
        pruned: pruned.map(|h| h.0),
        burn,
    }])
}

enum Slot {
    Append(Uid),
    Replace(Uid),
}

fn choose_slot(state: &State, netuid: NetUid, block: BlockNumber) -> Result<Slot, TxError> {
    let subnet = state.subnet_checked(netuid)?;
    if subnet.params.max_allowed_uids == 0 {
        return Err(TxError::NoUidsAllowed);
    }
    if subnet.n < subnet.params.max_allowed_uids {
        return Ok(Slot::Append(Uid(subnet.n)));
    }
    neuron_to_prune(state, netuid, block)
        .map(Slot::Replace)
        .ok_or(TxError::NoNeuronIdAvailable)
}

/// The uid a registration into a full subnet replaces (§5.3, HEAD): among non-immortal uids
/// the lowest emission, ties to the earlier registration then the lower uid; non-immune ones
/// first while more than `MinNonImmuneUids` of them exist.
pub fn neuron_to_prune(state: &State, netuid: NetUid, block: BlockNumber) -> Option<Uid> {
    let subnet = state.subnet(netuid)?;
    let immortal = immortal_uids(state, netuid);
    let candidates: Vec<(Uid, bool, (Rao, BlockNumber, Uid))> = state
        .neurons_of(netuid)
        .filter(|(uid, _)| !immortal.contains(uid))
        .map(|(uid, neuron)| {
            let immune = block.0.saturating_sub(neuron.registered_at.0)
                < u64::from(subnet.params.immunity_period);
            (uid, immune, (neuron.emission, neuron.registered_at, uid))
        })
        .collect();
    let non_immune = candidates.iter().filter(|(_, immune, _)| !immune).count();
    let pick = |immune_wanted: bool| {
        candidates
            .iter()
            .filter(|(_, immune, _)| *immune == immune_wanted)
            .min_by_key(|(_, _, rank)| *rank)
            .map(|c| c.0)
    };
    if non_immune > usize::from(subnet.params.min_non_immune_uids) {
        pick(false)
    } else {
        pick(true).or_else(|| pick(false))
    }
}

/// The owner hotkey plus the owner coldkey's other hotkeys, earliest registration first, up to
/// `ImmuneOwnerUidsLimit`.
fn immortal_uids(state: &State, netuid: NetUid) -> Vec<Uid> {
    let Some(subnet) = state.subnet(netuid) else {
        return Vec::new();
    };
    // The owner hotkey comes first, then the owner coldkey's other hotkeys by registration.
    let mut owned: Vec<(bool, BlockNumber, Uid)> = state
        .neurons_of(netuid)
        .filter(|(_, neuron)| {
            neuron.hotkey == subnet.owner_hotkey
                || state.hotkey_owners.get(&neuron.hotkey) == Some(&subnet.owner_coldkey)
        })
        .map(|(uid, neuron)| {
            (
                neuron.hotkey != subnet.owner_hotkey,
                neuron.registered_at,
                uid,
            )
        })
        .collect();
    owned.sort_unstable();
    owned
        .into_iter()
        .take(usize::from(subnet.params.immune_owner_uids_limit))
        .map(|(_, _, uid)| uid)
        .collect()
}

impl State {
    /// Removes the neuron at `uid` (returning its hotkey) with every replacement effect:
    /// its rows and results go, and other neurons' weights on it are zeroed in place.
    fn prune_neuron(&mut self, netuid: NetUid, uid: Uid) -> Result<AccountId, TxError> {
        let old = self
            .neurons
            .remove(&(netuid, uid))
            .ok_or(TxError::UidNotFound)?;
        self.uid_index.remove(&(netuid, old.hotkey));
        self.commits.remove(&(netuid, old.hotkey));
        self.commitments.remove(&(netuid, old.hotkey));
        for (_, neuron) in self
            .neurons
            .range_mut((netuid, Uid(0))..=(netuid, Uid(u16::MAX)))
        {
            for entry in neuron
                .weights
                .iter_mut()
                .filter(|(target, _)| *target == uid.0)
            {
                entry.1 = 0;
            }
        }
        Ok(old.hotkey)
    }

    fn place_neuron(&mut self, netuid: NetUid, uid: Uid, neuron: Neuron) -> Result<(), TxError> {
        let hotkey = neuron.hotkey;
        let subnet = self.subnet_mut(netuid)?;
        if uid.0 == subnet.n {
            subnet.n = subnet.n.checked_add(1).ok_or(TxError::ArithmeticOverflow)?;
        }
        subnet.registrations_this_block = subnet.registrations_this_block.saturating_add(1);
        self.neurons.insert((netuid, uid), neuron);
        self.uid_index.insert((netuid, hotkey), uid);
        Ok(())
    }
}

/// Burn ← clamp(floor(burn · mult), min, max) after a registration.
fn bump_burn(state: &mut State, netuid: NetUid) -> Result<(), TxError> {
    let subnet = state.subnet_mut(netuid)?;
    let mult = u128::from(subnet.params.burn_increase_mult_ppm.max(1_000_000));
    let raised = u128::from(subnet.burn.0).saturating_mul(mult) / 1_000_000;
    subnet.burn = clamp_burn(u64::try_from(raised).unwrap_or(u64::MAX), &subnet.params);
    Ok(())
}

fn clamp_burn(burn: u64, params: &SubnetParams) -> Rao {
    Rao(burn
        .max(params.min_burn.0)
        .min(params.max_burn.0.max(params.min_burn.0)))
}

/// Per-block decay (§5.1): burn ← clamp(floor(burn · f / 2³²)) with f the largest Q32 fraction
/// such that f^half_life ≤ ½. Also resets the per-block registration counter.
pub(crate) fn decay_burns(state: &mut State) {
    for subnet in state.subnets.values_mut() {
        let factor = half_life_factor_q32(subnet.params.burn_half_life);
        let decayed = (u128::from(subnet.burn.0).saturating_mul(u128::from(factor))) >> 32;
        subnet.burn = clamp_burn(u64::try_from(decayed).unwrap_or(u64::MAX), &subnet.params);
        subnet.registrations_this_block = 0;
    }
}

const Q32_ONE: u64 = 1 << 32;

/// The largest f in Q32 with f^half_life ≤ ½ (floor at each multiplication), by binary search.
pub fn half_life_factor_q32(half_life: u16) -> u64 {
    if half_life == 0 {
        return 0;
    }
    let half = Q32_ONE / 2;
    let (mut low, mut high) = (0u64, Q32_ONE);
    // Invariant: pow(low) ≤ ½ < pow(high)  (pow(0) = 0 and pow(1) = 1).
    while high.saturating_sub(low) > 1 {
        let mid = low.saturating_add(high.saturating_sub(low) / 2);
        if pow_q32(mid, half_life) <= half {
            low = mid;
        } else {
            high = mid;
        }
    }
    low
}

fn pow_q32(base: u64, exponent: u16) -> u64 {
    let mul = |a: u64, b: u64| {
        u64::try_from((u128::from(a).saturating_mul(u128::from(b))) >> 32).unwrap_or(u64::MAX)
    };
    let (mut result, mut base, mut exponent) = (Q32_ONE, base, exponent);
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exponent >>= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_life_factor_halves() {
        let factor = half_life_factor_q32(360);
        assert!(pow_q32(factor, 360) <= Q32_ONE / 2);
        assert!(pow_q32(factor + 1, 360) > Q32_ONE / 2);
        assert_eq!(half_life_factor_q32(1), Q32_ONE / 2);
    }
}
