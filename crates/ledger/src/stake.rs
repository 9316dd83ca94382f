//! Stake: alpha held by a coldkey on a hotkey in a subnet, bought and sold through the subnet's
//! pool (see [`crate::pool`]), and delegate takes.
//!
//! Stake is keyed by (netuid, hotkey, coldkey) and counted in **alpha** rao of that subnet.
//! `add_stake` swaps TAO into the pool for alpha; `remove_stake` swaps alpha back to TAO. The
//! `_limit` variants stop at a limit price (rao per alpha) and may fill partially. `move_stake`,
//! `transfer_stake` and `swap_stake` move alpha between hotkeys, coldkeys and subnets; a change
//! of subnet sells on the origin pool and buys on the destination pool, the TAO never touching
//! a balance. The hotkey's total alpha on a subnet is its stake weight in the epoch; each
//! coldkey's share of it decides its share of the validator's dividends after the take.
//!
//! `min_stake` applies to the TAO side of every operation (paid in, paid out, or crossing).

use crate::{
    event::Event,
    pool::{Pool, PoolError, Price},
    root::{add_root_stake, remove_root_stake, ROOT},
    state::State,
    Ctx,
};
use hyphae_primitives::{AccountId, NetUid, Rao, TxError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Which way a quoted swap goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwapSide {
    /// TAO in, alpha out (`add_stake`).
    Stake,
    /// Alpha in, TAO out (`remove_stake`).
    Unstake,
}

/// A swap priced against a subnet's pool, before fees (see [`State::swap_quote`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapQuote {
    /// Subnet.
    pub netuid: NetUid,
    /// Direction.
    pub side: SwapSide,
    /// Paid in: TAO rao to stake, alpha rao to unstake.
    pub amount_in: Rao,
    /// Received: alpha rao when staking, TAO rao when unstaking (floored).
    pub amount_out: Rao,
    /// What `amount_in` would get at the spot price, without slippage.
    pub ideal_out: Rao,
    /// Spot price before the swap, rao per alpha.
    pub price_rao_per_alpha: u64,
    /// Spot price after the swap, rao per alpha: what a `_limit` call's limit price bounds.
    pub price_after_rao_per_alpha: u64,
    /// `|price after − price| / price`, parts per billion.
    pub price_impact_ppb: u64,
    /// `(ideal_out − amount_out) / ideal_out`, parts per billion.
    pub slippage_ppb: u64,
}

/// A hotkey's delegate settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Delegate {
    /// Take on dividends, parts of 65535.
    pub take: u16,
    /// Block of the last take increase (rate limit); `None` if never increased.
    pub last_increase: Option<u64>,
}

impl State {
    /// Stake of `coldkey` on `hotkey` in `netuid`, alpha rao.
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

    /// Total stake on `hotkey` in `netuid`, alpha rao (its stake weight in the epoch).
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

/// The `TxError` of a pool failure: overflow stays overflow, the rest is a liquidity problem.
fn pool_error(error: PoolError) -> TxError {
    match error {
        PoolError::Overflow => TxError::ArithmeticOverflow,
        PoolError::EmptyPool | PoolError::ZeroOutput => TxError::InsufficientLiquidity,
    }
}

impl State {
    /// The spot price of `netuid`'s alpha, TAO per alpha.
    pub fn subnet_price(&self, netuid: NetUid) -> Option<Price> {
        self.pools.get(&netuid).map(|pool| pool.amm.price())
    }

    /// The TAO value of `coldkey`'s stake on `hotkey` in `netuid` at the spot price (floored;
    /// selling it would pay less, by the slippage).
    pub fn stake_tao_value(&self, netuid: NetUid, hotkey: &AccountId, coldkey: &AccountId) -> Rao {
        self.subnet_price(netuid).map_or(Rao::ZERO, |price| {
            price.tao_value(self.stake(netuid, hotkey, coldkey))
        })
    }

    /// The TAO value of all stake on `hotkey` in `netuid` at the spot price (floored).
    pub fn hotkey_stake_tao_value(&self, netuid: NetUid, hotkey: &AccountId) -> Rao {
        self.subnet_price(netuid).map_or(Rao::ZERO, |price| {
            price.tao_value(self.total_hotkey_stake(netuid, hotkey))
        })
    }

    /// Alpha that `tao` would buy on `netuid` now.
    pub fn quote_stake(&self, netuid: NetUid, tao: Rao) -> Result<Rao, TxError> {
        let pool = self.pools.get(&netuid).ok_or(TxError::SubnetNotFound)?;
        pool.amm.quote_tao_to_alpha(tao).map_err(pool_error)
    }

    /// TAO that selling `alpha` on `netuid` would pay now.
    pub fn quote_unstake(&self, netuid: NetUid, alpha: Rao) -> Result<Rao, TxError> {
        let pool = self.pools.get(&netuid).ok_or(TxError::SubnetNotFound)?;
        pool.amm.quote_alpha_to_tao(alpha).map_err(pool_error)
    }

    /// Prices staking `tao` (TAO in, alpha out) on `netuid` against its pool now, before fees.
    pub fn stake_quote(&self, netuid: NetUid, tao: Rao) -> Result<SwapQuote, TxError> {
        self.swap_quote(netuid, SwapSide::Stake, tao)
    }

    /// Prices unstaking `alpha` (alpha in, TAO out) on `netuid` against its pool now.
    pub fn unstake_quote(&self, netuid: NetUid, alpha: Rao) -> Result<SwapQuote, TxError> {
        self.swap_quote(netuid, SwapSide::Unstake, alpha)
    }

    /// Prices a swap of `amount_in` on `netuid`'s pool now: what it pays, and how far it moves
    /// the price (the `_limit` calls bound the price after the swap).
    pub fn swap_quote(
        &self,
        netuid: NetUid,
        side: SwapSide,
        amount_in: Rao,
    ) -> Result<SwapQuote, TxError> {
        let pool = self.pools.get(&netuid).ok_or(TxError::SubnetNotFound)?;
        let price = pool.amm.price();
        let mut after = pool.amm;
        let (amount_out, ideal_out) = match side {
            SwapSide::Stake => (
                after.swap_tao_to_alpha(amount_in).map_err(pool_error)?,
                price.alpha_for(amount_in),
            ),
            SwapSide::Unstake => (
                after.swap_alpha_to_tao(amount_in).map_err(pool_error)?,
                price.tao_value(amount_in),
            ),
        };
        let price_after = after.price();
        let ppb = |part: u128, whole: u128| {
            u64::try_from(
                part.saturating_mul(1_000_000_000)
                    .checked_div(whole)
                    .unwrap_or(0),
            )
            .unwrap_or(u64::MAX)
        };
        Ok(SwapQuote {
            netuid,
            side,
            amount_in,
            amount_out,
            ideal_out,
            price_rao_per_alpha: price.rao_per_alpha(),
            price_after_rao_per_alpha: price_after.rao_per_alpha(),
            price_impact_ppb: ppb(price.0.abs_diff(price_after.0), price.0),
            slippage_ppb: ppb(
                u128::from(ideal_out.0.saturating_sub(amount_out.0)),
                u128::from(ideal_out.0),
            ),
        })
    }

    /// Swaps `tao` (already taken from its owner) into `netuid`'s pool; the alpha bought
    /// becomes outstanding and is returned for the caller to credit.
    pub(crate) fn buy_alpha(&mut self, netuid: NetUid, tao: Rao) -> Result<Rao, TxError> {
        let pool = self.pools.get_mut(&netuid).ok_or(TxError::SubnetNotFound)?;
        let alpha = pool.amm.swap_tao_to_alpha(tao).map_err(pool_error)?;
        pool.alpha_outstanding = pool
            .alpha_outstanding
            .checked_add(alpha)
            .ok_or(TxError::ArithmeticOverflow)?;
        Ok(alpha)
    }

    /// Swaps `alpha` (already debited from stake) back into `netuid`'s pool; returns the TAO
    /// paid out, for the caller to deposit or re-stake.
    pub(crate) fn sell_alpha(&mut self, netuid: NetUid, alpha: Rao) -> Result<Rao, TxError> {
        let pool = self.pools.get_mut(&netuid).ok_or(TxError::SubnetNotFound)?;
        let outstanding = pool
            .alpha_outstanding
            .checked_sub(alpha)
            .ok_or(TxError::NotEnoughStake)?;
        let tao = pool.amm.swap_alpha_to_tao(alpha).map_err(pool_error)?;
        pool.alpha_outstanding = outstanding;
        Ok(tao)
    }
}

/// `add_stake(hotkey, netuid, amount)`, signed by the coldkey: swaps `amount` TAO for alpha.
pub(crate) fn add_stake(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    netuid: NetUid,
    amount: Rao,
) -> Result<Vec<Event>, TxError> {
    if netuid == ROOT {
        return add_root_stake(state, coldkey, hotkey, amount);
    }
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
    let alpha = state.quote_stake(netuid, amount)?;
    state
        .stake(netuid, hotkey, coldkey)
        .checked_add(alpha)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.withdraw(coldkey, amount)?;
    let alpha = state.buy_alpha(netuid, amount)?;
    state.credit_stake(netuid, hotkey, coldkey, alpha)?;
    Ok(vec![
        Event::StakeAdded {
            coldkey: *coldkey,
            hotkey: *hotkey,
            netuid,
            amount,
        },
        Event::AlphaBought {
            netuid,
            tao: amount,
            alpha,
        },
    ])
}

/// `remove_stake(hotkey, netuid, amount)`, signed by the coldkey: sells `amount` alpha for TAO
/// (all of the stake if `amount` exceeds it).
pub(crate) fn remove_stake(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    netuid: NetUid,
    amount: Rao,
) -> Result<Vec<Event>, TxError> {
    if netuid == ROOT {
        return remove_root_stake(state, coldkey, hotkey, amount);
    }
    state.subnet_checked(netuid)?;
    if amount.is_zero() {
        return Err(TxError::AmountZero);
    }
    let held = state.stake(netuid, hotkey, coldkey);
    if held.is_zero() {
        return Err(TxError::NotEnoughStake);
    }
    // Stake grows with every epoch between signing and inclusion, so an exact "all" cannot be
    // named in advance: asking for more than is held (u64::MAX, say) unstakes everything.
    let amount = amount.min(held);
    let tao = state.quote_unstake(netuid, amount)?;
    if tao < state.globals.min_stake {
        return Err(TxError::StakeAmountTooLow);
    }
    state
        .balance(coldkey)
        .checked_add(tao)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.debit_stake(netuid, hotkey, coldkey, amount)?;
    let tao = state.sell_alpha(netuid, amount)?;
    state.deposit(coldkey, tao)?;
    Ok(vec![
        Event::StakeRemoved {
            coldkey: *coldkey,
            hotkey: *hotkey,
            netuid,
            amount: tao,
        },
        Event::AlphaSold {
            netuid,
            alpha: amount,
            tao,
        },
    ])
}

/// How much of `amount` a limit order fills, given the most the limit price allows.
fn limit_fill(amount: Rao, allowed: Rao, allow_partial: bool) -> Result<Rao, TxError> {
    let fill = if amount <= allowed {
        amount
    } else if allow_partial {
        allowed
    } else {
        return Err(TxError::SlippageTooHigh);
    };
    if fill.is_zero() {
        return Err(TxError::SlippageTooHigh);
    }
    Ok(fill)
}

/// `add_stake_limit(hotkey, netuid, amount, limit_price, allow_partial)`: `add_stake` that
/// leaves the price at most `limit_price` rao per alpha. With `allow_partial` it stakes as much
/// of `amount` as the limit allows; without, all or nothing.
pub(crate) fn add_stake_limit(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    netuid: NetUid,
    amount: Rao,
    limit_price: u64,
    allow_partial: bool,
) -> Result<Vec<Event>, TxError> {
    state.subnet_checked(netuid)?;
    let pool = state.pools.get(&netuid).ok_or(TxError::SubnetNotFound)?;
    // Flooring the limit makes it stricter for a buyer.
    let allowed = pool.amm.tao_in_max(Price::from_rao_per_alpha(limit_price));
    let fill = limit_fill(amount, allowed, allow_partial)?;
    add_stake(state, coldkey, hotkey, netuid, fill)
}

/// `remove_stake_limit(hotkey, netuid, amount, limit_price, allow_partial)`: `remove_stake`
/// that leaves the price at least `limit_price` rao per alpha.
pub(crate) fn remove_stake_limit(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    netuid: NetUid,
    amount: Rao,
    limit_price: u64,
    allow_partial: bool,
) -> Result<Vec<Event>, TxError> {
    state.subnet_checked(netuid)?;
    let pool = state.pools.get(&netuid).ok_or(TxError::SubnetNotFound)?;
    // Rounding the limit up makes it stricter for a seller.
    let limit = Price::from_rao_per_alpha(limit_price);
    let limit = if limit.rao_per_alpha() < limit_price {
        Price(limit.0.saturating_add(1))
    } else {
        limit
    };
    let allowed = pool.amm.alpha_in_max(limit);
    // As in `remove_stake`, more than is held means everything: judge the limit on that.
    let held = state.stake(netuid, hotkey, coldkey);
    let amount = if held.is_zero() {
        amount
    } else {
        amount.min(held)
    };
    let fill = limit_fill(amount, allowed, allow_partial)?;
    remove_stake(state, coldkey, hotkey, netuid, fill)
}

/// Where stake sits: (coldkey, hotkey, netuid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StakeLocation {
    pub coldkey: AccountId,
    pub hotkey: AccountId,
    pub netuid: NetUid,
}

/// Moves `alpha` from `origin` to `destination`: directly within a subnet, or by selling on
/// the origin pool and buying on the destination pool.
pub(crate) fn relocate_stake(
    state: &mut State,
    origin: StakeLocation,
    destination: StakeLocation,
    alpha: Rao,
) -> Result<Vec<Event>, TxError> {
    state.subnet_checked(origin.netuid)?;
    state.subnet_checked(destination.netuid)?;
    if alpha.is_zero() {
        return Err(TxError::AmountZero);
    }
    if origin == destination {
        return Err(TxError::SameStakeLocation);
    }
    if !state.hotkey_owners.contains_key(&destination.hotkey) {
        return Err(TxError::HotkeyNotFound);
    }
    if state.stake(origin.netuid, &origin.hotkey, &origin.coldkey) < alpha {
        return Err(TxError::NotEnoughStake);
    }
    let crossing = origin.netuid != destination.netuid;
    let (tao, alpha_out) = if crossing {
        let tao = state.quote_unstake(origin.netuid, alpha)?;
        (tao, state.quote_stake(destination.netuid, tao)?)
    } else {
        let price = state.subnet_price(origin.netuid).unwrap_or_default();
        (price.tao_value(alpha), alpha)
    };
    if tao < state.globals.min_stake {
        return Err(TxError::StakeAmountTooLow);
    }
    state
        .stake(
            destination.netuid,
            &destination.hotkey,
            &destination.coldkey,
        )
        .checked_add(alpha_out)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.debit_stake(origin.netuid, &origin.hotkey, &origin.coldkey, alpha)?;
    let alpha_out = if crossing {
        let tao = state.sell_alpha(origin.netuid, alpha)?;
        state.buy_alpha(destination.netuid, tao)?
    } else {
        alpha
    };
    let to = destination;
    state.credit_stake(to.netuid, &to.hotkey, &to.coldkey, alpha_out)?;
    Ok(vec![Event::StakeMoved {
        coldkey: origin.coldkey,
        origin_hotkey: origin.hotkey,
        origin_netuid: origin.netuid,
        destination_coldkey: to.coldkey,
        destination_hotkey: to.hotkey,
        destination_netuid: to.netuid,
        alpha,
        tao: if crossing { tao } else { Rao::ZERO },
        alpha_out,
    }])
}

/// `move_stake(origin_hotkey, destination_hotkey, origin_netuid, destination_netuid, amount)`:
/// the signer's alpha to another hotkey, on the same or another subnet.
pub(crate) fn move_stake(
    state: &mut State,
    coldkey: &AccountId,
    origin: (AccountId, NetUid),
    destination: (AccountId, NetUid),
    alpha: Rao,
) -> Result<Vec<Event>, TxError> {
    let at = |(hotkey, netuid): (AccountId, NetUid)| StakeLocation {
        coldkey: *coldkey,
        hotkey,
        netuid,
    };
    relocate_stake(state, at(origin), at(destination), alpha)
}

/// `transfer_stake(destination_coldkey, hotkey, origin_netuid, destination_netuid, amount)`:
/// gives the signer's alpha on `hotkey` to another coldkey, on the same or another subnet.
pub(crate) fn transfer_stake(
    state: &mut State,
    coldkey: &AccountId,
    destination_coldkey: &AccountId,
    hotkey: &AccountId,
    netuids: (NetUid, NetUid),
    alpha: Rao,
) -> Result<Vec<Event>, TxError> {
    let origin = StakeLocation {
        coldkey: *coldkey,
        hotkey: *hotkey,
        netuid: netuids.0,
    };
    let destination = StakeLocation {
        coldkey: *destination_coldkey,
        hotkey: *hotkey,
        netuid: netuids.1,
    };
    relocate_stake(state, origin, destination, alpha)
}

/// `swap_stake(hotkey, origin_netuid, destination_netuid, amount)`: the signer's alpha on
/// `hotkey` from one subnet to another.
pub(crate) fn swap_stake(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    netuids: (NetUid, NetUid),
    alpha: Rao,
) -> Result<Vec<Event>, TxError> {
    if netuids.0 == netuids.1 {
        return Err(TxError::SameNetuid);
    }
    transfer_stake(state, coldkey, coldkey, hotkey, netuids, alpha)
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
