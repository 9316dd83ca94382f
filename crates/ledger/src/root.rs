//! The root subnet (netuid 0): TAO staked 1:1 on hotkeys, counted in every subnet's epoch at
//! `TaoWeight`, and the root dividends it earns.
//!
//! Root stake is TAO, not alpha: `add_stake`/`remove_stake` on netuid 0 move TAO 1:1 into
//! `stake[(0, hotkey, coldkey)]`. There is no root epoch, no root registration and no root
//! weights. A hotkey's stake weight on subnet i is `alpha + root_stake · tao_weight` (Yuma).
//!
//! Per block, subnet i's root proportion is
//! `root_prop = W / (W + alpha_issuanceᵢ)` with `W = Σ root stake · tao_weight`; it caps the
//! alpha injected into the pool (see [`crate::emission`]) and sets the root share of the
//! alpha emission: `root_alpha = root_prop · r / 2` (r = alpha out after the owner cut), paid
//! only while Σ moving prices > 1 (otherwise recycled).
//!
//! At the subnet's epoch the pending root alpha is divided among the validators by their
//! dividends times their root share `Wₕ / (alphaₕ + Wₕ)`, and each validator's part is paid as
//! alpha stake on that subnet to the hotkey's root stakers, take first, like dividends. The
//! reference makes these claimable (`claim_root`, swap or keep); hyphae always keeps them.

use crate::{event::Event, state::State};
use hyphae_primitives::{AccountId, NetUid, Rao, TxError};
use hyphae_yuma::EpochInput;
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What `claim_root` does with the claimable root dividends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootClaimMode {
    /// Stake the alpha on its subnet to the hotkey that earned it.
    Keep,
    /// Sell the alpha through the subnet's pool; the TAO goes to the free balance.
    Swap,
}

/// One claimable root dividend: alpha of `netuid` earned through `hotkey`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootClaimable {
    /// The validator hotkey the root stake is on.
    pub hotkey: AccountId,
    /// The subnet whose alpha it is.
    pub netuid: NetUid,
    /// Alpha, rao.
    pub alpha: Rao,
}

/// The root subnet.
pub const ROOT: NetUid = NetUid(0);

impl State {
    /// Root (TAO) stake of every coldkey on `hotkey`.
    pub fn root_stake(&self, hotkey: &AccountId) -> Rao {
        self.total_hotkey_stake(ROOT, hotkey)
    }

    /// All root stake.
    pub fn root_stake_total(&self) -> Rao {
        let low = (ROOT, AccountId([0; 32]), AccountId([0; 32]));
        let high = (ROOT, AccountId([0xff; 32]), AccountId([0xff; 32]));
        Rao(self
            .stakes
            .range(low..=high)
            .fold(0u64, |sum, (_, stake)| sum.saturating_add(stake.0)))
    }

    /// Root dividends `coldkey` can claim, (hotkey, netuid) order.
    pub fn root_claimable(&self, coldkey: &AccountId) -> Vec<RootClaimable> {
        let low = (*coldkey, AccountId([0; 32]), NetUid(0));
        let high = (*coldkey, AccountId([0xff; 32]), NetUid(u16::MAX));
        self.root_claimable
            .range(low..=high)
            .map(|((_, hotkey, netuid), alpha)| RootClaimable {
                hotkey: *hotkey,
                netuid: *netuid,
                alpha: *alpha,
            })
            .collect()
    }

    /// Σ claimable root dividends in `netuid`'s alpha (part of its outstanding alpha).
    pub fn root_claimable_total(&self, netuid: NetUid) -> u128 {
        self.root_claimable
            .iter()
            .filter(|((_, _, n), _)| *n == netuid)
            .map(|(_, alpha)| u128::from(alpha.0))
            .sum()
    }

    /// Credits epoch alpha: as stake, or with `claimable` as claimable root dividends.
    pub(crate) fn credit_dividend(
        &mut self,
        netuid: NetUid,
        hotkey: &AccountId,
        coldkey: &AccountId,
        amount: Rao,
        claimable: bool,
    ) -> Result<(), TxError> {
        if !claimable {
            return self.credit_stake(netuid, hotkey, coldkey, amount);
        }
        if amount.is_zero() {
            return Ok(());
        }
        let entry = self
            .root_claimable
            .entry((*coldkey, *hotkey, netuid))
            .or_default();
        *entry = entry
            .checked_add(amount)
            .ok_or(TxError::ArithmeticOverflow)?;
        Ok(())
    }

    /// `amount · tao_weight / u64::MAX`: root TAO as stake weight, floored.
    pub fn weighted_root(&self, amount: Rao) -> u128 {
        u128::from(amount.0)
            .saturating_mul(u128::from(self.globals.tao_weight))
            .checked_div(u128::from(u64::MAX))
            .unwrap_or(0)
    }

    /// `root_prop` of `netuid` as (numerator, denominator); (0, 1) without root stake.
    pub fn root_proportion(&self, netuid: NetUid) -> (u128, u128) {
        self.root_proportion_with(self.weighted_root(self.root_stake_total()), netuid)
    }

    /// `root_prop` of `netuid` given the weighted root stake W (computed once per block).
    pub(crate) fn root_proportion_with(&self, weighted: u128, netuid: NetUid) -> (u128, u128) {
        let issuance = self
            .pools
            .get(&netuid)
            .map_or(0, |pool| u128::from(pool.alpha_issuance().0));
        match weighted.saturating_add(issuance) {
            0 => (0, 1),
            denominator => (weighted, denominator),
        }
    }
}

/// `add_stake` on netuid 0: TAO 1:1 onto `hotkey`'s root stake.
pub(crate) fn add_root_stake(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    amount: Rao,
) -> Result<Vec<Event>, TxError> {
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
        .stake(ROOT, hotkey, coldkey)
        .checked_add(amount)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.withdraw(coldkey, amount)?;
    state.credit_stake(ROOT, hotkey, coldkey, amount)?;
    Ok(vec![Event::StakeAdded {
        coldkey: *coldkey,
        hotkey: *hotkey,
        netuid: ROOT,
        amount,
    }])
}

/// `remove_stake` on netuid 0: root stake back to TAO 1:1 (all of it if `amount` exceeds it).
pub(crate) fn remove_root_stake(
    state: &mut State,
    coldkey: &AccountId,
    hotkey: &AccountId,
    amount: Rao,
) -> Result<Vec<Event>, TxError> {
    if amount.is_zero() {
        return Err(TxError::AmountZero);
    }
    let held = state.stake(ROOT, hotkey, coldkey);
    if held.is_zero() {
        return Err(TxError::NotEnoughStake);
    }
    let amount = amount.min(held);
    if amount < state.globals.min_stake {
        return Err(TxError::StakeAmountTooLow);
    }
    state
        .balance(coldkey)
        .checked_add(amount)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.debit_stake(ROOT, hotkey, coldkey, amount)?;
    state.deposit(coldkey, amount)?;
    Ok(vec![Event::StakeRemoved {
        coldkey: *coldkey,
        hotkey: *hotkey,
        netuid: ROOT,
        amount,
    }])
}

/// Each validator's weight for the root dividends: its validator emission times its root
/// share `W / (alpha + W)`, from the epoch's input stakes.
fn root_weights(state: &State, input: &EpochInput, dividends: &[(AccountId, u64)]) -> Vec<u128> {
    input
        .neurons
        .iter()
        .zip(dividends)
        .map(|(neuron, (_, emission))| {
            let weighted = state.weighted_root(Rao(neuron.tao_stake));
            u128::from(*emission)
                .saturating_mul(weighted)
                .checked_div(weighted.saturating_add(u128::from(neuron.stake)))
                .unwrap_or(0)
        })
        .collect()
}

/// Pays `pending` root alpha of `netuid` to the root stakers of the validators in `dividends`
/// (hotkey, validator emission; uid order, matching `input`). Returns what was paid; the
/// caller recycles the rest.
pub(crate) fn pay_root_dividends(
    state: &mut State,
    netuid: NetUid,
    input: &EpochInput,
    dividends: &[(AccountId, u64)],
    pending: Rao,
) -> Rao {
    let weights = root_weights(state, input, dividends);
    let total: u128 = weights.iter().sum();
    let mut paid = 0u64;
    for ((hotkey, _), weight) in dividends.iter().zip(weights) {
        let share = u128::from(pending.0)
            .saturating_mul(weight)
            .checked_div(total)
            .and_then(|share| u64::try_from(share).ok())
            .unwrap_or(0);
        let Some(owner) = state.hotkey_owner(hotkey).filter(|_| share > 0) else {
            continue;
        };
        let stakers = state.stakers(ROOT, hotkey);
        let (take, rest) = crate::epoch::split_dividends(
            state,
            netuid,
            hotkey,
            &owner,
            Rao(share),
            &stakers,
            true,
        );
        paid = paid.saturating_add(take.0).saturating_add(rest.0);
    }
    Rao(paid)
}

/// `claim_root(netuid?, mode)`, signed by the root staker's coldkey: claims its root dividends
/// on `netuid` (every subnet if `None`). `Keep` stakes each claimable alpha to its hotkey on its
/// subnet; `Swap` sells it through the subnet's pool (all of one subnet in one swap) and pays
/// the TAO to the free balance, refusing a swap that would pay nothing. Nothing changes
/// unless every part succeeds.
pub(crate) fn claim_root(
    state: &mut State,
    coldkey: &AccountId,
    netuid: Option<NetUid>,
    mode: RootClaimMode,
) -> Result<Vec<Event>, TxError> {
    let claims: Vec<RootClaimable> = state
        .root_claimable(coldkey)
        .into_iter()
        .filter(|claim| netuid.is_none_or(|n| n == claim.netuid) && !claim.alpha.is_zero())
        .collect();
    if claims.is_empty() {
        return Err(TxError::NothingToClaim);
    }
    // Per subnet: the alpha claimed, in netuid order.
    let mut per_subnet: BTreeMap<NetUid, Rao> = BTreeMap::new();
    for claim in &claims {
        let total = per_subnet.entry(claim.netuid).or_default();
        *total = total
            .checked_add(claim.alpha)
            .ok_or(TxError::ArithmeticOverflow)?;
    }
    // Check everything before mutating.
    let mut quotes = Vec::new();
    match mode {
        RootClaimMode::Keep => {
            for claim in &claims {
                state
                    .stake(claim.netuid, &claim.hotkey, coldkey)
                    .checked_add(claim.alpha)
                    .ok_or(TxError::ArithmeticOverflow)?;
            }
        }
        RootClaimMode::Swap => {
            let mut balance = state.balance(coldkey);
            for (&netuid, &alpha) in &per_subnet {
                let tao = state.quote_unstake(netuid, alpha)?;
                if tao.is_zero() {
                    return Err(TxError::InsufficientLiquidity);
                }
                balance = balance
                    .checked_add(tao)
                    .ok_or(TxError::ArithmeticOverflow)?;
                quotes.push((netuid, alpha, tao));
            }
        }
    }
    let mut events = Vec::new();
    for claim in &claims {
        state
            .root_claimable
            .remove(&(*coldkey, claim.hotkey, claim.netuid));
        if mode == RootClaimMode::Keep {
            state.credit_stake(claim.netuid, &claim.hotkey, coldkey, claim.alpha)?;
        }
        events.push(Event::RootClaimed {
            coldkey: *coldkey,
            hotkey: claim.hotkey,
            netuid: claim.netuid,
            alpha: claim.alpha,
            mode,
        });
    }
    for (netuid, alpha, quoted) in quotes {
        let tao = state.sell_alpha(netuid, alpha)?;
        debug_assert_eq!(tao, quoted);
        state.deposit(coldkey, tao)?;
        events.push(Event::AlphaSold { netuid, alpha, tao });
    }
    Ok(events)
}
