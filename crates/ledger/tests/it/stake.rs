use crate::support::*;
use hyphae_ledger::{Call, TxError};
use hyphae_primitives::Rao;

#[test]
fn add_and_remove_stake_one_to_one() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    chain.stake("//Charlie", "//Bob//hot", tao(5));
    assert_eq!(
        chain
            .state
            .stake(NETUID, &id("//Bob//hot"), &id("//Charlie")),
        tao(5)
    );
    assert_eq!(
        chain.state.total_hotkey_stake(NETUID, &id("//Bob//hot")),
        tao(5)
    );
    let before = chain.state.balance(&id("//Charlie"));
    let call = Call::RemoveStake {
        hotkey: id("//Bob//hot"),
        netuid: NETUID,
        amount: tao(2),
    };
    let fee = call.fee(&chain.state);
    chain.ok(&key("//Charlie"), call);
    assert_eq!(
        chain.state.balance(&id("//Charlie")),
        Rao(before.0 + tao(2).0 - fee.0)
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
    assert_eq!(chain.state.stake(NETUID, &new, &id("//Charlie")), tao(5));
    assert_eq!(chain.state.hotkey_owner(&new), Some(id("//Bob")));
    assert_eq!(chain.state.hotkey_owner(&old), None);
}
