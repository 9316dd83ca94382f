//! Stake: TAO staked on a hotkey in a subnet, 1:1 for now (no AMM pools), and delegate takes.
//!
//! Stake is keyed by (netuid, hotkey, coldkey). The hotkey's total on a subnet is its stake
//! weight in the epoch; each coldkey's share of it decides its share of the validator's
//! dividends after the take.

use crate::{event::Event, state::State, Ctx};
use hyphae_primitives::{AccountId, NetUid, Rao, TxError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// A hotkey's delegate settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Delegate {
    /// Take on dividends, parts of 65535.
    pub take: u16,
    /// Block of the last take increase (rate limit); `None` if never increased.
    pub last_increase: Option<u64>,
}

impl State {
    /// Stake of `coldkey` on `hotkey` in `netuid`.
    pub fn stake(&self, netuid: NetUid, hotkey: &AccountId, coldkey: &AccountId) -> Rao {
        self.stakes
            .get(&(netuid, *hotkey, *coldkey))
            .copied()
            .unwrap_or(Rao::ZERO)
    }

    /// Every coldkey's stake on `hotkey` in `netuid`, coldkey order.
    pub fn stakers(&self, netuid: NetUid, hotkey: &AccountId) -> Vec<(AccountId, Rao)> {
        let low = (netuid, *hotkey, AccountId([0; 32]));
        let high = (netuid, *hotkey, AccountId([0xff; 32]));
        self.stakes
            .range(low..=high)
            .map(|((_, _, coldkey), stake)| (*coldkey, *stake))
            .collect()
    }

    /// Total stake on `hotkey` in `netuid`.
    pub fn total_hotkey_stake(&self, netuid: NetUid, hotkey: &AccountId) -> Rao {
        Rao(self
            .stakers(netuid, hotkey)
            .iter()
            .fold(0u64, |sum, (_, stake)| sum.saturating_add(stake.0)))
    }

    /// The take of `hotkey` (the default for a hotkey that never set one).
    pub fn take(&self, hotkey: &AccountId) -> u16 {
        self.delegates
            .get(hotkey)
            .map_or(self.globals.default_take, |delegate| delegate.take)
    }

    /// Adds minted or moved stake.
    pub(crate) fn credit_stake(
        &mut self,
        netuid: NetUid,
        hotkey: &AccountId,
        coldkey: &AccountId,
        amount: Rao,
    ) -> Result<(), TxError> {
        if amount.is_zero() {
            return Ok(());
        }
        let entry = self.stakes.entry((netuid, *hotkey, *coldkey)).or_default();
        *entry = entry
            .checked_add(amount)
            .ok_or(TxError::ArithmeticOverflow)?;
        Ok(())
    }

    pub(crate) fn debit_stake(
        &mut self,
        netuid: NetUid,
        hotkey: &AccountId,
        coldkey: &AccountId,
        amount: Rao,
    ) -> Result<(), TxError> {
        let key = (netuid, *hotkey, *coldkey);
        let current = self.stakes.get(&key).copied().unwrap_or(Rao::ZERO);
        let left = current.checked_sub(amount).ok_or(TxError::NotEnoughStake)?;
        if left.is_zero() {
            self.stakes.remove(&key);
        } else {
            self.stakes.insert(key, left);
        }
        Ok(())
    }
}

/// `add_stake(hotkey, netuid, amount)`, signed by the coldkey.
pub(crate) fn add_stake(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    netuid: NetUid,
    amount: Rao,
) -> Result<Vec<Event>, TxError> {
    state.subnet_checked(netuid)?;
    if !state.hotkey_owners.contains_key(hotkey) {
        return Err(TxError::HotkeyNotFound);
    }
    if amount < state.globals.min_stake {
        return Err(TxError::StakeAmountTooLow);
    }
    if state.balance(coldkey) < amount {
        return Err(TxError::InsufficientBalance);
    }
    state
        .stake(netuid, hotkey, coldkey)
        .checked_add(amount)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.withdraw(coldkey, amount)?;
    state.credit_stake(netuid, hotkey, coldkey, amount)?;
    Ok(vec![Event::StakeAdded {
        coldkey: *coldkey,
        hotkey: *hotkey,
        netuid,
        amount,
    }])
}

/// `remove_stake(hotkey, netuid, amount)`, signed by the coldkey.
pub(crate) fn remove_stake(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    netuid: NetUid,
    amount: Rao,
) -> Result<Vec<Event>, TxError> {
    state.subnet_checked(netuid)?;
    if amount.is_zero() {
        return Err(TxError::AmountZero);
    }
    if amount < state.globals.min_stake {
        return Err(TxError::StakeAmountTooLow);
    }
    if state.stake(netuid, hotkey, coldkey) < amount {
        return Err(TxError::NotEnoughStake);
    }
    state
        .balance(coldkey)
        .checked_add(amount)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.debit_stake(netuid, hotkey, coldkey, amount)?;
    state.deposit(coldkey, amount)?;
    Ok(vec![Event::StakeRemoved {
        coldkey: *coldkey,
        hotkey: *hotkey,
        netuid,
        amount,
    }])
}

/// `increase_take(hotkey, take)`: rate-limited, at most `max_take`.
pub(crate) fn increase_take(
    state: &mut State,
    ctx: &Ctx,
    coldkey: &AccountId,
    hotkey: &AccountId,
    take: u16,
) -> Result<Vec<Event>, TxError> {
    state.check_owns_hotkey(coldkey, hotkey)?;
    let current = state.delegates.get(hotkey).copied();
    if take <= state.take(hotkey) {
        return Err(TxError::TakeNotIncreased);
    }
    if take > state.globals.max_take {
        return Err(TxError::TakeTooHigh);
    }
    if let Some(last) = current.and_then(|delegate| delegate.last_increase) {
        if ctx.block.0.saturating_sub(last) < state.globals.take_rate_limit {
            return Err(TxError::TakeRateLimited);
        }
    }
    state.delegates.insert(
        *hotkey,
        Delegate {
            take,
            last_increase: Some(ctx.block.0),
        },
    );
    Ok(vec![Event::TakeSet {
        hotkey: *hotkey,
        take,
    }])
}

/// `decrease_take(hotkey, take)`: allowed any time.
pub(crate) fn decrease_take(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    take: u16,
) -> Result<Vec<Event>, TxError> {
    state.check_owns_hotkey(coldkey, hotkey)?;
    if take >= state.take(hotkey) {
        return Err(TxError::TakeNotDecreased);
    }
    let last_increase = state.delegates.get(hotkey).and_then(|d| d.last_increase);
    state.delegates.insert(
        *hotkey,
        Delegate {
            take,
            last_increase,
        },
    );
    Ok(vec![Event::TakeSet {
        hotkey: *hotkey,
        take,
    }])
}
