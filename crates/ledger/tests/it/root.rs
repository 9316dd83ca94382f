//! The root subnet: TAO stake 1:1 on netuid 0, weighted in every epoch, and root dividends.

use crate::support::*;
use hyphae_ledger::{
    epoch::epoch_input, root::ROOT, weights::WeightsArgs, Call, ChainSpec, TxError,
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

#[test]
fn root_stakers_earn_root_dividends_through_validators() {
    // Two emitting subnets: Σ moving prices = 2 > 1, so root dividends are paid, not recycled.
    let mut spec = ChainSpec::dev().unwrap();
    let second = hyphae_ledger::genesis::GenesisSubnet {
        owner_hotkey: id("//Alice//hot2"),
        ..spec.subnets[0].clone()
    };
    spec.subnets.push(second);
    let mut chain = Chain::from_spec(&spec);
    chain.register("//Charlie", "//Charlie//v");
    chain.register("//Eve", "//Eve//m");
    chain.stake("//Charlie", "//Charlie//v", tao(100));
    root_stake(&mut chain, "//Dave", "//Charlie//v", tao(100_000));
    let epoch = |c: &Chain| c.state.subnet(NETUID).unwrap().epoch_index;
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
    let now = epoch(&chain);
    while epoch(&chain) == now {
        chain.advance(1);
    }
    let record = chain.state.epochs_of(NETUID).unwrap();
    assert!(record.root_dividends > Rao::ZERO, "{record:?}");
    let dave = chain
        .state
        .stake(NETUID, &id("//Charlie//v"), &id("//Dave"));
    assert!(
        dave > Rao::ZERO,
        "the root staker holds alpha on the subnet"
    );
    assert_eq!(
        chain.state.pool(NETUID).unwrap().pending_root_alpha(),
        Rao::ZERO
    );
}
