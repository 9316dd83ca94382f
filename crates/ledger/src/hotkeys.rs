//! Hotkey ownership (hotkey → coldkey) and `swap_hotkey`.

use crate::{event::Event, state::State};
use hyphae_primitives::{AccountId, NetUid, TxError};

impl State {
    /// The coldkey that owns `hotkey`.
    pub fn hotkey_owner(&self, hotkey: &AccountId) -> Option<AccountId> {
        self.hotkey_owners.get(hotkey).copied()
    }

    /// Ok if `hotkey` is free or already owned by `coldkey`.
    pub(crate) fn check_hotkey_owner(
        &self,
        coldkey: &AccountId,
        hotkey: &AccountId,
    ) -> Result<(), TxError> {
        match self.hotkey_owners.get(hotkey) {
            Some(owner) if owner != coldkey => Err(TxError::NotHotkeyOwner),
            _ => Ok(()),
        }
    }

    /// Ok if `hotkey` exists and is owned by `coldkey`.
    pub(crate) fn check_owns_hotkey(
        &self,
        coldkey: &AccountId,
        hotkey: &AccountId,
    ) -> Result<(), TxError> {
        match self.hotkey_owners.get(hotkey) {
            None => Err(TxError::HotkeyNotFound),
            Some(owner) if owner != coldkey => Err(TxError::NotHotkeyOwner),
            Some(_) => Ok(()),
        }
    }

    pub(crate) fn claim_hotkey(&mut self, coldkey: &AccountId, hotkey: &AccountId) {
        self.hotkey_owners.entry(*hotkey).or_insert(*coldkey);
    }
}

/// `swap_hotkey(old, new)`, signed by the owning coldkey: moves ownership, every registration,
/// all stake, the take, pending commits and subnet ownership from `old` to `new`.
pub(crate) fn swap_hotkey(
    state: &mut State,
    coldkey: &AccountId,
    old: &AccountId,
    new: &AccountId,
) -> Result<Vec<Event>, TxError> {
    if old == new {
        return Err(TxError::SameHotkey);
    }
    state.check_owns_hotkey(coldkey, old)?;
    if state.hotkey_owners.contains_key(new) {
        return Err(TxError::HotkeyAlreadyInUse);
    }
    state.hotkey_owners.remove(old);
    state.hotkey_owners.insert(*new, *coldkey);
    if let Some(delegate) = state.delegates.remove(old) {
        state.delegates.insert(*new, delegate);
    }
    let moved: Vec<_> = state
        .stakes
        .iter()
        .filter(|((_, hotkey, _), _)| hotkey == old)
        .map(|(k, v)| (*k, *v))
        .collect();
    for ((netuid, _, staker), amount) in moved {
        state.stakes.remove(&(netuid, *old, staker));
        state.stakes.insert((netuid, *new, staker), amount);
    }
    let claimable: Vec<_> = state
        .root_claimable
        .iter()
        .filter(|((_, hotkey, _), _)| hotkey == old)
        .map(|(k, v)| (*k, *v))
        .collect();
    for ((staker, _, netuid), alpha) in claimable {
        state.root_claimable.remove(&(staker, *old, netuid));
        state.root_claimable.insert((staker, *new, netuid), alpha);
    }
    for neuron in state
        .neurons
        .values_mut()
        .filter(|neuron| neuron.hotkey == *old)
    {
        neuron.hotkey = *new;
    }
    let commits: Vec<_> = state
        .commits
        .keys()
        .filter(|(_, hotkey)| hotkey == old)
        .copied()
        .collect();
    for (netuid, _) in commits {
        if let Some(queue) = state.commits.remove(&(netuid, *old)) {
            state.commits.insert((netuid, *new), queue);
        }
    }
    let commitments: Vec<NetUid> = state
        .commitments
        .keys()
        .filter(|(_, hotkey)| hotkey == old)
        .map(|(netuid, _)| *netuid)
        .collect();
    for netuid in commitments {
        if let Some(commitment) = state.commitments.remove(&(netuid, *old)) {
            state.commitments.insert((netuid, *new), commitment);
        }
    }
    for subnet in state
        .subnets
        .values_mut()
        .filter(|subnet| subnet.owner_hotkey == *old)
    {
        subnet.owner_hotkey = *new;
    }
    state.rebuild_indexes();
    Ok(vec![Event::HotkeySwapped {
        old: *old,
        new: *new,
    }])
}
