use crate::support::*;
use hyphae_ledger::{Call, Pool, TxError};
use hyphae_primitives::{NetUid, Rao};

/// Constant-product output: floor(out_reserve · input / (in_reserve + input)).
fn cp_out(in_reserve: Rao, out_reserve: Rao, input: Rao) -> Rao {
    Rao((u128::from(out_reserve.0) * u128::from(input.0)
        / (u128::from(in_reserve.0) + u128::from(input.0))) as u64)
}

#[test]
fn add_and_remove_stake_swap_through_the_pool() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    // The pool as the staking block will see it: after that block's emission.
    let mut next = chain.state.clone();
    hyphae_ledger::build_block(&mut next, Vec::new(), 0, id("//Ferdie"));
    let amm = *next.pool(NETUID).unwrap().amm();
    let expected = cp_out(amm.tao_reserve(), amm.alpha_reserve(), tao(5));
    chain.stake("//Charlie", "//Bob//hot", tao(5));
    let alpha = chain
        .state
        .stake(NETUID, &id("//Bob//hot"), &id("//Charlie"));
    assert_eq!(alpha, expected);
    assert!(
        alpha < tao(5),
        "the chain's emission bought alpha: price above 1"
    );
    assert_eq!(
        chain.state.total_hotkey_stake(NETUID, &id("//Bob//hot")),
        alpha
    );
    let before = chain.state.balance(&id("//Charlie"));
    let call = Call::RemoveStake {
        hotkey: id("//Bob//hot"),
        netuid: NETUID,
        amount: Rao(alpha.0 / 2),
    };
    let fee = call.fee(&chain.state);
    let mut next = chain.state.clone();
    hyphae_ledger::build_block(&mut next, Vec::new(), 0, id("//Ferdie"));
    let amm = *next.pool(NETUID).unwrap().amm();
    let tao_out = cp_out(amm.alpha_reserve(), amm.tao_reserve(), Rao(alpha.0 / 2));
    chain.ok(&key("//Charlie"), call);
    assert_eq!(
        chain.state.balance(&id("//Charlie")),
        Rao(before.0 + tao_out.0 - fee.0)
    );
    assert_eq!(
        chain
            .state
            .stake(NETUID, &id("//Bob//hot"), &id("//Charlie")),
        Rao(alpha.0 - alpha.0 / 2)
    );
}

#[test]
fn stake_rejections() {
    let mut chain = Chain::dev();
    let charlie = key("//Charlie");
    let add = |hotkey, amount| Call::AddStake {
        hotkey,
        netuid: NETUID,
        amount,
    };
    assert_eq!(
        chain.call(&charlie, add(id("//Nobody//hot"), tao(1))),
        Err(TxError::HotkeyNotFound)
    );
    chain.register("//Bob", "//Bob//hot");
    assert_eq!(
        chain.call(&charlie, add(id("//Bob//hot"), Rao(10))),
        Err(TxError::StakeAmountTooLow)
    );
    assert_eq!(
        chain.call(&charlie, add(id("//Bob//hot"), tao(5_000_000))),
        Err(TxError::InsufficientBalance)
    );
    let remove = Call::RemoveStake {
        hotkey: id("//Bob//hot"),
        netuid: NETUID,
        amount: tao(1),
    };
    assert_eq!(chain.call(&charlie, remove), Err(TxError::NotEnoughStake));
    let zero = Call::RemoveStake {
        hotkey: id("//Bob//hot"),
        netuid: NETUID,
        amount: Rao::ZERO,
    };
    assert_eq!(chain.call(&charlie, zero), Err(TxError::AmountZero));
}

#[test]
fn takes() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    let bob = key("//Bob");
    let hot = id("//Bob//hot");
    assert_eq!(chain.state.take(&hot), 11_796, "default take is 18 %");
    assert_eq!(
        chain.call(
            &key("//Charlie"),
            Call::DecreaseTake {
                hotkey: hot,
                take: 1
            }
        ),
        Err(TxError::NotHotkeyOwner)
    );
    assert_eq!(
        chain.call(
            &bob,
            Call::IncreaseTake {
                hotkey: hot,
                take: 11_796
            }
        ),
        Err(TxError::TakeNotIncreased)
    );
    assert_eq!(
        chain.call(
            &bob,
            Call::DecreaseTake {
                hotkey: hot,
                take: 11_796
            }
        ),
        Err(TxError::TakeNotDecreased)
    );
    chain.ok(
        &bob,
        Call::DecreaseTake {
            hotkey: hot,
            take: 1_000,
        },
    );
    assert_eq!(chain.state.take(&hot), 1_000);
    assert_eq!(
        chain.call(
            &bob,
            Call::IncreaseTake {
                hotkey: hot,
                take: 20_000
            }
        ),
        Err(TxError::TakeTooHigh)
    );
    chain.ok(
        &bob,
        Call::IncreaseTake {
            hotkey: hot,
            take: 2_000,
        },
    );
    assert_eq!(
        chain.call(
            &bob,
            Call::IncreaseTake {
                hotkey: hot,
                take: 3_000
            }
        ),
        Err(TxError::TakeRateLimited)
    );
    chain.ok(
        &bob,
        Call::DecreaseTake {
            hotkey: hot,
            take: 1_500,
        },
    );
}

#[test]
fn swap_hotkey_moves_everything() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    chain.stake("//Charlie", "//Bob//hot", tao(5));
    let staked = chain
        .state
        .stake(NETUID, &id("//Bob//hot"), &id("//Charlie"));
    let bob = key("//Bob");
    let (old, new) = (id("//Bob//hot"), id("//Bob//new"));
    assert_eq!(
        chain.call(&bob, Call::SwapHotkey { old, new: old }),
        Err(TxError::SameHotkey)
    );
    assert_eq!(
        chain.call(&key("//Charlie"), Call::SwapHotkey { old, new }),
        Err(TxError::NotHotkeyOwner)
    );
    assert_eq!(
        chain.call(
            &bob,
            Call::SwapHotkey {
                old,
                new: id("//Alice//hot")
            }
        ),
        Err(TxError::HotkeyAlreadyInUse)
    );
    chain.ok(&bob, Call::SwapHotkey { old, new });
    assert_eq!(
        chain.state.uid_of(NETUID, &new),
        Some(hyphae_primitives::Uid(0))
    );
    assert_eq!(chain.state.uid_of(NETUID, &old), None);
    assert_eq!(chain.state.stake(NETUID, &new, &id("//Charlie")), staked);
    assert_eq!(chain.state.hotkey_owner(&new), Some(id("//Bob")));
    assert_eq!(chain.state.hotkey_owner(&old), None);
}

/// The pool of `netuid` as the next block's transactions will see it (after its emission).
fn next_pool(chain: &Chain, netuid: NetUid) -> hyphae_ledger::ConstantProductPool {
    let mut next = chain.state.clone();
    hyphae_ledger::build_block(&mut next, Vec::new(), 0, id("//Ferdie"));
    *next.pool(netuid).unwrap().amm()
}

/// Bob owns netuid 2 and //Bob//hot; Dave owns //Dave//hot; Charlie stakes 10 TAO on
/// //Bob//hot in netuid 1.
fn two_subnets() -> Chain {
    let mut chain = Chain::dev();
    chain.ok(
        &key("//Bob"),
        Call::RegisterNetwork {
            hotkey: id("//Bob//owner"),
        },
    );
    chain.register("//Bob", "//Bob//hot");
    chain.register("//Dave", "//Dave//hot");
    chain.stake("//Charlie", "//Bob//hot", tao(10));
    chain
}

#[test]
fn swap_stake_sells_on_one_pool_and_buys_on_the_other() {
    let mut chain = two_subnets();
    let (charlie, hot) = (key("//Charlie"), id("//Bob//hot"));
    let staked = chain.state.stake(NETUID, &hot, &charlie.account_id());
    let swap = |origin, destination, amount| Call::SwapStake {
        hotkey: hot,
        origin_netuid: NetUid(origin),
        destination_netuid: NetUid(destination),
        amount,
    };
    assert_eq!(
        chain.call(&charlie, swap(1, 1, Rao(staked.0 / 2))),
        Err(TxError::SameNetuid)
    );
    let (one, two) = (next_pool(&chain, NETUID), next_pool(&chain, NetUid(2)));
    let tao_crossing = cp_out(one.alpha_reserve(), one.tao_reserve(), Rao(staked.0 / 2));
    let expected = cp_out(two.tao_reserve(), two.alpha_reserve(), tao_crossing);
    chain.ok(&charlie, swap(1, 2, Rao(staked.0 / 2)));
    assert_eq!(
        chain.state.stake(NetUid(2), &hot, &charlie.account_id()),
        expected
    );
    assert_eq!(
        chain.state.stake(NETUID, &hot, &charlie.account_id()),
        Rao(staked.0 - staked.0 / 2)
    );
}

#[test]
fn move_and_transfer_stake() {
    let mut chain = two_subnets();
    let (charlie, hot) = (key("//Charlie"), id("//Bob//hot"));
    let staked = chain.state.stake(NETUID, &hot, &charlie.account_id());
    let move_to = |destination_hotkey, amount| Call::MoveStake {
        origin_hotkey: hot,
        destination_hotkey,
        origin_netuid: NETUID,
        destination_netuid: NETUID,
        amount,
    };
    assert_eq!(
        chain.call(&charlie, move_to(hot, tao(1))),
        Err(TxError::SameStakeLocation)
    );
    assert_eq!(
        chain.call(&charlie, move_to(id("//Nobody"), tao(1))),
        Err(TxError::HotkeyNotFound)
    );
    assert_eq!(
        chain.call(&charlie, move_to(id("//Dave//hot"), Rao(staked.0 + 1))),
        Err(TxError::NotEnoughStake)
    );
    // Within a subnet the alpha moves as it is: no swap.
    chain.ok(&charlie, move_to(id("//Dave//hot"), tao(3)));
    let dave_hot = id("//Dave//hot");
    assert_eq!(
        chain.state.stake(NETUID, &dave_hot, &charlie.account_id()),
        tao(3)
    );
    chain.ok(
        &charlie,
        Call::TransferStake {
            destination_coldkey: id("//Eve"),
            hotkey: dave_hot,
            origin_netuid: NETUID,
            destination_netuid: NETUID,
            amount: tao(1),
        },
    );
    assert_eq!(chain.state.stake(NETUID, &dave_hot, &id("//Eve")), tao(1));
    assert_eq!(
        chain.state.stake(NETUID, &dave_hot, &charlie.account_id()),
        tao(2)
    );
    assert_eq!(
        chain.state.stake(NETUID, &hot, &charlie.account_id()),
        Rao(staked.0 - tao(3).0)
    );
}

#[test]
fn limit_orders_fill_up_to_the_limit_price() {
    let mut chain = two_subnets();
    let charlie = key("//Charlie");
    let hot = id("//Bob//hot");
    let price = next_pool(&chain, NETUID).price().rao_per_alpha();
    let add = |amount, limit_price, allow_partial| Call::AddStakeLimit {
        hotkey: hot,
        netuid: NETUID,
        amount,
        limit_price,
        allow_partial,
    };
    assert_eq!(
        chain.call(&charlie, add(tao(100), price - 1, true)),
        Err(TxError::SlippageTooHigh),
        "a limit below the price fills nothing"
    );
    // 1 % above the price: 100 TAO into a ~1000 TAO pool would move it ~20 %.
    let limit = price + price / 100;
    assert_eq!(
        chain.call(&charlie, add(tao(100), limit, false)),
        Err(TxError::SlippageTooHigh)
    );
    let before = chain.state.balance(&charlie.account_id());
    chain.ok(&charlie, add(tao(100), limit, true));
    let spent = before.0 - chain.state.balance(&charlie.account_id()).0;
    assert!(
        spent > tao(1).0 && spent < tao(10).0,
        "partial fill: {spent}"
    );
    let after = chain
        .state
        .pool(NETUID)
        .unwrap()
        .amm()
        .price()
        .rao_per_alpha();
    assert!(
        after <= limit && after > price,
        "{price} < {after} <= {limit}"
    );

    let staked = chain.state.stake(NETUID, &hot, &charlie.account_id());
    let remove = |limit_price, allow_partial| Call::RemoveStakeLimit {
        hotkey: hot,
        netuid: NETUID,
        amount: staked,
        limit_price,
        allow_partial,
    };
    let price = next_pool(&chain, NETUID).price().rao_per_alpha();
    let floor = price - price / 100;
    assert_eq!(
        chain.call(&charlie, remove(price + 1, true)),
        Err(TxError::SlippageTooHigh)
    );
    assert_eq!(
        chain.call(&charlie, remove(floor, false)),
        Err(TxError::SlippageTooHigh)
    );
    chain.ok(&charlie, remove(floor, true));
    let left = chain.state.stake(NETUID, &hot, &charlie.account_id());
    assert!(left > Rao::ZERO && left < staked, "partial unstake");
    let after = chain
        .state
        .pool(NETUID)
        .unwrap()
        .amm()
        .price()
        .rao_per_alpha();
    assert!(after >= floor, "{after} >= {floor}");
    // "Everything" (more than is held) is judged on what is held, as remove_stake does.
    chain.ok(
        &charlie,
        Call::RemoveStakeLimit {
            hotkey: hot,
            netuid: NETUID,
            amount: Rao(u64::MAX),
            limit_price: 1,
            allow_partial: false,
        },
    );
    assert_eq!(
        chain.state.stake(NETUID, &hot, &charlie.account_id()),
        Rao::ZERO
    );
}

#[test]
fn a_swap_too_small_to_pay_out_is_rejected() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: hyphae_ledger::hyperparameters::GlobalParameter::MinStake(1),
        },
    );
    // The emission has bought alpha, so the price is above 1: one rao buys no alpha.
    assert_eq!(
        chain.call(
            &key("//Charlie"),
            Call::AddStake {
                hotkey: id("//Bob//hot"),
                netuid: NETUID,
                amount: Rao(1),
            }
        ),
        Err(TxError::InsufficientLiquidity)
    );
}

#[test]
fn swap_quotes_price_the_swap_and_its_impact() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    let next = next_pool(&chain, NETUID);
    let mut state = chain.state.clone();
    hyphae_ledger::build_block(&mut state, Vec::new(), 0, id("//Ferdie"));
    let quote = state.stake_quote(NETUID, tao(50)).unwrap();
    assert_eq!(
        quote.amount_out,
        cp_out(next.tao_reserve(), next.alpha_reserve(), tao(50))
    );
    assert_eq!(quote.price_rao_per_alpha, next.price().rao_per_alpha());
    assert!(quote.price_after_rao_per_alpha > quote.price_rao_per_alpha);
    assert!(quote.amount_out < quote.ideal_out && quote.slippage_ppb > 0);
    // Constant product: the price moves about twice as far as the average fill.
    assert!(quote.price_impact_ppb > quote.slippage_ppb);
    chain.stake("//Charlie", "//Bob//hot", tao(50));
    let staked = chain
        .state
        .stake(NETUID, &id("//Bob//hot"), &id("//Charlie"));
    assert_eq!(staked, quote.amount_out, "the quote is what the stake got");
    let price_after = chain
        .state
        .pool(NETUID)
        .unwrap()
        .amm()
        .price()
        .rao_per_alpha();
    assert_eq!(price_after, quote.price_after_rao_per_alpha);

    let back = chain.state.unstake_quote(NETUID, staked).unwrap();
    assert_eq!(back.side, hyphae_ledger::SwapSide::Unstake);
    assert!(back.amount_out < tao(50) && back.price_after_rao_per_alpha < back.price_rao_per_alpha);
    assert_eq!(
        chain.state.stake_quote(NetUid(77), tao(1)),
        Err(TxError::SubnetNotFound)
    );
}
