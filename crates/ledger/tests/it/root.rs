//! The root subnet: TAO stake 1:1 on netuid 0, weighted in every epoch, and root dividends.

use crate::support::*;
use hyphae_ledger::{
    epoch::epoch_input, root::ROOT, weights::WeightsArgs, Call, ChainSpec, Event, RootClaimMode,
    TxError,
};
use hyphae_primitives::Rao;

fn root_stake(chain: &mut Chain, coldkey: &str, hotkey: &str, amount: Rao) {
    chain.ok(
        &key(coldkey),
        Call::AddStake {
            hotkey: id(hotkey),
            netuid: ROOT,
            amount,
        },
    );
}

#[test]
fn root_stake_is_tao_one_to_one() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    let charlie = key("//Charlie");
    let before = chain.state.balance(&charlie.account_id());
    let call = Call::AddStake {
        hotkey: id("//Bob//hot"),
        netuid: ROOT,
        amount: tao(10),
    };
    let fee = call.fee(&chain.state);
    chain.ok(&charlie, call);
    assert_eq!(chain.state.root_stake(&id("//Bob//hot")), tao(10));
    assert_eq!(chain.state.root_stake_total(), tao(10));
    assert_eq!(
        chain.state.balance(&charlie.account_id()).0,
        before.0 - tao(10).0 - fee.0
    );
    let remove = |amount| Call::RemoveStake {
        hotkey: id("//Bob//hot"),
        netuid: ROOT,
        amount,
    };
    assert_eq!(
        chain.call(&charlie, remove(Rao::ZERO)),
        Err(TxError::AmountZero)
    );
    assert_eq!(
        chain.call(&key("//Dave"), remove(tao(1))),
        Err(TxError::NotEnoughStake)
    );
    chain.ok(&charlie, remove(tao(4)));
    assert_eq!(chain.state.root_stake(&id("//Bob//hot")), tao(6));
    // The epoch weighs it at TaoWeight.
    let input = epoch_input(&chain.state, NETUID, chain.state.head().number).unwrap();
    let uid = chain.state.uid_of(NETUID, &id("//Bob//hot")).unwrap();
    assert_eq!(input.neurons[usize::from(uid.0)].tao_stake, tao(6).0);
    assert_eq!(input.params.tao_weight, chain.state.globals().tao_weight);
    // Root stake makes root_prop positive: W / (W + alpha issuance).
    let (numerator, denominator) = chain.state.root_proportion(NETUID);
    let weighted =
        u128::from(tao(6).0) * u128::from(chain.state.globals().tao_weight) / u128::from(u64::MAX);
    let issuance = u128::from(chain.state.pool(NETUID).unwrap().alpha_issuance().0);
    assert_eq!((numerator, denominator), (weighted, weighted + issuance));
}

/// Two emitting subnets (Σ moving prices = 2 > 1, so root dividends are paid, not recycled),
/// a validator `//Charlie//v` with Dave's root stake on it, advanced until an epoch has paid
/// root dividends.
fn chain_with_root_dividends() -> Chain {
    let mut spec = ChainSpec::dev().unwrap();
    let second = hyphae_ledger::genesis::GenesisSubnet {
        owner_hotkey: id("//Alice//hot2"),
        ..spec.subnets[0].clone()
    };
    spec.subnets.push(second);
    let mut chain = Chain::from_spec(&spec);
    assert!(chain.state.globals().tao_weight > 0);
    chain.register("//Charlie", "//Charlie//v");
    chain.register("//Eve", "//Eve//m");
    chain.stake("//Charlie", "//Charlie//v", tao(100));
    root_stake(&mut chain, "//Dave", "//Charlie//v", tao(100_000));
    let start = epoch(&chain);
    while epoch(&chain) == start {
        chain.advance(1);
    }
    // Pending root alpha accrues every block now.
    let pending = chain.state.pool(NETUID).unwrap().pending_root_alpha();
    chain.advance(1);
    assert!(chain.state.pool(NETUID).unwrap().pending_root_alpha() > pending);
    let weights = WeightsArgs {
        uids: vec![1],
        values: vec![1],
        version_key: 0,
    };
    chain.ok(
        &key("//Charlie//v"),
        Call::SetWeights {
            netuid: NETUID,
            weights,
        },
    );
    next_epoch(&mut chain);
    chain
}

fn epoch(chain: &Chain) -> u64 {
    chain.state.subnet(NETUID).unwrap().epoch_index
}

fn next_epoch(chain: &mut Chain) {
    let now = epoch(chain);
    while epoch(chain) == now {
        chain.advance(1);
    }
}

/// Dave's claimable root dividends on NETUID through `//Charlie//v`.
fn claimable(state: &hyphae_ledger::State) -> Rao {
    state
        .root_claimable(&id("//Dave"))
        .iter()
        .filter(|claim| claim.netuid == NETUID && claim.hotkey == id("//Charlie//v"))
        .fold(Rao::ZERO, |sum, claim| Rao(sum.0 + claim.alpha.0))
}

fn claim(netuid: Option<u16>, mode: RootClaimMode) -> Call {
    Call::ClaimRoot { netuid, mode }
}

#[test]
fn root_dividends_accrue_as_claimable_alpha_over_epochs() {
    let mut chain = chain_with_root_dividends();
    let record = chain.state.epochs_of(NETUID).unwrap();
    assert!(record.root_dividends > Rao::ZERO, "{record:?}");
    let first = claimable(&chain.state);
    assert!(first > Rao::ZERO, "the root staker has claimable alpha");
    assert_eq!(
        chain
            .state
            .stake(NETUID, &id("//Charlie//v"), &id("//Dave")),
        Rao::ZERO,
        "root dividends are not staked automatically"
    );
    assert_eq!(
        chain.state.pool(NETUID).unwrap().pending_root_alpha(),
        Rao::ZERO
    );
    // Σ claimable of all coldkeys (Dave, and Charlie's take) equals what the epochs paid.
    let paid: u128 = chain
        .state
        .epoch_history(NETUID)
        .map(|record| u128::from(record.root_dividends.0))
        .sum();
    assert_eq!(chain.state.root_claimable_total(NETUID), paid);
    next_epoch(&mut chain);
    assert!(
        claimable(&chain.state) > first,
        "it accrues epoch after epoch"
    );
    assert_eq!(chain.state.alpha_books_error(NETUID), None);
}

#[test]
fn claim_root_keep_stakes_the_alpha() {
    let mut chain = chain_with_root_dividends();
    let dave = key("//Dave");
    let balance = chain.state.balance(&dave.account_id());
    // Claim in a block without an epoch, so nothing accrues in between.
    let mut after_hooks = chain.state.clone();
    hyphae_ledger::build_block(
        &mut after_hooks,
        Vec::new(),
        chain.time_ms + 12_000,
        id("//Ferdie"),
    );
    assert_eq!(
        epoch(&chain),
        after_hooks.subnet(NETUID).unwrap().epoch_index
    );
    let alpha = claimable(&after_hooks);
    let call = claim(Some(NETUID.0), RootClaimMode::Keep);
    let fee = call.fee(&chain.state);
    let tx = chain.sign(&dave, call);
    let receipt = chain.produce(vec![tx]).remove(0);
    assert_eq!(receipt.tx_error(), None);
    assert!(receipt.events.iter().any(|event| matches!(
        event,
        Event::RootClaimed { netuid, alpha: claimed, mode: RootClaimMode::Keep, .. }
            if *netuid == NETUID && *claimed == alpha
    )));
    assert_eq!(
        chain
            .state
            .stake(NETUID, &id("//Charlie//v"), &id("//Dave")),
        alpha
    );
    assert_eq!(claimable(&chain.state), Rao::ZERO);
    assert_eq!(chain.state.balance(&dave.account_id()).0, balance.0 - fee.0);
    assert_eq!(
        chain.call(&dave, claim(Some(NETUID.0), RootClaimMode::Keep)),
        Err(TxError::NothingToClaim)
    );
}

#[test]
fn claim_root_swap_pays_the_pool_quote() {
    let mut chain = chain_with_root_dividends();
    let dave = key("//Dave");
    let balance = chain.state.balance(&dave.account_id());
    let mut after_hooks = chain.state.clone();
    hyphae_ledger::build_block(
        &mut after_hooks,
        Vec::new(),
        chain.time_ms + 12_000,
        id("//Ferdie"),
    );
    let alpha = claimable(&after_hooks);
    assert!(alpha > Rao::ZERO);
    let quote = after_hooks.quote_unstake(NETUID, alpha).unwrap();
    assert!(quote > Rao::ZERO);
    let issuance = chain.state.globals().issuance;
    // Every subnet: Dave has claimable alpha only on NETUID.
    let call = claim(None, RootClaimMode::Swap);
    let fee = call.fee(&chain.state);
    let tx = chain.sign(&dave, call);
    let receipt = chain.produce(vec![tx]).remove(0);
    assert_eq!(receipt.tx_error(), None);
    assert!(receipt.events.contains(&Event::AlphaSold {
        netuid: NETUID,
        alpha,
        tao: quote,
    }));
    assert_eq!(
        chain.state.balance(&dave.account_id()).0,
        balance.0 + quote.0 - fee.0,
        "the TAO received equals the pool quote"
    );
    assert_eq!(claimable(&chain.state), Rao::ZERO);
    assert_eq!(
        chain
            .state
            .stake(NETUID, &id("//Charlie//v"), &id("//Dave")),
        Rao::ZERO
    );
    assert!(chain.state.globals().issuance > issuance);
    assert_eq!(chain.state.alpha_books_error(NETUID), None);
}

#[test]
fn claim_root_with_nothing_to_claim_fails() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    let charlie = key("//Charlie");
    for mode in [RootClaimMode::Keep, RootClaimMode::Swap] {
        assert_eq!(
            chain.call(&charlie, claim(None, mode)),
            Err(TxError::NothingToClaim)
        );
        assert_eq!(
            chain.call(&charlie, claim(Some(NETUID.0), mode)),
            Err(TxError::NothingToClaim)
        );
    }
    // Claimable on one subnet is not claimable on another.
    let mut chain = chain_with_root_dividends();
    assert_eq!(
        chain.call(
            &key("//Dave"),
            claim(Some(NETUID.0 + 1), RootClaimMode::Keep)
        ),
        Err(TxError::NothingToClaim)
    );
    assert!(claimable(&chain.state) > Rao::ZERO);
}

#[test]
fn claimable_root_dividends_survive_the_rows_round_trip() {
    let chain = chain_with_root_dividends();
    let rebuilt = hyphae_ledger::State::from_rows(chain.state.rows()).unwrap();
    assert_eq!(rebuilt, chain.state);
    assert_eq!(rebuilt.root(), chain.state.root());
}

#[test]
fn swap_hotkey_moves_claimable_root_dividends() {
    let mut chain = chain_with_root_dividends();
    let before = claimable(&chain.state);
    assert!(before > Rao::ZERO);
    chain.ok(
        &key("//Charlie"),
        Call::SwapHotkey {
            old: id("//Charlie//v"),
            new: id("//Charlie//v2"),
        },
    );
    assert_eq!(claimable(&chain.state), Rao::ZERO);
    let moved = chain
        .state
        .root_claimable(&id("//Dave"))
        .iter()
        .filter(|claim| claim.netuid == NETUID && claim.hotkey == id("//Charlie//v2"))
        .fold(0u64, |sum, claim| sum + claim.alpha.0);
    assert!(moved >= before.0, "moved, and it may have accrued since");
    chain.ok(&key("//Dave"), claim(Some(NETUID.0), RootClaimMode::Keep));
    assert!(
        chain
            .state
            .stake(NETUID, &id("//Charlie//v2"), &id("//Dave"))
            >= Rao(moved)
    );
}
