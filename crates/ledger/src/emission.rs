//! Block emission: the halving schedule of §4.2, the split across subnets by moving price
//! (§4.3), and the per-subnet injection into the pools and alpha emission.
//!
//! `emission(X) = floor(10⁹ / 2ᵏ)` with `k = floor(log2(1 / (1 − X/cap)))`, cap = 21 M TAO.
//! In integers: k is the largest k with `(cap − X) · 2ᵏ ≤ cap`, i.e. the number of thresholds
//! `cap · (1 − 2⁻ᵏ)` (10.5 M, 15.75 M, …) that issuance X has crossed. This is exact; the
//! reference's I96F32 logarithm can differ only within an ulp of a threshold. The same function
//! of a subnet's alpha issuance (pool + outstanding) gives its alpha emission per block.
//!
//! Each block, for the emitting subnets (`start_call` made, registration open):
//! 1. **Split.** Subnet i gets `taoᵢ = floor(E · p̄ᵢ / Σ p̄)` of the TAO block emission E, with
//!    p̄ the subnet's moving price. The flooring remainder is not minted.
//! 2. **Injection.** `α_in = min(taoᵢ / priceᵢ, root_prop · α_out)` alpha and `α_in · price`
//!    TAO go into the pool as liquidity; the rest of taoᵢ buys alpha from the pool, and that
//!    alpha is recycled (the chain buys). root_prop = W / (W + alpha issuance) with W the
//!    TaoWeight-weighted root stake ([`crate::root`]); without root stake it is 0 and all of
//!    taoᵢ buys. Either way the TAO lands in the pool.
//! 3. **Alpha out.** `α_out = alpha_emission(alpha issuance)` is minted: the owner cut
//!    (`owner_cut`/65535, if enabled) to `pending_owner_cut`; of the rest r, the root share
//!    `root_prop · r / 2` to `pending_root_alpha` (recycled unless Σ moving prices > 1), and the
//!    remainder to `pending_emission` for the next epoch, which pays it as alpha stake.
//! 4. **Moving price.** `p̄ ← p̄ + α·(min(price, 1) − p̄)` with
//!    `α = 3·10⁻⁶ · b / (b + 201 600)`, b = blocks since `start_call`, in exact integers on the
//!    Q64.64 grid, the step floored toward p̄. A pool starts at p̄ = 1 (its seed price), so a new
//!    subnet shares equally until its market says otherwise.

use crate::{
    pool::{Pool, Price},
    state::State,
};
use hyphae_primitives::{BlockNumber, NetUid, Rao};

/// The supply cap: 21 M TAO.
pub const TOTAL_SUPPLY: Rao = Rao(21_000_000 * 1_000_000_000);
/// Emission per block before the first halving: 1 TAO.
pub const BASE_BLOCK_EMISSION: Rao = Rao(1_000_000_000);
/// `SubnetMovingAlpha` = 3·10⁻⁶, as numerator / denominator.
pub const SUBNET_MOVING_ALPHA: (u128, u128) = (3, 1_000_000);
/// `EMAPriceHalvingBlocks`: the moving price's warm-up.
pub const EMA_PRICE_HALVING_BLOCKS: u64 = 201_600;

/// TAO minted per block at issuance `issuance` (never past the cap). Also alpha minted per
/// block per subnet at that subnet's alpha issuance.
pub fn block_emission(issuance: Rao) -> Rao {
    let Some(remaining) = TOTAL_SUPPLY.0.checked_sub(issuance.0).filter(|r| *r > 0) else {
        return Rao::ZERO;
    };
    let mut halvings = 0u32;
    while halvings < 63
        && u128::from(remaining) << (halvings.saturating_add(1)) <= u128::from(TOTAL_SUPPLY.0)
    {
        halvings = halvings.saturating_add(1);
    }
    let emission = BASE_BLOCK_EMISSION.0.checked_shr(halvings).unwrap_or(0);
    Rao(emission.min(remaining))
}

/// Subnets that receive emission: `start_call` made and registration open, ascending netuid.
pub fn emitting_subnets(state: &State) -> Vec<NetUid> {
    state
        .subnets
        .iter()
        .filter(|(_, subnet)| {
            subnet.first_emission_block.is_some() && subnet.params.registration_allowed
        })
        .map(|(netuid, _)| *netuid)
        .collect()
}

/// This block's TAO per emitting subnet: `floor(E · p̄ᵢ / Σ p̄)`, ascending netuid. If every
/// moving price is zero the split is equal, so emission never stalls on a price.
pub fn subnet_tao_emissions(state: &State) -> Vec<(NetUid, Rao)> {
    let emitting = emitting_subnets(state);
    let total = block_emission(state.globals.issuance);
    let prices: Vec<(NetUid, u128)> = emitting
        .iter()
        .map(|netuid| {
            let price = state.pools.get(netuid).map_or(0, |p| p.moving_price.0);
            (*netuid, price)
        })
        .collect();
    let sum: u128 = prices.iter().map(|(_, p)| *p).sum();
    let (prices, sum) = if sum == 0 {
        let ones: Vec<(NetUid, u128)> = emitting.iter().map(|n| (*n, 1)).collect();
        let count = u128::try_from(ones.len()).unwrap_or(u128::MAX);
        (ones, count)
    } else {
        (prices, sum)
    };
    prices
        .into_iter()
        .map(|(netuid, price)| {
            let share = u128::from(total.0)
                .saturating_mul(price)
                .checked_div(sum)
                .unwrap_or(0);
            (netuid, Rao(u64::try_from(share).unwrap_or(0)))
        })
        .collect()
}

/// A subnet's emission share, parts per billion of this block's TAO emission (a view).
pub fn emission_share_ppb(state: &State, netuid: NetUid) -> u64 {
    let total = block_emission(state.globals.issuance);
    subnet_tao_emissions(state)
        .into_iter()
        .find(|(n, _)| *n == netuid)
        .and_then(|(_, tao)| {
            u128::from(tao.0)
                .saturating_mul(1_000_000_000)
                .checked_div(u128::from(total.0))
        })
        .map_or(0, |ppb| u64::try_from(ppb).unwrap_or(u64::MAX))
}

/// Mints this block's TAO into the emitting subnets' pools and their alpha emission into
/// pending, then moves their prices' EMAs. Returns the TAO minted.
///
/// The block hooks call this; it is public (hidden) only so that benchmarks can time the hook
/// alone. Calling it outside `apply_block` makes the state disagree with every other node.
#[doc(hidden)]
pub fn distribute_block_emission(state: &mut State, block: BlockNumber) -> Rao {
    for pool in state.pools.values_mut() {
        (pool.tao_emission, pool.alpha_emission) = (Rao::ZERO, Rao::ZERO);
    }
    let shares = subnet_tao_emissions(state);
    let root_sell = root_sell_flag(state, &shares);
    let weighted_root = state.weighted_root(state.root_stake_total());
    let mut minted = 0u64;
    for (netuid, tao) in shares {
        // Every amount is priced on the state before this block's injection and chain buy,
        // as the reference computes all of a block's emission before injecting any.
        let root_prop = state.root_proportion_with(weighted_root, netuid);
        let alpha_out = emit_alpha(state, netuid, root_prop, root_sell);
        inject_tao(state, netuid, tao, proportion_of(alpha_out, root_prop));
        minted = minted.saturating_add(tao.0);
        update_moving_price(state, netuid, block);
    }
    state.globals.issuance = Rao(state.globals.issuance.0.saturating_add(minted));
    Rao(minted)
}

/// `amount · numerator / denominator`, floored.
fn proportion_of(amount: Rao, (numerator, denominator): (u128, u128)) -> Rao {
    let part = u128::from(amount.0)
        .saturating_mul(numerator)
        .checked_div(denominator)
        .unwrap_or(0);
    Rao(u64::try_from(part).unwrap_or(0))
}

/// Root dividends are paid only while Σ moving prices of the emitting subnets exceeds 1.
fn root_sell_flag(state: &State, shares: &[(NetUid, Rao)]) -> bool {
    let sum: u128 = shares
        .iter()
        .filter_map(|(netuid, _)| state.pools.get(netuid))
        .map(|pool| pool.moving_price.0)
        .sum();
    sum > Price::ONE.0
}

/// Puts `tao` of new emission into `netuid`'s pool: `min(tao / price, alpha_cap)` alpha and
/// its TAO value as liquidity, the rest of the TAO buying alpha that is recycled.
fn inject_tao(state: &mut State, netuid: NetUid, tao: Rao, alpha_cap: Rao) {
    let Some(pool) = state.pools.get_mut(&netuid) else {
        return;
    };
    pool.tao_emission = tao;
    let price = pool.amm.price();
    let alpha_in = price.alpha_for(tao).min(alpha_cap);
    let tao_in = if alpha_in.is_zero() {
        Rao::ZERO
    } else {
        price.tao_value(alpha_in).min(tao)
    };
    let excess = Rao(tao.0.saturating_sub(tao_in.0));
    let bought = if excess.is_zero() {
        Ok(Rao::ZERO)
    } else {
        pool.amm.swap_tao_to_alpha(excess)
    };
    let (tao_in, bought) = match bought {
        Ok(bought) => (tao_in, bought),
        // Too little to buy one rao (or an empty side): the pool keeps the TAO as liquidity.
        Err(_) => (tao, Rao::ZERO),
    };
    // The reserves are bounded by issuance (< 2⁶⁴), so injecting cannot overflow.
    if pool.amm.inject(tao_in, alpha_in).is_ok() {
        pool.alpha_minted = Rao(pool.alpha_minted.0.saturating_add(alpha_in.0));
    }
    pool.alpha_recycled = Rao(pool.alpha_recycled.0.saturating_add(bought.0));
}

/// Mints this block's alpha emission of `netuid`: the owner cut, the root share
/// `root_prop · r / 2` of the rest r (recycled unless `root_sell`), and the remainder into
/// pending emission. Returns the alpha minted.
fn emit_alpha(state: &mut State, netuid: NetUid, root_prop: (u128, u128), root_sell: bool) -> Rao {
    let owner_cut = u128::from(state.globals.owner_cut);
    let (Some(pool), Some(subnet)) = (state.pools.get_mut(&netuid), state.subnets.get_mut(&netuid))
    else {
        return Rao::ZERO;
    };
    let alpha_out = block_emission(pool.alpha_issuance());
    let cut = if subnet.params.owner_cut_enabled {
        u64::try_from(u128::from(alpha_out.0).saturating_mul(owner_cut) / 65_535).unwrap_or(0)
    } else {
        0
    };
    let rest = Rao(alpha_out.0.saturating_sub(cut));
    let root = Rao(proportion_of(rest, root_prop).0 / 2);
    subnet.pending_owner_cut = Rao(subnet.pending_owner_cut.0.saturating_add(cut));
    subnet.pending_emission = Rao(subnet
        .pending_emission
        .0
        .saturating_add(rest.0.saturating_sub(root.0)));
    pool.mint_outstanding(alpha_out);
    pool.alpha_emission = alpha_out;
    if root_sell {
        pool.pending_root_alpha = Rao(pool.pending_root_alpha.0.saturating_add(root.0));
    } else {
        pool.recycle(root);
    }
    alpha_out
}

/// Moves `netuid`'s moving price one block toward min(price, 1).
fn update_moving_price(state: &mut State, netuid: NetUid, block: BlockNumber) {
    let start = state
        .subnets
        .get(&netuid)
        .and_then(|subnet| subnet.first_emission_block)
        .unwrap_or(block.0);
    let Some(pool) = state.pools.get_mut(&netuid) else {
        return;
    };
    let target = pool.amm.price().min(Price::ONE);
    pool.moving_price = next_moving_price(pool.moving_price, target, block.0.saturating_sub(start));
}

/// One EMA step: `p̄ + α·(target − p̄)`, α = 3·10⁻⁶ · b/(b + 201 600), the step floored.
pub fn next_moving_price(current: Price, target: Price, blocks_since_start: u64) -> Price {
    // Past 2³² blocks α has long reached its limit; clamping keeps the products in u128.
    let b = u128::from(blocks_since_start.min(1 << 32));
    let (alpha_num, alpha_den) = SUBNET_MOVING_ALPHA;
    let numerator = alpha_num.saturating_mul(b);
    let denominator =
        alpha_den.saturating_mul(b.saturating_add(u128::from(EMA_PRICE_HALVING_BLOCKS)));
    let step = |gap: u128| {
        gap.saturating_mul(numerator)
            .checked_div(denominator)
            .unwrap_or(0)
    };
    if target >= current {
        Price(
            current
                .0
                .saturating_add(step(target.0.saturating_sub(current.0))),
        )
    } else {
        Price(
            current
                .0
                .saturating_sub(step(current.0.saturating_sub(target.0))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::{ChainSpec, GenesisSubnet};
    use hyphae_primitives::AccountId;

    /// A state with `n` emitting genesis subnets and no accounts.
    fn subnets(n: u8) -> State {
        let subnets = (1..=n)
            .map(|i| GenesisSubnet {
                owner_coldkey: AccountId([i; 32]),
                owner_hotkey: AccountId([i; 32]),
                start_emission: true,
                params: crate::subnets::SubnetParams::default(),
                neurons: Vec::new(),
            })
            .collect();
        let spec = ChainSpec {
            name: "test".into(),
            timestamp_ms: 0,
            root_key: AccountId::default(),
            accounts: Vec::new(),
            subnets,
            validators: Vec::new(),
        };
        spec.build().unwrap().0
    }

    fn pool_tao(state: &State, netuid: u16) -> u64 {
        state.pools[&NetUid(netuid)].amm.tao_reserve().0
    }

    /// Computed by `tests/fixtures/dtao_vectors.py` (`emission_split`).
    #[test]
    fn split_follows_moving_prices() {
        let mut state = subnets(3);
        let prices = [1u128 << 64, 1u128 << 63, (1u128 << 62) + 12_345];
        for (netuid, price) in (1..=3).zip(prices) {
            state.pools.get_mut(&NetUid(netuid)).unwrap().moving_price = Price(price);
        }
        let expected = [571_428_571, 285_714_285, 142_857_142];
        let split: Vec<u64> = subnet_tao_emissions(&state)
            .iter()
            .map(|(_, t)| t.0)
            .collect();
        assert_eq!(split, expected);
        let before: Vec<u64> = (1..=3).map(|n| pool_tao(&state, n)).collect();
        let issuance = state.globals.issuance.0;
        let minted = distribute_block_emission(&mut state, BlockNumber(1));
        assert_eq!(minted.0, expected.iter().sum::<u64>());
        assert_eq!(state.globals.issuance.0, issuance + minted.0);
        for n in 1..=3u16 {
            let i = usize::from(n - 1);
            assert_eq!(
                pool_tao(&state, n) - before[i],
                expected[i],
                "all of it lands in the pool"
            );
        }
        assert_eq!(emission_share_ppb(&state, NetUid(2)), 285_714_285);
    }

    /// Computed by `tests/fixtures/dtao_vectors.py` (`ema_steps`).
    #[test]
    fn moving_price_steps() {
        let cases: [(u128, u128, u64, u128); 4] = [
            (
                18_446_744_073_709_551_616,
                9_223_372_036_854_775_808,
                7200,
                18_446_743_119_567_616_769,
            ),
            (
                9_223_372_036_854_775_808,
                18_446_744_073_709_551_616,
                201_600,
                9_223_385_871_912_831_090,
            ),
            (
                18_446_744_073_709_551_616,
                18_446_744_073_709_551_616,
                5,
                18_446_744_073_709_551_616,
            ),
            (6_148_914_691_236_517_205, 0, 1, 6_148_914_691_145_015_953),
        ];
        for (current, target, b, next) in cases {
            assert_eq!(
                next_moving_price(Price(current), Price(target), b),
                Price(next)
            );
        }
    }

    #[test]
    fn the_moving_price_follows_a_falling_pool() {
        let mut state = subnets(1);
        // Selling alpha into the pool halves its price; the EMA starts moving after block 0.
        let pool = state.pools.get_mut(&NetUid(1)).unwrap();
        pool.amm =
            crate::pool::ConstantProductPool::new(Rao(500_000_000_000), Rao(1_000_000_000_000));
        distribute_block_emission(&mut state, BlockNumber(1000));
        assert!(state.pools[&NetUid(1)].moving_price < Price::ONE);
    }

    /// Computed by `tests/fixtures/dtao_vectors.py` (`root_injection`).
    #[test]
    fn root_stake_caps_the_injection_and_takes_a_share() {
        let mut state = subnets(2);
        let root = (crate::root::ROOT, AccountId([9; 32]), AccountId([8; 32]));
        state.stakes.insert(root, Rao(10_000_000_000_000));
        assert_eq!(
            state.weighted_root(state.root_stake_total()),
            526_769_743_872
        );
        distribute_block_emission(&mut state, BlockNumber(1));
        let pool = &state.pools[&NetUid(1)];
        assert_eq!(
            (pool.amm.tao_reserve().0, pool.amm.alpha_reserve().0),
            (1_000_500_000_000, 1_000_190_068_791)
        );
        assert_eq!(
            pool.alpha_recycled.0, 154_953_597,
            "the excess TAO bought alpha"
        );
        assert_eq!(pool.pending_root_alpha.0, 141_459_969);
        let subnet = &state.subnets[&NetUid(1)];
        assert_eq!(subnet.pending_emission.0, 678_544_609);
        assert_eq!(subnet.pending_owner_cut.0, 179_995_422);
        assert!(state.alpha_books_error(NetUid(1)).is_none());
    }

    #[test]
    fn tao_emission_halves_with_issuance() {
        let mut state = subnets(2);
        for (issuance, per_block) in [(10_500_000, 500_000_000), (15_750_000, 250_000_000)] {
            state.globals.issuance = Rao(issuance * 1_000_000_000);
            assert_eq!(
                distribute_block_emission(&mut state, BlockNumber(1)).0,
                per_block
            );
            assert_eq!(
                pool_tao(&state, 1),
                pool_tao(&state, 2),
                "equal prices, equal shares"
            );
        }
    }

    #[test]
    fn alpha_emission_halves_with_alpha_issuance() {
        let mut state = subnets(1);
        let pending = |s: &State| {
            let subnet = &s.subnets[&NetUid(1)];
            subnet.pending_emission.0 + subnet.pending_owner_cut.0
        };
        for (alpha, per_block) in [
            (0, 1_000_000_000),
            (10_500_000, 500_000_000),
            (18_375_000, 125_000_000),
        ] {
            let pool = state.pools.get_mut(&NetUid(1)).unwrap();
            // Alpha issuance = pool + outstanding: set the pool side, the seed is 1000 alpha.
            let reserve =
                Rao((alpha * 1_000_000_000).max(1_000_000_000_000) - pool.alpha_outstanding.0);
            pool.amm = crate::pool::ConstantProductPool::new(pool.amm.tao_reserve(), reserve);
            let before = pending(&state);
            distribute_block_emission(&mut state, BlockNumber(1));
            assert_eq!(pending(&state) - before, per_block);
            assert_eq!(state.pools[&NetUid(1)].alpha_emission().0, per_block);
        }
        // The owner cut is 11 796 / 65 535 of it.
        assert_eq!(
            state.subnets[&NetUid(1)].pending_owner_cut.0,
            [1_000_000_000u64, 500_000_000, 125_000_000]
                .iter()
                .map(|a| a * 11_796 / 65_535)
                .sum::<u64>()
        );
    }

    #[test]
    fn halves_at_thresholds() {
        let tao = |t: u64| Rao(t * 1_000_000_000);
        assert_eq!(block_emission(Rao::ZERO), tao(1));
        assert_eq!(block_emission(Rao(tao(10_500_000).0 - 1)), tao(1));
        assert_eq!(block_emission(tao(10_500_000)), Rao(500_000_000));
        assert_eq!(block_emission(tao(15_750_000)), Rao(250_000_000));
        assert_eq!(block_emission(tao(18_375_000)), Rao(125_000_000));
        assert_eq!(block_emission(TOTAL_SUPPLY), Rao::ZERO);
        assert_eq!(block_emission(Rao(TOTAL_SUPPLY.0 - 1)), Rao::ZERO);
    }
}
