use crate::support::*;
use hyphae_ledger::{
    hyperparameters::{GlobalParameter, SubnetHyperparameter},
    subnets::{SubnetIdentity, IDENTITY_FIELD_LEN_MAX},
    Call, TxError,
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
    // Two emitting subnets now share the block emission equally.
    let pending = |c: &Chain, n| {
        c.state.subnet(n).unwrap().pending_emission.0
            + c.state.subnet(n).unwrap().pending_owner_cut.0
    };
    let (a, b) = (pending(&chain, NETUID), pending(&chain, two));
    chain.advance(1);
    assert_eq!(pending(&chain, two) - b, 500_000_000);
    assert!(
        pending(&chain, NETUID) - a == 500_000_000
            || chain.state.subnet(NETUID).unwrap().epoch_index > 0
    );

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
    // Each emitting subnet got a third of every block's emission.
    let record = chain.state.epochs_of(NetUid(1)).unwrap();
    assert_eq!(
        record.emission.0 + record.owner_cut.0,
        10 * (1_000_000_000 / 3)
    );
}
