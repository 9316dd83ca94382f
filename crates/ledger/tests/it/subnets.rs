use crate::support::*;
use hyphae_ledger::{
    hyperparameters::{GlobalParameter, SubnetHyperparameter},
    subnets::{SubnetIdentity, IDENTITY_FIELD_LEN_MAX},
    Call, Pool, TxError,
};
use hyphae_primitives::NetUid;

#[test]
fn register_network_locks_and_rate_limits() {
    let mut chain = Chain::dev();
    let bob = key("//Bob");
    let before = chain.state.balance(&id("//Bob"));
    chain.ok(
        &bob,
        Call::RegisterNetwork {
            hotkey: id("//Bob//hot"),
        },
    );
    let subnet = chain.state.subnet(NetUid(2)).unwrap();
    assert_eq!(subnet.locked, tao(1000));
    // The lock seeds the pool at price 1.
    let pool = chain.state.pool(NetUid(2)).unwrap();
    assert_eq!(
        (pool.amm().tao_reserve(), pool.amm().alpha_reserve()),
        (tao(1000), tao(1000))
    );
    assert_eq!(pool.amm().price(), hyphae_ledger::Price::ONE);
    assert_eq!(subnet.owner_coldkey, id("//Bob"));
    assert!(chain.state.balance(&id("//Bob")).0 < before.0 - tao(1000).0);
    // Lock cost doubled right after, and the rate limit holds.
    assert_eq!(
        chain
            .state
            .network_lock_cost(hyphae_primitives::BlockNumber(chain.block())),
        tao(2000)
    );
    assert_eq!(
        chain.call(
            &key("//Charlie"),
            Call::RegisterNetwork {
                hotkey: id("//Charlie//hot")
            }
        ),
        Err(TxError::NetworkRateLimited)
    );
}

#[test]
fn subnet_limit() {
    let mut chain = Chain::dev();
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: GlobalParameter::SubnetLimit(1),
        },
    );
    assert_eq!(
        chain.call(
            &key("//Bob"),
            Call::RegisterNetwork {
                hotkey: id("//Bob//hot")
            }
        ),
        Err(TxError::SubnetLimitReached)
    );
}

#[test]
fn start_call_and_identity() {
    let mut chain = Chain::dev();
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: GlobalParameter::NetworkRateLimit(0),
        },
    );
    chain.ok(
        &key("//Bob"),
        Call::RegisterNetwork {
            hotkey: id("//Bob//hot"),
        },
    );
    let two = NetUid(2);
    assert_eq!(
        chain.call(&key("//Charlie"), Call::StartCall { netuid: two }),
        Err(TxError::NotSubnetOwner)
    );
    assert_eq!(
        chain.call(&key("//Bob"), Call::StartCall { netuid: NetUid(9) }),
        Err(TxError::SubnetNotFound)
    );
    assert_eq!(
        chain.call(&key("//Bob"), Call::StartCall { netuid: NetUid(0) }),
        Err(TxError::RootSubnetNotAllowed)
    );
    chain.ok(&key("//Bob"), Call::StartCall { netuid: two });
    assert_eq!(
        chain.call(&key("//Bob"), Call::StartCall { netuid: two }),
        Err(TxError::FirstEmissionAlreadySet)
    );
    // Two emitting subnets now share the block's TAO emission equally (both moving prices
    // are 1), and each mints its own 1 alpha per block into pending.
    let pending = |c: &Chain, n| {
        c.state.subnet(n).unwrap().pending_emission.0
            + c.state.subnet(n).unwrap().pending_owner_cut.0
    };
    let pool_tao = |c: &Chain, n| c.state.pool(n).unwrap().amm().tao_reserve().0;
    let (b, tao_before) = (pending(&chain, two), pool_tao(&chain, two));
    chain.advance(1);
    assert_eq!(pending(&chain, two) - b, 1_000_000_000);
    assert_eq!(pool_tao(&chain, two) - tao_before, 500_000_000);
    assert_eq!(
        chain.state.pool(NETUID).unwrap().tao_emission().0,
        500_000_000
    );
    assert_eq!(chain.state.pool(two).unwrap().tao_emission().0, 500_000_000);

    let identity = SubnetIdentity {
        name: b"hyphae".to_vec(),
        ..SubnetIdentity::default()
    };
    chain.ok(
        &key("//Bob"),
        Call::SetSubnetIdentity {
            netuid: two,
            identity: identity.clone(),
        },
    );
    assert_eq!(chain.state.subnet(two).unwrap().identity, Some(identity));
    let long = SubnetIdentity {
        url: vec![b'x'; IDENTITY_FIELD_LEN_MAX + 1],
        ..SubnetIdentity::default()
    };
    assert_eq!(
        chain.call(
            &key("//Bob"),
            Call::SetSubnetIdentity {
                netuid: two,
                identity: long
            }
        ),
        Err(TxError::IdentityTooLong)
    );
}

#[test]
fn registration_can_be_closed() {
    let mut chain = Chain::dev();
    chain.sudo(SubnetHyperparameter::NetworkRegistrationAllowed(false));
    assert_eq!(
        chain.call(
            &key("//Bob"),
            Call::BurnedRegister {
                netuid: NETUID,
                hotkey: id("//Bob//hot")
            }
        ),
        Err(TxError::RegistrationDisabled)
    );
}

#[test]
fn at_most_max_epochs_per_block_then_deferred() {
    let mut spec = hyphae_ledger::ChainSpec::dev().unwrap();
    let first = spec.subnets[0].clone();
    spec.subnets.push(hyphae_ledger::genesis::GenesisSubnet {
        owner_hotkey: id("//Alice//hot2"),
        ..first.clone()
    });
    spec.subnets.push(hyphae_ledger::genesis::GenesisSubnet {
        owner_hotkey: id("//Alice//hot3"),
        ..first
    });
    let mut chain = Chain::from_spec(&spec);
    chain.advance(10);
    let index = |c: &Chain, n: u16| c.state.subnet(NetUid(n)).unwrap().epoch_index;
    assert_eq!(
        (index(&chain, 1), index(&chain, 2), index(&chain, 3)),
        (1, 1, 0),
        "two epochs per block by default"
    );
    chain.advance(1);
    assert_eq!(index(&chain, 3), 1, "the third runs one block later");
    assert_eq!(
        chain.state.subnet(NetUid(3)).unwrap().last_epoch_block.0,
        11
    );
    // Each emitting subnet got a third of every block's TAO emission (equal moving prices),
    // and its own alpha emission of 1 alpha per block, which its epoch paid out.
    for netuid in 1..=3 {
        let pool = chain.state.pool(NetUid(netuid)).unwrap();
        assert_eq!(pool.tao_emission().0, 1_000_000_000 / 3);
    }
    let record = chain.state.epochs_of(NetUid(1)).unwrap();
    assert_eq!(record.emission.0 + record.owner_cut.0, 10 * 1_000_000_000);
}

#[test]
fn genesis_stake_buys_alpha_at_price_one() {
    let mut spec = hyphae_ledger::ChainSpec::dev().unwrap();
    spec.subnets[0]
        .neurons
        .push(hyphae_ledger::genesis::GenesisNeuron {
            hotkey: id("//Bob//hot"),
            coldkey: id("//Bob"),
            stake: tao(5),
        });
    let (state, _) = spec.build().unwrap();
    let pool = state.pool(NETUID).unwrap();
    // The seed (the minimum lock) plus the stake, on both sides: price 1.
    assert_eq!(
        (pool.amm().tao_reserve(), pool.amm().alpha_reserve()),
        (tao(1005), tao(1005))
    );
    assert_eq!(state.stake(NETUID, &id("//Bob//hot"), &id("//Bob")), tao(5));
    assert_eq!(pool.alpha_outstanding(), tao(5));
    assert_eq!(state.alpha_books_error(NETUID), None);
    assert_eq!(
        u128::from(state.globals().issuance.0),
        state.accounted_total()
    );
    let view = state.pool_view(NETUID).unwrap();
    assert_eq!(view.price_rao_per_alpha, 1_000_000_000);
    assert_eq!(view.emission_share_ppb, 1_000_000_000);
    assert_eq!(view.alpha_issuance, tao(1010));
    let neuron = &state.metagraph(NETUID)[0];
    assert_eq!((neuron.stake, neuron.stake_tao_value), (tao(5), tao(5)));
}
